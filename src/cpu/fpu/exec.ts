/**
 * The register-level semantics of the x87 instructions: operand checks (stack underflow and
 * overflow with their masked responses), the arithmetic call, and where the result goes. Memory
 * operands arrive already decoded (ops/x87.ts reads and writes memory). Every function works in
 * the Fpu's current context (`f.begin()` before, `f.commit()` after) and leaves the register
 * stack unchanged when an unmasked exception cancels the instruction.
 */
import { add, CMP_UN, compare, div, mul, sqrt } from './arith.js';
import { DEC_DENORMAL } from './convert.js';
import { copy, DE, F80, isNaNKind, Kind, kind, RC_DOWN, RC_UP, RC_ZERO, set } from './float80.js';
import { Fpu, FSW_C0, FSW_C2, FSW_C3 } from './fpu.js';
import { frndint, fscale, fxtract, prem, premResult } from './misc.js';
import { f2xm1, fpatan, fyl2x, fyl2xp1, trig, trigArg, trigDone } from './transcend.js';

const res = new F80();
const res2 = new F80();
export const INDEFINITE = F80.of(1, 0x7fff, 0xc0000000, 0);

// ---- arithmetic ----------------------------------------------------------------------------------
/**
 * res = a op b for the ESC arithmetic group (ModRM.reg of D8/DC): 0 add, 1 mul, 4 sub (a - b),
 * 5 subr (b - a), 6 div (a / b), 7 divr (b / a). False when an unmasked exception cancels it.
 */
function compute(f: Fpu, op: number, a: F80, b: F80): boolean {
  const ctx = f.ctx, p = ctx.prec;
  switch (op) {
    case 0: return add(ctx, res, a, b, false, p);
    case 1: return mul(ctx, res, a, b, p);
    case 4: return add(ctx, res, a, b, true, p);
    case 5: return add(ctx, res, b, a, true, p);
    case 6: return div(ctx, res, a, b, p);
    default: return div(ctx, res, b, a, p);
  }
}

/** Writes a result (or the indefinite after a masked stack underflow) to ST(i). */
function put(f: Fpu, i: number, v: F80): void {
  copy(f.st(i), v);
  f.fill(i);
}

/**
 * Register forms (D8, DC, DE): ST(dst) = ST(0) op ST(sti) with dst = 0 (D8) or sti (DC/DE, where
 * the encoding's reversed SUB/SUBR and DIV/DIVR come out of computing ST(0) op ST(i) the D8 way).
 */
export function arithReg(f: Fpu, op: number, sti: number, toSti: boolean, pop: boolean): void {
  const dst = toSti ? sti : 0;
  if (f.isEmpty(0) || f.isEmpty(sti)) {
    if (!f.underflow()) return;
    put(f, dst, INDEFINITE);
  } else {
    f.ctx.c1 = 0;
    if (!compute(f, op, f.st(0), f.st(sti))) return;
    f.ctx.c1 = f.ctx.up ? 1 : 0;
    put(f, dst, res);
  }
  if (pop) f.pop();
}

/**
 * Memory forms (D8 m32, DC m64, DA m32int, DE m16int): ST(0) = ST(0) op v. `dec` tells how v was
 * decoded: a denormal raises DE unless ST(0) is a NaN or unsupported (which take precedence).
 */
export function arithMem(f: Fpu, op: number, v: F80, dec: number): void {
  if (f.isEmpty(0)) {
    if (f.underflow()) put(f, 0, INDEFINITE);
    return;
  }
  f.ctx.c1 = 0;
  // (A denormal dividend over zero is a zero divide only.)
  if (dec === DEC_DENORMAL && !(op === 7 && kind(f.st(0)) === Kind.Zero) && !memDenormal(f)) return;
  if (!compute(f, op, f.st(0), v)) return;
  f.ctx.c1 = f.ctx.up ? 1 : 0;
  put(f, 0, res);
}

/** DE for a denormal memory operand; false when unmasked. */
function memDenormal(f: Fpu): boolean {
  const k = kind(f.st(0));
  if (isNaNKind(k) || k === Kind.Unsupported) return true;
  return f.ctx.raise(DE);
}

