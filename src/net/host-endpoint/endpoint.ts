/**
 * The host endpoint: tsxen itself as a station on a VirtualSwitch, in the spirit of QEMU's user
 * networking. It owns one /24 that exists only inside the process (default 10.0.2.0/24) and
 * answers, on its own address (default .2, the guests' default gateway):
 *   - ARP requests for that address (arp.ts),
 *   - ICMP echo requests to it (icmp.ts), so `ping 10.0.2.2` from a guest works,
 *   - DHCP (dhcp.ts, dhcp-message.ts): addresses .15-.99 by default, router = the endpoint.
 * It routes nothing: packets to other addresses are ignored (counted), and it never answers for
 * another address.
 *
 * MAC address: 02:74:73:78:00:02 by default. The first octet 0x02 has the locally administered
 * bit set and the group bit clear (a unicast address no vendor owns); 74:73:78 is "tsx" in ASCII
 * and the last octet matches the host number.
 *
 * Every frame from the switch is a guest's and may be hostile: each parser bounds-checks the
 * fields it reads against the frame (IP header length, total length, UDP length, DHCP option
 * lengths), checksums are verified where Linux verifies them (IPv4 header, ICMP, UDP when
 * non-zero), and deliver() never throws: a malformed frame is dropped and counted by reason
 * (counters.ts). State is bounded: the lease table holds at most one record per pool address.
 *
 * Replies are sent synchronously from deliver() back into the switch (which never returns a frame
 * to the port it came from, so this cannot loop).
 *
 * A TCP port forward (host TCP port -> guest port) would fit as a further responder beside ICMP
 * and DHCP: a small TCP state machine here (one connection per forwarded socket, bounded window
 * and count) speaking to the guest from the endpoint's address, and a host adapter under
 * src/host/node that accepts the host sockets (node:net) and hands their byte streams to the core
 * through an injected interface, so this folder stays free of Node modules.
 */
import type { SwitchPort, VirtualSwitch } from '../switch.js';
import { BROADCAST_MAC, IPV4_BROADCAST, isBogusSource, macEquals, parseIpv4Address, parseMac } from './addr.js';
import { ARP_REQUEST, arpReply, parseArp } from './arp.js';
import { type DropReason, type HostEndpointCounters, newCounters } from './counters.js';
import { decodeDhcp, DHCP_CLIENT_PORT, DHCP_SERVER_PORT } from './dhcp-message.js';
import { DhcpServer } from './dhcp.js';
import { ETH_HLEN, ETHERTYPE_ARP, ETHERTYPE_IPV4, etherType } from './ethernet.js';
import { checkIcmp, echoReply, ICMP_ECHO_REQUEST } from './icmp.js';
import { IPPROTO_ICMP, IPPROTO_UDP, type Ipv4Packet, parseIpv4Packet } from './ipv4.js';
import { parseUdp, udpFrame } from './udp.js';

export const DEFAULT_HOST_MAC = '02:74:73:78:00:02';

export interface HostEndpointOptions {
  /** The switch port's name (logs, diagnostics); default "host". */
  name?: string;
  mac?: string;
  /** The /24 network, e.g. "10.0.2.0" (the default). */
  network?: string;
  /** The endpoint's host number in it; default 2 (10.0.2.2). */
  hostNumber?: number;
  /** DHCP: host numbers of the pool and the lease time; false for no DHCP server. */
  dhcp?: false | { first?: number; last?: number; leaseSeconds?: number };
  /** Milliseconds clock for leases; default Date.now. */
  now?: () => number;
}

export class HostEndpoint implements SwitchPort {
  readonly name: string;
  readonly mac: Uint8Array;
  readonly ip: number;
  readonly netmask = 0xffffff00;
  readonly network: number;
  readonly broadcast: number;
  readonly dhcp: DhcpServer | null;
  readonly counters: HostEndpointCounters = newCounters();
  private sw: VirtualSwitch | null = null;

  /** `transmit`: where the endpoint's frames go if it is not attached to a switch (tests). */
  constructor(opts: HostEndpointOptions = {}, private transmit: ((frame: Uint8Array) => void) | null = null) {
    this.name = opts.name ?? 'host';
    this.mac = parseMac(opts.mac ?? DEFAULT_HOST_MAC);
    if ((this.mac[0] & 1) !== 0) throw new Error('the host endpoint MAC must be unicast');
    this.network = parseIpv4Address(opts.network ?? '10.0.2.0');
    if ((this.network & 0xff) !== 0) throw new Error(`${opts.network} is not a /24 network address`);
    this.broadcast = (this.network | 0xff) >>> 0;
    const host = opts.hostNumber ?? 2;
    if (!Number.isInteger(host) || host < 1 || host > 254) throw new Error(`bad host number ${host}`);
    this.ip = (this.network | host) >>> 0;
    if (opts.dhcp === false) {
      this.dhcp = null;
    } else {
      const first = opts.dhcp?.first ?? 15, last = opts.dhcp?.last ?? 99;
      if (!(Number.isInteger(first) && Number.isInteger(last) && first >= 1 && last <= 254 && first <= last) || (host >= first && host <= last)) {
        throw new Error(`bad DHCP pool .${first}-.${last} (the endpoint is .${host})`);
      }
      this.dhcp = new DhcpServer({
        serverIp: this.ip, netmask: this.netmask, router: this.ip,
        poolFirst: (this.network | first) >>> 0, poolLast: (this.network | last) >>> 0,
        leaseSeconds: opts.dhcp?.leaseSeconds ?? 86400, now: opts.now ?? (() => Date.now()),
      });
    }
  }

