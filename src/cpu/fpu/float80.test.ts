/**
 * The numeric core against independent oracles: JavaScript's IEEE double and single arithmetic
 * (which the x87 must reproduce exactly with precision control at 53 or 24 bits), exact integer
 * and BCD conversions, and the SDM's rules for special operands.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { add, compare, CMP_EQ, CMP_GT, CMP_LT, CMP_UN, div, mul, sqrt } from './arith.js';
import {
  checkLoaded, decodeDouble, decodeSingle, loadBcd, loadInt32, loadInt64, readExt, storeBcd, storeDouble, storeInt,
  storeSingle, stored, writeExt, DEC_DENORMAL, DEC_OK, DEC_SNAN,
} from './convert.js';
import { Ctx, DE, F80, fromNumber, IE, OE, PE, toNumber, UE, ZE } from './float80.js';

let seed = 12345;
function rnd(): number {
  seed = (seed + 0x6d2b79f5) >>> 0;
  let t = seed;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}
const r32 = () => (rnd() * 4294967296) >>> 0;

/** A random double with a random exponent in [-e, e] (no NaN/inf). */
function randomDouble(e = 300): number {
  return (rnd() - 0.5) * 4 * 2 ** Math.floor((rnd() - 0.5) * 2 * e);
}

function ext(d: number): F80 {
  const x = new F80();
  fromNumber(new Ctx(), x, d);
  return x;
}
const hex = (x: F80) => `${x.sign ? '-' : '+'}${x.exp.toString(16).padStart(4, '0')}:${x.hi.toString(16).padStart(8, '0')}${x.lo.toString(16).padStart(8, '0')}`;

function ctx(fcw = 0x037f): Ctx {
  const c = new Ctx();
  c.begin(fcw);
  return c;
}

test('32-bit reals round-trip exactly through the register format', () => {
  const c = ctx();
  const x = new F80();
  for (let n = 0; n < 20000; n++) {
    let bits = r32();
    if (n % 7 === 0) bits = (bits & 0x807fffff) >>> 0; // denormals
    if (n % 11 === 0) bits = (bits | 0x7f800000 | 0x400000) >>> 0; // quiet NaNs
    const dec = decodeSingle(x, bits);
    if (dec === DEC_SNAN) continue;
    c.begin(0x037f);
    assert.ok(storeSingle(c, x));
    assert.equal(stored.lo, bits, `bits ${bits.toString(16)}`);
    assert.equal(c.flags, 0);
  }
});

test('64-bit reals round-trip exactly through the register format', () => {
  const c = ctx();
  const x = new F80();
  for (let n = 0; n < 20000; n++) {
    let hi = r32();
    const lo = r32();
    if (n % 7 === 0) hi = (hi & 0x800fffff) >>> 0;
    const dec = decodeDouble(x, lo, hi);
    if (dec === DEC_SNAN) continue;
    c.begin(0x037f);
    assert.ok(storeDouble(c, x));
    assert.deepEqual([stored.hi, stored.lo], [hi, lo]);
  }
});

test('decoded doubles have the value JavaScript gives them', () => {
  const f64 = new Float64Array(1), u = new Uint32Array(f64.buffer);
  const x = new F80();
  for (let n = 0; n < 5000; n++) {
    f64[0] = randomDouble(1100);
    decodeDouble(x, u[0], u[1]);
    assert.equal(toNumber(x), f64[0]);
  }
});

test('80-bit values round-trip bit for bit, unsupported encodings included', () => {
  const b = new Uint8Array(10), o = new Uint8Array(10);
  const x = new F80();
  for (let n = 0; n < 2000; n++) {
    for (let k = 0; k < 10; k++) b[k] = r32() & 0xff;
    readExt(b, 0, x);
    writeExt(x, o, 0);
    assert.deepEqual(o, b);
  }
});

test('loads raise DE for denormals and IE for signalling NaNs, which are quieted', () => {
  const c = ctx();
  const x = new F80();
  assert.equal(decodeSingle(x, 1), DEC_DENORMAL);
  assert.equal(hex(x), '+3f6a:8000000000000000');
  assert.ok(checkLoaded(c, x, DEC_DENORMAL));
  assert.equal(c.flags, DE);
  c.begin(0x037f);
  assert.equal(decodeSingle(x, 0x7f800001), DEC_SNAN);
  assert.ok(checkLoaded(c, x, DEC_SNAN));
  assert.equal(c.flags, IE);
  assert.equal(hex(x), '+7fff:c000010000000000');
  c.begin(0x037e); // IE unmasked: nothing is loaded
  decodeSingle(x, 0x7f800001);
  assert.equal(checkLoaded(c, x, DEC_SNAN), false);
  assert.equal(decodeDouble(x, 0, 0x3ff00000), DEC_OK);
});

