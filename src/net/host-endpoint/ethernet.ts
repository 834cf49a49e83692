/**
 * Ethernet II framing for the host endpoint: the header it reads off every frame, and the frames
 * it builds (padded to the 60-byte minimum a real NIC would send; the FCS is not part of frames on
 * the virtual switch).
 */
import { rd16, wr16 } from './addr.js';

export const ETH_HLEN = 14;
export const ETH_MIN_FRAME = 60;
export const ETHERTYPE_IPV4 = 0x0800;
export const ETHERTYPE_ARP = 0x0806;

export function etherType(frame: Uint8Array): number {
  return rd16(frame, 12);
}

/** A frame with `payloadLen` bytes after the header, zero-filled (so padding is zero). */
export function newFrame(dst: Uint8Array, src: Uint8Array, type: number, payloadLen: number): Uint8Array {
  const f = new Uint8Array(Math.max(ETH_MIN_FRAME, ETH_HLEN + payloadLen));
  f.set(dst.subarray(0, 6), 0);
  f.set(src.subarray(0, 6), 6);
  wr16(f, 12, type);
  return f;
}
