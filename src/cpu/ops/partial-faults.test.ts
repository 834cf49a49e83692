/**
 * What an instruction leaves behind when it faults part-way, and which access faults first, as
 * measured on the host processor by test/cpu-diff (which found each of these): REPE/REPNE
 * CMPS/SCAS restore EFLAGS, ENTER stores its frame before probing the final ESP, CMPS reads
 * ES:EDI first, BOUND checks the lower bound before reading the upper one, ARPL writes only when
 * it changes the RPL, and an operand wrapping past 4 GiB in a flat segment is not a limit fault.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runUserSnippet, DATA_ADDR, CODE_ADDR, DATA_SIZE, type SnippetRegs } from '../testing/user-snippet.js';

const END = DATA_ADDR + DATA_SIZE;
function run(code: number[], over: Partial<SnippetRegs> = {}, data = new Uint8Array(DATA_SIZE)) {
  const regs: SnippetRegs = { eax: 0, ecx: 0, edx: 0, ebx: 0, esp: DATA_ADDR + 0x1800, ebp: 0, esi: 0, edi: 0, eflags: 0x202, ...over };
  return runUserSnippet({ code: Uint8Array.from(code), data, regs });
}

test('REPNE SCASB / REPE CMPSB faulting part-way restore EFLAGS, keep ECX/EDI progress', () => {
  // EFLAGS before: CF ZF SF set; the completed iterations would leave other flags.
  const scas = run([0xf2, 0xae], { eax: 0x55, ecx: 5, edi: END - 2, eflags: 0x2c3 });
  assert.deepEqual(scas.exception, { vector: 14, errorCode: 4, cr2: END });
  assert.equal(scas.regs.ecx, 3);
  assert.equal(scas.regs.edi >>> 0, END);
  assert.equal(scas.regs.eflags & 0x8d5, 0x0c1);
  const data = new Uint8Array(DATA_SIZE);
  const cmps = run([0xf3, 0xa6], { ecx: 9, esi: DATA_ADDR, edi: END - 3, eflags: 0x202 }, data);
  assert.deepEqual(cmps.exception, { vector: 14, errorCode: 4, cr2: END });
  assert.equal(cmps.regs.ecx, 6);
  assert.equal(cmps.regs.eflags & 0x8d5, 0, 'not the ZF/PF of the equal bytes compared');
});

test('REPNE SCASB longer than one execution chunk still restores the flags from before it', () => {
  // 0x1ff0 bytes of zeros then the end of the region: more iterations than REP_CHUNK (4096). The
  // MOV before it puts it in a block that the resumed execution does not start with.
  const o = run([0xb8, 0x55, 0, 0, 0, 0xf2, 0xae], { ecx: 0x10000, edi: DATA_ADDR + 0x10, eflags: 0x2c3 });
  assert.deepEqual(o.exception, { vector: 14, errorCode: 4, cr2: END });
  assert.equal(o.regs.ecx, 0x10000 - (DATA_SIZE - 0x10));
  assert.equal(o.regs.eflags & 0x8d5, 0x0c1);
});

test('ENTER stores (E)BP, the frame pointers and the frame temp before its final ESP probe faults', () => {
  // enter 0x7000, 2 (o32) with ESP/EBP in the data region: the final ESP is far below it.
  const data = new Uint8Array(DATA_SIZE);
  new DataView(data.buffer).setUint32(0x1000 - 4, 0x11223344, true); // [ebp-4]: the frame pointer copied
  const o = run([0xc8, 0x00, 0x70, 0x02], { esp: DATA_ADDR + 0x1800, ebp: DATA_ADDR + 0x1000 }, data);
  const frame = DATA_ADDR + 0x17fc;
  assert.deepEqual(o.exception, { vector: 14, errorCode: 6, cr2: (frame - 8 - 0x7000) >>> 0 });
  assert.equal(o.regs.esp >>> 0, DATA_ADDR + 0x1800, 'ESP rolled back');
  assert.equal(o.regs.ebp >>> 0, DATA_ADDR + 0x1000, 'EBP rolled back');
  const dv = new DataView(o.data.buffer);
  assert.equal(dv.getUint32(0x17fc, true), DATA_ADDR + 0x1000, 'pushed EBP');
  assert.equal(dv.getUint32(0x17f8, true), 0x11223344, 'copied frame pointer');
  assert.equal(dv.getUint32(0x17f4, true), frame, 'frame temp');
});

test('CMPS with both operands on not-present pages faults on ES:EDI', () => {
  for (const code of [[0xa6], [0x66, 0xa7], [0xf2, 0xa7]]) {
    const o = run(code, { ecx: 1, esi: DATA_ADDR - 2, edi: END });
    assert.deepEqual(o.exception, { vector: 14, errorCode: 4, cr2: END });
  }
});

test('BOUND raises #BR for an index below the lower bound without reading the upper one', () => {
  // bound ax, [ebx] with the upper word straddling the end of the region; bounds 0..?
  assert.deepEqual(run([0x66, 0x62, 0x03], { eax: 0x8000, ebx: END - 3 }).exception, { vector: 5, errorCode: 0 });
  assert.deepEqual(run([0x66, 0x62, 0x03], { eax: 5, ebx: END - 3 }).exception, { vector: 14, errorCode: 4, cr2: END });
});

test('ARPL that leaves the RPL alone does not write (no fault on a read-only page)', () => {
  // arpl [ebx], ax on the code page, whose first byte (0x63) has RPL 3 >= AX's RPL 0
  const o = run([0x63, 0x03], { ebx: CODE_ADDR });
  assert.equal(o.exception, null);
  assert.equal(o.regs.eflags & 0x40, 0, 'ZF = 0: not adjusted');
});

test('a push wrapping past 4 GiB in the flat stack segment is a page fault, not #SS', () => {
  const o = run([0x50], { esp: 1 });
  assert.deepEqual(o.exception, { vector: 14, errorCode: 6, cr2: 0xfffffffd });
  assert.deepEqual(run([0x8b, 0x00], { eax: -2 }).exception, { vector: 14, errorCode: 4, cr2: 0xfffffffe });
});
