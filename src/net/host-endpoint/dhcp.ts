/**
 * The host endpoint's DHCP server (RFC 2131 4.3, options per RFC 2132), authoritative for its
 * in-process /24: DISCOVER -> OFFER, REQUEST -> ACK, or NAK when the address asked for cannot be
 * the client's (outside the pool, another client's, declined); DECLINE, RELEASE and INFORM as the
 * RFC says. Leases come from a LeasePool. Relayed messages (giaddr set) are not served: nothing
 * relays on tsxen's switch.
 *
 * Replies carry: message type, server identifier, lease time with T1 = 1/2 and T2 = 7/8 of it
 * (not for INFORM), subnet mask, router (the endpoint) and broadcast address. Where they go
 * (4.1, giaddr 0): NAK broadcast; a client with ciaddr set unicast to ciaddr; the broadcast flag
 * set: broadcast; otherwise unicast to yiaddr at chaddr (the client cannot ARP yet).
 */
import { formatMac } from './addr.js';
import {
  BOOTP_FLAG_BROADCAST, DHCPACK, DHCPDECLINE, DHCPDISCOVER, DHCPINFORM, DHCPNAK, DHCPOFFER, DHCPRELEASE, DHCPREQUEST,
  type DhcpMessage, encodeDhcp, OPT_BROADCAST, OPT_CLIENT_ID, OPT_LEASE_TIME, OPT_REBINDING_TIME, OPT_RENEWAL_TIME,
  OPT_REQUESTED_IP, OPT_ROUTER, OPT_SERVER_ID, OPT_SUBNET_MASK, optionU32, u32,
} from './dhcp-message.js';
import { type Lease, LeasePool } from './leases.js';

export interface DhcpServerConfig {
  serverIp: number;
  netmask: number;
  router: number;
  /** First and last pool address (inclusive). */
  poolFirst: number;
  poolLast: number;
  leaseSeconds: number;
  /** How long an OFFER holds its address for the client (default 30 s). */
  offerHoldSeconds?: number;
  /** How long a declined address stays out of the pool (default 10 min). */
  declineHoldSeconds?: number;
  /** The server's clock in milliseconds. */
  now: () => number;
}

export type DhcpResult =
  | { kind: 'offer' | 'ack' | 'nak'; message: Uint8Array; broadcast: boolean; ip: number; mac: Uint8Array }
  | { kind: 'release' | 'decline' | 'ignore' | 'exhausted' | 'relayed' };

export class DhcpServer {
  readonly pool: LeasePool;
  private readonly offerHoldMs: number;

  constructor(private readonly cfg: DhcpServerConfig) {
    this.pool = new LeasePool(cfg.poolFirst, cfg.poolLast, (cfg.declineHoldSeconds ?? 600) * 1000);
    this.offerHoldMs = (cfg.offerHoldSeconds ?? 30) * 1000;
  }

  /** Handles one decoded client message. */
  handle(m: DhcpMessage): DhcpResult {
    if (m.giaddr !== 0) return { kind: 'relayed' };
    const client = clientKey(m);
    const now = this.cfg.now();
    switch (m.type) {
      case DHCPDISCOVER: return this.discover(m, client, now);
      case DHCPREQUEST: return this.request(m, client, now);
      case DHCPDECLINE: {
        const ip = optionU32(m, OPT_REQUESTED_IP);
        if (!this.forUs(m) || ip === undefined || !this.pool.decline(client, ip, now)) return { kind: 'ignore' };
        return { kind: 'decline' };
      }
      case DHCPRELEASE: {
        const l = this.pool.find(client);
        if (!this.forUs(m) || l === undefined || l.ip !== m.ciaddr) return { kind: 'ignore' };
        // 4.3.4: the address is free again, but the client's binding is remembered for reuse.
        l.expires = Math.min(l.expires, now);
        return { kind: 'release' };
      }
      case DHCPINFORM:
        if (m.ciaddr === 0) return { kind: 'ignore' };
        return this.reply(m, DHCPACK, 0, null);
      default:
        return { kind: 'ignore' }; // a server's message type from a client
    }
  }

