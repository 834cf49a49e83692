/**
 * The transcendental instructions: F2XM1, FYL2X, FYL2XP1, FPATAN, FPTAN, FSIN, FCOS, FSINCOS.
 *
 * Special operands (NaN, infinities, zeros, denormals, out-of-range arguments) follow the SDM's
 * tables and the measured processor. Finite results are computed in double-double arithmetic
 * (dd.ts, about 100 bits) on the exact 64-bit operands and then rounded once to the register
 * format under the rounding control, so they are the correctly rounded results except in near-tie
 * cases (see PRECISION.md). Exponents are carried separately so that arguments and results beyond
 * the double range are handled.
 */
import { add, invalid, mul, propagateNaN } from './arith.js';
import * as dd from './dd.js';
import { loadInt32 } from './convert.js';
import {
  Ctx, DE, F80, fromK, isNaNKind, Kind, kind, normRoundPack, PE, RC_DOWN, RC_NEAREST, RC_UP, RC_ZERO, set, setInf, setZero,
  unpack, UE, Unp, copy, ZE,
} from './float80.js';

const ux = new Unp(), uy = new Unp();
const ONE = F80.of(0, 16383, 0x80000000, 0);
const scratch = new Ctx();
const tmp = new F80();
const TWO32 = 4294967296;

/** The unpacked value in `u` as a double-double mantissa m = mh + ml in [1, 2) (exactly). */
let mh = 0, ml = 0;
function mant(u: Unp): void {
  const low = u.lo & 0x7ff;
  mh = (u.hi * TWO32 + (u.lo - low)) / 2 ** 63;
  ml = low / 2 ** 63;
}

/**
 * Delivers (h + l) * 2^scale rounded once to the register format under RC (C1 from that rounding,
 * OE/UE/PE from the range). PE is always reported, as the processor does even when the value
 * happens to be exact; UE whenever the result is below the normal range.
 */
function deliver(ctx: Ctx, out: F80, h: number, l: number, scale: number, sign = 0): boolean {
  if (h < 0) {
    h = -h;
    l = -l;
    sign ^= 1;
  }
  if (h === 0) {
    setZero(out, sign);
    ctx.raise(PE);
    return true;
  }
  // h = 1.f * 2^e exactly: its 53 bits go to the top of a 96-bit word W (bit 95 weighs 2^e).
  f64[0] = h;
  let e = ((u32[1] >>> 20) & 0x7ff) - 1023;
  let hi = ((u32[1] & 0xfffff) | 0x100000) >>> 0, lo = u32[0];
  if (e === -1023) {
    // A double denormal (only for results far below any register's range): normalise.
    hi &= 0xfffff;
    e = -1022;
    while ((hi & 0x100000) === 0) {
      hi = ((hi << 1) | (lo >>> 31)) >>> 0;
      lo = (lo << 1) >>> 0;
      e--;
    }
  }
  let w0 = ((hi << 11) | (lo >>> 21)) >>> 0;
  let w1 = (lo << 11) >>> 0;
  let w2 = 0;
  // l in units of W's last place (2^(e - 95)): |l| < 2^43 of them; the fraction is sticky.
  const n = 95 - e;
  const lu = n > 1000 ? l * 2 ** 1000 * 2 ** (n - 1000) : l * 2 ** n;
  const li = Math.trunc(lu);
  let sticky = li !== lu;
  if (li !== 0 || sticky) {
    const mag = Math.abs(li);
    const mlo = mag % TWO32, mhi = (mag - mlo) / TWO32;
    if (l > 0) {
      let t = w2 + mlo;
      w2 = t >>> 0;
      t = w1 + mhi + (t >= TWO32 ? 1 : 0);
      w1 = t >>> 0;
      if (t >= TWO32) w0 = (w0 + 1) >>> 0; // cannot overflow: |l| is below half an ulp of h
    } else {
      // W - |l|: a fractional part borrows one unit, the sticky bit stands for the rest.
      let t = w2 - mlo - (sticky ? 1 : 0);
      w2 = (t + TWO32) >>> 0;
      t = w1 - mhi - (t < 0 ? 1 : 0);
      w1 = (t + TWO32) >>> 0;
      if (t < 0) w0 = (w0 - 1) >>> 0;
    }
  }
  normRoundPack(ctx, out, sign, e + scale, w0, w1, w2, sticky, 64);
  ctx.raise(out.exp === 0 && (out.hi | out.lo) !== 0 ? UE | PE : PE);
  return true;
}
const f64 = new Float64Array(1);
const u32 = new Uint32Array(f64.buffer);

