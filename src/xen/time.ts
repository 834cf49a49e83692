/**
 * pvclock and wallclock records (struct vcpu_time_info, shared_info wc_*; xen-abi.md 4.8-4.9).
 * Guest TSC and Xen system time are exact linear functions of each other, so a record written
 * once stays valid; it is rewritten only when the guest moves its vcpu_info.
 */
import type { SharedInfoLayout } from './evtchn/shared-info.js';

export interface TimeScale {
  mul: number;
  shift: number;
}

/** Xen's set_time_scale: the 32.32 multiplier and shift converting TSC ticks to ns. */
export function timeScaleFor(tscHz: number): TimeScale {
  let shift = 0;
  let t = tscHz;
  while (t > 2e9) {
    t /= 2;
    shift--;
  }
  while (t <= 1e9) {
    t *= 2;
    shift++;
  }
  return { mul: Math.floor((1e9 * 4294967296) / t) >>> 0, shift };
}

function put64(page: Uint8Array, off: number, v: number): void {
  const lo = v % 4294967296, hi = Math.floor(v / 4294967296);
  put32(page, off, lo);
  put32(page, off + 4, hi);
}

function put32(page: Uint8Array, off: number, v: number): void {
  page[off] = v;
  page[off + 1] = v >>> 8;
  page[off + 2] = v >>> 16;
  page[off + 3] = v >>> 24;
}

function get32(page: Uint8Array, off: number): number {
  return (page[off] | (page[off + 1] << 8) | (page[off + 2] << 16) | (page[off + 3] << 24)) >>> 0;
}

/** Writes a vcpu_time_info at `off` with the odd/even version protocol. */
export function writeVcpuTime(page: Uint8Array, off: number, systemNs: number, tsc: number, s: TimeScale): void {
  // Odd while updating, even when done: readers retry on odd or changed versions.
  const v = get32(page, off) & ~1;
  put32(page, off, (v + 1) >>> 0);
  put64(page, off + 8, Math.floor(tsc));
  put64(page, off + 16, Math.floor(systemNs));
  put32(page, off + 24, s.mul);
  page[off + 28] = s.shift & 0xff;
  page[off + 29] = 0; // flags: no TSC_STABLE promise
  put32(page, off, (v + 2) >>> 0);
}

/** Writes the shared_info wallclock (Unix time at system time 0). */
export function writeWallclock(page: Uint8Array, layout: SharedInfoLayout, unixNsAtZero: number): void {
  const v = get32(page, layout.wcVersion) & ~1;
  put32(page, layout.wcVersion, (v + 1) >>> 0);
  const sec = Math.floor(unixNsAtZero / 1e9);
  put32(page, layout.wcSec, sec % 4294967296);
  put32(page, layout.wcNsec, Math.floor(unixNsAtZero - sec * 1e9));
  put32(page, layout.wcSecHi, Math.floor(sec / 4294967296));
  put32(page, layout.wcVersion, (v + 2) >>> 0);
}
