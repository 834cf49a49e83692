/**
 * Shifts and rotates: group 2 (C0/C1 by imm8, D0/D1 by 1, D2/D3 by CL) — ROL ROR RCL RCR SHL SHR
 * SAL SAR — and SHLD/SHRD (0F A4/A5/AC/AD). Flag rules per the SDM: a masked count of 0 changes
 * nothing; rotates touch only CF and OF; OF is defined for a count of 1 (for other counts we
 * produce what the count-1 formula gives, which the SDM leaves undefined); AF is undefined after
 * shifts and is cleared here.
 */
import type { Cpu } from '../cpu.js';
import { ea, type Insn } from '../insn.js';
import type { Decoder } from '../decoder.js';
import { FLAG_AF, FLAG_CF, FLAG_OF, FLAG_PF, FLAG_SF, FLAG_ZF } from '../arch.js';
import { getCF, LazyOp, setFlags, setLazy, szp } from '../flags.js';
import { checkLock, def, def0f } from './table.js';
import { readRm } from './alu.js';
import { setR8 } from './regs.js';

const SHIFT_FLAGS = FLAG_CF | FLAG_OF | FLAG_AF | FLAG_ZF | FLAG_SF | FLAG_PF;
const ROT_FLAGS = FLAG_CF | FLAG_OF;

/** Writes the destination of a shift (register or memory, after a write check). */
function store(c: Cpu, i: Insn, bits: number, lin: number, v: number): void {
  if (i.mod === 3) {
    if (bits === 8) setR8(c, i.rm, v);
    else if (bits === 16) c.regs[i.rm] = (c.regs[i.rm] & ~0xffff) | (v & 0xffff);
    else c.regs[i.rm] = v;
  } else if (bits === 8) c.wr8(lin, v);
  else if (bits === 16) c.wr16(lin, v);
  else c.wr32(lin, v);
}

/** Performs group-2 operation `op` on `v` (zero-extended, `bits` wide) by `count` (already masked). */
export function shiftOp(c: Cpu, op: number, bits: number, v: number, count: number): number {
  const mask = bits === 32 ? -1 : (1 << bits) - 1;
  const msb = bits - 1;
  let r: number, cf: number, of: number;
  switch (op) {
    case 0: { // ROL
      const n = count & msb;
      r = bits === 32 ? (v << n) | (v >>> ((32 - n) & 31)) : ((v << n) | (v >>> (bits - n))) & mask;
      if (n === 0) r = v;
      cf = r & 1;
      of = ((r >>> msb) & 1) ^ cf;
      setFlags(c, ROT_FLAGS, cf | (of << 11));
      return r;
    }
    case 1: { // ROR
      const n = count & msb;
      r = bits === 32 ? (v >>> n) | (v << ((32 - n) & 31)) : ((v >>> n) | (v << (bits - n))) & mask;
      if (n === 0) r = v;
      cf = (r >>> msb) & 1;
      of = cf ^ ((r >>> (msb - 1)) & 1);
      setFlags(c, ROT_FLAGS, cf | (of << 11));
      return r;
    }
    case 2: { // RCL: rotate through CF, a (bits+1)-bit rotation
      const n = bits === 32 ? count : count % (bits + 1);
      const oldCf = getCF(c);
      r = v;
      cf = oldCf;
      for (let k = 0; k < n; k++) {
        const out = (r >>> msb) & 1;
        r = ((r << 1) | cf) & mask;
        cf = out;
      }
      of = ((r >>> msb) & 1) ^ cf;
      setFlags(c, ROT_FLAGS, cf | (of << 11));
      return r;
    }
    case 3: { // RCR
      const n = bits === 32 ? count : count % (bits + 1);
      const oldCf = getCF(c);
      of = ((v >>> msb) & 1) ^ oldCf;
      r = v;
      cf = oldCf;
      for (let k = 0; k < n; k++) {
        const out = r & 1;
        r = ((r >>> 1) | (cf << msb)) & mask;
        cf = out;
      }
      // OF (count 1) is MSB(dest) XOR CF as they were before the rotate; for larger counts use
      // the same rule on the last step, as hardware does.
      if (n !== 1) of = ((r >>> msb) & 1) ^ ((r >>> (msb - 1)) & 1);
      setFlags(c, ROT_FLAGS, cf | (of << 11));
      return r;
    }
    // SHL/SHR/SAR record their flags lazily (flags.ts computes CF/OF from operand and count).
    case 4:
    case 6: // SHL / SAL
      r = bits === 32 ? v << count : (v << count) & mask;
      setLazy(c, LazyOp.Shl, bits, v, count, r);
      return r;
    case 5: // SHR
      r = v >>> count;
      setLazy(c, LazyOp.Shr, bits, v, count, r);
      return r;
    default: { // SAR
      const s = bits === 32 ? v | 0 : (v << (32 - bits)) >> (32 - bits);
      r = (s >> Math.min(count, 31)) & mask;
      setLazy(c, LazyOp.Sar, bits, s, count, r);
      return r;
    }
  }
}