/** Common prologue of one-operand functions: true when `out` is decided (ok in `done`). */
let done = true;
function special1(ctx: Ctx, out: F80, x: F80, k: Kind): boolean {
  if (k === Kind.Unsupported) {
    done = invalid(ctx, out);
    return true;
  }
  if (isNaNKind(k)) {
    done = propagateNaN(ctx, out, x, k, null, Kind.Zero);
    return true;
  }
  return false;
}

/** F2XM1: 2^x - 1, defined for -1 <= x <= 1. */
export function f2xm1(ctx: Ctx, out: F80, x: F80): boolean {
  const k = kind(x);
  if (special1(ctx, out, x, k)) return done;
  if (k === Kind.Zero) {
    copy(out, x);
    return true;
  }
  if (k === Kind.Inf) {
    if (x.sign) set1(out, 1);
    else setInf(out, 0);
    return true;
  }
  if (k === Kind.Denormal && !ctx.raise(DE)) return false;
  unpack(x, ux);
  if (ux.e >= 0 && !(ux.e === 0 && ux.hi === 0x80000000 && ux.lo === 0)) {
    // |x| > 1 is outside the domain: the processor returns x (with PE).
    copy(out, x);
    ctx.raise(PE);
    return true;
  }
  mant(ux);
  const s = x.sign ? -1 : 1;
  if (ux.e < -60) {
    // 2^x - 1 = t (1 + t/2) with t = x ln 2, carried with x's exponent apart.
    dd.mul(mh * s, ml * s, dd.LN2_H, dd.LN2_L);
    const th = dd.H, tl = dd.L;
    dd.mul(th, tl, 1, th * 2 ** (ux.e - 1));
    return deliver(ctx, out, dd.H, dd.L, ux.e);
  }
  const f = 2 ** ux.e;
  dd.mul(mh * s * f, ml * s * f, dd.LN2_H, dd.LN2_L);
  dd.expm1(dd.H, dd.L);
  return deliver(ctx, out, dd.H, dd.L, 0);
}

function set1(out: F80, sign: number): void {
  copy(out, ONE);
  out.sign = sign;
}

/** dd.H:dd.L = log2(x) for a finite positive x unpacked in `u`. */
function log2(u: Unp): void {
  mant(u);
  dd.logScaled(mh, ml, u.e);
  dd.mul(dd.H, dd.L, dd.LOG2E_H, dd.LOG2E_L);
}

/** FYL2X: ST1 * log2(ST0), into `out` (the caller stores it in ST1 and pops). */
export function fyl2x(ctx: Ctx, out: F80, x: F80, y: F80): boolean {
  const kx = kind(x), ky = kind(y);
  if (kx === Kind.Unsupported || ky === Kind.Unsupported) return invalid(ctx, out);
  if (isNaNKind(kx) || isNaNKind(ky)) return propagateNaN(ctx, out, x, kx, y, ky);
  if (x.sign && kx !== Kind.Zero) return invalid(ctx, out);
  const xOne = kx === Kind.Normal && x.exp === 16383 && x.hi === 0x80000000 && x.lo === 0;
  if (kx === Kind.Zero) {
    if (ky === Kind.Zero) return invalid(ctx, out);
    // (Zero divide is reported instead of a denormal y, as for division.)
    if (ky !== Kind.Inf && !ctx.raise(ZE)) return false;
    setInf(out, y.sign ^ 1);
    return true;
  }
  if (kx === Kind.Inf) {
    if (ky === Kind.Zero) return invalid(ctx, out);
    if (ky === Kind.Denormal && !ctx.raise(DE)) return false;
    setInf(out, y.sign);
    return true;
  }
  if (ky === Kind.Inf) {
    if (xOne) return invalid(ctx, out);
    if (kx === Kind.Denormal && !ctx.raise(DE)) return false;
    // log2(x) < 0 for x < 1 flips the sign.
    setInf(out, y.sign ^ (x.exp < 16383 ? 1 : 0));
    return true;
  }
  if ((kx === Kind.Denormal || ky === Kind.Denormal) && !ctx.raise(DE)) return false;
  if (ky === Kind.Zero || xOne) {
    setZero(out, y.sign ^ (x.exp < 16383 ? 1 : 0));
    return true;
  }
  unpack(x, ux);
  unpack(y, uy);
  if (ux.hi === 0x80000000 && ux.lo === 0) {
    // x = 2^e: log2 x = e exactly, so y * e is rounded once like a multiplication.
    loadInt32(tmp, ux.e);
    mul(ctx, out, y, tmp, 64);
    ctx.raise(PE);
    return true;
  }
  log2(ux);
  const lh = dd.H, ll = dd.L;
  mant(uy);
  dd.mul(mh, ml, lh, ll);
  return deliver(ctx, out, dd.H, dd.L, uy.e, y.sign);
}

