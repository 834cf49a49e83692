/**
 * The transcendental tolerance (compare.ts hardwareFpu) is as narrow as documented: one ulp in the
 * ST registers receiving the results of a final FSIN..FYL2XP1 that completed, and C1 then only
 * with PE and computed (finite) results; nothing else.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { hardwareFpu, type Diff } from './compare.js';
import type { GenCase } from './generator.js';
import type { NativeOutcome } from './native.js';
import type { SnippetOutcome } from './types.js';

function f80(exp: number, mant: bigint): number[] {
  const b: number[] = [];
  for (let k = 0; k < 8; k++) b.push(Number((mant >> BigInt(8 * k)) & 0xffn));
  return [...b, exp & 0xff, exp >> 8];
}
function outcome(st0: number[], fsw: number, st1: number[] = st0): SnippetOutcome {
  const st = new Uint8Array(80);
  st.set(st0, 0);
  st.set(st1, 10);
  // TOP = 6: ST0 = R6, ST1 = R7, both valid
  return { regs: {} as SnippetOutcome['regs'], eip: 0, data: new Uint8Array(0), exception: null, fpu: { fcw: 0x37f, fsw: (fsw & ~0x3800) | (6 << 11), ftw: 0xc0, st } };
}
const caseOf = (name: string, approx?: number[]) => ({ items: [{ name, x87approx: approx }] }) as unknown as GenCase;
const M = 0xb17217f7d1cf79abn;
const st0Diff: Diff = { field: 'fpu.st0', native: '', tsxen: '' };
const st1Diff: Diff = { field: 'fpu.st1', native: '', tsxen: '' };
const fswDiff: Diff = { field: 'fpu.fsw (differing bits 0200)', native: '', tsxen: '' };
const keep = (c: GenCase, d: Diff[], n: SnippetOutcome, t: SnippetOutcome) => hardwareFpu(c, d, n as NativeOutcome, t).map((x) => x.field);

test('hardwareFpu: one ulp and C1 in a final transcendental result are allowed', () => {
  const c = caseOf('fsin', [0]);
  assert.deepEqual(keep(c, [st0Diff, fswDiff], outcome(f80(0x3ffe, M), 0x3220), outcome(f80(0x3ffe, M + 1n), 0x3020)), []);
  // across a binade: ffff..ff at e and 8000..00 at e + 1 are neighbours
  assert.deepEqual(keep(c, [st0Diff], outcome(f80(0x3ffe, 0xffffffffffffffffn), 0x20), outcome(f80(0x3fff, 1n << 63n), 0x20)), []);
});

test('hardwareFpu: nothing else is allowed', () => {
  const c = caseOf('fsin', [0]);
  assert.deepEqual(keep(c, [st0Diff], outcome(f80(0x3ffe, M), 0x20), outcome(f80(0x3ffe, M + 2n), 0x20)), ['fpu.st0'], 'two ulps');
  assert.deepEqual(keep(c, [st0Diff], outcome(f80(0x3ffe, M), 0x20), outcome(f80(0xbffe, M), 0x20)), ['fpu.st0'], 'sign');
  assert.deepEqual(keep(c, [st1Diff], outcome(f80(0x3ffe, M), 0x20), outcome(f80(0x3ffe, M), 0x20, f80(0x3ffe, M + 1n))), ['fpu.st1'], 'another register');
  assert.deepEqual(keep(c, [fswDiff], outcome(f80(0x3ffe, M), 0x200), outcome(f80(0x3ffe, M), 0)), [fswDiff.field], 'C1 without PE');
  assert.deepEqual(keep(c, [fswDiff], outcome(f80(0x3ffe, M), 0x260), outcome(f80(0x3ffe, M), 0x60)), [], 'C1 with PE (a sticky SF from before)');
  assert.deepEqual(keep(c, [fswDiff], outcome(f80(0x7fff, 3n << 62n), 0x261), outcome(f80(0x7fff, 3n << 62n), 0x61)), [fswDiff.field], 'C1 after a stack fault (indefinite)');
  assert.deepEqual(keep(c, [fswDiff], outcome(f80(0x3ffe, M), 0x620), outcome(f80(0x3ffe, M), 0x420)), [fswDiff.field], 'C1 with C2 (out of range)');
  assert.deepEqual(keep(c, [fswDiff], outcome(f80(0x3ffe, M), 0x120), outcome(f80(0x3ffe, M), 0x20)), [fswDiff.field], 'another condition code');
  assert.deepEqual(keep(caseOf('fdiv m32real'), [st0Diff, fswDiff], outcome(f80(0x3ffe, M), 0x220), outcome(f80(0x3ffe, M + 1n), 0x20)), ['fpu.st0', fswDiff.field], 'not a transcendental');
});