function group2(c: Cpu, i: Insn): void {
  const bits = i.imm2;
  const count = (i.imm < 0 ? c.regs[1] : i.imm) & 0x1f;
  let lin = 0;
  let v: number;
  if (i.mod === 3) v = readRm(c, i, bits);
  else {
    lin = c.linRmw(i.seg, ea(c, i), bits >> 3);
    v = bits === 8 ? c.rd8(lin) : bits === 16 ? c.rd16(lin) : c.rd32(lin);
  }
  if (count === 0) return; // no change, not even to flags (the write check above still applies)
  store(c, i, bits, lin, shiftOp(c, i.reg, bits, v, count));
}

/** The hot case: SHL/SHR/SAR of a 32-bit register by a constant. */
function shiftReg32Imm(c: Cpu, i: Insn): void {
  const count = i.imm & 0x1f;
  if (count === 0) return;
  const v = c.regs[i.rm];
  let r: number;
  let op: LazyOp;
  switch (i.reg) {
    case 5: r = v >>> count; op = LazyOp.Shr; break;
    case 7: r = v >> count; op = LazyOp.Sar; break;
    default: r = v << count; op = LazyOp.Shl;
  }
  c.regs[i.rm] = r;
  c.lop = op;
  c.lbits = 32;
  c.lmask = -1;
  c.la = v;
  c.lb = count;
  c.lr = r;
  c.lazy = SHIFT_FLAGS;
}

/** Operand forms: `immKind` 'ib' (imm8), '1', or 'cl' (count from CL, stored as imm = -1). */
function g2(byteOp: boolean, immKind: 'ib' | '1' | 'cl') {
  return (d: Decoder, i: Insn) => {
    d.modrm(i);
    i.imm2 = byteOp ? 8 : i.o32 ? 32 : 16;
    i.imm = immKind === 'ib' ? d.imm8() : immKind === '1' ? 1 : -1;
    const fast = !byteOp && i.o32 && i.mod === 3 && immKind !== 'cl' && (i.reg === 4 || i.reg === 5 || i.reg === 6 || i.reg === 7);
    i.exec = fast ? shiftReg32Imm : group2;
    checkLock(i, false);
  };
}
def(0xc0, g2(true, 'ib'));
def(0xc1, g2(false, 'ib'));
def(0xd0, g2(true, '1'));
def(0xd1, g2(false, '1'));
def(0xd2, g2(true, 'cl'));
def(0xd3, g2(false, 'cl'));

// ---- SHLD / SHRD --------------------------------------------------------------------------------------
function doubleShift(left: boolean) {
  return (c: Cpu, i: Insn): void => {
    const bits = i.o32 ? 32 : 16;
    const count = (i.imm < 0 ? c.regs[1] : i.imm) & 0x1f;
    let lin = 0;
    let dst: number;
    if (i.mod === 3) dst = readRm(c, i, bits);
    else {
      lin = c.linRmw(i.seg, ea(c, i), bits >> 3);
      dst = bits === 16 ? c.rd16(lin) : c.rd32(lin);
    }
    if (count === 0) return;
    const src = bits === 16 ? c.regs[i.reg] & 0xffff : c.regs[i.reg];
    let r: number, cf: number;
    if (bits === 32) {
      if (left) {
        r = (dst << count) | (src >>> (32 - count));
        cf = (dst >>> (32 - count)) & 1;
      } else {
        r = (dst >>> count) | (src << (32 - count));
        cf = (dst >>> (count - 1)) & 1;
      }
    } else {
      // 16-bit: shift within the 48-bit pattern dest:src:dest (counts above 16 are undefined by
      // the SDM; this is what P6-family hardware produces). Doubles hold 48 bits exactly.
      if (left) {
        const p = dst * 4294967296 + src * 65536 + dst;
        r = Math.floor(p / 2 ** (32 - count)) & 0xffff;
        cf = Math.floor(p / 2 ** (48 - count)) & 1;
      } else {
        const p = dst + src * 65536 + dst * 4294967296;
        r = Math.floor(p / 2 ** count) & 0xffff;
        cf = Math.floor(p / 2 ** (count - 1)) & 1;
      }
    }
    const of = ((r ^ dst) >>> (bits - 1)) & 1;
    setFlags(c, SHIFT_FLAGS, cf | (of << 11) | szp(bits, r));
    store(c, i, bits, lin, r);
  };
}
const shld = doubleShift(true), shrd = doubleShift(false);
function dsDecode(exec: (c: Cpu, i: Insn) => void, byCl: boolean) {
  return (d: Decoder, i: Insn) => {
    d.modrm(i);
    i.imm = byCl ? -1 : d.imm8();
    i.exec = exec;
    checkLock(i, false);
  };
}
def0f(0xa4, dsDecode(shld, false));
def0f(0xa5, dsDecode(shld, true));
def0f(0xac, dsDecode(shrd, false));
def0f(0xad, dsDecode(shrd, true));
