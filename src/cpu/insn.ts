/**
 * A decoded instruction. The decoder fills one of these per instruction once; the handler chosen at
 * decode time (`exec`) then runs it every time the block executes, with every operand already
 * extracted. Fields are plain numbers so V8 keeps one hidden class for all instructions.
 */
import type { Cpu } from './cpu.js';

/** Index of a register slot that is always zero (an absent base or index register). */
export const ZERO_REG = 16;

export type Handler = (c: Cpu, i: Insn) => void;

const noop: Handler = () => {};

export class Insn {
  exec: Handler = noop;
  /** EIP of this instruction and of the next one. */
  eip = 0;
  next = 0;
  len = 0;
  /** Primary opcode; 0x0F-prefixed opcodes are 0x100 | byte. */
  op = 0;
  o32 = false;
  a32 = false;
  mod = 0;
  reg = 0;
  rm = 0;
  /** Segment of the memory operand (default or override). */
  seg = 3;
  /** Segment override prefix, or -1. */
  segOverride = -1;
  /**
   * Memory operand: offset = (regs[eaBase] + (regs[eaIndex] << eaScale) + eaDisp) & eaMask, where
   * an absent base or index names ZERO_REG (always 0) and eaMask is 0xFFFF for 16-bit addressing.
   * A plain formula instead of a per-form closure keeps every handler's EA computation inline.
   */
  eaBase = ZERO_REG;
  eaIndex = ZERO_REG;
  eaScale = 0;
  eaDisp = 0;
  eaMask = -1;
  imm = 0;
  imm2 = 0;
  /** 0 = none, 1 = REP/REPE (F3), 2 = REPNE (F2). */
  rep = 0;
  lock = false;
  /** Absolute branch target for relative jumps and calls (already wrapped to operand size). */
  target = 0;
}

/** A memory operand's offset (before segmentation) from the current registers. */
export function ea(c: Cpu, i: Insn): number {
  const r = c.regs;
  return (r[i.eaBase] + (r[i.eaIndex] << i.eaScale) + i.eaDisp) & i.eaMask;
}
