/**
 * Exact x87 arithmetic on 80-bit values: add/subtract, multiply, divide and square root computed
 * on the full 64-bit significands with guard bits and a sticky bit, then rounded once by
 * `roundPack` under the control word's precision and rounding control. Results match the IEEE 754
 * correctly rounded result, which is what the x87 delivers for these operations.
 *
 * Every operation follows the SDM's order of checks: unsupported or SNaN operands and other invalid
 * operations first (IE, masked response the QNaN indefinite or the propagated NaN), then denormal
 * operands (DE), zero divide (ZE), and finally the rounding exceptions (OE, UE, PE). Each returns
 * false when an unmasked invalid, denormal or zero-divide exception means no result is delivered.
 */
import {
  copy, Ctx, DE, F80, IE, isNaNKind, Kind, kind, normRoundPack, RC_DOWN, roundPack, roundUnp, setIndefinite, setInf,
  setZero, Unp, unpack, ZE, EMIN, EMAX,
} from './float80.js';

const ua = new Unp(), ub = new Unp();
const TWO32 = 4294967296;

// ---- shared special-value handling ---------------------------------------------------------------
/** Invalid operation: the masked response is the real indefinite. */
export function invalid(ctx: Ctx, out: F80): boolean {
  if (!ctx.raise(IE)) return false;
  setIndefinite(out);
  return true;
}

/**
 * NaN operands (at least one of a, b is a NaN; neither is unsupported). An SNaN raises IE; the result
 * is a QNaN operand if there is one, else the NaN with the larger significand (SDM table 4-7), quieted.
 * With equal significands the positive one wins (as measured on hardware).
 */
export function propagateNaN(ctx: Ctx, out: F80, a: F80, ka: Kind, b: F80 | null, kb: Kind): boolean {
  if (ka === Kind.SNaN || kb === Kind.SNaN) {
    if (!ctx.raise(IE)) return false;
  }
  let r: F80;
  if (b === null || !isNaNKind(kb)) r = a;
  else if (!isNaNKind(ka)) r = b;
  else if (ka === Kind.QNaN && kb === Kind.SNaN) r = a;
  else if (ka === Kind.SNaN && kb === Kind.QNaN) r = b;
  else {
    const ah = a.hi & 0x7fffffff, bh = b.hi & 0x7fffffff;
    if (ah !== bh) r = ah > bh ? a : b;
    else if (a.lo !== b.lo) r = a.lo > b.lo ? a : b;
    else r = a.sign === 0 ? a : b;
  }
  copy(out, r);
  out.hi = (out.hi | 0x40000000) >>> 0;
  return true;
}

/**
 * The checks common to two-operand arithmetic: true when an unsupported or NaN operand decided the
 * outcome (`specialOk` then says whether a result was delivered), false when both are numbers.
 */
let specialOk = true;
function specials2(ctx: Ctx, out: F80, a: F80, ka: Kind, b: F80, kb: Kind): boolean {
  if (ka === Kind.Unsupported || kb === Kind.Unsupported) {
    specialOk = invalid(ctx, out);
    return true;
  }
  if (isNaNKind(ka) || isNaNKind(kb)) {
    specialOk = propagateNaN(ctx, out, a, ka, b, kb);
    return true;
  }
  return false;
}

/** Raises DE for denormal operands; false when it is unmasked (the instruction is abandoned). */
function denormals(ctx: Ctx, ka: Kind, kb: Kind): boolean {
  if (ka === Kind.Denormal || kb === Kind.Denormal) return ctx.raise(DE);
  return true;
}

