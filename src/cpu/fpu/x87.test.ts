/**
 * The x87 instructions end to end on the CPU: decoding, memory operands, the state images in
 * memory (FSAVE, FSTENV, FXSAVE) in protected and real mode, #NM/#MF/#UD/#GP/#PF behaviour,
 * FERR#, and the FPU's saved state.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runUserSnippet, CODE_ADDR, DATA_ADDR, type SnippetRegs } from '../testing/user-snippet.js';
import { PhysicalMemory } from '../../memory/physical.js';
import { Cpu, type CpuBus } from '../cpu.js';
import { CR0_EM, CR0_MP, CR0_NE, CR0_TS, CS, ESP, Exit } from '../arch.js';
import { Fpu, type FpuState } from './fpu.js';

function regs(over: Partial<SnippetRegs> = {}): SnippetRegs {
  return { eax: 0, ecx: 0, edx: 0, ebx: DATA_ADDR, esp: DATA_ADDR + 0x1800, ebp: 0, esi: 0, edi: 0, eflags: 0x202, ...over };
}
function run(code: number[], data = new Uint8Array(0x2000), over: Partial<SnippetRegs> = {}) {
  return runUserSnippet({ code: Uint8Array.from(code), data, regs: regs(over) });
}
const u16 = (b: Uint8Array, o: number) => b[o] | (b[o + 1] << 8);
const u32 = (b: Uint8Array, o: number) => (b[o] | (b[o + 1] << 8) | (b[o + 2] << 16) | (b[o + 3] << 24)) >>> 0;
const f64 = (b: Uint8Array, o: number) => new DataView(b.buffer, b.byteOffset).getFloat64(o, true);

test('fld1; fadd st0, st0; fistp dword [ebx] stores 2', () => {
  const o = run([0xd9, 0xe8, 0xd8, 0xc0, 0xdb, 0x1b]);
  assert.equal(o.exception, null);
  assert.equal(u32(o.data, 0), 2);
  assert.equal(o.fpu?.fsw, 0, 'stack empty again, no exceptions');
  assert.equal(o.fpu?.ftw, 0);
});

test('double arithmetic through memory: (1.5 + 2.25) * 3 / 7 as the hardware rounds it', () => {
  const data = new Uint8Array(0x2000);
  const dv = new DataView(data.buffer);
  dv.setFloat64(0x10, 1.5, true);
  dv.setFloat64(0x18, 2.25, true);
  dv.setInt32(0x20, 3, true);
  dv.setInt16(0x24, 7, true);
  // fld qword [ebx+10h]; fadd qword [ebx+18h]; fimul dword [ebx+20h]; fidiv word [ebx+24h]; fstp qword [ebx]
  const o = run([0xdd, 0x43, 0x10, 0xdc, 0x43, 0x18, 0xda, 0x4b, 0x20, 0xde, 0x73, 0x24, 0xdd, 0x1b], data);
  assert.equal(o.exception, null);
  assert.equal(f64(o.data, 0), ((1.5 + 2.25) * 3) / 7);
});

test('fsqrt and fldpi through memory match the double results', () => {
  const o = run([0xd9, 0xeb, 0xdd, 0x1b, 0xd9, 0xe8, 0xd8, 0xc0, 0xd9, 0xfa, 0xdd, 0x5b, 0x08]);
  assert.equal(f64(o.data, 0), Math.PI);
  assert.equal(f64(o.data, 8), Math.SQRT2);
});

test('stack underflow and overflow set IE, SF and C1 and deliver the indefinite', () => {
  let o = run([0xdd, 0xd8]); // fstp st0 on an empty stack
  assert.equal(o.fpu?.fsw, 0x0841); // TOP = 1 after the pop, SF, IE, C1 = 0
  o = run([0xd9, 0xe8, 0xd9, 0xe8, 0xd9, 0xe8, 0xd9, 0xe8, 0xd9, 0xe8, 0xd9, 0xe8, 0xd9, 0xe8, 0xd9, 0xe8, 0xd9, 0xee]);
  assert.equal(o.fpu?.fsw, 0x3a41); // ninth push: TOP = 7, C1 = 1, SF, IE
  assert.equal(o.fpu?.ftw, 0xff);
  assert.deepEqual(Array.from(o.fpu!.st.slice(0, 10)), [0, 0, 0, 0, 0, 0, 0, 0xc0, 0xff, 0xff]);
});

test('an unmasked exception is reported as #MF by the next waiting instruction only', () => {
  const data = new Uint8Array(0x2000);
  data[0] = 0x7b; // FCW 0x037B: zero divide unmasked
  data[1] = 0x03;
  // fldcw [ebx]; fld1; fldz; fdivp st1, st0; fnstsw ax; fwait
  const code = [0xd9, 0x2b, 0xd9, 0xe8, 0xd9, 0xee, 0xde, 0xf9, 0xdf, 0xe0, 0x9b];
  const o = run(code, data);
  assert.deepEqual(o.exception, { vector: 16, errorCode: 0 });
  assert.equal(o.eip, CODE_ADDR + code.length - 1, 'at the fwait');
  assert.equal(o.regs.eax & 0xffff, 0xb084, 'FNSTSW did not wait: B, ES, ZE, TOP = 6');
  assert.equal(o.fpu?.ftw, 0xc0, 'the unmasked zero divide left both operands');
});

test('a store that page-faults changes neither memory nor the stack', () => {
  const data = new Uint8Array(0x2000).fill(0x55);
  // fld1; fstp qword [ebx] with the operand straddling the end of the mapped data
  const o = run([0xd9, 0xe8, 0xdd, 0x1b], data, { ebx: DATA_ADDR + 0x2000 - 4 });
  assert.deepEqual(o.exception, { vector: 14, errorCode: 6, cr2: DATA_ADDR + 0x2000 });
  assert.deepEqual(Array.from(o.data.slice(0x1ffc)), [0x55, 0x55, 0x55, 0x55]);
  assert.equal(o.fpu?.fsw, 0x3800, 'ST0 still there');
  assert.equal(o.fpu?.ftw, 0x80);
});

test('FNSAVE writes the 32-bit protected-mode image and reinitialises', () => {
  const data = new Uint8Array(0x2000);
  new DataView(data.buffer).setFloat32(0x40, -2.5, true);
  // fld dword [ebx+40h]; fldcw [ebx+44h] (a control instruction); fnsave [ebx+80h]
  data[0x44] = 0x7f;
  data[0x45] = 0x0f;
  const o = run([0xd9, 0x43, 0x40, 0xd9, 0x6b, 0x44, 0xdd, 0xb3, 0x80, 0, 0, 0], data);
  assert.equal(o.exception, null);
  const b = o.data.slice(0x80);
  assert.equal(u32(b, 0), 0xffff0f7f, 'FCW');
  assert.equal(u32(b, 4), 0xffff3800, 'FSW: TOP = 7');
  assert.equal(u32(b, 8), 0xffff3fff, 'FTW: R7 valid');
  assert.equal(u32(b, 12), CODE_ADDR, 'FIP: the FLD, not the FLDCW');
  assert.equal(u32(b, 16), 0x0143_0023, 'FOP (D9 /0, ModRM 43h) and FCS');
  assert.equal(u32(b, 20), DATA_ADDR + 0x40, 'FDP');
  assert.equal(u32(b, 24), 0xffff002b, 'FDS');
  assert.deepEqual(Array.from(b.slice(28, 38)), [0, 0, 0, 0, 0, 0, 0, 0xa0, 0x00, 0xc0], 'ST0 = -2.5');
  assert.equal(o.fpu?.fcw, 0x037f, 'FNINIT after the save');
  assert.equal(o.fpu?.ftw, 0);
});

test('FRSTOR reloads an FSAVE image; the 16-bit format is 94 bytes', () => {
  // fldpi; fld1; o16 fnsave [ebx]; o16 frstor [ebx]; fstp qword [ebx+100h]; fstp qword [ebx+108h]
  const o = run([0xd9, 0xeb, 0xd9, 0xe8, 0x66, 0xdd, 0x33, 0x66, 0xdd, 0x23, 0xdd, 0x9b, 0, 1, 0, 0, 0xdd, 0x9b, 8, 1, 0, 0]);
  assert.equal(o.exception, null);
  assert.equal(u16(o.data, 0), 0x037f);
  assert.equal(u16(o.data, 2), 0x3000, 'TOP = 6');
  assert.equal(u16(o.data, 4), 0x0fff, 'R6, R7 valid');
  assert.equal(u16(o.data, 8), 0x0023, 'FCS (no FOP in the 16-bit protected-mode format)');
  assert.deepEqual(Array.from(o.data.slice(14, 24)), [0, 0, 0, 0, 0, 0, 0, 0x80, 0xff, 0x3f], 'ST0 = 1 at offset 14');
  assert.equal(f64(o.data, 0x100), 1);
  assert.equal(f64(o.data, 0x108), Math.PI);
});

test('FXSAVE: legacy layout, abridged tags, MXCSR; #GP when misaligned; FXRSTOR checks MXCSR', () => {
  // fld1; fldz; fxsave [ebx]
  let o = run([0xd9, 0xe8, 0xd9, 0xee, 0x0f, 0xae, 0x03]);
  assert.equal(o.exception, null);
  const b = o.data;
  assert.equal(u16(b, 0), 0x037f);
  assert.equal(u16(b, 2), 0x3000);
  assert.equal(b[4], 0xc0, 'abridged tag: R6 and R7');
  assert.equal(u16(b, 6), 0x1ee, 'FOP of FLDZ');
  assert.equal(u32(b, 8), CODE_ADDR + 2);
  assert.equal(u32(b, 24), 0x1f80, 'MXCSR');
  assert.equal(u32(b, 28), 0xffbf, 'MXCSR_MASK');
  assert.deepEqual(Array.from(b.slice(32, 48)), new Array(16).fill(0), 'ST0 = +0 with zero padding');
  assert.deepEqual(Array.from(b.slice(48, 58)), [0, 0, 0, 0, 0, 0, 0, 0x80, 0xff, 0x3f], 'ST1 = 1');
  o = run([0x0f, 0xae, 0x43, 0x08]);
  assert.deepEqual(o.exception, { vector: 13, errorCode: 0 });
  // A saved image with MXCSR reserved bits set: fxsave [ebx]; mov dword [ebx+24], 0x10000; fxrstor [ebx]
  o = run([0x0f, 0xae, 0x03, 0xc7, 0x43, 0x18, 0, 0, 1, 0, 0x0f, 0xae, 0x0b]);
  assert.deepEqual(o.exception, { vector: 13, errorCode: 0 });
  // Round trip: fldpi; fxsave [ebx]; fninit; fxrstor [ebx]; fstp qword [ebx+200h]
  o = run([0xd9, 0xeb, 0x0f, 0xae, 0x03, 0xdb, 0xe3, 0x0f, 0xae, 0x0b, 0xdd, 0x9b, 0, 2, 0, 0]);
  assert.equal(f64(o.data, 0x200), Math.PI);
});

test('reserved and SSE3 encodings raise #UD', () => {
  for (const code of [[0xd9, 0xd1], [0xdb, 0x0b], [0xdd, 0x0b], [0xdf, 0x0b], [0xdd, 0xf0], [0xde, 0xd8], [0xd9, 0xef], [0xf0, 0xd8, 0xc1], [0x0f, 0xae, 0xc0], [0xdf, 0xe1]]) {
    const o = run(code);
    assert.deepEqual(o.exception, { vector: 6, errorCode: 0 }, code.map((x) => x.toString(16)).join(' '));
  }
});

test('the P6 aliases decode: FCOM2, FCOMP3, FXCH4, FCOMP5, FXCH7, FSTP1, FSTP8, FSTP9, FFREEP', () => {
  // fldz; fld1; fxch4 st1 (dd c9); fcomp3 st1 (dc d9) -> ST0 = 1 compared with 0 and popped
  let o = run([0xd9, 0xee, 0xd9, 0xe8, 0xdd, 0xc9, 0xdc, 0xd9]);
  assert.equal(o.fpu?.fsw, 0x3900, 'C0: 0 < 1, TOP = 7');
  // fld1; fldz; fstp8 st1 (df d1); ffreep st0 (df c0)
  o = run([0xd9, 0xe8, 0xd9, 0xee, 0xdf, 0xd1, 0xdf, 0xc0]);
  assert.equal(o.fpu?.fsw, 0);
  assert.equal(o.fpu?.ftw, 0);
});

// ---- real mode, CR0 control bits, FERR# --------------------------------------------------------------
const bus: CpuBus = { ioRead: () => 0xff, ioWrite: () => {}, acknowledgeInterrupt: () => -1 };

/** Runs 16-bit real-mode code at 0000:1000 (ending in HLT) on a fresh CPU. */
function real(code: number[], setup: (c: Cpu) => void = () => {}) {
  const mem = new PhysicalMemory(1 << 20);
  const cpu = new Cpu(mem, bus);
  cpu.reset();
  mem.load(0x1000, Uint8Array.from([...code, 0xf4]));
  cpu.loadRealSeg(CS, 0);
  cpu.eip = 0x1000;
  cpu.regs[ESP] = 0x8000;
  cpu.interceptExceptions = true;
  setup(cpu);
  const exit = cpu.run(1000);
  return { cpu, mem, exit, vector: exit === Exit.Exception ? cpu.excVector : -1 };
}