export function fsqrt(f: Fpu): void {
  if (f.isEmpty(0)) {
    if (f.underflow()) put(f, 0, INDEFINITE);
    return;
  }
  f.ctx.c1 = 0;
  if (!sqrt(f.ctx, res, f.st(0), f.ctx.prec)) return;
  f.ctx.c1 = f.ctx.up ? 1 : 0;
  put(f, 0, res);
}

// ---- compare -------------------------------------------------------------------------------------
const CC = [0, FSW_C0, FSW_C3, FSW_C3 | FSW_C2 | FSW_C0];

/** Whether an exception raised so far in this instruction is unmasked. */
function unmasked(f: Fpu): boolean {
  return (f.ctx.flags & ~f.ctx.masks & 0x3f) !== 0;
}

/**
 * FCOM/FUCOM family: compares ST(0) with b (null: ST(i) is empty) and sets C3 C2 C0 (unordered
 * after a stack underflow), C1 = 0; then pops `pops` times unless an exception was unmasked (the
 * condition codes are set even then, as on the hardware measured).
 */
export function fcom(f: Fpu, b: F80 | null, quiet: boolean, pops: number, dec = 0): void {
  let r: number;
  if (f.isEmpty(0) || b === null) {
    f.underflow();
    r = CMP_UN;
  } else {
    f.ctx.c1 = 0;
    if (dec === DEC_DENORMAL) memDenormal(f);
    r = compare(f.ctx, f.st(0), b, quiet);
  }
  f.setC320(CC[r]);
  if (unmasked(f)) return;
  for (let k = 0; k < pops; k++) f.pop();
}

/**
 * FCOMI/FUCOMI(P): compares ST(0) with ST(i) for EFLAGS (the caller sets them from the CMP_*
 * result). C1 is left alone unless the stack underflows; an unmasked exception skips the pop.
 */
export function fcomi(f: Fpu, sti: number, quiet: boolean, pop: boolean): number {
  let r: number;
  if (f.isEmpty(0) || f.isEmpty(sti)) {
    f.underflow();
    r = CMP_UN;
  } else {
    r = compare(f.ctx, f.st(0), f.st(sti), quiet);
  }
  if (pop && !unmasked(f)) f.pop();
  return r;
}

const ZERO = F80.of(0, 0, 0, 0);
export function ftst(f: Fpu): void {
  fcom(f, ZERO, false, 0);
}

export function fxam(f: Fpu): void {
  const cc = f.examine();
  f.ctx.c1 = cc & 0x200 ? 1 : 0;
  f.setC320(cc & (FSW_C0 | FSW_C2 | FSW_C3));
}

// ---- moves ----------------------------------------------------------------------------------------
/**
 * Pushes `v` (already decoded and checked: FLD m32/m64/m80, FILD, FBLD, FLD ST(i), constants).
 * Stack overflow: masked, the indefinite is pushed; unmasked, nothing changes. C1 = overflow.
 */
export function load(f: Fpu, v: F80): void {
  const o = f.checkPush(1);
  if (o === 2) return;
  if (o === 1) {
    f.pushIndefinite();
    return;
  }
  f.ctx.c1 = 0;
  copy(res, v); // v may be a register (FLD ST(i))
  copy(f.push(), res);
}

/** FLD ST(i). An empty source is a stack underflow (C1 = 0) even when the stack is also full. */
export function fldSt(f: Fpu, sti: number): void {
  if (f.isEmpty(sti)) {
    if (f.underflow()) f.pushIndefinite();
    return;
  }
  load(f, f.st(sti));
}

/** FST/FSTP ST(i) (and the FSTP1/8/9 aliases). */
export function fstSt(f: Fpu, sti: number, pop: boolean): void {
  if (f.isEmpty(0)) {
    if (!f.underflow()) return;
    put(f, sti, INDEFINITE);
  } else {
    f.ctx.c1 = 0;
    put(f, sti, f.st(0));
  }
  if (pop) f.pop();
}

export function fxch(f: Fpu, sti: number): void {
  if (f.isEmpty(0) || f.isEmpty(sti)) {
    if (!f.underflow()) return;
    if (f.isEmpty(0)) put(f, 0, INDEFINITE);
    if (f.isEmpty(sti)) put(f, sti, INDEFINITE);
  }
  f.ctx.c1 = 0;
  copy(res, f.st(0));
  copy(f.st(0), f.st(sti));
  copy(f.st(sti), res);
}

