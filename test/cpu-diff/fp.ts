/** Floating-point and BCD operand encodings, and the pools of x87 operand values. */
import type { Rng } from './prng.js';

const dv = new DataView(new ArrayBuffer(8));

export function f32Bytes(x: number): number[] {
  dv.setFloat32(0, x, true);
  return [0, 1, 2, 3].map((k) => dv.getUint8(k));
}
export function f64Bytes(x: number): number[] {
  dv.setFloat64(0, x, true);
  return [0, 1, 2, 3, 4, 5, 6, 7].map((k) => dv.getUint8(k));
}
/** 80-bit extended encoding of a double (exact: every double is representable). */
export function f80FromDouble(x: number): number[] {
  dv.setFloat64(0, x);
  const hi = dv.getUint32(0), lo = dv.getUint32(4);
  const sign = hi >>> 31, e = (hi >>> 20) & 0x7ff;
  const frac = (BigInt(hi & 0xfffff) << 32n) | BigInt(lo);
  let exp: number, mant: bigint;
  if (e === 0x7ff) {
    exp = 0x7fff;
    mant = (1n << 63n) | (frac << 11n);
  } else if (e === 0) {
    if (frac === 0n) { exp = 0; mant = 0n; }
    else {
      // Double denormal: normal in extended precision.
      let m = frac, ex = 1 - 1023;
      while (!(m & (1n << 52n))) { m <<= 1n; ex--; }
      exp = ex + 16383;
      mant = m << 11n;
    }
  } else {
    exp = e - 1023 + 16383;
    mant = (1n << 63n) | (frac << 11n);
  }
  return f80Raw(sign, exp, mant);
}
export function f80Raw(sign: number, exp: number, mant: bigint): number[] {
  const out: number[] = [];
  for (let k = 0; k < 8; k++) out.push(Number((mant >> BigInt(8 * k)) & 0xffn));
  const se = ((sign & 1) << 15) | (exp & 0x7fff);
  out.push(se & 0xff, se >> 8);
  return out;
}
export function intBytes(v: bigint, size: number): number[] {
  const u = BigInt.asUintN(size * 8, v);
  return Array.from({ length: size }, (_, k) => Number((u >> BigInt(8 * k)) & 0xffn));
}
/** Packed BCD (FBLD/FBSTP): 18 digits and a sign byte. */
export function bcdBytes(digits: string, negative: boolean): number[] {
  const d = digits.padStart(18, '0').slice(-18);
  const out: number[] = [];
  for (let k = 0; k < 9; k++) {
    const lo = d.charCodeAt(17 - 2 * k) - 48, hi = d.charCodeAt(16 - 2 * k) - 48;
    out.push((hi << 4) | lo);
  }
  out.push(negative ? 0x80 : 0);
  return out;
}

/** Values whose arithmetic is mostly exact in both double and extended precision. */
export function niceDouble(rng: Rng): number {
  const r = rng.int(8);
  if (r === 0) return rng.pick([0, -0, 1, -1, 2, 0.5, -0.25, 3, 10, 100, 1000, -7.5, 0.75, 1.5, 12345, 65536, 0.125]);
  if (r === 1) return Math.pow(2, rng.range(-40, 40)) * (rng.bool() ? 1 : -1);
  if (r === 2) return rng.range(-1000, 1000) / rng.pick([1, 2, 4, 8, 16, 64]);
  if (r === 3) return rng.range(-100000, 100000);
  if (r === 4) return rng.pick([0.1, 0.2, 0.3, 1 / 3, 2 / 3, Math.PI, Math.E, Math.SQRT2, 1e10, 1e-10, 123.456]);
  if (r === 5) return rng.range(-32768, 32767);
  if (r === 6) return (rng.u32() | 0) * (rng.bool() ? 1 : 0.5);
  return rng.range(0, 20) * (rng.bool() ? -1 : 1);
}
export function specialDouble(rng: Rng): number {
  return rng.pick([Infinity, -Infinity, NaN, 5e-324, -2.2250738585072014e-308, 1.7976931348623157e308, -1e300, 1e-300, 4.9e-320, 2 ** 63, -(2 ** 63), 2 ** 31, 2 ** 15 - 0.5, 1e20, -1e-20]);
}
export function randomDouble(rng: Rng): number {
  dv.setUint32(0, rng.u32());
  dv.setUint32(4, rng.u32());
  let x = dv.getFloat64(0);
  if (!Number.isFinite(x) || Math.abs(x) > 1e30 || Math.abs(x) < 1e-30) x = (rng.float() - 0.5) * Math.pow(2, rng.range(-30, 30));
  return x;
}
export type FpClass = 'nice' | 'special' | 'random';
export function fpValue(rng: Rng): { v: number; cls: FpClass } {
  const r = rng.float();
  if (r < 0.72) return { v: niceDouble(rng), cls: 'nice' };
  if (r < 0.84) return { v: specialDouble(rng), cls: 'special' };
  return { v: randomDouble(rng), cls: 'random' };
}
/** An m80 operand: usually a double, sometimes a full 64-bit significand or an unsupported encoding. */
export function f80Value(rng: Rng): number[] {
  const r = rng.float();
  if (r < 0.75) return f80FromDouble(fpValue(rng).v);
  if (r < 0.92) {
    const mant = (1n << 63n) | (BigInt(rng.u32() & 0x7fffffff) << 32n) | BigInt(rng.u32());
    return f80Raw(rng.int(2), 16383 + rng.range(-70, 70), mant);
  }
  // Extended-only encodings: SNaN, pseudo-denormal, unnormal, pseudo-NaN/infinity, huge/tiny exponents.
  const k = rng.int(6);
  if (k === 0) return f80Raw(rng.int(2), 0x7fff, (1n << 63n) | BigInt(rng.range(1, 0xffff)));
  if (k === 1) return f80Raw(rng.int(2), 0, (1n << 63n) | BigInt(rng.u32()));
  if (k === 2) return f80Raw(rng.int(2), rng.range(1, 0x7ffe), BigInt(rng.u32()));
  if (k === 3) return f80Raw(rng.int(2), 0x7fff, BigInt(rng.u32()));
  if (k === 4) return f80Raw(rng.int(2), rng.range(0x7000, 0x7ffe), (1n << 63n) | BigInt(rng.u32()));
  return f80Raw(rng.int(2), rng.range(1, 0x1000), (1n << 63n) | BigInt(rng.u32()));
}
export function intValue(rng: Rng, size: number): bigint {
  const r = rng.int(6);
  if (r === 0) return BigInt(rng.range(-100, 100));
  if (r === 1) return BigInt(rng.val32());
  if (r === 2 && size === 8) return BigInt.asIntN(64, (BigInt(rng.u32()) << 32n) | BigInt(rng.u32()));
  if (r === 3) return BigInt.asIntN(size * 8, BigInt(rng.pick([0, 1, -1, 0x7fff, -0x8000, 0x7fffffff, -0x80000000, 0x10000, 12345])));
  if (r === 4 && size === 8) return BigInt(rng.int(1 << 30)) * BigInt(rng.int(1 << 20));
  return BigInt.asIntN(size * 8, BigInt(rng.val32()));
}
