/**
 * Test-only builders of what guests send the host endpoint (by hand, byte by byte, per the RFCs):
 * Ethernet/ARP/IPv4/ICMP/UDP frames and DHCP client messages laid out as busybox udhcpc sends
 * them, plus readers for the endpoint's replies.
 */
import { fold, sum16 } from '../../checksum.js';
import { rd16, rd32, wr16, wr32 } from '../addr.js';

export const CLIENT_MAC = Uint8Array.of(0x00, 0x16, 0x3e, 0x00, 0x00, 0x01);
export const CLIENT2_MAC = Uint8Array.of(0x00, 0x16, 0x3e, 0x00, 0x00, 0x02);
export const HOST_MAC = Uint8Array.of(0x02, 0x74, 0x73, 0x78, 0x00, 0x02);
export const BCAST = Uint8Array.of(0xff, 0xff, 0xff, 0xff, 0xff, 0xff);
export const ip4 = (a: number, b: number, c: number, d: number): number => ((a << 24) | (b << 16) | (c << 8) | d) >>> 0;
export const HOST_IP = ip4(10, 0, 2, 2);

export function eth(dst: Uint8Array, src: Uint8Array, type: number, payload: Uint8Array): Uint8Array {
  const f = new Uint8Array(14 + payload.length);
  f.set(dst, 0);
  f.set(src, 6);
  wr16(f, 12, type);
  f.set(payload, 14);
  return f;
}

export function arpRequest(srcMac: Uint8Array, srcIp: number, targetIp: number): Uint8Array {
  const a = new Uint8Array(28);
  a.set([0, 1, 8, 0, 6, 4, 0, 1]);
  a.set(srcMac, 8);
  wr32(a, 14, srcIp);
  wr32(a, 24, targetIp);
  return eth(BCAST, srcMac, 0x0806, a);
}

export function ipv4(src: number, dst: number, proto: number, payload: Uint8Array, opts: { ttl?: number; id?: number } = {}): Uint8Array {
  const p = new Uint8Array(20 + payload.length);
  p[0] = 0x45;
  wr16(p, 2, p.length);
  wr16(p, 4, opts.id ?? 0x1234);
  p[6] = 0x40; // DF
  p[8] = opts.ttl ?? 64;
  p[9] = proto;
  wr32(p, 12, src);
  wr32(p, 16, dst);
  wr16(p, 10, ~fold(sum16(p, 0, 20)) & 0xffff);
  p.set(payload, 20);
  return p;
}

/** Recomputes the IPv4 header checksum of the frame's IP header (after a test mangled a field). */
export function fixIpChecksum(f: Uint8Array): void {
  const ihl = (f[14] & 15) * 4;
  wr16(f, 24, 0);
  wr16(f, 24, ~fold(sum16(f, 14, 14 + ihl)) & 0xffff);
}

export function icmpEcho(id: number, seq: number, data: Uint8Array): Uint8Array {
  const m = new Uint8Array(8 + data.length);
  m[0] = 8;
  wr16(m, 4, id);
  wr16(m, 6, seq);
  m.set(data, 8);
  wr16(m, 2, ~fold(sum16(m, 0, m.length)) & 0xffff);
  return m;
}

export function udp(src: number, dst: number, sport: number, dport: number, data: Uint8Array, checksum = true): Uint8Array {
  const u = new Uint8Array(8 + data.length);
  wr16(u, 0, sport);
  wr16(u, 2, dport);
  wr16(u, 4, u.length);
  u.set(data, 8);
  if (checksum) {
    const ps = (src >>> 16) + (src & 0xffff) + (dst >>> 16) + (dst & 0xffff) + 17 + u.length;
    let c = ~fold(sum16(u, 0, u.length, ps)) & 0xffff;
    if (c === 0) c = 0xffff;
    wr16(u, 6, c);
  }
  return u;
}

/** A DHCP client message: the fixed part, the cookie, `options` ([code, bytes]) then end. */
export function dhcpMessage(f: { xid: number; mac: Uint8Array; ciaddr?: number; flags?: number; secs?: number }, options: [number, number[]][]): Uint8Array {
  let n = 240 + 1;
  for (const [, v] of options) n += 2 + v.length;
  const m = new Uint8Array(Math.max(n, 300));
  m[0] = 1;
  m[1] = 1;
  m[2] = 6;
  wr32(m, 4, f.xid);
  wr16(m, 8, f.secs ?? 0);
  wr16(m, 10, f.flags ?? 0);
  wr32(m, 12, f.ciaddr ?? 0);
  m.set(f.mac, 28);
  m.set([99, 130, 83, 99], 236);
  let i = 240;
  for (const [code, v] of options) {
    m[i++] = code;
    m[i++] = v.length;
    m.set(v, i);
    i += v.length;
  }
  m[i] = 255;
  return m;
}

