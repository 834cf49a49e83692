/**
 * Protected-mode segmentation (Intel SDM vol. 3, ch. 3 and 5): descriptor fetch from the GDT/LDT,
 * the checks that loading a segment register performs, and the slow path of limit and type checks
 * for accesses the fast path could not approve.
 */
import type { Cpu } from './cpu.js';
import { CS, LDTR, SS, VEC_GP, VEC_NP, VEC_SS, VEC_TS } from './arch.js';

/** A descriptor as read from a table: raw halves plus decoded fields. */
export interface Descriptor {
  lo: number;
  hi: number;
  base: number;
  /** Byte-granular limit. */
  limit: number;
  /** Descriptor bits 40..55 as stored in Cpu.segAttr. */
  attr: number;
  /** Linear address of the descriptor, for setting the accessed bit. */
  addr: number;
}

export const ATTR_PRESENT = 0x80;
export const ATTR_S = 0x10; // code/data (1) vs system (0)
export const ATTR_CODE = 0x08;
export const ATTR_CONFORMING = 0x04; // for code; expand-down for data
export const ATTR_RW = 0x02; // readable code / writable data
export const ATTR_ACCESSED = 0x01;
export const ATTR_DB = 0x4000;

export function dpl(attr: number): number {
  return (attr >> 5) & 3;
}

export function decodeDescriptor(lo: number, hi: number, addr: number): Descriptor {
  const base = ((lo >>> 16) | ((hi & 0xff) << 16) | (hi & 0xff000000)) | 0;
  let limit = (lo & 0xffff) | (hi & 0xf0000);
  if (hi & 0x800000) limit = limit * 4096 + 0xfff;
  return { lo, hi, base, limit, attr: (hi >> 8) & 0xf0ff, addr };
}

/**
 * Reads the descriptor for `sel` from the GDT or LDT, or returns null when the selector's index is
 * beyond the table limit (callers raise the fault that fits their context).
 */
export function readDescriptor(c: Cpu, sel: number): Descriptor | null {
  const index = sel & 0xfff8;
  let base: number, limit: number;
  if (sel & 4) {
    if ((c.segAttr[LDTR] & ATTR_PRESENT) === 0 || (c.segSel[LDTR] & 0xfffc) === 0) return null;
    base = c.segBase[LDTR];
    limit = c.segLimit[LDTR];
  } else {
    base = c.gdtBase;
    limit = c.gdtLimit;
  }
  if (index + 7 > limit) return null;
  const addr = (base + index) | 0;
  return decodeDescriptor(c.sysRd32(addr), c.sysRd32((addr + 4) | 0), addr);
}

/** Sets the accessed bit in the descriptor table, as loading a segment register does. */
export function markAccessed(c: Cpu, d: Descriptor): void {
  if ((d.attr & ATTR_ACCESSED) === 0) {
    d.attr |= ATTR_ACCESSED;
    c.sysWr8((d.addr + 5) | 0, (d.hi >> 8) & 0xff | 1);
  }
}

/** Puts a descriptor into a segment register's hidden cache. */
export function loadCache(c: Cpu, seg: number, sel: number, d: Descriptor): void {
  c.segSel[seg] = sel & 0xffff;
  c.segBase[seg] = d.base;
  c.segLimit[seg] = d.limit;
  c.segAttr[seg] = d.attr;
  if (seg < 6) c.updateSegFast(seg);
  if (seg === CS) c.cs32 = (d.attr & ATTR_DB) !== 0;
  if (seg === SS) c.ss32 = (d.attr & ATTR_DB) !== 0;
}

/** Loads a null selector into DS/ES/FS/GS: later accesses through it raise #GP(0). */
export function loadNull(c: Cpu, seg: number, sel: number): void {
  c.segSel[seg] = sel & 0xffff;
  c.segBase[seg] = 0;
  c.segLimit[seg] = 0;
  c.segAttr[seg] = 0;
  c.updateSegFast(seg);
}

/**
 * MOV/POP to a data segment register or SS, with every protected-mode check.
 * `vecOverride` lets task switches report #TS instead of #GP.
 */
