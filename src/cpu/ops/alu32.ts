/**
 * Specialised 32-bit forms of the lazy-flag ALU operations (ADD OR AND SUB XOR CMP) for the
 * register/register, register/immediate and register-from-memory encodings. These are the most
 * executed instructions in any guest; one small monomorphic function per operation and form lets
 * V8 inline the flag recording instead of going through the generic `alu` switch.
 * The 8/16-bit forms use the generic handlers in alu.ts.
 */
import type { Cpu } from '../cpu.js';
import { ea, type Handler, type Insn } from '../insn.js';
import { ARITH_FLAGS, FLAG_CF } from '../arch.js';
import { lazyCF, LazyOp } from '../flags.js';

function add32(c: Cpu, a: number, b: number): number {
  const r = (a + b) | 0;
  c.lop = LazyOp.Add;
  c.lbits = 32;
  c.lmask = -1;
  c.la = a;
  c.lb = b;
  c.lr = r;
  c.lazy = ARITH_FLAGS;
  return r;
}
function add_EvGv_r32(c: Cpu, i: Insn): void {
  const r = c.regs;
  r[i.rm] = add32(c, r[i.rm], r[i.reg]);
}
function add_GvEv_r32(c: Cpu, i: Insn): void {
  const r = c.regs;
  r[i.reg] = add32(c, r[i.reg], r[i.rm]);
}
function add_GvEv_m32(c: Cpu, i: Insn): void {
  c.regs[i.reg] = add32(c, c.regs[i.reg], c.read32(i.seg, ea(c, i)));
}
function add_EvGv_m32(c: Cpu, i: Insn): void {
  const lin = c.linRmw(i.seg, ea(c, i), 4);
  c.wr32(lin, add32(c, c.rd32(lin), c.regs[i.reg]));
}
function add_EvI_r32(c: Cpu, i: Insn): void {
  c.regs[i.rm] = add32(c, c.regs[i.rm], i.imm);
}
function add_EvI_m32(c: Cpu, i: Insn): void {
  const lin = c.linRmw(i.seg, ea(c, i), 4);
  c.wr32(lin, add32(c, c.rd32(lin), i.imm));
}
function or32(c: Cpu, a: number, b: number): number {
  const r = a | b;
  c.lop = LazyOp.Logic;
  c.lbits = 32;
  c.lmask = -1;
  c.la = a;
  c.lb = b;
  c.lr = r;
  c.lazy = ARITH_FLAGS;
  return r;
}
function or_EvGv_r32(c: Cpu, i: Insn): void {
  const r = c.regs;
  r[i.rm] = or32(c, r[i.rm], r[i.reg]);
}
function or_GvEv_r32(c: Cpu, i: Insn): void {
  const r = c.regs;
  r[i.reg] = or32(c, r[i.reg], r[i.rm]);
}
function or_GvEv_m32(c: Cpu, i: Insn): void {
  c.regs[i.reg] = or32(c, c.regs[i.reg], c.read32(i.seg, ea(c, i)));
}
function or_EvGv_m32(c: Cpu, i: Insn): void {
  const lin = c.linRmw(i.seg, ea(c, i), 4);
  c.wr32(lin, or32(c, c.rd32(lin), c.regs[i.reg]));
}
function or_EvI_r32(c: Cpu, i: Insn): void {
  c.regs[i.rm] = or32(c, c.regs[i.rm], i.imm);
}
function or_EvI_m32(c: Cpu, i: Insn): void {
  const lin = c.linRmw(i.seg, ea(c, i), 4);
  c.wr32(lin, or32(c, c.rd32(lin), i.imm));
}
function and32(c: Cpu, a: number, b: number): number {
  const r = a & b;
  c.lop = LazyOp.Logic;
  c.lbits = 32;
  c.lmask = -1;
  c.la = a;
  c.lb = b;
  c.lr = r;
  c.lazy = ARITH_FLAGS;
  return r;
}
function and_EvGv_r32(c: Cpu, i: Insn): void {
  const r = c.regs;
  r[i.rm] = and32(c, r[i.rm], r[i.reg]);
}
function and_GvEv_r32(c: Cpu, i: Insn): void {
  const r = c.regs;
  r[i.reg] = and32(c, r[i.reg], r[i.rm]);
}
function and_GvEv_m32(c: Cpu, i: Insn): void {
  c.regs[i.reg] = and32(c, c.regs[i.reg], c.read32(i.seg, ea(c, i)));
}
function and_EvGv_m32(c: Cpu, i: Insn): void {
  const lin = c.linRmw(i.seg, ea(c, i), 4);
  c.wr32(lin, and32(c, c.rd32(lin), c.regs[i.reg]));
}
function and_EvI_r32(c: Cpu, i: Insn): void {
  c.regs[i.rm] = and32(c, c.regs[i.rm], i.imm);
}
function and_EvI_m32(c: Cpu, i: Insn): void {
  const lin = c.linRmw(i.seg, ea(c, i), 4);
  c.wr32(lin, and32(c, c.rd32(lin), i.imm));
}
function sub32(c: Cpu, a: number, b: number): number {
  const r = (a - b) | 0;
  c.lop = LazyOp.Sub;
  c.lbits = 32;
  c.lmask = -1;
  c.la = a;
  c.lb = b;
  c.lr = r;
  c.lazy = ARITH_FLAGS;
  return r;
}
function sub_EvGv_r32(c: Cpu, i: Insn): void {
  const r = c.regs;
  r[i.rm] = sub32(c, r[i.rm], r[i.reg]);
}
function sub_GvEv_r32(c: Cpu, i: Insn): void {
  const r = c.regs;
  r[i.reg] = sub32(c, r[i.reg], r[i.rm]);
}
function sub_GvEv_m32(c: Cpu, i: Insn): void {
  c.regs[i.reg] = sub32(c, c.regs[i.reg], c.read32(i.seg, ea(c, i)));
}
function sub_EvGv_m32(c: Cpu, i: Insn): void {
  const lin = c.linRmw(i.seg, ea(c, i), 4);
  c.wr32(lin, sub32(c, c.rd32(lin), c.regs[i.reg]));
}
function sub_EvI_r32(c: Cpu, i: Insn): void {
  c.regs[i.rm] = sub32(c, c.regs[i.rm], i.imm);
}
function sub_EvI_m32(c: Cpu, i: Insn): void {
  const lin = c.linRmw(i.seg, ea(c, i), 4);
  c.wr32(lin, sub32(c, c.rd32(lin), i.imm));
}
function cmp32(c: Cpu, a: number, b: number): number {
  const r = (a - b) | 0;
  c.lop = LazyOp.Sub;
  c.lbits = 32;
  c.lmask = -1;
  c.la = a;
  c.lb = b;
  c.lr = r;
  c.lazy = ARITH_FLAGS;
  return r;
}
function cmp_EvGv_r32(c: Cpu, i: Insn): void {
  cmp32(c, c.regs[i.rm], c.regs[i.reg]);
}
function cmp_GvEv_r32(c: Cpu, i: Insn): void {
  cmp32(c, c.regs[i.reg], c.regs[i.rm]);
}
function cmp_GvEv_m32(c: Cpu, i: Insn): void {
  cmp32(c, c.regs[i.reg], c.read32(i.seg, ea(c, i)));
}
function cmp_EvGv_m32(c: Cpu, i: Insn): void {
  cmp32(c, c.read32(i.seg, ea(c, i)), c.regs[i.reg]);
}
function cmp_EvI_r32(c: Cpu, i: Insn): void {
  cmp32(c, c.regs[i.rm], i.imm);
}
function cmp_EvI_m32(c: Cpu, i: Insn): void {
  cmp32(c, c.read32(i.seg, ea(c, i)), i.imm);
}
function xor32(c: Cpu, a: number, b: number): number {
  const r = a ^ b;
  c.lop = LazyOp.Logic;
  c.lbits = 32;
  c.lmask = -1;
  c.la = a;
  c.lb = b;
  c.lr = r;
  c.lazy = ARITH_FLAGS;
  return r;
}
function xor_EvGv_r32(c: Cpu, i: Insn): void {
  const r = c.regs;
  r[i.rm] = xor32(c, r[i.rm], r[i.reg]);
}
function xor_GvEv_r32(c: Cpu, i: Insn): void {
  const r = c.regs;
  r[i.reg] = xor32(c, r[i.reg], r[i.rm]);
}
function xor_GvEv_m32(c: Cpu, i: Insn): void {
  c.regs[i.reg] = xor32(c, c.regs[i.reg], c.read32(i.seg, ea(c, i)));
}
function xor_EvGv_m32(c: Cpu, i: Insn): void {
  const lin = c.linRmw(i.seg, ea(c, i), 4);
  c.wr32(lin, xor32(c, c.rd32(lin), c.regs[i.reg]));
}
function xor_EvI_r32(c: Cpu, i: Insn): void {
  c.regs[i.rm] = xor32(c, c.regs[i.rm], i.imm);
}
function xor_EvI_m32(c: Cpu, i: Insn): void {
  const lin = c.linRmw(i.seg, ea(c, i), 4);
  c.wr32(lin, xor32(c, c.rd32(lin), i.imm));
}
function carryIn(c: Cpu): number {
  return c.lazy & FLAG_CF ? lazyCF(c) : c.flags & FLAG_CF;
}
function adc32(c: Cpu, a: number, b: number): number {
  const r = (a + b + carryIn(c)) | 0;
  c.lop = LazyOp.Adc;
  c.lbits = 32;
  c.lmask = -1;
  c.la = a;
  c.lb = b;
  c.lr = r;
  c.lazy = ARITH_FLAGS;
  return r;
}
function sbb32(c: Cpu, a: number, b: number): number {
  const r = (a - b - carryIn(c)) | 0;
  c.lop = LazyOp.Sbb;
  c.lbits = 32;
  c.lmask = -1;
  c.la = a;
  c.lb = b;
  c.lr = r;
  c.lazy = ARITH_FLAGS;
  return r;
}
function adc_EvGv_r32(c: Cpu, i: Insn): void {
  const r = c.regs;
  r[i.rm] = adc32(c, r[i.rm], r[i.reg]);
}
function adc_GvEv_r32(c: Cpu, i: Insn): void {
  const r = c.regs;
  r[i.reg] = adc32(c, r[i.reg], r[i.rm]);
}
function adc_GvEv_m32(c: Cpu, i: Insn): void {
  const r = c.regs;
  r[i.reg] = adc32(c, r[i.reg], c.read32(i.seg, ea(c, i)));
}
function adc_EvGv_m32(c: Cpu, i: Insn): void {
  const r = c.regs;
  const lin = c.linRmw(i.seg, ea(c, i), 4);
  c.wr32(lin, adc32(c, c.rd32(lin), r[i.reg]));
}
function adc_EvI_r32(c: Cpu, i: Insn): void {
  const r = c.regs;
  r[i.rm] = adc32(c, r[i.rm], i.imm);
}
function adc_EvI_m32(c: Cpu, i: Insn): void {
  const r = c.regs;
  const lin = c.linRmw(i.seg, ea(c, i), 4);
  c.wr32(lin, adc32(c, c.rd32(lin), i.imm));
}
function sbb_EvGv_r32(c: Cpu, i: Insn): void {
  const r = c.regs;
  r[i.rm] = sbb32(c, r[i.rm], r[i.reg]);
}
function sbb_GvEv_r32(c: Cpu, i: Insn): void {
  const r = c.regs;
  r[i.reg] = sbb32(c, r[i.reg], r[i.rm]);
}
function sbb_GvEv_m32(c: Cpu, i: Insn): void {
  const r = c.regs;
  r[i.reg] = sbb32(c, r[i.reg], c.read32(i.seg, ea(c, i)));
}
function sbb_EvGv_m32(c: Cpu, i: Insn): void {
  const r = c.regs;
  const lin = c.linRmw(i.seg, ea(c, i), 4);
  c.wr32(lin, sbb32(c, c.rd32(lin), r[i.reg]));
}
function sbb_EvI_r32(c: Cpu, i: Insn): void {
  const r = c.regs;
  r[i.rm] = sbb32(c, r[i.rm], i.imm);
}
function sbb_EvI_m32(c: Cpu, i: Insn): void {
  const r = c.regs;
  const lin = c.linRmw(i.seg, ea(c, i), 4);
  c.wr32(lin, sbb32(c, c.rd32(lin), i.imm));
}
/** Indexed by the ALU operation number (opcode bits 5..3); null where the generic path applies. */
export const ALU32_EVGV_R32: (Handler | null)[] = [add_EvGv_r32, or_EvGv_r32, adc_EvGv_r32, sbb_EvGv_r32, and_EvGv_r32, sub_EvGv_r32, xor_EvGv_r32, cmp_EvGv_r32];
export const ALU32_GVEV_R32: (Handler | null)[] = [add_GvEv_r32, or_GvEv_r32, adc_GvEv_r32, sbb_GvEv_r32, and_GvEv_r32, sub_GvEv_r32, xor_GvEv_r32, cmp_GvEv_r32];
export const ALU32_GVEV_M32: (Handler | null)[] = [add_GvEv_m32, or_GvEv_m32, adc_GvEv_m32, sbb_GvEv_m32, and_GvEv_m32, sub_GvEv_m32, xor_GvEv_m32, cmp_GvEv_m32];
export const ALU32_EVGV_M32: (Handler | null)[] = [add_EvGv_m32, or_EvGv_m32, adc_EvGv_m32, sbb_EvGv_m32, and_EvGv_m32, sub_EvGv_m32, xor_EvGv_m32, cmp_EvGv_m32];
export const ALU32_EVI_R32: (Handler | null)[] = [add_EvI_r32, or_EvI_r32, adc_EvI_r32, sbb_EvI_r32, and_EvI_r32, sub_EvI_r32, xor_EvI_r32, cmp_EvI_r32];
export const ALU32_EVI_M32: (Handler | null)[] = [add_EvI_m32, or_EvI_m32, adc_EvI_m32, sbb_EvI_m32, and_EvI_m32, sub_EvI_m32, xor_EvI_m32, cmp_EvI_m32];
