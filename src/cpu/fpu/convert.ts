/**
 * Conversions between the register format and the x87 memory formats: 32/64-bit IEEE reals,
 * 16/32/64-bit two's-complement integers, 18-digit packed BCD and the 80-bit format itself (SDM
 * vol. 1, 4.2 and 8.2). Loads are exact; stores round by the control word's rounding control.
 * Stored values are returned in the shared `stored` object to avoid allocation.
 */
import {
  BIAS, Ctx, DE, F80, fromK, IE, Kind, kind, PE, RC_NEAREST, roundPack, set, setInf, setZero, Unp, unpack,
} from './float80.js';

const u = new Unp();
const tmp = new F80();
const TWO32 = 4294967296;

/** The low and high 32 bits of a stored value (high only for 64-bit formats). */
export const stored = { lo: 0, hi: 0 };

// ---- 80-bit ----------------------------------------------------------------------------------------
export function readExt(b: Uint8Array, off: number, out: F80): void {
  out.lo = (b[off] | (b[off + 1] << 8) | (b[off + 2] << 16) | (b[off + 3] << 24)) >>> 0;
  out.hi = (b[off + 4] | (b[off + 5] << 8) | (b[off + 6] << 16) | (b[off + 7] << 24)) >>> 0;
  const se = b[off + 8] | (b[off + 9] << 8);
  out.sign = se >> 15;
  out.exp = se & 0x7fff;
}

export function writeExt(x: F80, b: Uint8Array, off: number): void {
  b[off] = x.lo;
  b[off + 1] = x.lo >>> 8;
  b[off + 2] = x.lo >>> 16;
  b[off + 3] = x.lo >>> 24;
  b[off + 4] = x.hi;
  b[off + 5] = x.hi >>> 8;
  b[off + 6] = x.hi >>> 16;
  b[off + 7] = x.hi >>> 24;
  const se = (x.sign << 15) | x.exp;
  b[off + 8] = se;
  b[off + 9] = se >>> 8;
}

// ---- 32/64-bit reals ---------------------------------------------------------------------------------
/** Result of decoding a 32/64-bit real: 0 ordinary, 1 denormal (now normalised), 2 SNaN (kept signalling). */
export const DEC_OK = 0, DEC_DENORMAL = 1, DEC_SNAN = 2;

/** The exact extended value of a 32-bit real, without raising anything. */
export function decodeSingle(out: F80, bits: number): number {
  const sign = bits >>> 31;
  const e = (bits >>> 23) & 0xff;
  const frac = bits & 0x7fffff;
  if (e === 0xff) {
    if (frac === 0) {
      setInf(out, sign);
      return DEC_OK;
    }
    set(out, sign, 0x7fff, 0x80000000 | (frac << 8), 0);
    return frac & 0x400000 ? DEC_OK : DEC_SNAN;
  }
  if (e === 0) {
    if (frac === 0) {
      setZero(out, sign);
      return DEC_OK;
    }
    fromK(out, sign, 0, frac, -149);
    return DEC_DENORMAL;
  }
  set(out, sign, e - 127 + BIAS, 0x80000000 | (frac << 8), 0);
  return DEC_OK;
}

/** The exact extended value of a 64-bit real, without raising anything. */
export function decodeDouble(out: F80, lo: number, hi: number): number {
  const sign = hi >>> 31;
  const e = (hi >>> 20) & 0x7ff;
  const fh = hi & 0xfffff;
  lo >>>= 0;
  if (e === 0x7ff) {
    if (fh === 0 && lo === 0) {
      setInf(out, sign);
      return DEC_OK;
    }
    set(out, sign, 0x7fff, 0x80000000 | (fh << 11) | (lo >>> 21), lo << 11);
    return fh & 0x80000 ? DEC_OK : DEC_SNAN;
  }
  if (e === 0) {
    if (fh === 0 && lo === 0) {
      setZero(out, sign);
      return DEC_OK;
    }
    fromK(out, sign, fh, lo, -1074);
    return DEC_DENORMAL;
  }
  set(out, sign, e - 1023 + BIAS, 0x80000000 | (fh << 11) | (lo >>> 21), lo << 11);
  return DEC_OK;
}