export function loadDataSeg(c: Cpu, seg: number, sel: number, taskSwitch = false): void {
  sel &= 0xffff;
  if (!c.protectedMode || c.v86) {
    c.loadRealSeg(seg, sel);
    return;
  }
  const gp = taskSwitch ? VEC_TS : VEC_GP;
  const rpl = sel & 3;
  if ((sel & 0xfffc) === 0) {
    if (seg === SS) c.fault(gp, 0);
    loadNull(c, seg, sel);
    return;
  }
  const d = readDescriptor(c, sel);
  if (d === null) return c.fault(gp, sel & 0xfffc);
  const a = d.attr;
  if (seg === SS) {
    if (rpl !== c.cpl || dpl(a) !== c.cpl || (a & (ATTR_S | ATTR_CODE | ATTR_RW)) !== (ATTR_S | ATTR_RW)) {
      return c.fault(gp, sel & 0xfffc);
    }
    if ((a & ATTR_PRESENT) === 0) return c.fault(taskSwitch ? VEC_SS : VEC_SS, sel & 0xfffc);
  } else {
    if ((a & ATTR_S) === 0) return c.fault(gp, sel & 0xfffc);
    if ((a & ATTR_CODE) !== 0 && (a & ATTR_RW) === 0) return c.fault(gp, sel & 0xfffc);
    // Data and non-conforming code: both CPL and RPL must be privileged enough.
    if ((a & (ATTR_CODE | ATTR_CONFORMING)) !== (ATTR_CODE | ATTR_CONFORMING)) {
      if (dpl(a) < c.cpl || dpl(a) < rpl) return c.fault(gp, sel & 0xfffc);
    }
    if ((a & ATTR_PRESENT) === 0) return c.fault(VEC_NP, sel & 0xfffc);
  }
  markAccessed(c, d);
  loadCache(c, seg, sel, d);
}

/**
 * Whether a stack switch to the segment `d` at `esp` has room for a `bytes`-byte frame below it
 * (expand-up or expand-down, 16- or 32-bit by the B bit): the check that gives #SS(new SS) for
 * interrupts and call gates before anything is pushed.
 */
export function stackFits(d: Descriptor, esp: number, bytes: number): boolean {
  const big = (d.attr & ATTR_DB) !== 0;
  const sp = big ? esp >>> 0 : esp & 0xffff;
  if (sp !== 0 && sp < bytes) return !big; // wraps below zero: a 16-bit SP wraps, a 32-bit one cannot
  const low = ((sp === 0 ? (big ? 0x100000000 : 0x10000) : sp) - bytes);
  const high = low + bytes - 1;
  if (d.attr & ATTR_CONFORMING) return low > d.limit && high <= (big ? 0xffffffff : 0xffff);
  return high <= d.limit;
}

/**
 * Checks that `bytes` can be pushed below SS:ESP (segment limit, then paging at the lowest and the
 * highest byte) without writing anything, so a multi-word push (an interrupt frame, a far return
 * address) either happens whole or faults with ESP and memory unchanged, as on hardware.
 */
export function probePush(c: Cpu, bytes: number): void {
  const sp = c.ss32 ? c.regs[4] : c.regs[4] & 0xffff;
  if (!c.ss32 && sp !== 0 && sp < bytes) return; // wraps inside a 16-bit stack: the pushes check
  const low = c.ss32 ? (sp - bytes) | 0 : (sp - bytes) & 0xffff;
  const lin = c.linW(SS, low, bytes);
  if (c.paging) {
    const user = c.cpl === 3;
    c.translate(lin, 1, user);
    c.translate((lin + bytes - 1) | 0, 1, user);
  }
}

/**
 * The full check for an access the fast path sent here: null selector, type, and limit
 * (including expand-down segments). Throws the architectural fault or returns when allowed.
 */
export function segmentCheckSlow(c: Cpu, seg: number, off: number, size: number, write: boolean): void {
  // With a 4 GiB limit an operand that wraps past offset FFFFFFFFh is not a limit violation: the
  // offset wraps to 0 (the SDM leaves this implementation-specific; measured: the access proceeds
  // and faults, if at all, on paging). `last` is computed without wrapping, hence the clamp.
  const lim = c.segLimit[seg];
  const last = lim === 0xffffffff ? Math.min(off + size - 1, lim) : off + size - 1;
  if (!c.protectedMode || c.v86) {
    if (last > lim) c.segLimitFault(seg);
    return;
  }
  const a = c.segAttr[seg];
  if ((a & ATTR_PRESENT) === 0 || (a & ATTR_S) === 0) {
    // Null (unusable) selector.
    return c.fault(seg === SS ? VEC_SS : VEC_GP, 0);
  }
  if (a & ATTR_CODE) {
    if (write || (a & ATTR_RW) === 0) return c.fault(VEC_GP, 0);
    if (last > lim) c.segLimitFault(seg);
    return;
  }
  if (write && (a & ATTR_RW) === 0) return c.fault(seg === SS ? VEC_SS : VEC_GP, 0);
  if (a & ATTR_CONFORMING) {
    // Expand-down: valid offsets are limit+1 .. 0xFFFF or 0xFFFFFFFF (by the B bit).
    const upper = a & ATTR_DB ? 0xffffffff : 0xffff;
    if (off <= lim || last > upper) c.segLimitFault(seg);
    return;
  }
  if (last > lim) c.segLimitFault(seg);
}

export { VEC_NP };
