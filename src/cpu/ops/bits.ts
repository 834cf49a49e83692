/**
 * Bit instructions: BT/BTS/BTR/BTC with a register bit offset (0F A3/AB/B3/BB, where a memory
 * operand's offset can reach bits outside the addressed word) or an immediate (0F BA group 8),
 * and BSF/BSR (0F BC/BD). BT* set CF from the selected bit and leave ZF alone; BSF/BSR set ZF and
 * leave the destination unchanged for a zero source, as Intel and AMD hardware do.
 */
import type { Cpu } from '../cpu.js';
import { ea, type Insn } from '../insn.js';
import type { Decoder } from '../decoder.js';
import { FLAG_CF, FLAG_ZF } from '../arch.js';
import { setFlags } from '../flags.js';
import { checkLock, def0f, udHandler } from './table.js';
import { readRm } from './alu.js';

/** op: 0 BT, 1 BTS, 2 BTR, 3 BTC. `bitOffset` is the register/immediate offset. */
function bitOp(c: Cpu, i: Insn, op: number, bits: number, bitOffset: number, fromReg: boolean): void {
  if (i.mod === 3) {
    const bit = bitOffset & (bits - 1);
    const v = readRm(c, i, bits);
    setFlags(c, FLAG_CF, (v >>> bit) & 1);
    if (op === 0) return;
    const m = 1 << bit;
    const r = op === 1 ? v | m : op === 2 ? v & ~m : v ^ m;
    if (bits === 16) c.regs[i.rm] = (c.regs[i.rm] & ~0xffff) | (r & 0xffff);
    else c.regs[i.rm] = r;
    return;
  }
  // Memory: a register offset is signed and may address other words; an immediate stays inside.
  let off = ea(c, i);
  let bit: number;
  if (fromReg) {
    const sOff = bits === 16 ? (bitOffset << 16) >> 16 : bitOffset | 0;
    const words = Math.floor(sOff / bits);
    off = i.a32 ? (off + words * (bits >> 3)) | 0 : (off + words * (bits >> 3)) & 0xffff;
    bit = sOff - words * bits;
  } else {
    bit = bitOffset & (bits - 1);
  }
  const size = bits >> 3;
  const lin = op === 0 ? c.linR(i.seg, off, size) : c.linRmw(i.seg, off, size);
  const v = bits === 16 ? c.rd16(lin) : c.rd32(lin);
  const cf = (v >>> bit) & 1;
  if (op !== 0) {
    const m = 1 << bit;
    const r = op === 1 ? v | m : op === 2 ? v & ~m : v ^ m;
    if (bits === 16) c.wr16(lin, r);
    else c.wr32(lin, r);
  }
  setFlags(c, FLAG_CF, cf);
}

function btReg(op: number) {
  return (d: Decoder, i: Insn) => {
    d.modrm(i);
    const bits = i.o32 ? 32 : 16;
    i.exec = (c, i) => bitOp(c, i, op, bits, c.regs[i.reg], true);
    checkLock(i, op !== 0);
  };
}
def0f(0xa3, btReg(0));
def0f(0xab, btReg(1));
def0f(0xb3, btReg(2));
def0f(0xbb, btReg(3));

def0f(0xba, (d, i) => {
  d.modrm(i);
  i.imm = d.imm8();
  if (i.reg < 4) {
    i.exec = udHandler;
    return;
  }
  const bits = i.o32 ? 32 : 16;
  const op = i.reg - 4;
  i.exec = (c, i) => bitOp(c, i, op, bits, i.imm, false);
  checkLock(i, op !== 0);
});

function bitScan(reverse: boolean) {
  return (d: Decoder, i: Insn) => {
    d.modrm(i);
    const bits = i.o32 ? 32 : 16;
    i.exec = (c, i) => {
      const v = readRm(c, i, bits) >>> 0;
      if (v === 0) {
        setFlags(c, FLAG_ZF, FLAG_ZF);
        return;
      }
      const index = reverse ? 31 - Math.clz32(v) : 31 - Math.clz32(v & -v);
      if (bits === 16) c.regs[i.reg] = (c.regs[i.reg] & ~0xffff) | index;
      else c.regs[i.reg] = index;
      setFlags(c, FLAG_ZF, 0);
    };
    checkLock(i, false);
  };
}
def0f(0xbc, bitScan(false));
def0f(0xbd, bitScan(true));
