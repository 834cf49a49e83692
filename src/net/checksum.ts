/**
 * Internet checksums (RFC 1071) and completion of partial checksums: a guest that offloads
 * checksumming hands over TCP/UDP packets whose checksum field holds only the pseudo-header sum;
 * before such a frame leaves for a peer that cannot know that, the sum over the L4 segment is
 * completed here.
 */

/** One's-complement sum of `bytes[start, end)` added to `acc` (not folded). */
export function sum16(bytes: Uint8Array, start: number, end: number, acc = 0): number {
  let s = acc;
  let i = start;
  for (; i + 1 < end; i += 2) s += (bytes[i] << 8) | bytes[i + 1];
  if (i < end) s += bytes[i] << 8;
  return s;
}

export function fold(s: number): number {
  while (s > 0xffff) s = (s & 0xffff) + Math.floor(s / 65536);
  return s;
}

/**
 * Completes the L4 checksum of an Ethernet frame carrying IPv4 TCP or UDP whose checksum field
 * holds the pseudo-header sum (CHECKSUM_PARTIAL). Returns false if the frame is not such a packet.
 */
export function completePartialChecksum(frame: Uint8Array): boolean {
  if (frame.length < 14 + 20) return false;
  let off = 12;
  let type = (frame[off] << 8) | frame[off + 1];
  if (type === 0x8100) {
    off += 4; // 802.1Q tag
    type = (frame[off] << 8) | frame[off + 1];
  }
  if (type !== 0x0800) return false;
  const ip = off + 2;
  const ihl = (frame[ip] & 0x0f) * 4;
  if ((frame[ip] >> 4) !== 4 || ihl < 20 || ip + ihl > frame.length) return false;
  const totalLen = (frame[ip + 2] << 8) | frame[ip + 3];
  const proto = frame[ip + 9];
  const l4 = ip + ihl;
  const end = Math.min(frame.length, ip + totalLen);
  let csumOff: number;
  if (proto === 6) csumOff = l4 + 16;
  else if (proto === 17) csumOff = l4 + 6;
  else return false;
  if (csumOff + 2 > end) return false;
  // The field holds the pseudo-header sum; summing the segment over it gives the full sum.
  let c = (~fold(sum16(frame, l4, end)) & 0xffff);
  if (proto === 17 && c === 0) c = 0xffff;
  frame[csumOff] = c >> 8;
  frame[csumOff + 1] = c & 0xff;
  return true;
}