test('real mode: FSTENV stores the 16- and 32-bit real-mode formats with linear pointers', () => {
  // fld qword [2000h]; fnstenv [3000h]; o32 fnstenv [3100h]
  const { mem } = real([0xdd, 0x06, 0x00, 0x20, 0xd9, 0x36, 0x00, 0x30, 0x66, 0xd9, 0x36, 0x00, 0x31]);
  const b16 = Uint8Array.from({ length: 14 }, (_, k) => mem.read(0x3000 + k, 1));
  assert.deepEqual([u16(b16, 0), u16(b16, 2), u16(b16, 4)], [0x037f, 0x3800, 0x7fff], 'R7 holds a zero');
  assert.equal(u16(b16, 6), 0x1000, 'FIP[15:0]');
  assert.equal(u16(b16, 8), 0x0506, 'FIP[19:16] = 0, FOP = DD /0 ModRM 06h');
  assert.equal(u16(b16, 10), 0x2000, 'FDP[15:0]');
  assert.equal(u16(b16, 12), 0, 'FDP[19:16]');
  const b32 = Uint8Array.from({ length: 28 }, (_, k) => mem.read(0x3100 + k, 1));
  assert.equal(u32(b32, 0), 0xffff037f);
  assert.equal(u32(b32, 12) & 0xffff, 0x1000);
  assert.equal(u32(b32, 16), 0x0506);
  assert.equal(u32(b32, 20) & 0xffff, 0x2000);
});

