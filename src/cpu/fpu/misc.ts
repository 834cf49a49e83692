/**
 * The exact non-IEEE-basic operations: partial remainder (FPREM, FPREM1), FSCALE, FRNDINT and the
 * exponent/significand split of FXTRACT. All are computed exactly on the 64-bit significands.
 */
import { invalid, longDivision, propagateNaN } from './arith.js';
import { roundToInteger, rounded, loadInt32 } from './convert.js';
import {
  BIAS, copy, Ctx, DE, EMAX, EMIN, F80, fromK, isNaNKind, Kind, kind, normRoundPack, PE, roundPack, setInf,
  setZero, Unp, unpack, ZE,
} from './float80.js';

const ux = new Unp(), uy = new Unp();
const TWO32 = 4294967296;

/**
 * FPREM/FPREM1 condition codes: C2 (incomplete) and the low quotient bits Q2 Q1 Q0; `nan` when the
 * result is a NaN (C0 and C3 then keep their values, as measured on hardware).
 */
export const premResult = { incomplete: false, q: 0, nan: false };

/**
 * ST0 = remainder of ST0 / ST1 (`x` / `y`). FPREM truncates the quotient, FPREM1 (`nearest`)
 * rounds it to nearest-even. When the exponents differ by 64 or more only a partial reduction
 * is done (C2 = 1): the divisor is scaled by 2^(32 * floor((D - 32) / 32)), D the exponent
 * difference, which is what processors do (SDM: "N between 32 and 63").
 */
export function prem(ctx: Ctx, out: F80, x: F80, y: F80, nearest: boolean): boolean {
  premResult.incomplete = false;
  premResult.q = 0;
  premResult.nan = true;
  const kx = kind(x), ky = kind(y);
  if (kx === Kind.Unsupported || ky === Kind.Unsupported) return invalid(ctx, out);
  if (isNaNKind(kx) || isNaNKind(ky)) return propagateNaN(ctx, out, x, kx, y, ky);
  if (kx === Kind.Inf || ky === Kind.Zero) return invalid(ctx, out);
  premResult.nan = false;
  if ((kx === Kind.Denormal || ky === Kind.Denormal) && !ctx.raise(DE)) return false;
  if (kx === Kind.Zero) {
    copy(out, x);
    return true;
  }
  unpack(x, ux);
  if (ky === Kind.Inf) {
    repack(ctx, out, ux);
    return true;
  }
  unpack(y, uy);
  const d = ux.e - uy.e;
  let sign = ux.sign;
  if (d < 0) {
    // |x| < |y|: quotient 0, except FPREM1 rounds |x| > |y|/2 to a quotient of 1.
    if (nearest && d === -1 && (ux.hi > uy.hi || (ux.hi === uy.hi && ux.lo > uy.lo))) {
      // r = |y| - |x| in units of 2^(ex - 63): 2*my - mx.
      let lo = uy.lo * 2 - ux.lo;
      let hi = uy.hi * 2 - ux.hi;
      while (lo < 0) {
        lo += TWO32;
        hi--;
      }
      while (lo >= TWO32) {
        lo -= TWO32;
        hi++;
      }
      premResult.q = 1;
      normRoundPack(ctx, out, sign ^ 1, ux.e, hi >>> 0, lo >>> 0, 0, false, 64);
      return true;
    }
    repack(ctx, out, ux);
    return true;
  }
  let steps = d;
  let scale = 0;
  if (d >= 64) {
    scale = 32 * Math.floor((d - 32) / 32);
    steps = d - scale;
    premResult.incomplete = true;
  }
  // Long division of mx * 2^steps by my: remainder rc:rh:rl (65 bits), quotient's low bits.
  const bh = uy.hi, bl = uy.lo;
  const div = longDivision.start(ux.hi, ux.lo, bh, bl);
  let q = 0;
  for (let k = 0; k <= steps; k++) {
    q = ((q << 1) | div.step()) & 0xff;
    if (k < steps) div.double();
  }
  let rh = div.rh, rl = div.rl;
  if (nearest && !premResult.incomplete) {
    // Round the quotient to nearest: compare 2r with my.
    const tc = rh >>> 31, th = ((rh << 1) | (rl >>> 31)) >>> 0, tl = (rl << 1) >>> 0;
    const gt = tc !== 0 || th > bh || (th === bh && tl > bl);
    const eq = tc === 0 && th === bh && tl === bl;
    if (gt || (eq && (q & 1) !== 0)) {
      let nl = bl - rl, br = 0;
      if (nl < 0) {
        nl += TWO32;
        br = 1;
      }
      rh = bh - rh - br;
      rl = nl;
      sign ^= 1;
      q++;
    }
  }
  premResult.q = premResult.incomplete ? 0 : q & 7;
  if (rh === 0 && rl === 0) {
    setZero(out, ux.sign);
    return true;
  }
  // r = R * 2^(ey + scale - 63): bit 63 of R (bit 95 of R:0) weighs 2^(ey + scale).
  normRoundPack(ctx, out, sign, uy.e + scale, rh >>> 0, rl >>> 0, 0, false, 64);
  return true;
}