  /** Plugs the endpoint into `sw` (out of any switch it was on). */
  attach(sw: VirtualSwitch): void {
    this.detach();
    sw.attach(this);
    this.sw = sw;
  }

  detach(): void {
    this.sw?.detach(this);
    this.sw = null;
  }

  /** A frame from the switch (SwitchPort). False only when it was dropped as malformed. */
  deliver(frame: Uint8Array): boolean {
    this.counters.framesIn++;
    let r: DropReason | null;
    try {
      r = this.receive(frame);
    } catch {
      r = 'internal';
    }
    if (r === null) return true;
    this.counters.dropped++;
    this.counters.drops[r]++;
    return false;
  }

  private send(frame: Uint8Array): void {
    this.counters.framesOut++;
    if (this.sw !== null) this.sw.input(this, frame);
    else this.transmit?.(frame);
  }

  private ignore(): null {
    this.counters.ignored++;
    return null;
  }

  /** Handles one frame; the reason if it is dropped. */
  private receive(frame: Uint8Array): DropReason | null {
    if (frame.length < ETH_HLEN) return 'runt';
    if (!macEquals(frame, 0, this.mac) && !macEquals(frame, 0, BROADCAST_MAC)) return this.ignore();
    if ((frame[6] & 1) !== 0) return 'eth-source';
    const type = etherType(frame);
    if (type === ETHERTYPE_ARP) {
      const a = parseArp(frame);
      if (typeof a === 'string') return a;
      if (a.op !== ARP_REQUEST || a.targetIp !== this.ip) return this.ignore();
      this.counters.arpRequests++;
      this.counters.arpReplies++;
      this.send(arpReply(a, this.mac, this.ip));
      return null;
    }
    if (type !== ETHERTYPE_IPV4) return this.ignore();
    const ip = parseIpv4Packet(frame);
    if (typeof ip === 'string') return ip;
    const toUs = ip.dst === this.ip;
    if (!toUs && ip.dst !== IPV4_BROADCAST && ip.dst !== this.broadcast) return this.ignore(); // not routed
    if (ip.proto === IPPROTO_ICMP) return toUs ? this.icmp(frame, ip) : this.ignore(); // no broadcast pings
    if (ip.proto === IPPROTO_UDP) return this.udp(frame, ip);
    return this.ignore();
  }

  private icmp(frame: Uint8Array, ip: Ipv4Packet): DropReason | null {
    if (isBogusSource(ip.src) || ip.src === this.broadcast) return 'ip-source';
    const t = checkIcmp(frame, ip);
    if (typeof t === 'string') return t;
    if (t !== ICMP_ECHO_REQUEST) return this.ignore();
    this.counters.icmpEchoRequests++;
    this.counters.icmpEchoReplies++;
    this.send(echoReply(frame, ip, this.mac));
    return null;
  }

  private udp(frame: Uint8Array, ip: Ipv4Packet): DropReason | null {
    const u = parseUdp(frame, ip);
    if (typeof u === 'string') return u;
    if (u.dstPort !== DHCP_SERVER_PORT || this.dhcp === null) return this.ignore();
    const m = decodeDhcp(frame, u.data, u.end);
    if (typeof m === 'string') return m;
    this.counters.dhcpIn++;
    const r = this.dhcp.handle(m);
    const c = this.counters;
    switch (r.kind) {
      case 'relayed': return 'dhcp-unsupported';
      case 'ignore': return this.ignore();
      case 'exhausted': c.dhcpPoolExhausted++; return null;
      case 'release': c.dhcpReleases++; return null;
      case 'decline': c.dhcpDeclines++; return null;
      case 'offer': c.dhcpOffers++; break;
      case 'ack': c.dhcpAcks++; break;
      case 'nak': c.dhcpNaks++; break;
    }
    const dstMac = r.broadcast ? BROADCAST_MAC : r.mac;
    this.send(udpFrame(dstMac, this.mac, this.ip, r.ip, DHCP_SERVER_PORT, DHCP_CLIENT_PORT, r.message));
    return null;
  }
}