/**
 * FLD m32/m64 after decoding: IE (and quieting) for an SNaN, DE for a denormal. False when IE is
 * unmasked: nothing is loaded. A denormal is loaded even with DE unmasked (as measured).
 */
export function checkLoaded(ctx: Ctx, out: F80, dec: number): boolean {
  if (dec === DEC_SNAN) {
    if (!ctx.raise(IE)) return false;
    out.hi = (out.hi | 0x40000000) >>> 0;
  } else if (dec === DEC_DENORMAL) {
    ctx.raise(DE);
  }
  return true;
}

/**
 * Rounds finite non-zero x into `tmp` for a store in a format with p bits and exponent range
 * [emin, emax]; false when an unmasked overflow/underflow cancels the store.
 */
function roundForStore(ctx: Ctx, x: F80, p: number, emin: number, emax: number): boolean {
  unpack(x, u);
  return roundPack(ctx, tmp, u.sign, u.e, u.hi, u.lo, 0, false, p, emin, emax, false);
}

/** FST m32: sets stored.lo; false when an unmasked exception cancels the store. */
export function storeSingle(ctx: Ctx, x: F80): boolean {
  const k = kind(x);
  const s = (x.sign << 31) >>> 0;
  switch (k) {
    case Kind.Zero: stored.lo = s; return true;
    case Kind.Inf: stored.lo = (s | 0x7f800000) >>> 0; return true;
    case Kind.SNaN: case Kind.QNaN:
      if (k === Kind.SNaN && !ctx.raise(IE)) return false;
      stored.lo = (s | 0x7fc00000 | ((x.hi >>> 8) & 0x3fffff)) >>> 0;
      return true;
    case Kind.Unsupported:
      if (!ctx.raise(IE)) return false;
      stored.lo = 0xffc00000;
      return true;
  }
  if (!roundForStore(ctx, x, 24, -126, 127)) return false;
  const t = tmp;
  if (t.exp === 0x7fff) {
    stored.lo = (s | 0x7f800000) >>> 0;
  } else if (t.exp === 0 && t.hi === 0) {
    stored.lo = s;
  } else {
    const e = t.exp - BIAS;
    if (e >= -126) stored.lo = (s | ((e + 127) << 23) | ((t.hi >>> 8) & 0x7fffff)) >>> 0;
    else stored.lo = (s | (t.hi >>> (8 + (-126 - e)))) >>> 0;
  }
  return true;
}

/** FST m64: sets stored.lo/hi; false when an unmasked exception cancels the store. */
export function storeDouble(ctx: Ctx, x: F80): boolean {
  const k = kind(x);
  const s = (x.sign << 31) >>> 0;
  switch (k) {
    case Kind.Zero: stored.hi = s; stored.lo = 0; return true;
    case Kind.Inf: stored.hi = (s | 0x7ff00000) >>> 0; stored.lo = 0; return true;
    case Kind.SNaN: case Kind.QNaN:
      if (k === Kind.SNaN && !ctx.raise(IE)) return false;
      stored.hi = (s | 0x7ff80000 | ((x.hi >>> 11) & 0x7ffff)) >>> 0;
      stored.lo = ((x.hi << 21) | (x.lo >>> 11)) >>> 0;
      return true;
    case Kind.Unsupported:
      if (!ctx.raise(IE)) return false;
      stored.hi = 0xfff80000;
      stored.lo = 0;
      return true;
  }
  if (!roundForStore(ctx, x, 53, -1022, 1023)) return false;
  const t = tmp;
  if (t.exp === 0x7fff) {
    stored.hi = (s | 0x7ff00000) >>> 0;
    stored.lo = 0;
  } else if (t.exp === 0 && t.hi === 0) {
    stored.hi = s;
    stored.lo = 0;
  } else {
    const e = t.exp - BIAS;
    // 52 fraction bits from the 64-bit significand, shifted further right for denormals.
    const sh = 11 + (e >= -1022 ? 0 : -1022 - e);
    let fh: number, fl: number;
    if (sh >= 32) {
      fh = 0;
      fl = t.hi >>> (sh - 32);
    } else {
      fh = t.hi >>> sh;
      fl = ((t.lo >>> sh) | (t.hi << (32 - sh))) >>> 0;
    }
    const be = e >= -1022 ? e + 1023 : 0;
    stored.hi = (s | (be << 20) | (fh & 0xfffff)) >>> 0;
    stored.lo = fl >>> 0;
  }
  return true;
}