/** FYL2XP1: ST1 * log2(ST0 + 1), for |ST0| < 1 - sqrt(2)/2. */
export function fyl2xp1(ctx: Ctx, out: F80, x: F80, y: F80): boolean {
  const kx = kind(x), ky = kind(y);
  if (kx === Kind.Unsupported || ky === Kind.Unsupported) return invalid(ctx, out);
  if (isNaNKind(kx) || isNaNKind(ky)) return propagateNaN(ctx, out, x, kx, y, ky);
  if (kx === Kind.Zero) {
    if (ky === Kind.Inf) return invalid(ctx, out);
    if (ky === Kind.Denormal && !ctx.raise(DE)) return false;
    setZero(out, x.sign ^ y.sign);
    return true;
  }
  if (kx === Kind.Inf) {
    // Outside the domain; +inf behaves like log2(inf), -inf is invalid.
    if (x.sign || ky === Kind.Zero) return invalid(ctx, out);
    if (ky === Kind.Denormal && !ctx.raise(DE)) return false;
    setInf(out, y.sign);
    return true;
  }
  if (ky === Kind.Inf) {
    if (kx === Kind.Denormal && !ctx.raise(DE)) return false;
    setInf(out, x.sign ^ y.sign);
    return true;
  }
  if ((kx === Kind.Denormal || ky === Kind.Denormal) && !ctx.raise(DE)) return false;
  if (ky === Kind.Zero) {
    setZero(out, x.sign ^ y.sign);
    return true;
  }
  unpack(x, ux);
  if (x.sign && ux.e >= 0) {
    // x <= -1 is outside the domain: the processor returns x (with PE).
    copy(out, x);
    ctx.raise(PE);
    return true;
  }
  unpack(y, uy);
  mant(ux);
  const xh = x.sign ? -mh : mh, xl = x.sign ? -ml : ml;
  const ex = ux.e;
  if (ex < -60) {
    // log2(1 + x) = x (1 - x/2) / ln 2, x's exponent carried apart.
    dd.mul(xh, xl, 1, -xh * 2 ** (ex - 1));
    dd.mul(dd.H, dd.L, dd.LOG2E_H, dd.LOG2E_L);
  } else if (ex < -1) {
    // |x| < 1/2: log(1 + x) = 2 atanh(x / (2 + x)).
    const f = 2 ** ex;
    dd.log1p(xh * f, xl * f);
    dd.mul(dd.H, dd.L, dd.LOG2E_H, dd.LOG2E_L);
  } else {
    // (Outside the domain, but the processor still computes log2(1 + x).)
    scratch.begin(0x037f);
    add(scratch, tmp, x, ONE, false, 64);
    unpack(tmp, uy);
    log2(uy);
    unpack(y, uy);
  }
  const lh = dd.H, ll = dd.L;
  mant(uy);
  dd.mul(mh, ml, lh, ll);
  return deliver(ctx, out, dd.H, dd.L, uy.e + (ex < -60 ? ex : 0), y.sign);
}

