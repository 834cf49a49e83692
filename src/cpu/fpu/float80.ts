/**
 * Conversions between JavaScript doubles and the x87 memory formats: 80-bit extended precision,
 * 64/32-bit IEEE reals, 16/32/64-bit integers and 18-digit packed BCD. Rounding of integer and
 * BCD conversions follows the FPU control word's rounding control.
 */

/** Rounding control values (FCW bits 11:10). */
export const RC_NEAREST = 0, RC_DOWN = 1, RC_UP = 2, RC_ZERO = 3;

/** Rounds to an integer by the x87 rounding control. */
export function roundRc(x: number, rc: number): number {
  switch (rc) {
    case RC_NEAREST: {
      // Round half to even.
      const f = Math.floor(x);
      const d = x - f;
      if (d > 0.5) return f + 1;
      if (d < 0.5) return f;
      return f % 2 === 0 ? f : f + 1;
    }
    case RC_DOWN: return Math.floor(x);
    case RC_UP: return Math.ceil(x);
    default: return Math.trunc(x);
  }
}

const TWO32 = 4294967296;

/** Writes `v` as an 80-bit extended real (10 bytes, little-endian) at `out[off]`. */
export function toExtended(v: number, out: Uint8Array, off: number): void {
  let sign = 0, exp = 0, hi = 0, lo = 0;
  if (Number.isNaN(v)) {
    // The default (real indefinite / quiet) NaN: sign set, top two significand bits set.
    sign = 1;
    exp = 0x7fff;
    hi = 0xc0000000;
  } else {
    if (v < 0 || Object.is(v, -0)) {
      sign = 1;
      v = -v;
    }
    if (v === Infinity) {
      exp = 0x7fff;
      hi = 0x80000000;
    } else if (v !== 0) {
      // Every double (denormals included) is a normal extended number.
      let e = Math.floor(Math.log2(v));
      let m = v / 2 ** e;
      if (m >= 2) {
        m /= 2;
        e++;
      } else if (m < 1) {
        m *= 2;
        e--;
      }
      exp = e + 16383;
      // m in [1, 2): 64 significand bits with the explicit integer bit.
      const top = m * 2 ** 31;
      hi = Math.floor(top) >>> 0;
      lo = Math.round((top - Math.floor(top)) * TWO32) >>> 0;
    }
  }
  out[off] = lo;
  out[off + 1] = lo >>> 8;
  out[off + 2] = lo >>> 16;
  out[off + 3] = lo >>> 24;
  out[off + 4] = hi;
  out[off + 5] = hi >>> 8;
  out[off + 6] = hi >>> 16;
  out[off + 7] = hi >>> 24;
  const se = (sign << 15) | exp;
  out[off + 8] = se;
  out[off + 9] = se >>> 8;
}

/** Reads an 80-bit extended real; values beyond double precision are rounded to nearest. */
export function fromExtended(b: Uint8Array, off: number): number {
  const lo = (b[off] | (b[off + 1] << 8) | (b[off + 2] << 16) | (b[off + 3] << 24)) >>> 0;
  const hi = (b[off + 4] | (b[off + 5] << 8) | (b[off + 6] << 16) | (b[off + 7] << 24)) >>> 0;
  const se = b[off + 8] | (b[off + 9] << 8);
  const sign = se & 0x8000 ? -1 : 1;
  const exp = se & 0x7fff;
  if (exp === 0x7fff) {
    if ((hi & 0x7fffffff) === 0 && lo === 0) return sign * Infinity;
    return NaN;
  }
  if (exp === 0 && hi === 0 && lo === 0) return sign * 0;
  // A zero integer bit with a non-zero exponent is an "unnormal": invalid on the 387 and later.
  if (exp !== 0 && (hi & 0x80000000) === 0) return NaN;
  const mant = hi * TWO32 + lo; // one rounding to 53 bits
  const e = (exp === 0 ? 1 : exp) - 16383 - 63;
  // Scale in two steps so intermediate powers stay finite.
  const half = Math.trunc(e / 2);
  return sign * mant * 2 ** half * 2 ** (e - half);
}

const f32 = new Float32Array(1);
const f32b = new Uint8Array(f32.buffer);
const f64 = new Float64Array(1);
const f64b = new Uint8Array(f64.buffer);

export function toSingleBytes(v: number, out: Uint8Array, off: number): void {
  f32[0] = v;
  out.set(f32b, off);
}
export function fromSingleBytes(b: Uint8Array, off: number): number {
  f32b.set(b.subarray(off, off + 4));
  return f32[0];
}
export function toDoubleBytes(v: number, out: Uint8Array, off: number): void {
  f64[0] = v;
  out.set(f64b, off);
}
export function fromDoubleBytes(b: Uint8Array, off: number): number {
  f64b.set(b.subarray(off, off + 8));
  return f64[0];
}

/** Signed 64-bit integer from two 32-bit halves. */
export function int64ToNumber(lo: number, hi: number): number {
  return (hi | 0) * TWO32 + (lo >>> 0);
}

/** Splits an integral double (|v| <= 2^63) into low/high 32-bit halves of its two's complement. */
export function numberToInt64(v: number): [number, number] {
  const neg = v < 0;
  const a = Math.abs(v);
  let hi = Math.floor(a / TWO32);
  let lo = a - hi * TWO32;
  if (neg) {
    lo = TWO32 - lo;
    hi = ~hi + (lo === TWO32 ? 1 : 0);
    if (lo === TWO32) lo = 0;
  }
  return [lo >>> 0, hi >>> 0];
}

/** Reads 18-digit packed BCD (10 bytes: 9 bytes of digit pairs, sign in bit 7 of byte 9). */
export function fromBcd(b: Uint8Array, off: number): number {
  let v = 0;
  for (let k = 8; k >= 0; k--) v = v * 100 + (b[off + k] >> 4) * 10 + (b[off + k] & 0xf);
  return b[off + 9] & 0x80 ? -v : v;
}

/** Writes an integral value as packed BCD; false if it does not fit in 18 digits. */
export function toBcd(v: number, out: Uint8Array, off: number): boolean {
  let a = Math.abs(v);
  if (!(a < 1e18)) return false;
  for (let k = 0; k < 9; k++) {
    const pair = a % 100;
    a = Math.floor(a / 100);
    out[off + k] = ((Math.floor(pair / 10) << 4) | (pair % 10)) & 0xff;
  }
  out[off + 9] = v < 0 || Object.is(v, -0) ? 0x80 : 0;
  return true;
}

/** The BCD indefinite encoding stored by FBSTP on a masked invalid operation. */
export function bcdIndefinite(out: Uint8Array, off: number): void {
  out.fill(0, off, off + 7);
  out[off + 7] = 0xc0;
  out[off + 8] = 0xff;
  out[off + 9] = 0xff;
}
