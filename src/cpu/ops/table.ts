/**
 * The opcode tables: one decoder function per opcode byte (one-byte map and 0x0F map). Each entry
 * reads the instruction's operands and chooses its handler. Modules under ops/ fill the tables at
 * load time (ops/index.ts imports them all); an empty slot decodes to #UD, logged once per opcode.
 */
import type { Decoder } from '../decoder.js';
import type { Insn, Handler } from '../insn.js';
import type { Cpu } from '../cpu.js';
import { VEC_UD } from '../arch.js';
import { logOnce } from '../../base/log.js';

export type OpDecoder = (d: Decoder, i: Insn) => void;

export const udHandler: Handler = (c: Cpu, i: Insn) => {
  const name = i.op >= 0x100 ? `0f ${(i.op & 0xff).toString(16).padStart(2, '0')}` : i.op.toString(16).padStart(2, '0');
  logOnce('info', 'cpu', `ud:${i.op}:${i.reg}`, `#UD: opcode ${name} /${i.reg} at ${i.eip.toString(16)} is not implemented or invalid`);
  c.fault(VEC_UD);
};

/** Decodes to #UD; reads ModRM when the opcode has one so the length is still sensible. */
export const undefinedOp: OpDecoder = (d, i) => {
  i.exec = udHandler;
  d.end();
};

export const ONE_BYTE: OpDecoder[] = new Array<OpDecoder>(256).fill(undefinedOp);
export const TWO_BYTE: OpDecoder[] = new Array<OpDecoder>(256).fill(undefinedOp);

export function def(op: number, fn: OpDecoder): void {
  ONE_BYTE[op] = fn;
}
export function def0f(op: number, fn: OpDecoder): void {
  TWO_BYTE[op] = fn;
}

/** LOCK is valid only on read-modify-write instructions with a memory destination. */
export function checkLock(i: Insn, lockable: boolean): void {
  if (i.lock && (!lockable || i.mod === 3)) i.exec = udHandler;
}