// ---- integers --------------------------------------------------------------------------------------
/** FILD m16/m32: exact. */
export function loadInt32(out: F80, v: number): void {
  v |= 0;
  if (v < 0) fromK(out, 1, 0, -v >>> 0, 0);
  else fromK(out, 0, 0, v, 0);
}

/** FILD m64: exact. */
export function loadInt64(out: F80, lo: number, hi: number): void {
  lo >>>= 0;
  hi >>>= 0;
  if (hi & 0x80000000) {
    // Two's complement negate.
    lo = (~lo + 1) >>> 0;
    hi = (~hi + (lo === 0 ? 1 : 0)) >>> 0;
    fromK(out, 1, hi, lo, 0);
  } else {
    fromK(out, 0, hi, lo, 0);
  }
}

/** Rounding to an integer: the magnitude in kh:kl, or `big` when it is 2^64 or more. */
export const rounded = { kh: 0, kl: 0, inexact: false, up: false, big: false };

/** Rounds a finite non-zero value to an integer with rounding control `rc`. */
export function roundToInteger(x: F80, rc: number): void {
  unpack(x, u);
  const r = rounded;
  if (u.e >= 64) {
    r.big = true;
    r.inexact = r.up = false;
    return;
  }
  // value = sig * 2^(e - 63): keep the bits at and above 2^0 (shift right by 63 - e).
  roundPack64(u.sign, u.hi, u.lo, 63 - u.e, rc);
}

function roundPack64(sign: number, hi: number, lo: number, shift: number, rc: number): void {
  const r = rounded;
  let kh: number, kl: number, rbit: number, st: boolean;
  if (shift <= 0) {
    kh = hi;
    kl = lo;
    rbit = 0;
    st = false;
  } else if (shift > 64) {
    kh = kl = 0;
    rbit = 0;
    st = true;
  } else if (shift === 64) {
    kh = kl = 0;
    rbit = hi >>> 31;
    st = (hi & 0x7fffffff) !== 0 || lo !== 0;
  } else if (shift >= 32) {
    const s = shift - 32;
    kh = 0;
    kl = s === 0 ? hi : hi >>> s;
    rbit = s === 0 ? lo >>> 31 : (hi >>> (s - 1)) & 1;
    st = s === 0 ? (lo & 0x7fffffff) !== 0 : lo !== 0 || (s > 1 && (hi << (33 - s)) !== 0);
  } else {
    kh = hi >>> shift;
    kl = ((lo >>> shift) | (hi << (32 - shift))) >>> 0;
    rbit = (lo >>> (shift - 1)) & 1;
    st = shift > 1 && (lo << (33 - shift)) !== 0;
  }
  const inexact = rbit !== 0 || st;
  let inc: boolean;
  switch (rc) {
    case RC_NEAREST: inc = rbit !== 0 && (st || (kl & 1) !== 0); break;
    case 1: inc = inexact && sign !== 0; break;
    case 2: inc = inexact && sign === 0; break;
    default: inc = false;
  }
  r.big = false;
  if (inc) {
    kl = (kl + 1) >>> 0;
    if (kl === 0) {
      kh = (kh + 1) >>> 0;
      if (kh === 0) r.big = true;
    }
  }
  r.kh = kh >>> 0;
  r.kl = kl >>> 0;
  r.inexact = inexact;
  r.up = inc;
}

/**
 * FIST/FISTP/FBSTP conversion: rounds x by RC to an integer of `bits` (16, 32 or 64) and sets
 * stored.lo/hi (two's complement). Out of range, NaN, infinity or unsupported: IE, masked response
 * the integer indefinite (the most negative value). False when IE is unmasked.
 */
