import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runUserSnippet, DATA_ADDR, CODE_ADDR, type SnippetRegs } from './user-snippet.js';

function regs(over: Partial<SnippetRegs> = {}): SnippetRegs {
  return { eax: 0, ecx: 0, edx: 0, ebx: 0, esp: DATA_ADDR + 0x1800, ebp: 0, esi: 0, edi: 0, eflags: 0x202, ...over };
}

test('add sets the carry and zero flags like the hardware', () => {
  // add eax, ebx
  const o = runUserSnippet({ code: new Uint8Array([0x01, 0xd8]), data: new Uint8Array(0x2000), regs: regs({ eax: -1, ebx: 1 }) });
  assert.equal(o.exception, null);
  assert.equal(o.regs.eax, 0);
  assert.equal(o.regs.eflags & 0x8d5, 0x55); // CF ZF PF AF set, SF OF clear
  assert.equal(o.eip, CODE_ADDR + 3);
});

test('a counted loop runs to completion', () => {
  // mov ecx, 1000; xor eax, eax; l: add eax, ecx; dec ecx; jnz l
  const code = [0xb9, 0xe8, 0x03, 0, 0, 0x31, 0xc0, 0x01, 0xc8, 0x49, 0x75, 0xfb];
  const o = runUserSnippet({ code: new Uint8Array(code), data: new Uint8Array(0x2000), regs: regs() });
  assert.equal(o.exception, null);
  assert.equal(o.regs.eax, 500500);
  assert.equal(o.regs.ecx, 0);
});

test('divide by zero raises #DE at the faulting instruction', () => {
  const o = runUserSnippet({ code: new Uint8Array([0x90, 0xf7, 0xf3]), data: new Uint8Array(0x2000), regs: regs() });
  assert.deepEqual(o.exception, { vector: 0, errorCode: 0 });
  assert.equal(o.eip, CODE_ADDR + 1);
});

test('a write past the data region raises #PF with CR2 and a user-write error code', () => {
  // mov [ebx], eax with ebx just past the data region
  const o = runUserSnippet({ code: new Uint8Array([0x89, 0x03]), data: new Uint8Array(0x2000), regs: regs({ ebx: DATA_ADDR + 0x2000 }) });
  assert.deepEqual(o.exception, { vector: 14, errorCode: 6, cr2: DATA_ADDR + 0x2000 });
});

test('push and pop go through the stack in the data region', () => {
  // push 0x12345678; pop ecx
  const o = runUserSnippet({ code: new Uint8Array([0x68, 0x78, 0x56, 0x34, 0x12, 0x59]), data: new Uint8Array(0x2000), regs: regs() });
  assert.equal(o.regs.ecx, 0x12345678);
  assert.equal(o.data[0x17fc], 0x78);
});

test('hlt at CPL 3 raises #GP(0)', () => {
  const o = runUserSnippet({ code: new Uint8Array([0xf4]), data: new Uint8Array(0x2000), regs: regs() });
  assert.deepEqual(o.exception, { vector: 13, errorCode: 0 });
});

test('a fault inside a hot (compiled) block rewinds to the faulting instruction', () => {
  // l: mov [ebx], eax; add ebx, 4; inc eax; jmp l   -- runs until ebx leaves the data region
  const code = [0x89, 0x03, 0x83, 0xc3, 0x04, 0x40, 0xeb, 0xf8];
  const o = runUserSnippet({ code: new Uint8Array(code), data: new Uint8Array(0x2000), regs: regs({ ebx: DATA_ADDR }) }, 1_000_000);
  assert.deepEqual(o.exception, { vector: 14, errorCode: 6, cr2: DATA_ADDR + 0x2000 });
  assert.equal(o.eip, CODE_ADDR, 'EIP points at the faulting store');
  assert.equal(o.regs.eax, 0x800, 'every earlier iteration completed');
  assert.equal(o.regs.ebx, DATA_ADDR + 0x2000);
  assert.equal(o.data[0x1ffc], 0xff);
});

test('compiled and interpreted execution agree on a hot loop', async () => {
  const { Flat32Machine } = await import('../../machine/flat32.js');
  const { integerLoop } = await import('../../../bench/programs.js');
  const results = [true, false].map((compile) => {
    const m = new Flat32Machine({ ramBytes: 1 << 20 });
    m.cpu.compileBlocks = compile;
    const p = integerLoop(5000);
    m.load(Uint8Array.from(p.code), 0x10000);
    m.run(1_000_000);
    return { regs: Array.from(m.cpu.regs), flags: m.cpu.getFlags(), icount: m.cpu.icount, exit: m.exitCode };
  });
  assert.deepEqual(results[0], results[1]);
  assert.notEqual(results[0].exit, null, 'the program reached its exit');
});