/** FPATAN: arctan(ST1 / ST0) with the quadrant from both signs (the C atan2 conventions). */
export function fpatan(ctx: Ctx, out: F80, x: F80, y: F80): boolean {
  const kx = kind(x), ky = kind(y);
  if (kx === Kind.Unsupported || ky === Kind.Unsupported) return invalid(ctx, out);
  if (isNaNKind(kx) || isNaNKind(ky)) return propagateNaN(ctx, out, x, kx, y, ky);
  if ((kx === Kind.Denormal || ky === Kind.Denormal) && !ctx.raise(DE)) return false;
  if ((ky === Kind.Zero || (kx === Kind.Inf && ky !== Kind.Inf)) && x.sign === 0) {
    setZero(out, y.sign); // atan2(+-0, +x) and atan2(y, +inf): exact zeros
    return true;
  }
  // The other special cases are multiples of pi: atan2(+-0, -x) and atan2(y, -inf) = +-pi,
  // atan2(y, +-0) and atan2(+-inf, x) = +-pi/2, atan2(+-inf, +-inf) = +-pi/4 or +-3pi/4.
  let f = -1;
  if (ky === Kind.Zero || (kx === Kind.Inf && ky !== Kind.Inf)) f = 1;
  else if (ky === Kind.Inf) f = kx === Kind.Inf ? (x.sign ? 0.75 : 0.25) : 0.5;
  else if (kx === Kind.Zero) f = 0.5;
  if (f > 0) {
    dd.mul(dd.PI_H, dd.PI_L, f, 0);
    return deliver(ctx, out, dd.H, dd.L, 0, y.sign);
  }
  // r = atan(min/max) of the magnitudes, then placed in its quadrant.
  unpack(x, ux);
  unpack(y, uy);
  mant(ux);
  const xh = mh, xl = ml;
  mant(uy);
  const yBigger = uy.e > ux.e || (uy.e === ux.e && (uy.hi > ux.hi || (uy.hi === ux.hi && uy.lo > ux.lo)));
  const d = yBigger ? ux.e - uy.e : uy.e - ux.e;
  if (yBigger) dd.div(xh, xl, mh, ml);
  else dd.div(mh, ml, xh, xl);
  let rh: number, rl: number, scale = 0;
  if (d < -60) {
    // atan t = t to far below the last place: keep t's exponent apart.
    rh = dd.H;
    rl = dd.L;
    scale = d;
  } else {
    const f = 2 ** d;
    dd.atan(dd.H * f, dd.L * f);
    rh = dd.H;
    rl = dd.L;
  }
  if (yBigger || x.sign) {
    if (scale !== 0) {
      rh *= 2 ** scale;
      rl *= 2 ** scale;
      scale = 0;
    }
    // pi/2 - r (|y| > |x|, x > 0), pi/2 + r (x < 0), pi - r (|y| <= |x|, x < 0).
    const base = yBigger ? 0.5 : 1;
    if (yBigger && x.sign) dd.add(dd.PI_H * base, dd.PI_L * base, rh, rl);
    else dd.add(dd.PI_H * base, dd.PI_L * base, -rh, -rl);
    rh = dd.H;
    rl = dd.L;
  }
  return deliver(ctx, out, rh, rl, scale, y.sign);
}

/**
 * Argument checks shared by FSIN, FCOS, FSINCOS and FPTAN. Returns 0 to compute, 1 when |x| >= 2^63
 * (C2 set, operand unchanged), 2 when `out` already holds the result (or ok = false in `done`).
 */
export function trigArg(ctx: Ctx, out: F80, x: F80): number {
  const k = kind(x);
  if (special1(ctx, out, x, k)) return 2;
  if (k === Kind.Inf) {
    done = invalid(ctx, out);
    return 2;
  }
  if (k === Kind.Zero) return 0;
  if (k === Kind.Denormal && !ctx.raise(DE)) {
    done = false;
    return 2;
  }
  unpack(x, ux);
  return ux.e >= 63 ? 1 : 0;
}
export function trigDone(): boolean {
  return done;
}

/**
 * The x87 reduces trigonometric arguments modulo pi/2 using a 66-bit approximation of pi (SDM
 * vol. 1, 8.3.10), not pi itself, which matters for large arguments. PI66 = pi rounded to 66
 * significant bits, as an integer: pi = PI66 / 2^64 (approximately), pi/2 = PI66 / 2^65.
 */
const PI66 = 0x3243f6a8885a308d3n;
const HALF_PI_66 = Number(PI66) / 2 ** 65;
/** Quadrant (k mod 4) and reduced argument r = rHi + rLo of the last `reduce`. */
let quadrant = 0, rHi = 0, rLo = 0;