/** FCMOVcc: the operands are checked whatever the condition. */
export function fcmov(f: Fpu, sti: number, cond: boolean): void {
  if (f.isEmpty(0) || f.isEmpty(sti)) {
    if (f.underflow()) put(f, 0, INDEFINITE);
    return;
  }
  if (cond) put(f, 0, f.st(sti));
}

/** FCHS (negate) and FABS: sign-bit operations, no exceptions beyond stack underflow. */
export function fsign(f: Fpu, abs: boolean): void {
  if (f.isEmpty(0)) {
    if (f.underflow()) put(f, 0, INDEFINITE);
    return;
  }
  f.ctx.c1 = 0;
  const x = f.st(0);
  x.sign = abs ? 0 : x.sign ^ 1;
}

/** FLD1, FLDL2T, FLDL2E, FLDPI, FLDLG2, FLDLN2, FLDZ (D9 E8-EE): rounded by RC from 66+ bits. */
const CONSTANTS: [number, number, number, boolean][] = [
  // exponent field, significand (truncated), whether the rest is above one half (nearest rounds up)
  [0x3fff, 0x80000000, 0x00000000, false], // 1
  [0x4000, 0xd49a784b, 0xcd1b8afe, false], // log2(10)
  [0x3fff, 0xb8aa3b29, 0x5c17f0bb, true], // log2(e)
  [0x4000, 0xc90fdaa2, 0x2168c234, true], // pi
  [0x3ffd, 0x9a209a84, 0xfbcff798, true], // log10(2)
  [0x3ffe, 0xb17217f7, 0xd1cf79ab, true], // ln(2)
];

export function fldConst(f: Fpu, n: number): void {
  if (n === 6) {
    set(res2, 0, 0, 0, 0);
  } else {
    const [e, hi, lo, nearestUp] = CONSTANTS[n];
    const rc = f.ctx.rc;
    const up = n !== 0 && (rc === RC_UP || (rc !== RC_DOWN && rc !== RC_ZERO && nearestUp));
    set(res2, 0, e, hi, up ? lo + 1 : lo);
  }
  load(f, res2);
}

// ---- FPREM, FSCALE, FRNDINT, FXTRACT ------------------------------------------------------------------
/** FPREM/FPREM1. With a NaN result (stack underflow included) C2 = C1 = 0 and C0, C3 are kept. */
export function fprem(f: Fpu, nearest: boolean): void {
  // Also when an unmasked exception cancels the instruction.
  f.setC320(f.fsw & (FSW_C0 | FSW_C3));
  f.ctx.c1 = 0;
  if (f.isEmpty(0) || f.isEmpty(1)) {
    if (f.underflow()) put(f, 0, INDEFINITE);
    return;
  }
  if (!prem(f.ctx, res, f.st(0), f.st(1), nearest)) return;
  put(f, 0, res);
  if (premResult.nan) return;
  const q = premResult.q;
  f.setC320((premResult.incomplete ? FSW_C2 : 0) | (q & 4 ? FSW_C0 : 0) | (q & 2 ? FSW_C3 : 0));
  f.ctx.c1 = q & 1;
}

export function fscaleOp(f: Fpu): void {
  if (f.isEmpty(0) || f.isEmpty(1)) {
    if (f.underflow()) put(f, 0, INDEFINITE);
    return;
  }
  f.ctx.c1 = 0;
  if (!fscale(f.ctx, res, f.st(0), f.st(1))) return;
  f.ctx.c1 = f.ctx.up ? 1 : 0;
  put(f, 0, res);
}

export function frndintOp(f: Fpu): void {
  if (f.isEmpty(0)) {
    if (f.underflow()) put(f, 0, INDEFINITE);
    return;
  }
  f.ctx.c1 = 0;
  if (!frndint(f.ctx, res, f.st(0))) return;
  f.ctx.c1 = f.ctx.up ? 1 : 0;
  put(f, 0, res);
}

/**
 * The checks of instructions that replace ST(0) and push (FXTRACT, FPTAN, FSINCOS): returns true
 * when they decided the outcome (empty ST(0) or a full stack: masked, both become the indefinite).
 */