test('#NM: CR0.EM or TS for ESC opcodes, TS with MP for WAIT; FXSAVE with EM is #UD', () => {
  assert.equal(real([0xd9, 0xe8], (c) => { c.cr0 |= CR0_TS; }).vector, 7);
  assert.equal(real([0xd9, 0xe8], (c) => { c.cr0 |= CR0_EM; }).vector, 7);
  assert.equal(real([0x9b], (c) => { c.cr0 |= CR0_TS; }).exit, Exit.Halt, 'WAIT ignores TS without MP');
  assert.equal(real([0x9b], (c) => { c.cr0 |= CR0_TS | CR0_MP; }).vector, 7);
  assert.equal(real([0x9b], (c) => { c.cr0 |= CR0_EM; }).exit, Exit.Halt, 'WAIT ignores EM');
  assert.equal(real([0x0f, 0xae, 0x06, 0x00, 0x20], (c) => { c.cr0 |= CR0_EM; }).vector, 6);
  assert.equal(real([0x0f, 0xae, 0x06, 0x00, 0x20], (c) => { c.cr0 |= CR0_TS; }).vector, 7);
});

test('CR0.NE = 0: a pending exception asserts FERR# instead of #MF, and FNCLEX drops it', () => {
  const levels: boolean[] = [];
  // fldcw [2000h] (ZE unmasked); fld1; fldz; fdivp; fwait; fnclex
  const code = [0xd9, 0x2e, 0x00, 0x20, 0xd9, 0xe8, 0xd9, 0xee, 0xde, 0xf9, 0x9b, 0xdb, 0xe2];
  const r = real(code, (c) => {
    c.mem.write(0x2000, 2, 0x037b);
    c.fpu.onFerr = (l) => levels.push(l);
  });
  assert.equal(r.exit, Exit.Halt);
  assert.deepEqual(levels, [true, false]);
  const withNe = real(code, (c) => {
    c.mem.write(0x2000, 2, 0x037b);
    c.cr0 |= CR0_NE;
  });
  assert.equal(withNe.vector, 16);
  assert.equal(withNe.cpu.eip, 0x100a, 'at the FWAIT');
});