test('stores round by RC and report overflow, underflow and inexact', () => {
  const third = F80.of(0, 0x3ffd, 0xaaaaaaaa, 0xaaaaaaab);
  const c = ctx();
  assert.ok(storeSingle(c, third));
  assert.equal(stored.lo, 0x3eaaaaab);
  assert.equal(c.flags, PE);
  assert.equal(c.up, true);
  c.begin(0x077f); // round down
  storeSingle(c, third);
  assert.equal(stored.lo, 0x3eaaaaaa);
  assert.equal(c.up, false);
  // Overflow: infinity with RC nearest, the largest finite value with RC toward zero.
  const huge = F80.of(1, 0x5000, 0x80000000, 0);
  c.begin(0x037f);
  storeSingle(c, huge);
  assert.equal(stored.lo, 0xff800000);
  assert.equal(c.flags, OE | PE);
  c.begin(0x0f7f);
  storeSingle(c, huge);
  assert.equal(stored.lo, 0xff7fffff);
  c.begin(0x0377); // OE unmasked: no store
  assert.equal(storeDouble(c, huge), false);
  assert.equal(c.flags, OE);
  // Gradual underflow to a denormal, inexact.
  c.begin(0x037f);
  storeDouble(c, F80.of(0, 0x3fff - 1050, 0xc0000000, 1));
  assert.deepEqual([stored.hi, stored.lo], [0, 0x01800000]);
  assert.equal(c.flags, UE | PE);
});

test('PC = 53 arithmetic is exactly IEEE double arithmetic', () => {
  const c = new Ctx();
  const out = new F80();
  for (let n = 0; n < 20000; n++) {
    const a = randomDouble(), b = randomDouble();
    const op = n % 5;
    c.begin(0x027f);
    const x = ext(a), y = ext(b);
    let want: number;
    switch (op) {
      case 0: add(c, out, x, y, false, c.prec); want = a + b; break;
      case 1: add(c, out, x, y, true, c.prec); want = a - b; break;
      case 2: mul(c, out, x, y, c.prec); want = a * b; break;
      case 3: div(c, out, x, y, c.prec); want = a / b; break;
      default: sqrt(c, out, ext(Math.abs(a)), c.prec); want = Math.sqrt(Math.abs(a));
    }
    if (!Number.isFinite(want) || (want !== 0 && Math.abs(want) < 2 ** -1022)) continue;
    assert.equal(toNumber(out), want, `${a} op${op} ${b}`);
    assert.equal((c.flags & PE) !== 0, !exactIn64(op, a, b, want), `PE for ${a} op${op} ${b}`);
  }
});

/** Whether the double result is exact (checked by the inverse operation where that is exact). */
function exactIn64(op: number, a: number, b: number, r: number): boolean {
  switch (op) {
    case 0: return r - a === b && r - b === a;
    case 1: return a - r === b && r + b === a;
    default: return !inexactByExt(op, a, b);
  }
}
function inexactByExt(op: number, a: number, b: number): boolean {
  const c = ctx(0x037f);
  const out = new F80();
  if (op === 2) mul(c, out, ext(a), ext(b), 64);
  else if (op === 3) div(c, out, ext(a), ext(b), 64);
  else sqrt(c, out, ext(Math.abs(a)), 64);
  // With 64 bits the result is inexact iff it is inexact at 53 bits or has bits beyond 53.
  const at53 = toNumber(out);
  return (c.flags & PE) !== 0 || (out.lo & 0x7ff) !== 0 || at53 !== toNumber(out);
}

test('PC = 24 multiplication is exactly IEEE single multiplication', () => {
  const c = new Ctx();
  const out = new F80();
  for (let n = 0; n < 10000; n++) {
    const a = Math.fround(randomDouble(60)), b = Math.fround(randomDouble(60));
    c.begin(0x007f);
    mul(c, out, ext(a), ext(b), c.prec);
    assert.equal(toNumber(out), Math.fround(a * b));
  }
});