export function storeInt(ctx: Ctx, x: F80, bits: number): boolean {
  const k = kind(x);
  if (k === Kind.Zero) {
    stored.lo = stored.hi = 0;
    return true;
  }
  if (k !== Kind.Normal && k !== Kind.Denormal) return intIndefinite(ctx, bits);
  roundToInteger(x, ctx.rc);
  const r = rounded;
  if (r.big) return intIndefinite(ctx, bits);
  // Largest magnitude: 2^(bits-1) - 1, or 2^(bits-1) when negative.
  let fits: boolean;
  if (bits === 64) {
    fits = r.kh < 0x80000000 || (x.sign === 1 && r.kh === 0x80000000 && r.kl === 0);
  } else {
    const lim = bits === 32 ? 0x80000000 : 0x8000;
    fits = r.kh === 0 && (r.kl < lim || (x.sign === 1 && r.kl === lim));
  }
  if (!fits) return intIndefinite(ctx, bits);
  if (r.inexact) ctx.raise(PE);
  ctx.up = r.up;
  let lo = r.kl, hi = r.kh;
  if (x.sign) {
    lo = (~lo + 1) >>> 0;
    hi = (~hi + (lo === 0 ? 1 : 0)) >>> 0;
  }
  stored.lo = lo >>> 0;
  stored.hi = hi >>> 0;
  return true;
}

function intIndefinite(ctx: Ctx, bits: number): boolean {
  if (!ctx.raise(IE)) return false;
  stored.lo = bits === 16 ? 0x8000 : bits === 32 ? 0x80000000 : 0;
  stored.hi = bits === 64 ? 0x80000000 : 0;
  return true;
}

// ---- packed BCD ---------------------------------------------------------------------------------------
/** FBLD: 18 digits (bytes 0-8, low digit first) and the sign in bit 7 of byte 9. Exact. */
export function loadBcd(out: F80, b: Uint8Array, off: number): void {
  let high = 0, low = 0;
  for (let n = 17; n >= 9; n--) high = high * 10 + digit(b, off, n);
  for (let n = 8; n >= 0; n--) low = low * 10 + digit(b, off, n);
  // high * 10^9 + low (< 2^61 even with invalid digits), assembled from parts each exact in a double.
  const hH = Math.floor(high / 65536), hL = high % 65536;
  const a = hH * 1e9 * 65536; // (< 2^45) * 2^16
  const c = hL * 1e9 + low; // < 2^47
  const aHi = Math.floor(a / TWO32), cHi = Math.floor(c / TWO32);
  let lo = a - aHi * TWO32 + (c - cHi * TWO32);
  let hi = aHi + cHi;
  if (lo >= TWO32) {
    lo -= TWO32;
    hi++;
  }
  fromK(out, (b[off + 9] >> 7) & 1, hi >>> 0, lo >>> 0, 0);
}

function digit(b: Uint8Array, off: number, n: number): number {
  const byte = b[off + (n >> 1)];
  return n & 1 ? byte >> 4 : byte & 0xf;
}

/**
 * FBSTP: rounds by RC and writes 10 bytes of packed BCD into `out`. Values of 10^18 or more, NaNs,
 * infinities and unsupported formats raise IE (masked response: the BCD indefinite).
 */
export function storeBcd(ctx: Ctx, x: F80, out: Uint8Array): boolean {
  const k = kind(x);
  out.fill(0, 0, 10);
  if (k === Kind.Zero) {
    out[9] = x.sign << 7;
    return true;
  }
  if (k !== Kind.Normal && k !== Kind.Denormal) return bcdIndefinite(ctx, out);
  roundToInteger(x, ctx.rc);
  const r = rounded;
  // 10^18 = 0x0DE0B6B3_A7640000
  if (r.big || r.kh > 0x0de0b6b3 || (r.kh === 0x0de0b6b3 && r.kl >= 0xa7640000)) return bcdIndefinite(ctx, out);
  if (r.inexact) ctx.raise(PE);
  ctx.up = r.up;
  let hi = r.kh, lo = r.kl;
  for (let n = 0; n < 18; n++) {
    // Divide hi:lo by 10.
    const qh = Math.floor(hi / 10);
    const rem = hi - qh * 10;
    const cur = rem * 4294967296 + lo; // < 10 * 2^32
    const ql = Math.floor(cur / 10);
    const d = cur - ql * 10;
    hi = qh;
    lo = ql;
    out[n >> 1] |= n & 1 ? d << 4 : d;
  }
  out[9] = x.sign << 7;
  return true;
}

function bcdIndefinite(ctx: Ctx, out: Uint8Array): boolean {
  if (!ctx.raise(IE)) return false;
  out.fill(0, 0, 10);
  out[7] = 0xc0;
  out[8] = 0xff;
  out[9] = 0xff;
  return true;
}

