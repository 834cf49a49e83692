/**
 * Lazy EFLAGS. Arithmetic does not compute the six status flags; it records the operation kind,
 * operand size, operands and result, and marks which flags are "lazy". A flag is computed only when
 * something reads it (Jcc, PUSHF, ADC...). Most results are overwritten before anyone looks.
 *
 * ADD/SUB/logic, ADC/SBB, SHL/SHR/SAR by a non-zero count and MUL/IMUL are lazy. Everything with
 * a more complex flag rule (rotates, BCD, ...) computes its flags eagerly through `setFlags`.
 */
import type { Cpu } from './cpu.js';
import { ARITH_FLAGS, FLAG_AF, FLAG_CF, FLAG_OF, FLAG_PF, FLAG_SF, FLAG_ZF } from './arch.js';

export const enum LazyOp {
  Add = 0,
  Sub = 1,
  /**
   * ADC/SBB: la, lb = operands, lr = result including the carry in, which is recovered as
   * (lr - la - lb) & 1 (ADC) or (la - lb - lr) & 1 (SBB), so it needs no field of its own.
   */
  Adc = 2,
  Sbb = 3,
  Logic = 4,
  /** Shifts by a non-zero count: la = operand, lb = count, lr = result. AF reads as 0. */
  Shl = 5,
  Shr = 6,
  Sar = 7,
  /** MUL/IMUL: la = 1 if the product overflowed the destination (CF = OF = la), lr = low part. */
  Mul = 8,
}

/** PF is set when the low byte of the result has an even number of 1 bits. */
export const PARITY = new Uint8Array(256);
for (let i = 0; i < 256; i++) {
  let b = i, n = 0;
  while (b) { n += b & 1; b >>= 1; }
  PARITY[i] = n & 1 ? 0 : FLAG_PF;
}

export function sizeMask(bits: number): number {
  return bits === 32 ? -1 : (1 << bits) - 1;
}

export function lazyCF(c: Cpu): number {
  const m = c.lmask;
  switch (c.lop) {
    case LazyOp.Add: return (c.lr & m) >>> 0 < (c.la & m) >>> 0 ? 1 : 0;
    case LazyOp.Sub: return (c.la & m) >>> 0 < (c.lb & m) >>> 0 ? 1 : 0;
    case LazyOp.Logic: return 0;
    default: return lazyCFOther(c);
  }
}

/** CF of the less common lazy operations (kept out of line so lazyCF stays small enough to inline). */
function lazyCFOther(c: Cpu): number {
  const m = c.lmask;
  switch (c.lop) {
    case LazyOp.Adc:
      return ((c.lr - c.la - c.lb) & 1) !== 0
        ? ((c.lr & m) >>> 0 <= (c.la & m) >>> 0 ? 1 : 0)
        : ((c.lr & m) >>> 0 < (c.la & m) >>> 0 ? 1 : 0);
    case LazyOp.Sbb:
      return ((c.la - c.lb - c.lr) & 1) !== 0
        ? ((c.la & m) >>> 0 <= (c.lb & m) >>> 0 ? 1 : 0)
        : ((c.la & m) >>> 0 < (c.lb & m) >>> 0 ? 1 : 0);
    case LazyOp.Mul: return c.la;
    case LazyOp.Shl: return c.lbits === 32 ? (c.la >>> (32 - c.lb)) & 1 : ((c.la << c.lb) >>> c.lbits) & 1;
    case LazyOp.Shr: return (c.la >>> (c.lb - 1)) & 1;
    case LazyOp.Sar: return (c.la >> Math.min(c.lb - 1, 31)) & 1;
    default: return 0;
  }
}

export function lazyOF(c: Cpu): number {
  const sh = c.lbits - 1;
  switch (c.lop) {
    case LazyOp.Add:
    case LazyOp.Adc: return (((c.la ^ c.lr) & (c.lb ^ c.lr)) >>> sh) & 1;
    case LazyOp.Sub:
    case LazyOp.Sbb: return (((c.la ^ c.lb) & (c.la ^ c.lr)) >>> sh) & 1;
    case LazyOp.Mul: return c.la;
    // Shifts: defined for a count of 1; larger counts give the same formula (SDM: undefined).
    case LazyOp.Shl: return ((c.lr >>> sh) & 1) ^ lazyCF(c);
    case LazyOp.Shr: return c.lb === 1 ? (c.la >>> sh) & 1 : 0;
    default: return 0;
  }
}

export function lazyAF(c: Cpu): number {
  return c.lop >= LazyOp.Logic ? 0 : (c.la ^ c.lb ^ c.lr) & FLAG_AF;
}

