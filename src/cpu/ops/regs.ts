/** 8- and 16-bit views of the general registers (AL..BH are the low/high bytes of EAX..EBX). */
import type { Cpu } from '../cpu.js';

export function getR8(c: Cpu, r: number): number {
  return r < 4 ? c.regs[r] & 0xff : (c.regs[r - 4] >> 8) & 0xff;
}

export function setR8(c: Cpu, r: number, v: number): void {
  if (r < 4) c.regs[r] = (c.regs[r] & ~0xff) | (v & 0xff);
  else c.regs[r - 4] = (c.regs[r - 4] & ~0xff00) | ((v & 0xff) << 8);
}

export function getR16(c: Cpu, r: number): number {
  return c.regs[r] & 0xffff;
}

export function setR16(c: Cpu, r: number, v: number): void {
  c.regs[r] = (c.regs[r] & ~0xffff) | (v & 0xffff);
}

/** Sign-extends the low `bits` of v. */
export function sext(v: number, bits: number): number {
  return bits === 32 ? v | 0 : (v << (32 - bits)) >> (32 - bits);
}
