/**
 * What the 8254x does to an assembled transmit packet before it leaves (manual 13.4.3 / 3.3.5-3.3.7):
 * checksum insertion (IXSM: IP header checksum over [IPCSS, IPCSE] stored at IPCSO; TXSM:
 * TCP/UDP checksum over [TUCSS, TUCSE or end] stored at TUCSO, starting from what software left
 * in the field, the pseudo-header sum) and TCP segmentation (TSE): the first HDRLEN bytes are the
 * prototype header, the payload is cut into MSS-sized pieces, and each segment gets its IPv4 total
 * length and identification, TCP sequence number, PSH/FIN only on the last segment, and both
 * checksums. For TSO software leaves the pseudo-header sum without the length (Linux's e1000_tso
 * does), so the segment's TCP length is added here.
 */
import { fold, sum16 } from '../../net/checksum.js';
import { TUCMD_IP, TUCMD_TCP } from './regs.js';

export interface TxContext {
  ipcss: number; ipcso: number; ipcse: number;
  tucss: number; tucso: number; tucse: number;
  paylen: number; tucmd: number; hdrlen: number; mss: number;
}

export function emptyContext(): TxContext {
  return { ipcss: 0, ipcso: 0, ipcse: 0, tucss: 0, tucso: 0, tucse: 0, paylen: 0, tucmd: 0, hdrlen: 0, mss: 0 };
}

/** Stores the one's-complement of the folded sum over [start, end] (inclusive end; 0 = packet end) at `at`. */
function insertChecksum(p: Uint8Array, start: number, endIncl: number, at: number, extra = 0): void {
  const end = endIncl === 0 || endIncl >= p.length ? p.length : endIncl + 1;
  if (start >= end || at + 2 > p.length) return;
  const c = ~fold(sum16(p, start, end, extra)) & 0xffff;
  p[at] = c >> 8;
  p[at + 1] = c & 0xff;
}

/** Checksum insertion for a non-TSO packet, in place. */
export function applyChecksums(p: Uint8Array, ctx: TxContext, ixsm: boolean, txsm: boolean): void {
  if (ixsm) insertChecksum(p, ctx.ipcss, ctx.ipcse, ctx.ipcso);
  if (txsm) insertChecksum(p, ctx.tucss, ctx.tucse, ctx.tucso);
}

const rd16 = (p: Uint8Array, o: number) => (p[o] << 8) | p[o + 1];
const wr16 = (p: Uint8Array, o: number, v: number) => { p[o] = (v >> 8) & 0xff; p[o + 1] = v & 0xff; };

/**
 * Splits a TSO packet (header + payload as software laid it out) into wire frames. Returns [] if
 * the context cannot describe this packet (header beyond the data, MSS 0): the packet is dropped.
 */
export function segment(p: Uint8Array, ctx: TxContext, ixsm: boolean, txsm: boolean): Uint8Array[] {
  const hdr = ctx.hdrlen;
  if (hdr === 0 || hdr > p.length || ctx.mss === 0 || ctx.tucss >= hdr || ctx.ipcss >= hdr) return [];
  const payload = p.length - hdr;
  const isTcp = (ctx.tucmd & TUCMD_TCP) !== 0;
  const isV4 = (ctx.tucmd & TUCMD_IP) !== 0;
  const ip = ctx.ipcss, l4 = ctx.tucss;
  const frames: Uint8Array[] = [];
  const baseId = isV4 && ip + 6 <= hdr ? rd16(p, ip + 4) : 0;
  const baseSeq = isTcp && l4 + 8 <= hdr ? ((p[l4 + 4] << 24) | (p[l4 + 5] << 16) | (p[l4 + 6] << 8) | p[l4 + 7]) >>> 0 : 0;
  const flags = isTcp && l4 + 14 <= hdr ? p[l4 + 13] : 0;
  // Software's partial checksum (pseudo-header without length).
  const partial = ctx.tucso + 2 <= hdr ? rd16(p, ctx.tucso) : 0;
  let off = 0, n = 0;
  do {
    const len = Math.min(ctx.mss, payload - off);
    const f = new Uint8Array(hdr + len);
    f.set(p.subarray(0, hdr));
    f.set(p.subarray(hdr + off, hdr + off + len), hdr);
    const last = off + len >= payload;
    if (isV4 && ip + 20 <= hdr) {
      wr16(f, ip + 2, f.length - ip);
      wr16(f, ip + 4, (baseId + n) & 0xffff);
    } else if (!isV4 && ip + 40 <= hdr) {
      wr16(f, ip + 4, f.length - ip - 40); // IPv6 payload length
    }
    if (isTcp && l4 + 14 <= hdr) {
      const seq = (baseSeq + off) >>> 0;
      f[l4 + 4] = seq >>> 24; f[l4 + 5] = (seq >>> 16) & 0xff; f[l4 + 6] = (seq >>> 8) & 0xff; f[l4 + 7] = seq & 0xff;
      f[l4 + 13] = last ? flags : flags & ~0x09; // PSH and FIN only on the last segment
    } else if (!isTcp && l4 + 6 <= hdr) {
      wr16(f, l4 + 4, f.length - l4); // UDP length
    }
    if (ixsm && isV4 && ctx.ipcso + 2 <= hdr) {
      wr16(f, ctx.ipcso, 0);
      insertChecksum(f, ip, ctx.ipcse, ctx.ipcso);
    }
    if (txsm && ctx.tucso + 2 <= hdr) {
      wr16(f, ctx.tucso, 0);
      insertChecksum(f, l4, 0, ctx.tucso, partial + (f.length - l4));
    }
    frames.push(f);
    off += len;
    n++;
  } while (off < payload);
  return frames;
}