// ---- add / subtract ------------------------------------------------------------------------------
/** out = a + b (or a - b when `negB`), rounded to `p` bits. */
export function add(ctx: Ctx, out: F80, a: F80, b: F80, negB: boolean, p: number): boolean {
  const ka = kind(a), kb = kind(b);
  if (specials2(ctx, out, a, ka, b, kb)) return specialOk;
  const sb = b.sign ^ (negB ? 1 : 0);
  if (ka === Kind.Inf || kb === Kind.Inf) {
    if (ka === Kind.Inf && kb === Kind.Inf && a.sign !== sb) return invalid(ctx, out);
    if (!denormals(ctx, ka, kb)) return false;
    setInf(out, ka === Kind.Inf ? a.sign : sb);
    return true;
  }
  if (!denormals(ctx, ka, kb)) return false;
  if (ka === Kind.Zero || kb === Kind.Zero) {
    if (ka === Kind.Zero && kb === Kind.Zero) {
      setZero(out, a.sign === sb ? a.sign : ctx.rc === RC_DOWN ? 1 : 0);
      return true;
    }
    // x + 0 = x, still rounded to the precision control.
    unpack(ka === Kind.Zero ? b : a, ua);
    if (ka === Kind.Zero) ua.sign = sb;
    roundUnp(ctx, out, ua, p);
    return true;
  }
  unpack(a, ua);
  unpack(b, ub);
  ub.sign = sb;
  let x = ua, y = ub;
  if (ua.e < ub.e || (ua.e === ub.e && (ua.hi < ub.hi || (ua.hi === ub.hi && ua.lo < ub.lo)))) {
    x = ub;
    y = ua;
  }
  // Align the smaller operand: y = y0:y1:y2 (96 bits) plus sticky.
  const d = x.e - y.e;
  let y0 = y.hi, y1 = y.lo, y2 = 0, st = false;
  if (d >= 96) {
    y0 = y1 = y2 = 0;
    st = true;
  } else {
    let n = d;
    while (n >= 32) {
      if (y2 !== 0) st = true;
      y2 = y1;
      y1 = y0;
      y0 = 0;
      n -= 32;
    }
    if (n > 0) {
      if ((y2 << (32 - n)) !== 0) st = true;
      y2 = ((y2 >>> n) | (y1 << (32 - n))) >>> 0;
      y1 = ((y1 >>> n) | (y0 << (32 - n))) >>> 0;
      y0 = y0 >>> n;
    }
  }
  let e = x.e;
  if (x.sign === y.sign) {
    let w2 = y2;
    let s = x.lo + y1;
    let w1 = s >>> 0;
    s = x.hi + y0 + (s >= TWO32 ? 1 : 0);
    let w0 = s >>> 0;
    if (s >= TWO32) {
      if (w2 & 1) st = true;
      w2 = ((w2 >>> 1) | (w1 << 31)) >>> 0;
      w1 = ((w1 >>> 1) | (w0 << 31)) >>> 0;
      w0 = ((w0 >>> 1) | 0x80000000) >>> 0;
      e++;
    }
    roundPack(ctx, out, x.sign, e, w0, w1, w2, st, p, EMIN, EMAX, true);
    return true;
  }
  // Magnitude subtraction; shifted-out bits of y (sticky) borrow one unit from the guard word.
  let s = 0 - y2 - (st ? 1 : 0);
  let borrow = s < 0 ? 1 : 0;
  const w2 = (s + (borrow ? TWO32 : 0)) >>> 0;
  s = x.lo - y1 - borrow;
  borrow = s < 0 ? 1 : 0;
  const w1 = (s + (borrow ? TWO32 : 0)) >>> 0;
  const w0 = (x.hi - y0 - borrow) >>> 0;
  if (w0 === 0 && w1 === 0 && w2 === 0 && !st) {
    setZero(out, ctx.rc === RC_DOWN ? 1 : 0);
    return true;
  }
  normRoundPack(ctx, out, x.sign, e, w0, w1, w2, st, p);
  return true;
}

// ---- multiply ------------------------------------------------------------------------------------
let mh = 0, ml = 0;
/**
 * mh:ml = a * b for unsigned 32-bit a, b, exactly: the low word from Math.imul, the high word from
 * the double product, whose error (< 2^12) is far below the 2^31 that could change the rounding.
 */