/** x (finite, |x| < 2^63, unpacked in ux) = k * pi66/2 + r, |r| <= pi66/4, r = rHi + rLo exactly. */
function reduce(): void {
  mant(ux);
  const sign = ux.sign ? -1 : 1;
  if (ux.e < 0 && mh * 2 ** ux.e <= HALF_PI_66 / 2) {
    quadrant = 0;
    const f = sign * 2 ** ux.e;
    rHi = mh * f;
    rLo = ml * f;
    return;
  }
  // N / PI66 with N = |x| * 2^65 as an integer (e >= -1 here).
  const n = ((BigInt(ux.hi) << 32n) | BigInt(ux.lo)) << BigInt(ux.e + 2);
  let q = n / PI66;
  let rem = n - q * PI66;
  if (rem * 2n > PI66) {
    q += 1n;
    rem -= PI66;
  }
  let k = Number(q & 3n);
  if (sign < 0) {
    rem = -rem;
    k = (4 - k) & 3;
  }
  quadrant = k;
  const hi = Number(rem);
  rHi = hi * 2 ** -65;
  rLo = Number(rem - BigInt(hi)) * 2 ** -65;
}

/** sin(x) (`which` 0), cos(x) (1) or tan(x) (2) of a finite x with |x| < 2^63. */
export function trig(ctx: Ctx, out: F80, x: F80, which: number): boolean {
  const k = kind(x);
  if (k === Kind.Zero) {
    if (which === 1) copy(out, ONE);
    else copy(out, x);
    return true;
  }
  unpack(x, ux);
  if (ux.e < -40) {
    tinyTrig(ctx, out, which);
    return true;
  }
  reduce();
  const q = quadrant;
  // sin x = sin r, cos r, -sin r, -cos r for k = 0..3; cos x = cos r, -sin r, -cos r, sin r.
  const useCos = which === 0 ? (q & 1) === 1 : which === 1 ? (q & 1) === 0 : false;
  const negative = which === 0 ? q >= 2 : which === 1 ? q === 1 || q === 2 : false;
  if (which === 2) {
    dd.sin(rHi, rLo);
    const sh = dd.H, sl = dd.L;
    dd.cos(rHi, rLo);
    // tan x = tan r (k even) or -cos r / sin r (k odd).
    if (q & 1) dd.div(-dd.H, -dd.L, sh, sl);
    else dd.div(sh, sl, dd.H, dd.L);
  } else if (useCos) {
    dd.cos(rHi, rLo);
  } else {
    dd.sin(rHi, rLo);
  }
  return deliver(ctx, out, dd.H, dd.L, 0, negative ? 1 : 0);
}

/**
 * sin, cos, tan of a tiny x (unpacked in ux, |x| < 2^-40): sin x is x less a fraction of an ulp,
 * tan x is x plus one, cos x is 1 less one; which of the neighbours is delivered, and C1, follow
 * the rounding control exactly.
 */
function tinyTrig(ctx: Ctx, out: F80, which: number): void {
  const rc = ctx.rc;
  const neg = which !== 1 && ux.sign === 1;
  const towardZero = rc === RC_ZERO || (rc === RC_DOWN && !neg) || (rc === RC_UP && neg);
  ctx.raise(PE);
  if (which === 1) {
    if (towardZero) set(out, 0, 16382, 0xffffffff, 0xffffffff);
    else copy(out, ONE);
    ctx.up = !towardZero;
    return;
  }
  // K * 2^lsb = |x|, on the extended format's grid.
  let kh = ux.hi, kl = ux.lo, lsb = ux.e - 63;
  if (lsb < -16445) {
    const sh = -16445 - lsb;
    kl = sh >= 32 ? kh >>> (sh - 32) : ((kl >>> sh) | (kh << (32 - sh))) >>> 0;
    kh = sh >= 32 ? 0 : kh >>> sh;
    lsb = -16445;
  }
  const step = which === 0 ? (towardZero ? -1 : 0) : (towardZero || rc === RC_NEAREST ? 0 : 1);
  ctx.up = which === 0 ? step === 0 : step === 1;
  if (step < 0) {
    if (kh === 0x80000000 && kl === 0 && lsb > -16445) {
      kh = kl = 0xffffffff;
      lsb--;
    } else {
      kl = (kl - 1) >>> 0;
      if (kl === 0xffffffff) kh = (kh - 1) >>> 0;
    }
  } else if (step > 0) {
    kl = (kl + 1) >>> 0;
    if (kl === 0) {
      kh = (kh + 1) >>> 0;
      if (kh === 0) {
        kh = 0x80000000;
        lsb++;
      }
    }
  }
  fromK(out, ux.sign, kh, kl, lsb);
  if (out.exp === 0) ctx.raise(UE);
}
