/**
 * The event-channel bits the hypervisor and a guest share: evtchn_pending[] and evtchn_mask[] in
 * the shared_info page, and evtchn_upcall_pending / evtchn_pending_sel in each vCPU's vcpu_info
 * (xen/include/public/xen.h; layouts in ../shared/docs/xen-abi.md 4.2-4.3).
 *
 * The guest owns these pages and may scribble anything into them at any time: nothing read from
 * them is trusted beyond the bit being tested. A vcpu_info may live inside shared_info or, after
 * VCPUOP_register_vcpu_info, anywhere in guest RAM; callers pass a byte view of the page it sits in.
 */

/** Word width of the 2-level bitmaps: 32 for the compat (i386) layout, 64 for the x86-64 one. */
export type LayoutBits = 32 | 64;

export interface SharedInfoLayout {
  bits: LayoutBits;
  pendingOffset: number;
  maskOffset: number;
  /** Offset of evtchn_pending_sel inside vcpu_info. */
  pendingSelOffset: number;
  maxPorts: number;
  wcVersion: number;
  wcSec: number;
  wcNsec: number;
  wcSecHi: number;
}

export const LAYOUT_32: SharedInfoLayout = {
  bits: 32, pendingOffset: 2048, maskOffset: 2176, pendingSelOffset: 4, maxPorts: 1024,
  wcVersion: 2304, wcSec: 2308, wcNsec: 2312, wcSecHi: 2340,
};
export const LAYOUT_64: SharedInfoLayout = {
  bits: 64, pendingOffset: 2048, maskOffset: 2560, pendingSelOffset: 8, maxPorts: 4096,
  wcVersion: 3072, wcSec: 3076, wcNsec: 3080, wcSecHi: 3084,
};

export const VCPU_INFO_SIZE = 64;
export const UPCALL_PENDING = 0;
export const UPCALL_MASK = 1;

/** Where a vCPU's vcpu_info lives: a page view and the byte offset in it. */
export interface VcpuInfoRef {
  page: Uint8Array;
  offset: number;
}

/** Bit operations on the shared bitmaps. Ports are little-endian bit numbers within the array. */
export class SharedBits {
  constructor(
    private readonly layout: SharedInfoLayout,
    private readonly shinfo: Uint8Array,
  ) {}

  get maxPorts(): number {
    return this.layout.maxPorts;
  }

  private test(base: number, port: number): boolean {
    return (this.shinfo[base + (port >> 3)] & (1 << (port & 7))) !== 0;
  }

  private set(base: number, port: number): boolean {
    const a = base + (port >> 3), m = 1 << (port & 7);
    const old = (this.shinfo[a] & m) !== 0;
    this.shinfo[a] |= m;
    return old;
  }

  private clear(base: number, port: number): boolean {
    const a = base + (port >> 3), m = 1 << (port & 7);
    const old = (this.shinfo[a] & m) !== 0;
    this.shinfo[a] &= ~m;
    return old;
  }

  isPending(port: number): boolean {
    return this.test(this.layout.pendingOffset, port);
  }
  isMasked(port: number): boolean {
    return this.test(this.layout.maskOffset, port);
  }
  /** Test-and-set of the pending bit; returns the old value. */
  setPending(port: number): boolean {
    return this.set(this.layout.pendingOffset, port);
  }
  clearPending(port: number): boolean {
    return this.clear(this.layout.pendingOffset, port);
  }
  setMask(port: number): boolean {
    return this.set(this.layout.maskOffset, port);
  }
  /** Test-and-clear of the mask bit; returns the old value. */
  clearMask(port: number): boolean {
    return this.clear(this.layout.maskOffset, port);
  }

  /** Test-and-set of bit `word` of a vCPU's evtchn_pending_sel; returns the old value. */
  setPendingSel(v: VcpuInfoRef, word: number): boolean {
    const a = v.offset + this.layout.pendingSelOffset + (word >> 3), m = 1 << (word & 7);
    const old = (v.page[a] & m) !== 0;
    v.page[a] |= m;
    return old;
  }

  /** The index of the pending_sel bit that covers `port`. */
  wordOf(port: number): number {
    return Math.floor(port / this.layout.bits);
  }
}