function mul32(a: number, b: number): void {
  ml = Math.imul(a, b) >>> 0;
  mh = Math.round((a * b - ml) / TWO32);
}

export function mul(ctx: Ctx, out: F80, a: F80, b: F80, p: number): boolean {
  const ka = kind(a), kb = kind(b);
  if (specials2(ctx, out, a, ka, b, kb)) return specialOk;
  const sign = a.sign ^ b.sign;
  if (ka === Kind.Inf || kb === Kind.Inf) {
    if (ka === Kind.Zero || kb === Kind.Zero) return invalid(ctx, out);
    if (!denormals(ctx, ka, kb)) return false;
    setInf(out, sign);
    return true;
  }
  if (!denormals(ctx, ka, kb)) return false;
  if (ka === Kind.Zero || kb === Kind.Zero) {
    setZero(out, sign);
    return true;
  }
  unpack(a, ua);
  unpack(b, ub);
  // 128-bit product p0:p1:p2:p3.
  mul32(ua.lo, ub.lo);
  const p3 = ml;
  let c2 = mh;
  mul32(ua.lo, ub.hi);
  let c1 = mh;
  c2 += ml;
  mul32(ua.hi, ub.lo);
  c1 += mh;
  c2 += ml;
  mul32(ua.hi, ub.hi);
  let c0 = mh;
  c1 += ml;
  const p2 = c2 >>> 0;
  c1 += (c2 - p2) / TWO32;
  const p1 = c1 >>> 0;
  c0 += (c1 - p1) / TWO32;
  const p0 = c0 >>> 0;
  // Bit 127 weighs 2^(ea + eb + 1).
  let e = ua.e + ub.e + 1;
  let w0 = p0, w1 = p1, w2 = p2, w3 = p3;
  if ((w0 & 0x80000000) === 0) {
    w0 = ((w0 << 1) | (w1 >>> 31)) >>> 0;
    w1 = ((w1 << 1) | (w2 >>> 31)) >>> 0;
    w2 = ((w2 << 1) | (w3 >>> 31)) >>> 0;
    w3 = (w3 << 1) >>> 0;
    e--;
  }
  roundPack(ctx, out, sign, e, w0, w1, w2, w3 !== 0, p, EMIN, EMAX, true);
  return true;
}

// ---- divide --------------------------------------------------------------------------------------
export function div(ctx: Ctx, out: F80, a: F80, b: F80, p: number): boolean {
  const ka = kind(a), kb = kind(b);
  if (specials2(ctx, out, a, ka, b, kb)) return specialOk;
  const sign = a.sign ^ b.sign;
  if (ka === Kind.Inf) {
    if (kb === Kind.Inf) return invalid(ctx, out);
    if (!denormals(ctx, ka, kb)) return false;
    setInf(out, sign);
    return true;
  }
  if (ka === Kind.Zero && kb === Kind.Zero) return invalid(ctx, out);
  if (kb === Kind.Zero) {
    // Zero divide is reported instead of (not after) a denormal dividend, as hardware does.
    if (!ctx.raise(ZE)) return false;
    setInf(out, sign);
    return true;
  }
  if (!denormals(ctx, ka, kb)) return false;
  if (kb === Kind.Inf || ka === Kind.Zero) {
    setZero(out, sign);
    return true;
  }
  unpack(a, ua);
  unpack(b, ub);
  // Long division: 66 quotient bits (bit 0 weighs 2^(ea - eb)), remainder for the sticky bit.
  const div = longDivision.start(ua.hi, ua.lo, ub.hi, ub.lo);
  let q0 = 0, q1 = 0, q2 = 0;
  for (let k = 0; k < 66; k++) {
    const bit = div.step();
    if (k < 32) q0 = (q0 << 1) | bit;
    else if (k < 64) q1 = (q1 << 1) | bit;
    else q2 = (q2 << 1) | bit;
    div.double();
  }
  const sticky = (div.rc | div.rh | div.rl) !== 0;
  normRoundPack(ctx, out, sign, ua.e - ub.e, q0 >>> 0, q1 >>> 0, (q2 << 30) >>> 0, sticky, p);
  return true;
}

