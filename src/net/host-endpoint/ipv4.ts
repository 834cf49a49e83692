/**
 * IPv4 (RFC 791) as the host endpoint sees it: the header of a guest's packet checked field by
 * field against the frame it came in, and headers for the packets it sends. It neither sends nor
 * reassembles fragments (nothing it answers needs them).
 */
import { fold, sum16 } from '../checksum.js';
import { rd16, rd32, wr16, wr32 } from './addr.js';
import { ETH_HLEN, ETHERTYPE_IPV4, newFrame } from './ethernet.js';
import type { DropReason } from './counters.js';

export const IPPROTO_ICMP = 1;
export const IPPROTO_UDP = 17;
export const IPV4_HLEN = 20;

export interface Ipv4Packet {
  src: number;
  dst: number;
  proto: number;
  /** Offsets into the frame: the header, and the payload [payload, end). */
  header: number;
  payload: number;
  end: number;
}

/** Parses the IPv4 header at ETH_HLEN; trailing Ethernet padding beyond total length is ignored. */
export function parseIpv4Packet(frame: Uint8Array): Ipv4Packet | DropReason {
  const h = ETH_HLEN;
  if (frame.length < h + IPV4_HLEN) return 'ip-truncated';
  if (frame[h] >> 4 !== 4) return 'ip-header';
  const ihl = (frame[h] & 0x0f) * 4;
  if (ihl < IPV4_HLEN || h + ihl > frame.length) return 'ip-header';
  const total = rd16(frame, h + 2);
  if (total < ihl || h + total > frame.length) return 'ip-length';
  // A valid header sums (checksum included) to 0xffff; Linux drops the packet otherwise.
  if (fold(sum16(frame, h, h + ihl)) !== 0xffff) return 'ip-checksum';
  const frag = rd16(frame, h + 6);
  if ((frag & 0x8000) !== 0) return 'ip-header'; // the reserved flag must be zero
  if ((frag & 0x3fff) !== 0) return 'ip-fragment'; // MF or an offset: no reassembly here
  return { src: rd32(frame, h + 12), dst: rd32(frame, h + 16), proto: frame[h + 9], header: h, payload: h + ihl, end: h + total };
}

let nextId = 1;

/**
 * An Ethernet frame holding an IPv4 header (no options, TTL 64, checksum filled in) followed by
 * `payloadLen` zero bytes at ETH_HLEN + IPV4_HLEN for the caller to fill.
 */
export function newIpv4Frame(dstMac: Uint8Array, srcMac: Uint8Array, src: number, dst: number, proto: number, payloadLen: number): Uint8Array {
  const f = newFrame(dstMac, srcMac, ETHERTYPE_IPV4, IPV4_HLEN + payloadLen);
  const h = ETH_HLEN;
  f[h] = 0x45;
  wr16(f, h + 2, IPV4_HLEN + payloadLen);
  wr16(f, h + 4, nextId);
  nextId = (nextId + 1) & 0xffff;
  f[h + 8] = 64;
  f[h + 9] = proto;
  wr32(f, h + 12, src);
  wr32(f, h + 16, dst);
  wr16(f, h + 10, ~fold(sum16(f, h, h + IPV4_HLEN)) & 0xffff);
  return f;
}

/** The pseudo-header sum (RFC 768/793) for a TCP or UDP segment of `len` bytes. */
export function pseudoHeaderSum(src: number, dst: number, proto: number, len: number): number {
  return (src >>> 16) + (src & 0xffff) + (dst >>> 16) + (dst & 0xffff) + proto + len;
}