test('64-bit results: 1/3 and sqrt(2) as the hardware rounds them', () => {
  const c = ctx();
  const out = new F80();
  div(c, out, ext(1), ext(3), 64);
  assert.equal(hex(out), '+3ffd:aaaaaaaaaaaaaaab');
  assert.equal(c.up, true);
  c.begin(0x0f7f);
  div(c, out, ext(1), ext(3), 64);
  assert.equal(hex(out), '+3ffd:aaaaaaaaaaaaaaaa');
  c.begin(0x037f);
  sqrt(c, out, ext(2), 64);
  assert.equal(hex(out), '+3fff:b504f333f9de6484');
});

test('signed zeros, infinities and invalid operations', () => {
  const c = ctx();
  const out = new F80();
  add(c, out, ext(0), ext(-0), false, 64);
  assert.ok(Object.is(toNumber(out), 0));
  c.begin(0x077f); // round down: +0 + -0 = -0, and x - x = -0
  add(c, out, ext(0), ext(-0), false, 64);
  assert.ok(Object.is(toNumber(out), -0));
  add(c, out, ext(3), ext(3), true, 64);
  assert.ok(Object.is(toNumber(out), -0));
  c.begin(0x037f);
  add(c, out, ext(Infinity), ext(-Infinity), false, 64);
  assert.equal(hex(out), '-7fff:c000000000000000'); // real indefinite
  assert.equal(c.flags, IE);
  c.begin(0x037f);
  mul(c, out, ext(0), ext(Infinity), 64);
  assert.equal(c.flags, IE);
  c.begin(0x037f);
  div(c, out, ext(-1), ext(0), 64);
  assert.equal(toNumber(out), -Infinity);
  assert.equal(c.flags, ZE);
  c.begin(0x037b); // ZE unmasked: no result
  assert.equal(div(c, out, ext(-1), ext(0), 64), false);
  c.begin(0x037f);
  sqrt(c, out, ext(-0), 64);
  assert.ok(Object.is(toNumber(out), -0));
  sqrt(c, out, ext(-1), 64);
  assert.equal(c.flags, IE);
});

test('NaN operands: QNaN over SNaN, else the larger significand, quieted', () => {
  const c = ctx();
  const out = new F80();
  const q = F80.of(0, 0x7fff, 0xc0000002, 0), s = F80.of(0, 0x7fff, 0xa0000000, 0);
  add(c, out, s, q, false, 64);
  assert.equal(hex(out), '+7fff:c000000200000000');
  assert.equal(c.flags, IE);
  c.begin(0x037f);
  add(c, out, F80.of(0, 0x7fff, 0x80000001, 0), s, false, 64);
  assert.equal(hex(out), '+7fff:e000000000000000');
  c.begin(0x037f);
  mul(c, out, q, F80.of(1, 0x7fff, 0xd0000000, 0), 64);
  assert.equal(hex(out), '-7fff:d000000000000000');
  assert.equal(c.flags, 0);
  // An unsupported operand (unnormal) makes the indefinite, even beside a QNaN.
  c.begin(0x037f);
  add(c, out, F80.of(0, 0x4000, 0x40000000, 0), q, false, 64);
  assert.equal(hex(out), '-7fff:c000000000000000');
  assert.equal(c.flags, IE);
});

test('denormal operands raise DE; denormal results underflow', () => {
  const c = ctx();
  const out = new F80();
  const den = F80.of(0, 0, 0x40000000, 0);
  add(c, out, den, ext(1), false, 64);
  assert.equal(c.flags, DE | PE);
  c.begin(0x037d); // DE unmasked: no result
  assert.equal(add(c, out, den, ext(1), false, 64), false);
  c.begin(0x037f);
  mul(c, out, F80.of(0, 0x0010, 0x80000000, 1), F80.of(0, 0x3fe0, 0x80000000, 0), 64);
  assert.equal(hex(out), '+0000:0000800000000000');
  assert.equal(c.flags, UE | PE);
  c.begin(0x036f); // UE unmasked: the exact result with the exponent biased by 24576
  mul(c, out, F80.of(0, 0x0010, 0x80000000, 1), F80.of(0, 0x3fe0, 0x80000000, 0), 64);
  assert.equal(hex(out), '+5ff1:8000000000000001');
  assert.equal(c.flags, UE);
});