  private forUs(m: DhcpMessage): boolean {
    const sid = optionU32(m, OPT_SERVER_ID);
    return sid === undefined || sid === this.cfg.serverIp;
  }

  private discover(m: DhcpMessage, client: string, now: number): DhcpResult {
    const ip = this.pool.choose(client, optionU32(m, OPT_REQUESTED_IP), now);
    if (ip === null) return { kind: 'exhausted' };
    let l = this.pool.find(client);
    if (l === undefined || l.ip !== ip || l.state !== 'bound' || l.expires <= now) {
      l = this.pool.set(client, ip, m.chaddr, 'offered', now + this.offerHoldMs);
    }
    return this.reply(m, DHCPOFFER, ip, l);
  }

  private request(m: DhcpMessage, client: string, now: number): DhcpResult {
    const sid = optionU32(m, OPT_SERVER_ID);
    const requested = optionU32(m, OPT_REQUESTED_IP);
    let ip: number;
    if (sid !== undefined) {
      // SELECTING: the client answers one server's offer.
      if (sid !== this.cfg.serverIp) {
        const l = this.pool.find(client);
        if (l !== undefined && l.state === 'offered') this.pool.remove(client); // it chose another server
        return { kind: 'ignore' };
      }
      ip = requested ?? m.ciaddr;
    } else if (requested !== undefined) {
      ip = requested; // INIT-REBOOT: verifying a remembered address
    } else if (m.ciaddr !== 0) {
      ip = m.ciaddr; // RENEWING (unicast) or REBINDING (broadcast)
    } else {
      return { kind: 'ignore' }; // a REQUEST naming no address at all
    }
    if (ip === 0 || !this.pool.available(ip, client, now)) return this.reply(m, DHCPNAK, 0, null);
    const l = this.pool.set(client, ip, m.chaddr, 'bound', now + this.cfg.leaseSeconds * 1000);
    return this.reply(m, DHCPACK, ip, l);
  }

  private reply(m: DhcpMessage, type: number, yiaddr: number, lease: Lease | null): DhcpResult {
    const c = this.cfg;
    const options: [number, Uint8Array][] = [[OPT_SERVER_ID, u32(c.serverIp)]];
    if (type !== DHCPNAK) {
      if (lease !== null) {
        const t = c.leaseSeconds;
        options.push([OPT_LEASE_TIME, u32(t)], [OPT_RENEWAL_TIME, u32(Math.floor(t / 2))], [OPT_REBINDING_TIME, u32(Math.floor((t * 7) / 8))]);
      }
      options.push([OPT_SUBNET_MASK, u32(c.netmask)], [OPT_ROUTER, u32(c.router)], [OPT_BROADCAST, u32((c.serverIp | ~c.netmask) >>> 0)]);
    }
    const message = encodeDhcp({
      type, xid: m.xid, flags: m.flags, giaddr: 0, chaddr: m.chaddr, yiaddr, options,
      ciaddr: type === DHCPACK ? m.ciaddr : 0,
    });
    const kind = type === DHCPOFFER ? 'offer' : type === DHCPACK ? 'ack' : 'nak';
    if (type === DHCPNAK) return { kind, message, broadcast: true, ip: 0xffffffff, mac: m.chaddr };
    if (m.ciaddr !== 0) return { kind, message, broadcast: false, ip: m.ciaddr, mac: m.chaddr };
    if ((m.flags & BOOTP_FLAG_BROADCAST) !== 0) return { kind, message, broadcast: true, ip: 0xffffffff, mac: m.chaddr };
    return { kind, message, broadcast: false, ip: yiaddr, mac: m.chaddr };
  }
}

/** A client is its client identifier (option 61) if it sends one, else its MAC. */
export function clientKey(m: DhcpMessage): string {
  const id = m.options.get(OPT_CLIENT_ID);
  if (id === undefined) return `hw:${formatMac(m.chaddr)}`;
  let s = 'id:';
  for (const b of id) s += b.toString(16).padStart(2, '0');
  return s;
}
