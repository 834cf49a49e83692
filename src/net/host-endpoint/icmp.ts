/**
 * ICMP (RFC 792) echo for the host endpoint: a checked echo request becomes an echo reply with the
 * same identifier, sequence number and data. Other ICMP messages are not for it.
 */
import { fold, sum16 } from '../checksum.js';
import { wr16 } from './addr.js';
import { ETH_HLEN } from './ethernet.js';
import { IPPROTO_ICMP, IPV4_HLEN, type Ipv4Packet, newIpv4Frame } from './ipv4.js';
import type { DropReason } from './counters.js';

export const ICMP_ECHO_REPLY = 0, ICMP_ECHO_REQUEST = 8;
const ICMP_HLEN = 8;

/** The ICMP message's type, once its length and checksum (over the whole message) check out. */
export function checkIcmp(frame: Uint8Array, ip: Ipv4Packet): number | DropReason {
  if (ip.end - ip.payload < ICMP_HLEN) return 'icmp-truncated';
  if (fold(sum16(frame, ip.payload, ip.end)) !== 0xffff) return 'icmp-checksum';
  return frame[ip.payload];
}

/** The echo reply to an echo request (`ip` in `frame`), from `mac`/`ip.dst` back to the sender. */
export function echoReply(frame: Uint8Array, ip: Ipv4Packet, mac: Uint8Array): Uint8Array {
  const len = ip.end - ip.payload;
  const f = newIpv4Frame(frame.subarray(6, 12), mac, ip.dst, ip.src, IPPROTO_ICMP, len);
  const o = ETH_HLEN + IPV4_HLEN;
  f.set(frame.subarray(ip.payload, ip.end), o);
  f[o] = ICMP_ECHO_REPLY;
  f[o + 1] = 0;
  wr16(f, o + 2, 0);
  wr16(f, o + 2, ~fold(sum16(f, o, o + len)) & 0xffff);
  return f;
}
