import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Flat32Machine } from './flat32.js';
import { selfTestProgram } from './selftest.js';

test('the built-in self-test program prints its verdict and exits 0', () => {
  let out = '';
  const m = new Flat32Machine({ ramBytes: 1 << 20, onOutput: (b) => (out += String.fromCharCode(b)) });
  const p = selfTestProgram();
  m.load(p.code, p.load);
  m.run(10_000_000);
  assert.equal(m.exitCode, 0);
  assert.match(out, /CPU ok/);
  assert.equal(m.cpu.icount, 100000 * 3 + 5 + 49 * 6 + 3, 'instruction count follows the program structure');
});