test('comparisons order numbers, treat zeros as equal and NaNs as unordered', () => {
  const c = ctx();
  assert.equal(compare(c, ext(1), ext(3), false), CMP_LT);
  assert.equal(compare(c, ext(-1), ext(-3), false), CMP_GT);
  assert.equal(compare(c, ext(0), ext(-0), false), CMP_EQ);
  assert.equal(compare(c, ext(-Infinity), ext(-1e300), false), CMP_LT);
  assert.equal(c.flags, 0);
  const q = F80.of(0, 0x7fff, 0xc0000000, 0);
  assert.equal(compare(c, q, ext(1), true), CMP_UN);
  assert.equal(c.flags, 0, 'FUCOM: a QNaN is not invalid');
  assert.equal(compare(c, q, ext(1), false), CMP_UN);
  assert.equal(c.flags, IE, 'FCOM: any NaN is invalid');
});

test('integer loads are exact and stores round by RC with overflow to the indefinite', () => {
  const x = new F80();
  loadInt64(x, 0, 0x80000000);
  assert.equal(hex(x), '-403e:8000000000000000');
  loadInt64(x, 0xffffffff, 0x7fffffff);
  assert.equal(hex(x), '+403d:fffffffffffffffe'); // 2^63 - 1
  loadInt32(x, -1);
  assert.equal(toNumber(x), -1);
  const even = (v: number) => {
    const f = Math.floor(v), d = v - f;
    return d > 0.5 || (d === 0.5 && f % 2 !== 0) ? f + 1 : f;
  };
  const modes = [even, Math.floor, Math.ceil, Math.trunc];
  const c = new Ctx();
  for (let n = 0; n < 5000; n++) {
    const v = Math.round((rnd() - 0.5) * 2 ** 20) / 8;
    const rc = n & 3;
    c.begin(0x037f | (rc << 10));
    assert.ok(storeInt(c, ext(v), 32));
    const want = modes[rc](v);
    assert.equal(stored.lo | 0, want, `${v} rc${rc}`);
    assert.equal((c.flags & PE) !== 0, want !== v);
    assert.equal(c.up, Math.abs(want) > Math.abs(v));
  }
  c.begin(0x037f);
  assert.ok(storeInt(c, ext(40000), 16));
  assert.equal(stored.lo, 0x8000);
  assert.equal(c.flags, IE);
  c.begin(0x037f);
  assert.ok(storeInt(c, ext(-32768.4), 16));
  assert.equal(stored.lo & 0xffff, 0x8000);
  assert.equal(c.flags, PE);
  c.begin(0x037f);
  assert.ok(storeInt(c, ext(2 ** 63), 64));
  assert.deepEqual([stored.hi, stored.lo], [0x80000000, 0]);
  assert.equal(c.flags, IE);
  c.begin(0x037e);
  assert.equal(storeInt(c, ext(NaN), 32), false, 'IE unmasked: nothing stored');
});

test('packed BCD loads and stores 18 digits exactly', () => {
  const b = new Uint8Array(10), o = new Uint8Array(10);
  const x = new F80();
  const c = new Ctx();
  for (let n = 0; n < 2000; n++) {
    let digits = '';
    for (let k = 0; k < 18; k++) digits += Math.floor(rnd() * 10);
    for (let k = 0; k < 9; k++) b[k] = (Number(digits[17 - 2 * k - 1]) << 4) | Number(digits[17 - 2 * k]);
    b[9] = n & 1 ? 0x80 : 0;
    loadBcd(x, b, 0);
    if (digits.length <= 15) assert.equal(Math.abs(toNumber(x)), Number(digits));
    c.begin(0x037f);
    assert.ok(storeBcd(c, x, o));
    assert.deepEqual(o, b, digits);
    assert.equal(c.flags, 0);
  }
  c.begin(0x037f);
  storeBcd(c, ext(-1234.5), o);
  assert.deepEqual(Array.from(o), [0x34, 0x12, 0, 0, 0, 0, 0, 0, 0, 0x80]);
  assert.equal(c.flags, PE);
  c.begin(0x037f);
  storeBcd(c, ext(1e18), o);
  assert.deepEqual(Array.from(o), [0, 0, 0, 0, 0, 0, 0, 0xc0, 0xff, 0xff]); // BCD indefinite
  assert.equal(c.flags, IE);
});