/**
 * Restoring binary long division of a 65-bit remainder rc:rh:rl (each part unsigned 32-bit) by a
 * 64-bit divisor bh:bl, one quotient bit per step: FDIV and FPREM/FPREM1 share it. One instance
 * serves every caller (no allocation per instruction); `start` resets it.
 */
export class LongDivision {
  rc = 0;
  rh = 0;
  rl = 0;
  bh = 0;
  bl = 0;

  start(rh: number, rl: number, bh: number, bl: number): this {
    this.rc = 0;
    this.rh = rh;
    this.rl = rl;
    this.bh = bh;
    this.bl = bl;
    return this;
  }

  /** Subtracts the divisor when it fits; returns the quotient bit. */
  step(): number {
    const { bh, bl, rh, rl } = this;
    if (this.rc === 0 && (rh < bh || (rh === bh && rl < bl))) return 0;
    let nl = rl - bl, br = 0;
    if (nl < 0) {
      nl += TWO32;
      br = 1;
    }
    let nh = rh - bh - br;
    if (nh < 0) nh += TWO32;
    this.rh = nh;
    this.rl = nl;
    return 1;
  }

  /** Doubles the remainder (the next dividend bit is 0). */
  double(): void {
    this.rc = this.rh >>> 31;
    this.rh = ((this.rh << 1) | (this.rl >>> 31)) >>> 0;
    this.rl = (this.rl << 1) >>> 0;
  }
}
export const longDivision = new LongDivision();

// ---- square root ---------------------------------------------------------------------------------
export function sqrt(ctx: Ctx, out: F80, a: F80, p: number): boolean {
  const ka = kind(a);
  if (ka === Kind.Unsupported) return invalid(ctx, out);
  if (isNaNKind(ka)) return propagateNaN(ctx, out, a, ka, null, Kind.Zero);
  if (ka === Kind.Zero) {
    copy(out, a);
    return true;
  }
  if (a.sign) return invalid(ctx, out);
  if (ka === Kind.Inf) {
    copy(out, a);
    return true;
  }
  if (!denormals(ctx, ka, Kind.Zero)) return false;
  unpack(a, ua);
  // X = sig * 2^(67 or 68) so that sqrt(X) is a 66-bit integer; digit-by-digit on bit pairs.
  const odd = ua.e & 1;
  const shift = odd ? 68 : 67;
  const half = (ua.e - odd) / 2;
  // rem and trial are 96-bit (r0:r1:r2); root is 66-bit (t0:t1:t2 with t0 holding the top bits).
  let r0 = 0, r1 = 0, r2 = 0;
  let t0 = 0, t1 = 0, t2 = 0;
  for (let j = 0; j < 66; j++) {
    // The next two bits of X: bits (131 - 2j) and (130 - 2j), i.e. sig bits minus `shift`.
    const b1 = 131 - 2 * j - shift, b0 = b1 - 1;
    const pair = (sigBit(b1) << 1) | sigBit(b0);
    // rem = rem * 4 + pair
    r0 = ((r0 << 2) | (r1 >>> 30)) >>> 0;
    r1 = ((r1 << 2) | (r2 >>> 30)) >>> 0;
    r2 = ((r2 << 2) | pair) >>> 0;
    // trial = root * 4 + 1
    const x0 = ((t0 << 2) | (t1 >>> 30)) >>> 0;
    const x1 = ((t1 << 2) | (t2 >>> 30)) >>> 0;
    const x2 = ((t2 << 2) | 1) >>> 0;
    // root = root * 2
    t0 = ((t0 << 1) | (t1 >>> 31)) >>> 0;
    t1 = ((t1 << 1) | (t2 >>> 31)) >>> 0;
    t2 = (t2 << 1) >>> 0;
    if (r0 > x0 || (r0 === x0 && (r1 > x1 || (r1 === x1 && r2 >= x2)))) {
      let s = r2 - x2, br = 0;
      if (s < 0) {
        s += TWO32;
        br = 1;
      }
      r2 = s;
      s = r1 - x1 - br;
      br = 0;
      if (s < 0) {
        s += TWO32;
        br = 1;
      }
      r1 = s;
      r0 = (r0 - x0 - br) >>> 0;
      t2 = (t2 | 1) >>> 0;
    }
  }
  // root (66 bits, top bit set) -> 96-bit word with bit 95 = root bit 65.
  const w0 = ((t0 << 30) | (t1 >>> 2)) >>> 0;
  const w1 = ((t1 << 30) | (t2 >>> 2)) >>> 0;
  const w2 = (t2 << 30) >>> 0;
  roundPack(ctx, out, 0, half, w0, w1, w2, (r0 | r1 | r2) !== 0, p, EMIN, EMAX, true);
  return true;
}