/**
 * x unchanged in value, in its canonical encoding (a pseudo-denormal becomes a normal); a tiny
 * value with underflow unmasked is delivered with the biased exponent.
 */
function repack(ctx: Ctx, out: F80, u: Unp): void {
  roundPack(ctx, out, u.sign, u.e, u.hi, u.lo, 0, false, 64, EMIN, EMAX, true);
}

/** FSCALE: ST0 * 2^trunc(ST1), exact apart from overflow/underflow (no precision control). */
export function fscale(ctx: Ctx, out: F80, x: F80, y: F80): boolean {
  const kx = kind(x), ky = kind(y);
  if (kx === Kind.Unsupported || ky === Kind.Unsupported) return invalid(ctx, out);
  if (isNaNKind(kx) || isNaNKind(ky)) return propagateNaN(ctx, out, x, kx, y, ky);
  if (ky === Kind.Inf) {
    if (y.sign === 0 && kx === Kind.Zero) return invalid(ctx, out);
    if (y.sign === 1 && kx === Kind.Inf) return invalid(ctx, out);
    if (kx === Kind.Denormal && !ctx.raise(DE)) return false;
    if (kx === Kind.Zero || kx === Kind.Inf) copy(out, x);
    else if (y.sign === 0) setInf(out, x.sign);
    else setZero(out, x.sign);
    return true;
  }
  if ((kx === Kind.Denormal || ky === Kind.Denormal) && !ctx.raise(DE)) return false;
  if (kx === Kind.Zero || kx === Kind.Inf) {
    copy(out, x);
    return true;
  }
  let n = 0;
  if (ky !== Kind.Zero) {
    unpack(y, uy);
    if (uy.e >= 30) n = 1 << 30;
    else if (uy.e >= 0) n = uy.hi >>> (31 - uy.e);
    if (uy.sign) n = -n;
  }
  unpack(x, ux);
  roundPack(ctx, out, ux.sign, ux.e + n, ux.hi, ux.lo, 0, false, 64, EMIN, EMAX, true);
  return true;
}

/** FRNDINT: rounds ST0 to an integer by the rounding control (PE when inexact). */
export function frndint(ctx: Ctx, out: F80, x: F80): boolean {
  const k = kind(x);
  if (k === Kind.Unsupported) return invalid(ctx, out);
  if (isNaNKind(k)) return propagateNaN(ctx, out, x, k, null, Kind.Zero);
  if (k === Kind.Denormal && !ctx.raise(DE)) return false;
  if (k === Kind.Zero || k === Kind.Inf) {
    copy(out, x);
    return true;
  }
  unpack(x, ux);
  if (ux.e >= 63) {
    copy(out, x);
    return true;
  }
  roundToInteger(x, ctx.rc);
  if (rounded.inexact) ctx.raise(PE);
  ctx.up = rounded.up;
  fromK(out, x.sign, rounded.kh, rounded.kl, 0);
  return true;
}

/**
 * FXTRACT: the exponent of x as a value (`expOut`) and its significand with exponent 0 (`sigOut`).
 * Zero: ZE, exponent -inf and the signed zero. Infinity: +inf and the infinity. NaNs propagate to both.
 */
export function fxtract(ctx: Ctx, expOut: F80, sigOut: F80, x: F80): boolean {
  const k = kind(x);
  if (k === Kind.Unsupported) {
    if (!invalid(ctx, expOut)) return false;
    copy(sigOut, expOut);
    return true;
  }
  if (isNaNKind(k)) {
    if (!propagateNaN(ctx, expOut, x, k, null, Kind.Zero)) return false;
    copy(sigOut, expOut);
    return true;
  }
  if (k === Kind.Zero) {
    if (!ctx.raise(ZE)) return false;
    setInf(expOut, 1);
    copy(sigOut, x);
    return true;
  }
  if (k === Kind.Inf) {
    setInf(expOut, 0);
    copy(sigOut, x);
    return true;
  }
  if (k === Kind.Denormal && !ctx.raise(DE)) return false;
  unpack(x, ux);
  loadInt32(expOut, ux.e);
  sigOut.sign = ux.sign;
  sigOut.exp = BIAS;
  sigOut.hi = ux.hi;
  sigOut.lo = ux.lo;
  return true;
}

