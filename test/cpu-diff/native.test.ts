/**
 * Self-checks of the native half of the differential test: the host runner gives the documented
 * outcomes on hand-written snippets (flags, #DE, #PF with CR2 at the region's edge, #UD, #GP,
 * traps, x87 state, #MF), keeps no state between cases, and runs every generated form without a
 * runaway. Skipped, with the reason, where 32-bit gcc or an x86 Linux host is unavailable.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { nativeRequirement, runNative, type NativeOutcome } from './native.js';
import { ALL_FORMS, generate } from './generator.js';
import { CODE_ADDR, DATA_ADDR, DATA_SIZE, type SnippetCase, type SnippetRegs } from './types.js';

const native = nativeRequirement();
const skip = native.skip;

function regs(over: Partial<SnippetRegs> = {}): SnippetRegs {
  return { eax: 0, ecx: 0, edx: 0, ebx: 0, esp: DATA_ADDR + 0x1800, ebp: 0, esi: 0, edi: 0, eflags: 0x202, ...over };
}
function snip(code: number[], over: Partial<SnippetRegs> = {}, data?: Uint8Array): SnippetCase {
  return { code: Uint8Array.from(code), data: data ?? new Uint8Array(DATA_SIZE), regs: regs(over) };
}
function run1(c: SnippetCase, timeoutMs?: number): NativeOutcome {
  return runNative([c], { timeoutMs })[0];
}
const u32 = (v: number) => v >>> 0;

test('native: add sets CF ZF PF AF and completes at the terminator', { skip }, () => {
  native.require();
  const o = run1(snip([0x01, 0xd8], { eax: -1, ebx: 1 }));
  assert.equal(o.exception, null);
  assert.equal(o.regs.eax, 0);
  assert.equal(o.regs.eflags & 0x8d5, 0x55);
  assert.equal(o.eip, CODE_ADDR + 3);
});

test('native: divide by zero is #DE at the faulting instruction', { skip }, () => {
  native.require();
  const o = run1(snip([0x90, 0xf7, 0xf3]));
  assert.deepEqual(o.exception, { vector: 0, errorCode: 0 });
  assert.equal(o.eip, CODE_ADDR + 1);
});

test('native: accesses past the data region are #PF with CR2 and the error code', { skip }, () => {
  native.require();
  // mov [ebx], eax just past the end: write, not present, user
  assert.deepEqual(run1(snip([0x89, 0x03], { ebx: DATA_ADDR + DATA_SIZE })).exception, { vector: 14, errorCode: 6, cr2: DATA_ADDR + DATA_SIZE });
  // mov eax, [ebx] straddling the end: CR2 is the first byte of the missing page
  const o = run1(snip([0x8b, 0x03], { ebx: DATA_ADDR + DATA_SIZE - 2 }));
  assert.deepEqual(o.exception, { vector: 14, errorCode: 4, cr2: DATA_ADDR + DATA_SIZE });
  assert.equal(o.eip, CODE_ADDR);
  // push [ebx-4] below the start
  assert.deepEqual(run1(snip([0xff, 0x73, 0xfc], { ebx: DATA_ADDR })).exception, { vector: 14, errorCode: 4, cr2: DATA_ADDR - 4 });
  // a write to the (read-only) code region
  assert.deepEqual(run1(snip([0x89, 0x03], { ebx: CODE_ADDR })).exception, { vector: 14, errorCode: 7, cr2: CODE_ADDR });
});

test('native: REP MOVSB faulting part-way leaves ECX/ESI/EDI at the faulting iteration', { skip }, () => {
  native.require();
  const data = new Uint8Array(DATA_SIZE);
  for (let k = 0; k < 16; k++) data[k] = k + 1;
  const o = run1(snip([0xf3, 0xa4], { ecx: 8, esi: DATA_ADDR, edi: DATA_ADDR + DATA_SIZE - 4 }, data));
  assert.deepEqual(o.exception, { vector: 14, errorCode: 6, cr2: DATA_ADDR + DATA_SIZE });
  assert.equal(o.regs.ecx, 4);
  assert.equal(u32(o.regs.edi), DATA_ADDR + DATA_SIZE);
  assert.deepEqual([...o.data.subarray(DATA_SIZE - 4)], [1, 2, 3, 4]);
});

test('native: #UD, #GP, #BR and traps', { skip }, () => {
  native.require();
  const out = runNative([
    snip([0x0f, 0x0b]), // ud2
    snip([0xf4]), // hlt at CPL 3
    snip([0xcd, 0x40]), // int 0x40: DPL 0 gate
    snip([0x90, 0xcc, 0x90]), // int3 in the middle
    snip([0xce], { eflags: 0xa02 }), // into with OF
    snip([0xce]), // into without OF
    snip([0x62, 0x03], { eax: 5, ebx: DATA_ADDR }), // bound eax, [ebx] with bounds 0..0
    snip([0xe4, 0x60]), // in al, 0x60
    snip([0xf0, 0x01, 0xc0]), // lock add eax, eax
  ]);
  const ex = out.map((o) => o.exception && [o.exception.vector, o.exception.errorCode, u32(o.eip) - CODE_ADDR]);
  assert.deepEqual(ex, [[6, 0, 0], [13, 0, 0], [13, 0x40 * 8 + 2, 0], [3, 0, 2], [4, 0, 1], null, [5, 0, 0], [13, 0, 0], [6, 0, 0]]);
});

test('native: stack operations land in the data region; POPF cannot change IF or IOPL', { skip }, () => {
  native.require();
  const o = run1(snip([0x68, 0x78, 0x56, 0x34, 0x12, 0x59, 0x68, 0xd5, 0x38, 0x00, 0x00, 0x9d])); // push imm; pop ecx; push 0x38d5; popf
  assert.equal(o.regs.ecx, 0x12345678);
  assert.deepEqual([...o.data.subarray(0x17fc, 0x1800)], [0xd5, 0x38, 0, 0]);
  assert.equal(o.regs.eflags, 0x08d7 | 0x200); // OF SF ZF AF PF CF from the image; IF kept, IOPL still 0
});

test('native: x87 state comes back exactly (FLD1, FLDPI) and unmasked exceptions raise #MF', { skip }, () => {
  native.require();
  const o = run1(snip([0xd9, 0xe8, 0xd9, 0xeb]));
  assert.ok(o.fpu);
  assert.equal(o.fpu.fcw, 0x37f);
  assert.equal(o.fpu.fsw, 0x3000);
  assert.equal(o.fpu.ftw, 0xc0);
  assert.deepEqual([...o.fpu.st.subarray(0, 10)], [0x35, 0xc2, 0x68, 0x21, 0xa2, 0xda, 0x0f, 0xc9, 0x00, 0x40]);
  assert.deepEqual([...o.fpu.st.subarray(10, 20)], [0, 0, 0, 0, 0, 0, 0, 0x80, 0xff, 0x3f]);
  // fldz; fldz; fdivp (0/0: masked invalid); fldcw [ebx] (all unmasked); fwait -> #MF at the fwait
  const m = run1(snip([0xd9, 0xee, 0xd9, 0xee, 0xde, 0xf9, 0xd9, 0x2b, 0x9b], { ebx: DATA_ADDR }));
  assert.deepEqual(m.exception, { vector: 16, errorCode: 0 });
  assert.equal(m.eip, CODE_ADDR + 8);
  assert.equal(m.fpu!.fsw & 0x80ff, 0x8081);
  // The next case starts from the reset state again.
  const z = run1(snip([0x90]));
  assert.deepEqual([z.fpu!.fcw, z.fpu!.fsw, z.fpu!.ftw], [0x37f, 0, 0]);
});

test('native: a runaway snippet times out', { skip }, () => {
  native.require();
  assert.equal(run1(snip([0xeb, 0xfe]), 100).status, 'timeout');
});

test('native: every form runs without a runaway, and outcomes do not depend on the batch', { skip }, () => {
  native.require();
  const cases = generate(424242, ALL_FORMS.length * 2);
  const a = runNative(cases.map((c) => c.snippet));
  const timeouts = a.flatMap((o, k) => (o.status === 'timeout' ? [cases[k].primary] : []));
  assert.deepEqual(timeouts, []);
  // Reversed order: no state may leak from one case to the next (FPU, SSE, memory, code tail).
  const b = runNative(cases.map((c) => c.snippet).reverse()).reverse();
  const differ = a.flatMap((o, k) => {
    const p = b[k];
    const same = JSON.stringify([o.regs, o.eip, o.exception, o.fpu && [o.fpu.fcw, o.fpu.fsw, o.fpu.ftw, [...o.fpu.st]]]) ===
      JSON.stringify([p.regs, p.eip, p.exception, p.fpu && [p.fpu.fcw, p.fpu.fsw, p.fpu.ftw, [...p.fpu.st]]]) &&
      o.data.every((v, j) => v === p.data[j]);
    return same ? [] : [cases[k].primary];
  });
  assert.deepEqual(differ, []);
  // Most forms should mostly run to completion; forms meant to fault are the exception.
  const done = new Map<string, number>();
  a.forEach((o, k) => { if (o.exception === null) done.set(cases[k].primary, (done.get(cases[k].primary) ?? 0) + 1); });
  const neverDone = ALL_FORMS.filter((f) => !['priv', 'ud', 'int'].includes(f.group) && !f.name.includes('#GP') && !done.get(f.name)).map((f) => f.name);
  assert.ok(neverDone.length < 20, `forms that never completed: ${neverDone.join(', ')}`);
});

test('native: generation is deterministic', () => {
  const a = generate(99, 300), b = generate(99, 300);
  assert.deepEqual(a.map((c) => [...c.snippet.code]), b.map((c) => [...c.snippet.code]));
  assert.deepEqual(a.map((c) => c.snippet.regs), b.map((c) => c.snippet.regs));
  assert.ok(a.every((c, k) => c.snippet.data.every((v, j) => v === b[k].snippet.data[j])));
});