/** Bit n (0..63) of the significand in `ua`; 0 outside. */
function sigBit(n: number): number {
  if (n < 0 || n > 63) return 0;
  return n >= 32 ? (ua.hi >>> (n - 32)) & 1 : (ua.lo >>> n) & 1;
}

// ---- compare -------------------------------------------------------------------------------------
/** Comparison results. */
export const CMP_GT = 0, CMP_LT = 1, CMP_EQ = 2, CMP_UN = 3;

/**
 * Compares a with b. `quiet` (FUCOM*) raises IE only for SNaN and unsupported operands; otherwise any
 * NaN does. Returns a CMP_* value. The result stands even when the exception raised is unmasked
 * (the caller then skips its pops): that is what the processors measured do; the SDM's pseudo-code
 * leaves the condition codes unchanged instead.
 */
export function compare(ctx: Ctx, a: F80, b: F80, quiet: boolean): number {
  const ka = kind(a), kb = kind(b);
  if (ka === Kind.Unsupported || kb === Kind.Unsupported || ka === Kind.SNaN || kb === Kind.SNaN) {
    ctx.raise(IE);
    return CMP_UN;
  }
  if (ka === Kind.QNaN || kb === Kind.QNaN) {
    if (!quiet) ctx.raise(IE);
    return CMP_UN;
  }
  denormals(ctx, ka, kb);
  return compareNumbers(a, ka, b, kb);
}

/** Orders two non-NaN values (zeros of either sign are equal). */
export function compareNumbers(a: F80, ka: Kind, b: F80, kb: Kind): number {
  const az = ka === Kind.Zero, bz = kb === Kind.Zero;
  if (az && bz) return CMP_EQ;
  if (az) return b.sign ? CMP_GT : CMP_LT;
  if (bz) return a.sign ? CMP_LT : CMP_GT;
  if (a.sign !== b.sign) return a.sign ? CMP_LT : CMP_GT;
  const m = magnitudeOrder(a, ka, b, kb);
  if (m === 0) return CMP_EQ;
  return (m > 0) !== (a.sign !== 0) ? CMP_GT : CMP_LT;
}

/** Compares |a| with |b| (non-zero, non-NaN): -1, 0 or 1. */
function magnitudeOrder(a: F80, ka: Kind, b: F80, kb: Kind): number {
  if (ka === Kind.Inf || kb === Kind.Inf) return ka === kb ? 0 : ka === Kind.Inf ? 1 : -1;
  unpack(a, ua);
  unpack(b, ub);
  if (ua.e !== ub.e) return ua.e > ub.e ? 1 : -1;
  if (ua.hi !== ub.hi) return ua.hi > ub.hi ? 1 : -1;
  if (ua.lo !== ub.lo) return ua.lo > ub.lo ? 1 : -1;
  return 0;
}