test('saved state is plain JSON and restores exactly', () => {
  const r = real([0xd9, 0xeb, 0xd9, 0xe8, 0xde, 0xf9, 0xd9, 0xe8, 0xd9, 0xf7]);
  const f = r.cpu.fpu;
  const s = JSON.parse(JSON.stringify(f.save())) as FpuState;
  const g = new Fpu();
  g.restore(s);
  assert.deepEqual(g.snapshotForTest(), f.snapshotForTest());
  assert.deepEqual(g.save(), f.save());
  assert.throws(() => g.restore({ ...s, version: 2 as 1 }));
});

test('snapshotForTest: ST order, abridged tags, status with TOP', () => {
  const r = real([0xd9, 0xe8, 0xd9, 0xee]);
  const s = r.cpu.fpu.snapshotForTest();
  assert.equal(s.fcw, 0x037f);
  assert.equal(s.fsw, 0x3000);
  assert.equal(s.ftw, 0xc0);
  assert.deepEqual(Array.from(s.st.slice(0, 20)), [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x80, 0xff, 0x3f]);
});

test('an 80-bit store whose last two bytes are on a not-present page writes its low eight bytes first', () => {
  // fldpi; fstp tbyte [ebx] / fbstp [ebx] with [ebx] = end of the data region - 9 or - 8
  for (const [op, low] of [[[0xdb, 0x3b], [0x35, 0xc2, 0x68, 0x21, 0xa2, 0xda, 0x0f, 0xc9]], [[0xdf, 0x33], [3, 0, 0, 0, 0, 0, 0, 0]]] as const) {
    for (const at of [0x2000 - 9, 0x2000 - 8]) {
      const o = run([0xd9, 0xeb, ...op], new Uint8Array(0x2000), { ebx: DATA_ADDR + at });
      assert.deepEqual(o.exception, { vector: 14, errorCode: 6, cr2: DATA_ADDR + 0x2000 });
      assert.deepEqual([...o.data.subarray(at, at + 8)], [...low], 'the low part is stored');
      assert.equal(o.fpu?.ftw, 0x80, 'not popped');
    }
    // The low part itself straddling the page: nothing is written.
    const o = run([0xd9, 0xeb, ...op], new Uint8Array(0x2000), { ebx: DATA_ADDR + 0x2000 - 7 });
    assert.deepEqual(o.exception, { vector: 14, errorCode: 6, cr2: DATA_ADDR + 0x2000 });
    assert.deepEqual([...o.data.subarray(0x2000 - 7)], [0, 0, 0, 0, 0, 0, 0]);
  }
});

