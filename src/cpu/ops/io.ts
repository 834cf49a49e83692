/**
 * Port I/O: IN/OUT (E4-E7, EC-EF) with the protected-mode permission rules: allowed when
 * CPL <= IOPL outside v86 mode, otherwise only if the TSS I/O permission bitmap clears every
 * bit of the accessed ports. (INS/OUTS live in ops/string.ts and use the same check.)
 */
import type { Cpu } from '../cpu.js';
import { FLAG_IOPL, TR, VEC_GP } from '../arch.js';
import { def } from './table.js';
import { setR8 } from './regs.js';

export function checkIoPermission(c: Cpu, port: number, size: number): void {
  if (!c.protectedMode) return;
  if (!c.v86 && c.cpl <= (c.flags & FLAG_IOPL) >> 12) return;
  // 32-bit TSS only; the bitmap offset is at 0x66.
  const type = c.segAttr[TR] & 0x0f;
  const limit = c.segLimit[TR];
  if ((type !== 0x09 && type !== 0x0b) || limit < 0x67) c.fault(VEC_GP, 0);
  const base = c.segBase[TR];
  const mapOff = c.sysRd16((base + 0x66) | 0);
  const byteOff = mapOff + (port >> 3);
  if (byteOff + 1 > limit) c.fault(VEC_GP, 0);
  const bits = c.sysRd16((base + byteOff) | 0);
  const mask = ((1 << size) - 1) << (port & 7);
  if (bits & mask) c.fault(VEC_GP, 0);
}

function inPort(c: Cpu, port: number, size: 1 | 2 | 4): void {
  checkIoPermission(c, port, size);
  const v = c.bus.ioRead(port, size);
  if (size === 1) setR8(c, 0, v);
  else if (size === 2) c.regs[0] = (c.regs[0] & ~0xffff) | (v & 0xffff);
  else c.regs[0] = v;
}

function outPort(c: Cpu, port: number, size: 1 | 2 | 4): void {
  checkIoPermission(c, port, size);
  const v = size === 1 ? c.regs[0] & 0xff : size === 2 ? c.regs[0] & 0xffff : c.regs[0];
  c.bus.ioWrite(port, size, v);
}

def(0xe4, (d, i) => {
  i.imm = d.imm8();
  i.exec = (c, i) => inPort(c, i.imm, 1);
});
def(0xe5, (d, i) => {
  i.imm = d.imm8();
  i.exec = (c, i) => inPort(c, i.imm, i.o32 ? 4 : 2);
});
def(0xe6, (d, i) => {
  i.imm = d.imm8();
  i.exec = (c, i) => outPort(c, i.imm, 1);
});
def(0xe7, (d, i) => {
  i.imm = d.imm8();
  i.exec = (c, i) => outPort(c, i.imm, i.o32 ? 4 : 2);
});
def(0xec, (d, i) => {
  i.exec = (c) => inPort(c, c.regs[2] & 0xffff, 1);
});
def(0xed, (d, i) => {
  i.exec = (c, i) => inPort(c, c.regs[2] & 0xffff, i.o32 ? 4 : 2);
});
def(0xee, (d, i) => {
  i.exec = (c) => outPort(c, c.regs[2] & 0xffff, 1);
});
def(0xef, (d, i) => {
  i.exec = (c, i) => outPort(c, c.regs[2] & 0xffff, i.o32 ? 4 : 2);
});
