/**
 * UDP (RFC 768) for the host endpoint: datagram bounds and checksum of what a guest sends, and
 * the checksummed datagrams it sends back.
 */
import { fold, sum16 } from '../checksum.js';
import { rd16, wr16 } from './addr.js';
import { ETH_HLEN } from './ethernet.js';
import { IPPROTO_UDP, IPV4_HLEN, type Ipv4Packet, newIpv4Frame, pseudoHeaderSum } from './ipv4.js';
import type { DropReason } from './counters.js';

export const UDP_HLEN = 8;

export interface UdpDatagram {
  srcPort: number;
  dstPort: number;
  /** The payload: [data, end) of the frame. */
  data: number;
  end: number;
}

export function parseUdp(frame: Uint8Array, ip: Ipv4Packet): UdpDatagram | DropReason {
  const u = ip.payload;
  if (ip.end - u < UDP_HLEN) return 'udp-truncated';
  const len = rd16(frame, u + 4);
  // Bytes beyond the UDP length inside the IP packet are ignored, as Linux trims them.
  if (len < UDP_HLEN || u + len > ip.end) return 'udp-length';
  const csum = rd16(frame, u + 6);
  if (csum !== 0) {
    // Zero means "no checksum" (IPv4); otherwise the sum over pseudo header and datagram is 0xffff.
    const s = fold(sum16(frame, u, u + len, pseudoHeaderSum(ip.src, ip.dst, IPPROTO_UDP, len)));
    if (s !== 0xffff) return 'udp-checksum';
  }
  return { srcPort: rd16(frame, u), dstPort: rd16(frame, u + 2), data: u + UDP_HLEN, end: u + len };
}

/** A complete Ethernet/IPv4/UDP frame carrying `payload`, UDP checksum included. */
export function udpFrame(
  dstMac: Uint8Array, srcMac: Uint8Array, src: number, dst: number, srcPort: number, dstPort: number, payload: Uint8Array,
): Uint8Array {
  const len = UDP_HLEN + payload.length;
  const f = newIpv4Frame(dstMac, srcMac, src, dst, IPPROTO_UDP, len);
  const u = ETH_HLEN + IPV4_HLEN;
  wr16(f, u, srcPort);
  wr16(f, u + 2, dstPort);
  wr16(f, u + 4, len);
  f.set(payload, u + UDP_HLEN);
  let c = ~fold(sum16(f, u, u + len, pseudoHeaderSum(src, dst, IPPROTO_UDP, len))) & 0xffff;
  if (c === 0) c = 0xffff; // a computed zero is sent as all ones (RFC 768)
  wr16(f, u + 6, c);
  return f;
}