test('FSIN/FCOS/FSINCOS/FPTAN clear C2 on a stack fault (C2 = 1 left by an out-of-range FSIN before)', () => {
  const data = new Uint8Array(0x2000);
  new DataView(data.buffer).setFloat64(0, 2 ** 63, true);
  const fld = [0xdd, 0x03], fsin = [0xd9, 0xfe];
  for (const op of [[0xd9, 0xfe], [0xd9, 0xff], [0xd9, 0xfb], [0xd9, 0xf2]]) {
    // fld; fsin (C2 = 1); ffree st0; fincstp; op on the empty stack: underflow
    const u = run([...fld, ...fsin, 0xdd, 0xc0, 0xd9, 0xf7, ...op], data);
    assert.equal((u.fpu!.fsw & 0x4741), 0x41, `underflow: IE SF, C2 = C1 = 0 (${op})`);
  }
  for (const op of [[0xd9, 0xfb], [0xd9, 0xf2]]) {
    // eight loads fill the stack; fsin (C2 = 1); op: overflow
    const o = run([...fld, ...fld, ...fld, ...fld, ...fld, ...fld, ...fld, ...fld, ...fsin, ...op], data);
    assert.equal(o.fpu!.fsw & 0x0741, 0x0241, `overflow: IE SF, C1 = 1, C2 = 0 (${op})`);
  }
});