const bytes32 = (v: number): number[] => [v >>> 24, (v >>> 16) & 255, (v >>> 8) & 255, v & 255];
const udhcpVendor = [...'udhcp 1.35.0'].map((c) => c.charCodeAt(0));
/** Busybox udhcpc's default parameter request list: mask, router, DNS, hostname, domain, broadcast, NTP... */
const udhcpParams = [1, 3, 6, 12, 15, 28, 42];

/** DHCPDISCOVER as udhcpc broadcasts it (from 0.0.0.0:68, to 255.255.255.255:67). */
export function discover(mac: Uint8Array, xid: number, extra: [number, number[]][] = []): Uint8Array {
  const m = dhcpMessage({ xid, mac }, [
    [53, [1]], [61, [1, ...mac]], [57, [2, 64]], [60, udhcpVendor], [55, udhcpParams], ...extra,
  ]);
  return dhcpFrame(mac, BCAST, 0, 0xffffffff, m);
}

/** DHCPREQUEST in SELECTING state (requested address and server id, broadcast). */
export function requestSelecting(mac: Uint8Array, xid: number, ip: number, server: number): Uint8Array {
  const m = dhcpMessage({ xid, mac }, [
    [53, [3]], [61, [1, ...mac]], [50, bytes32(ip)], [54, bytes32(server)], [57, [2, 64]], [60, udhcpVendor], [55, udhcpParams],
  ]);
  return dhcpFrame(mac, BCAST, 0, 0xffffffff, m);
}

/** DHCPREQUEST in RENEWING state: ciaddr set, unicast from the leased address to the server. */
export function requestRenewing(mac: Uint8Array, xid: number, ip: number, serverMac = HOST_MAC, server = HOST_IP): Uint8Array {
  const m = dhcpMessage({ xid, mac, ciaddr: ip }, [[53, [3]], [61, [1, ...mac]], [57, [2, 64]], [60, udhcpVendor], [55, udhcpParams]]);
  return dhcpFrame(mac, serverMac, ip, server, m);
}

export function dhcpFrame(srcMac: Uint8Array, dstMac: Uint8Array, src: number, dst: number, message: Uint8Array): Uint8Array {
  return eth(dstMac, srcMac, 0x0800, ipv4(src, dst, 17, udp(src, dst, 68, 67, message)));
}

export { bytes32 };

/** What a client reads off an endpoint reply: verifies IP and UDP checksums, then decodes DHCP. */
export interface ReadReply {
  ethDst: Uint8Array;
  ipSrc: number;
  ipDst: number;
  sport: number;
  dport: number;
  yiaddr: number;
  ciaddr: number;
  xid: number;
  flags: number;
  chaddr: Uint8Array;
  options: Map<number, Uint8Array>;
  ipChecksumOk: boolean;
  udpChecksumOk: boolean;
  dhcpLength: number;
}

export function readDhcpReply(f: Uint8Array): ReadReply {
  const ihl = (f[14] & 15) * 4;
  const total = rd16(f, 16);
  const src = rd32(f, 26), dst = rd32(f, 30);
  const u = 14 + ihl;
  const ulen = rd16(f, u + 4);
  const ps = (src >>> 16) + (src & 0xffff) + (dst >>> 16) + (dst & 0xffff) + 17 + ulen;
  const m = f.subarray(u + 8, u + ulen);
  const options = new Map<number, Uint8Array>();
  for (let i = 240; i < m.length && m[i] !== 255;) {
    if (m[i] === 0) { i++; continue; }
    options.set(m[i], m.slice(i + 2, i + 2 + m[i + 1]));
    i += 2 + m[i + 1];
  }
  return {
    ethDst: f.slice(0, 6), ipSrc: src, ipDst: dst, sport: rd16(f, u), dport: rd16(f, u + 2),
    xid: rd32(m, 4), flags: rd16(m, 10), ciaddr: rd32(m, 12), yiaddr: rd32(m, 16), chaddr: m.slice(28, 34), options,
    ipChecksumOk: fold(sum16(f, 14, 14 + ihl)) === 0xffff && total === ihl + ulen,
    udpChecksumOk: rd16(f, u + 6) !== 0 && fold(sum16(f, u, u + ulen, ps)) === 0xffff,
    dhcpLength: m.length,
  };
}