export function lazyZF(c: Cpu): boolean {
  return (c.lr & c.lmask) === 0;
}

export function lazySF(c: Cpu): number {
  return (c.lr >>> (c.lbits - 1)) & 1;
}

/** Brings every lazy flag into `c.flags` and clears the lazy mask. */
export function materialize(c: Cpu): void {
  const lz = c.lazy;
  if (lz === 0) return;
  let f = c.flags & ~lz;
  if (lz & FLAG_CF) f |= lazyCF(c);
  if (lz & FLAG_PF) f |= PARITY[c.lr & 0xff];
  if (lz & FLAG_AF) f |= lazyAF(c);
  if (lz & FLAG_ZF && lazyZF(c)) f |= FLAG_ZF;
  if (lz & FLAG_SF && lazySF(c)) f |= FLAG_SF;
  if (lz & FLAG_OF && lazyOF(c)) f |= FLAG_OF;
  c.flags = f;
  c.lazy = 0;
}

export function getCF(c: Cpu): number {
  return c.lazy & FLAG_CF ? lazyCF(c) : c.flags & FLAG_CF;
}
export function getZF(c: Cpu): boolean {
  return c.lazy & FLAG_ZF ? lazyZF(c) : (c.flags & FLAG_ZF) !== 0;
}
export function getSF(c: Cpu): number {
  return c.lazy & FLAG_SF ? lazySF(c) : (c.flags >> 7) & 1;
}
export function getOF(c: Cpu): number {
  return c.lazy & FLAG_OF ? lazyOF(c) : (c.flags >> 11) & 1;
}
export function getPF(c: Cpu): boolean {
  return c.lazy & FLAG_PF ? PARITY[c.lr & 0xff] !== 0 : (c.flags & FLAG_PF) !== 0;
}
export function getAF(c: Cpu): number {
  return c.lazy & FLAG_AF ? (lazyAF(c) ? 1 : 0) : (c.flags >> 4) & 1;
}

/**
 * Evaluates condition code `cc` (the low nibble of Jcc/SETcc/CMOVcc opcodes).
 * Even codes are the condition, odd codes its negation.
 */
export function testCC(c: Cpu, cc: number): boolean {
  let r: boolean;
  switch (cc >> 1) {
    case 0: r = getOF(c) !== 0; break; // O
    case 1: r = getCF(c) !== 0; break; // B/C
    case 2: r = getZF(c); break; // Z
    case 3: r = getCF(c) !== 0 || getZF(c); break; // BE
    case 4: r = getSF(c) !== 0; break; // S
    case 5: r = getPF(c); break; // P
    case 6: r = getSF(c) !== getOF(c); break; // L
    default: r = getZF(c) || getSF(c) !== getOF(c); break; // LE
  }
  return (cc & 1) === 0 ? r : !r;
}

/** Records a lazy result. `bits` is 8, 16 or 32. */
export function setLazy(c: Cpu, op: LazyOp, bits: number, a: number, b: number, r: number): void {
  c.lop = op;
  c.lbits = bits;
  c.lmask = bits === 32 ? -1 : (1 << bits) - 1;
  c.la = a;
  c.lb = b;
  c.lr = r;
  c.lazy = ARITH_FLAGS;
}

/** INC/DEC: like ADD/SUB by one, but CF keeps its old value, so it is materialized first. */
export function setLazyKeepCF(c: Cpu, op: LazyOp, bits: number, a: number, r: number): void {
  const cf = getCF(c);
  c.flags = (c.flags & ~FLAG_CF) | cf;
  c.lop = op;
  c.lbits = bits;
  c.lmask = bits === 32 ? -1 : (1 << bits) - 1;
  c.la = a;
  c.lb = 1;
  c.lr = r;
  c.lazy = ARITH_FLAGS & ~FLAG_CF;
}

/** Sets status flags eagerly: `mask` says which ones the instruction defines, `values` their bits. */
export function setFlags(c: Cpu, mask: number, values: number): void {
  if (c.lazy) materialize(c);
  c.flags = (c.flags & ~mask) | (values & mask);
}

/** ZF, SF and PF of a result of `bits` width, as EFLAGS bits. */
export function szp(bits: number, r: number): number {
  const m = bits === 32 ? -1 : (1 << bits) - 1;
  return ((r & m) === 0 ? FLAG_ZF : 0) | ((r >>> (bits - 1)) & 1 ? FLAG_SF : 0) | PARITY[r & 0xff];
}

export { FLAG_CF, FLAG_OF };