function replaceAndPushChecks(f: Fpu): boolean {
  if (f.isEmpty(0)) {
    if (f.underflow()) {
      put(f, 0, INDEFINITE);
      f.pushIndefinite();
    }
    return true;
  }
  const o = f.checkPush(1);
  if (o === 0) return false;
  if (o === 1) {
    put(f, 0, INDEFINITE);
    f.pushIndefinite();
  }
  return true;
}

/** ST(0) = a, then push b. */
function replaceAndPush(f: Fpu, a: F80, b: F80): void {
  put(f, 0, a);
  copy(f.push(), b);
}

export function fxtractOp(f: Fpu): void {
  if (replaceAndPushChecks(f)) return;
  f.ctx.c1 = 0;
  if (!fxtract(f.ctx, res, res2, f.st(0))) return;
  replaceAndPush(f, res, res2);
}

// ---- transcendentals ------------------------------------------------------------------------------
const ONE = F80.of(0, 0x3fff, 0x80000000, 0);

/** FSIN (0), FCOS (1), FPTAN (2, pushes 1.0), FSINCOS (3, ST(0) = sin, pushes cos). */
export function ftrig(f: Fpu, which: number): void {
  const push = which >= 2;
  if (push ? replaceAndPushChecks(f) : f.isEmpty(0)) {
    if (!push && f.underflow()) put(f, 0, INDEFINITE);
    // A stack fault clears C2 (no out-of-range operand), as measured (C0 and C3 are undefined).
    f.setC320(f.fsw & (FSW_C0 | FSW_C3));
    return;
  }
  const ctx = f.ctx;
  ctx.c1 = 0;
  const x = f.st(0);
  const a = trigArg(ctx, res, x);
  if (a === 1) {
    // |x| >= 2^63: C2 = 1 and the operand is left alone.
    f.setC320((f.fsw & (FSW_C0 | FSW_C3)) | FSW_C2);
    return;
  }
  if (a === 2) {
    // NaN or invalid: every result is that NaN (or the indefinite).
    if (!trigDone()) return;
    f.setC320(f.fsw & (FSW_C0 | FSW_C3));
    if (push) replaceAndPush(f, res, res);
    else put(f, 0, res);
    return;
  }
  f.setC320(f.fsw & (FSW_C0 | FSW_C3));
  if (which === 3) {
    // C1 reports the rounding of the cosine, the value pushed (the new ST(0)): it is rounded last.
    trig(ctx, res, x, 0);
    trig(ctx, res2, x, 1);
    replaceAndPush(f, res, res2);
  } else {
    trig(ctx, res, x, which);
    if (push) replaceAndPush(f, res, ONE);
    else put(f, 0, res);
  }
  ctx.c1 = ctx.up ? 1 : 0;
}

export function f2xm1Op(f: Fpu): void {
  if (f.isEmpty(0)) {
    if (f.underflow()) put(f, 0, INDEFINITE);
    return;
  }
  f.ctx.c1 = 0;
  if (!f2xm1(f.ctx, res, f.st(0))) return;
  f.ctx.c1 = f.ctx.up ? 1 : 0;
  put(f, 0, res);
}

/** FYL2X (0), FYL2XP1 (1), FPATAN (2): ST(1) = fn(ST(0), ST(1)), then pop. */
export function fbinaryPop(f: Fpu, which: number): void {
  if (f.isEmpty(0) || f.isEmpty(1)) {
    if (!f.underflow()) return;
    put(f, 1, INDEFINITE);
    f.pop();
    return;
  }
  f.ctx.c1 = 0;
  const x = f.st(0), y = f.st(1);
  const ok = which === 0 ? fyl2x(f.ctx, res, x, y) : which === 1 ? fyl2xp1(f.ctx, res, x, y) : fpatan(f.ctx, res, x, y);
  if (!ok) return;
  f.ctx.c1 = f.ctx.up ? 1 : 0;
  put(f, 1, res);
  f.pop();
}

// ---- stack control --------------------------------------------------------------------------------
export function fincdec(f: Fpu, delta: number): void {
  f.top = (f.top + delta) & 7;
  f.ctx.c1 = 0;
}

export function ffree(f: Fpu, sti: number, pop: boolean): void {
  f.free(sti);
  f.ctx.c1 = 0;
  if (pop) f.pop();
}
