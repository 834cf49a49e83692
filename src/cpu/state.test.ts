import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Flat32Machine } from '../machine/flat32.js';
import { selfTestProgram } from '../machine/selftest.js';
import { restoreCpu, saveCpu } from './state.js';

test('a CPU saved mid-program and restored elsewhere finishes identically', () => {
  const p = selfTestProgram();
  let outA = '';
  const a = new Flat32Machine({ ramBytes: 1 << 20, onOutput: (b) => (outA += String.fromCharCode(b)) });
  a.load(p.code, p.load);
  a.cpu.run(123457); // stop somewhere inside the summing loop
  const state = JSON.parse(JSON.stringify(saveCpu(a.cpu)));
  const ram = a.mem.u8.slice();

  let outB = '';
  const b = new Flat32Machine({ ramBytes: 1 << 20, onOutput: (x) => (outB += String.fromCharCode(x)) });
  b.mem.u8.set(ram);
  restoreCpu(b.cpu, state);
  assert.deepEqual(saveCpu(b.cpu), state, 'restore then save is the identity');

  a.run(10_000_000);
  b.run(10_000_000);
  assert.equal(b.exitCode, 0);
  assert.equal(outB, outA.slice(outA.length - outB.length));
  assert.deepEqual(Array.from(b.cpu.regs), Array.from(a.cpu.regs));
  assert.equal(b.cpu.icount, a.cpu.icount);
});

test('restoring an unknown state version is refused with a clear error', () => {
  const m = new Flat32Machine({ ramBytes: 1 << 20 });
  const s = saveCpu(m.cpu) as unknown as { version: number };
  s.version = 99;
  assert.throws(() => restoreCpu(m.cpu, s as never), /version 99/);
});

test('a REPNE SCAS resumed part-way keeps its pre-instruction EFLAGS across save/restore', () => {
  const m = new Flat32Machine({ ramBytes: 1 << 20 });
  m.load(Uint8Array.from([0xf4]), 0x8000);
  m.cpu.repResume = true;
  m.cpu.repEip = 0x8000;
  m.cpu.repFlags = 0x8d7;
  const s = JSON.parse(JSON.stringify(saveCpu(m.cpu)));
  const n = new Flat32Machine({ ramBytes: 1 << 20 });
  restoreCpu(n.cpu, s);
  assert.deepEqual([n.cpu.repResume, n.cpu.repEip, n.cpu.repFlags], [true, 0x8000, 0x8d7]);
  m.cpu.repResume = false;
  restoreCpu(n.cpu, JSON.parse(JSON.stringify(saveCpu(m.cpu))));
  assert.equal(n.cpu.repResume, false);
});
