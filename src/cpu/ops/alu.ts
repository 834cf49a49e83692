/**
 * Integer arithmetic and logic: ADD OR ADC SBB AND SUB XOR CMP (00-3F, 80-83), TEST, INC/DEC,
 * NOT/NEG/MUL/IMUL/DIV/IDIV (F6/F7), IMUL (0F AF, 69, 6B).
 *
 * The eight classic ALU operations share one `alu` function keyed by the operation number from the
 * opcode (bits 5..3), which V8 compiles to a jump table; handlers are specialised by operand size
 * and by register vs memory operand so the common path has no further branches.
 */
import type { Cpu } from '../cpu.js';
import { ea, type Insn } from '../insn.js';
import { ARITH_FLAGS, FLAG_AF, FLAG_CF, FLAG_OF, VEC_DE } from '../arch.js';
import { getCF, lazyCF, LazyOp, setFlags, setLazy, setLazyKeepCF, szp } from '../flags.js';
import { checkLock, def, def0f } from './table.js';
import { getR8, setR8, sext } from './regs.js';
import { ALU32_EVGV_M32, ALU32_EVGV_R32, ALU32_EVI_M32, ALU32_EVI_R32, ALU32_GVEV_M32, ALU32_GVEV_R32 } from './alu32.js';

const ADD = 0, OR = 1, ADC = 2, SBB = 3, AND = 4, SUB = 5, XOR = 6, CMP = 7;
const ALL = FLAG_CF | FLAG_OF | FLAG_AF | 0xc4;

/** Computes `a op b` at `bits` width, sets flags, returns the (unmasked) result. */
export function alu(c: Cpu, kind: number, bits: number, a: number, b: number): number {
  let r: number;
  switch (kind) {
    case ADD:
      r = a + b;
      setLazy(c, LazyOp.Add, bits, a, b, r);
      return r;
    case OR:
      r = a | b;
      setLazy(c, LazyOp.Logic, bits, a, b, r);
      return r;
    case ADC:
      // Lazy too: flags.ts recovers the carry in from the operands and the result.
      r = (a + b + getCF(c)) | 0;
      setLazy(c, LazyOp.Adc, bits, a, b, r);
      return r;
    case SBB:
      r = (a - b - getCF(c)) | 0;
      setLazy(c, LazyOp.Sbb, bits, a, b, r);
      return r;
    case AND:
      r = a & b;
      setLazy(c, LazyOp.Logic, bits, a, b, r);
      return r;
    case SUB:
    case CMP:
      r = a - b;
      setLazy(c, LazyOp.Sub, bits, a, b, r);
      return r;
    default:
      r = a ^ b;
      setLazy(c, LazyOp.Logic, bits, a, b, r);
      return r;
  }
}

// ---- 00-3F: op Eb,Gb / Ev,Gv / Gb,Eb / Gv,Ev / AL,Ib / eAX,Iv --------------------------------
// The operation number is kept in imm2.

function EbGb_r(c: Cpu, i: Insn): void {
  const r = alu(c, i.imm2, 8, getR8(c, i.rm), getR8(c, i.reg));
  if (i.imm2 !== CMP) setR8(c, i.rm, r);
}
function EbGb_m(c: Cpu, i: Insn): void {
  if (i.imm2 === CMP) {
    alu(c, CMP, 8, c.read8(i.seg, ea(c, i)), getR8(c, i.reg));
    return;
  }
  const lin = c.linRmw(i.seg, ea(c, i), 1);
  c.wr8(lin, alu(c, i.imm2, 8, c.rd8(lin), getR8(c, i.reg)));
}
function EvGv_r32(c: Cpu, i: Insn): void {
  const r = alu(c, i.imm2, 32, c.regs[i.rm], c.regs[i.reg]);
  if (i.imm2 !== CMP) c.regs[i.rm] = r;
}
function EvGv_m32(c: Cpu, i: Insn): void {
  if (i.imm2 === CMP) {
    alu(c, CMP, 32, c.read32(i.seg, ea(c, i)), c.regs[i.reg]);
    return;
  }
  const lin = c.linRmw(i.seg, ea(c, i), 4);
  c.wr32(lin, alu(c, i.imm2, 32, c.rd32(lin), c.regs[i.reg]));
}
function EvGv_r16(c: Cpu, i: Insn): void {
  const r = alu(c, i.imm2, 16, c.regs[i.rm] & 0xffff, c.regs[i.reg] & 0xffff);
  if (i.imm2 !== CMP) c.regs[i.rm] = (c.regs[i.rm] & ~0xffff) | (r & 0xffff);
}
function EvGv_m16(c: Cpu, i: Insn): void {
  if (i.imm2 === CMP) {
    alu(c, CMP, 16, c.read16(i.seg, ea(c, i)), c.regs[i.reg] & 0xffff);
    return;
  }
  const lin = c.linRmw(i.seg, ea(c, i), 2);
  c.wr16(lin, alu(c, i.imm2, 16, c.rd16(lin), c.regs[i.reg] & 0xffff));
}
function GbEb_r(c: Cpu, i: Insn): void {
  const r = alu(c, i.imm2, 8, getR8(c, i.reg), getR8(c, i.rm));
  if (i.imm2 !== CMP) setR8(c, i.reg, r);
}
function GbEb_m(c: Cpu, i: Insn): void {
  const r = alu(c, i.imm2, 8, getR8(c, i.reg), c.read8(i.seg, ea(c, i)));
  if (i.imm2 !== CMP) setR8(c, i.reg, r);
}
function GvEv_r32(c: Cpu, i: Insn): void {
  const r = alu(c, i.imm2, 32, c.regs[i.reg], c.regs[i.rm]);
  if (i.imm2 !== CMP) c.regs[i.reg] = r;
}
function GvEv_m32(c: Cpu, i: Insn): void {
  const r = alu(c, i.imm2, 32, c.regs[i.reg], c.read32(i.seg, ea(c, i)));
  if (i.imm2 !== CMP) c.regs[i.reg] = r;
}
function GvEv_r16(c: Cpu, i: Insn): void {
  const r = alu(c, i.imm2, 16, c.regs[i.reg] & 0xffff, c.regs[i.rm] & 0xffff);
  if (i.imm2 !== CMP) c.regs[i.reg] = (c.regs[i.reg] & ~0xffff) | (r & 0xffff);
}
function GvEv_m16(c: Cpu, i: Insn): void {
  const r = alu(c, i.imm2, 16, c.regs[i.reg] & 0xffff, c.read16(i.seg, ea(c, i)));
  if (i.imm2 !== CMP) c.regs[i.reg] = (c.regs[i.reg] & ~0xffff) | (r & 0xffff);
}

// ---- Immediate forms: 04/05 (accumulator), 80/81/83 (group 1) -----------------------------------
function EbI_r(c: Cpu, i: Insn): void {
  const r = alu(c, i.imm2, 8, getR8(c, i.rm), i.imm);
  if (i.imm2 !== CMP) setR8(c, i.rm, r);
}
function EbI_m(c: Cpu, i: Insn): void {
  if (i.imm2 === CMP) {
    alu(c, CMP, 8, c.read8(i.seg, ea(c, i)), i.imm);
    return;
  }
  const lin = c.linRmw(i.seg, ea(c, i), 1);
  c.wr8(lin, alu(c, i.imm2, 8, c.rd8(lin), i.imm));
}
function EvI_r32(c: Cpu, i: Insn): void {
  const r = alu(c, i.imm2, 32, c.regs[i.rm], i.imm);
  if (i.imm2 !== CMP) c.regs[i.rm] = r;
}
function EvI_m32(c: Cpu, i: Insn): void {
  if (i.imm2 === CMP) {
    alu(c, CMP, 32, c.read32(i.seg, ea(c, i)), i.imm);
    return;
  }
  const lin = c.linRmw(i.seg, ea(c, i), 4);
  c.wr32(lin, alu(c, i.imm2, 32, c.rd32(lin), i.imm));
}
function EvI_r16(c: Cpu, i: Insn): void {
  const r = alu(c, i.imm2, 16, c.regs[i.rm] & 0xffff, i.imm);
  if (i.imm2 !== CMP) c.regs[i.rm] = (c.regs[i.rm] & ~0xffff) | (r & 0xffff);
}
function EvI_m16(c: Cpu, i: Insn): void {
  if (i.imm2 === CMP) {
    alu(c, CMP, 16, c.read16(i.seg, ea(c, i)), i.imm);
    return;
  }
  const lin = c.linRmw(i.seg, ea(c, i), 2);
  c.wr16(lin, alu(c, i.imm2, 16, c.rd16(lin), i.imm));
}

for (let kind = 0; kind < 8; kind++) {
  const base = kind << 3;
  const lockable = kind !== CMP;
  def(base + 0, (d, i) => {
    d.modrm(i);
    i.imm2 = kind;
    i.exec = i.mod === 3 ? EbGb_r : EbGb_m;
    checkLock(i, lockable);
  });
  def(base + 1, (d, i) => {
    d.modrm(i);
    i.imm2 = kind;
    i.exec = i.mod === 3 ? (i.o32 ? ALU32_EVGV_R32[kind] ?? EvGv_r32 : EvGv_r16) : i.o32 ? ALU32_EVGV_M32[kind] ?? EvGv_m32 : EvGv_m16;
    checkLock(i, lockable);
  });
  def(base + 2, (d, i) => {
    d.modrm(i);
    i.imm2 = kind;
    i.exec = i.mod === 3 ? GbEb_r : GbEb_m;
    checkLock(i, false);
  });
  def(base + 3, (d, i) => {
    d.modrm(i);
    i.imm2 = kind;
    i.exec = i.mod === 3 ? (i.o32 ? ALU32_GVEV_R32[kind] ?? GvEv_r32 : GvEv_r16) : i.o32 ? ALU32_GVEV_M32[kind] ?? GvEv_m32 : GvEv_m16;
    checkLock(i, false);
  });
  def(base + 4, (d, i) => {
    i.imm2 = kind;
    i.imm = d.imm8();
    i.rm = 0;
    i.mod = 3;
    i.exec = EbI_r;
    checkLock(i, false);
  });
  def(base + 5, (d, i) => {
    i.imm2 = kind;
    i.imm = d.o32 ? d.imm32() : d.imm16();
    i.rm = 0;
    i.mod = 3;
    i.exec = i.o32 ? ALU32_EVI_R32[kind] ?? EvI_r32 : EvI_r16;
    checkLock(i, false);
  });
}

function group1(sizeBits: number, immKind: 'b' | 'v' | 'bs') {
  return (d: import('../decoder.js').Decoder, i: Insn) => {
    d.modrm(i);
    i.imm2 = i.reg;
    if (immKind === 'b') i.imm = d.imm8();
    else if (immKind === 'v') i.imm = d.o32 ? d.imm32() : d.imm16();
    else i.imm = d.o32 ? d.imm8s() : d.imm8s() & 0xffff;
    if (sizeBits === 8) i.exec = i.mod === 3 ? EbI_r : EbI_m;
    else if (i.o32) i.exec = i.mod === 3 ? ALU32_EVI_R32[i.reg] ?? EvI_r32 : ALU32_EVI_M32[i.reg] ?? EvI_m32;
    else i.exec = i.mod === 3 ? EvI_r16 : EvI_m16;
    checkLock(i, i.reg !== CMP);
  };
}
def(0x80, group1(8, 'b'));
def(0x81, group1(16, 'v'));
def(0x82, group1(8, 'b')); // alias of 80 in 32-bit mode
def(0x83, group1(16, 'bs'));

// ---- TEST ---------------------------------------------------------------------------------------
function test8(c: Cpu, a: number, b: number): void {
  setLazy(c, LazyOp.Logic, 8, a, b, a & b);
}
def(0x84, (d, i) => {
  d.modrm(i);
  i.exec = i.mod === 3
    ? (c, i) => test8(c, getR8(c, i.rm), getR8(c, i.reg))
    : (c, i) => test8(c, c.read8(i.seg, ea(c, i)), getR8(c, i.reg));
  checkLock(i, false);
});
def(0x85, (d, i) => {
  d.modrm(i);
  if (i.o32) {
    i.exec = i.mod === 3
      ? (c, i) => setLazy(c, LazyOp.Logic, 32, 0, 0, c.regs[i.rm] & c.regs[i.reg])
      : (c, i) => setLazy(c, LazyOp.Logic, 32, 0, 0, c.read32(i.seg, ea(c, i)) & c.regs[i.reg]);
  } else {
    i.exec = i.mod === 3
      ? (c, i) => setLazy(c, LazyOp.Logic, 16, 0, 0, c.regs[i.rm] & c.regs[i.reg] & 0xffff)
      : (c, i) => setLazy(c, LazyOp.Logic, 16, 0, 0, c.read16(i.seg, ea(c, i)) & c.regs[i.reg] & 0xffff);
  }
  checkLock(i, false);
});
def(0xa8, (d, i) => {
  i.imm = d.imm8();
  i.exec = (c, i) => test8(c, c.regs[0] & 0xff, i.imm);
  checkLock(i, false);
});
def(0xa9, (d, i) => {
  i.imm = d.immV();
  i.exec = i.o32
    ? (c, i) => setLazy(c, LazyOp.Logic, 32, 0, 0, c.regs[0] & i.imm)
    : (c, i) => setLazy(c, LazyOp.Logic, 16, 0, 0, c.regs[0] & i.imm & 0xffff);
  checkLock(i, false);
});

// ---- INC/DEC ------------------------------------------------------------------------------------
/** INC/DEC r32, the loop counters of nearly every guest loop: inlined flag recording. */
function inc32(c: Cpu, i: Insn): void {
  if (c.lazy & FLAG_CF) c.flags = (c.flags & ~FLAG_CF) | lazyCF(c);
  const a = c.regs[i.reg];
  const r = (a + 1) | 0;
  c.regs[i.reg] = r;
  c.lop = LazyOp.Add;
  c.lbits = 32;
  c.lmask = -1;
  c.la = a;
  c.lb = 1;
  c.lr = r;
  c.lazy = ARITH_FLAGS & ~FLAG_CF;
}
function dec32(c: Cpu, i: Insn): void {
  if (c.lazy & FLAG_CF) c.flags = (c.flags & ~FLAG_CF) | lazyCF(c);
  const a = c.regs[i.reg];
  const r = (a - 1) | 0;
  c.regs[i.reg] = r;
  c.lop = LazyOp.Sub;
  c.lbits = 32;
  c.lmask = -1;
  c.la = a;
  c.lb = 1;
  c.lr = r;
  c.lazy = ARITH_FLAGS & ~FLAG_CF;
}
for (let r = 0; r < 8; r++) {
  def(0x40 + r, (d, i) => {
    i.reg = r;
    i.exec = i.o32
      ? inc32
      : (c, i) => {
          const a = c.regs[i.reg] & 0xffff;
          c.regs[i.reg] = (c.regs[i.reg] & ~0xffff) | ((a + 1) & 0xffff);
          setLazyKeepCF(c, LazyOp.Add, 16, a, a + 1);
        };
    checkLock(i, false);
  });
  def(0x48 + r, (d, i) => {
    i.reg = r;
    i.exec = i.o32
      ? dec32
      : (c, i) => {
          const a = c.regs[i.reg] & 0xffff;
          c.regs[i.reg] = (c.regs[i.reg] & ~0xffff) | ((a - 1) & 0xffff);
          setLazyKeepCF(c, LazyOp.Sub, 16, a, a - 1);
        };
    checkLock(i, false);
  });
}

/** INC (dir = 1) or DEC (dir = -1) of an r/m operand of any size. */
export function incDecRm(c: Cpu, i: Insn, bits: number, dir: number): void {
  const op = dir > 0 ? LazyOp.Add : LazyOp.Sub;
  if (i.mod === 3) {
    if (bits === 8) {
      const a = getR8(c, i.rm);
      setR8(c, i.rm, a + dir);
      setLazyKeepCF(c, op, 8, a, a + dir);
    } else if (bits === 16) {
      const a = c.regs[i.rm] & 0xffff;
      c.regs[i.rm] = (c.regs[i.rm] & ~0xffff) | ((a + dir) & 0xffff);
      setLazyKeepCF(c, op, 16, a, a + dir);
    } else {
      const a = c.regs[i.rm];
      c.regs[i.rm] = a + dir;
      setLazyKeepCF(c, op, 32, a, (a + dir) | 0);
    }
    return;
  }
  const lin = c.linRmw(i.seg, ea(c, i), bits >> 3);
  if (bits === 8) {
    const a = c.rd8(lin);
    c.wr8(lin, a + dir);
    setLazyKeepCF(c, op, 8, a, a + dir);
  } else if (bits === 16) {
    const a = c.rd16(lin);
    c.wr16(lin, a + dir);
    setLazyKeepCF(c, op, 16, a, a + dir);
  } else {
    const a = c.rd32(lin);
    c.wr32(lin, a + dir);
    setLazyKeepCF(c, op, 32, a, (a + dir) | 0);
  }
}

// ---- Group 3: TEST/NOT/NEG/MUL/IMUL/DIV/IDIV ----------------------------------------------------
/** Reads an r/m operand of `bits` width (zero-extended). */
export function readRm(c: Cpu, i: Insn, bits: number): number {
  if (i.mod === 3) {
    if (bits === 8) return getR8(c, i.rm);
    if (bits === 16) return c.regs[i.rm] & 0xffff;
    return c.regs[i.rm];
  }
  if (bits === 8) return c.read8(i.seg, ea(c, i));
  if (bits === 16) return c.read16(i.seg, ea(c, i));
  return c.read32(i.seg, ea(c, i));
}

/** Writes an r/m operand after a read-modify-write, with the write checks of the segment. */
export function writeRm(c: Cpu, i: Insn, bits: number, v: number): void {
  if (i.mod === 3) {
    if (bits === 8) setR8(c, i.rm, v);
    else if (bits === 16) c.regs[i.rm] = (c.regs[i.rm] & ~0xffff) | (v & 0xffff);
    else c.regs[i.rm] = v;
    return;
  }
  if (bits === 8) c.write8(i.seg, ea(c, i), v);
  else if (bits === 16) c.write16(i.seg, ea(c, i), v);
  else c.write32(i.seg, ea(c, i), v);
}

function group3(c: Cpu, i: Insn): void {
  const bits = i.imm2;
  switch (i.reg) {
    case 0:
    case 1: {
      const a = readRm(c, i, bits);
      setLazy(c, LazyOp.Logic, bits, 0, 0, a & i.imm);
      return;
    }
    case 2: {
      // NOT: no flags. Check writability before reading so a fault leaves nothing half-done.
      if (i.mod !== 3) c.linRmw(i.seg, ea(c, i), bits >> 3);
      writeRm(c, i, bits, ~readRm(c, i, bits));
      return;
    }
    case 3: {
      if (i.mod !== 3) c.linRmw(i.seg, ea(c, i), bits >> 3);
      const a = readRm(c, i, bits);
      const r = -a | 0;
      writeRm(c, i, bits, r);
      setLazy(c, LazyOp.Sub, bits, 0, a, r);
      return;
    }
    case 4: return mul(c, bits, readRm(c, i, bits) >>> 0);
    case 5: return imul1(c, bits, sext(readRm(c, i, bits), bits));
    case 6: return div(c, bits, readRm(c, i, bits) >>> 0);
    default: return idiv(c, bits, sext(readRm(c, i, bits), bits));
  }
}

function mulFlags(c: Cpu, bits: number, overflow: boolean, low: number): void {
  // CF=OF=overflow; SF/ZF/PF/AF are undefined: we set them from the low half as P6 does for SF/ZF/PF
  // (AF reads as 0). Recorded lazily: the multiply does not pay for materialising earlier flags.
  c.lop = LazyOp.Mul;
  c.lbits = bits;
  c.lmask = bits === 32 ? -1 : (1 << bits) - 1;
  c.la = overflow ? 1 : 0;
  c.lb = 0;
  c.lr = low | 0;
  c.lazy = ARITH_FLAGS;
}

function mul(c: Cpu, bits: number, b: number): void {
  const r = c.regs;
  if (bits === 8) {
    const p = (r[0] & 0xff) * b;
    r[0] = (r[0] & ~0xffff) | p;
    mulFlags(c, 8, p > 0xff, p);
  } else if (bits === 16) {
    const p = (r[0] & 0xffff) * b;
    r[0] = (r[0] & ~0xffff) | (p & 0xffff);
    r[2] = (r[2] & ~0xffff) | (p >>> 16);
    mulFlags(c, 16, p > 0xffff, p);
  } else {
    const a = r[0] >>> 0;
    const lo = Math.imul(a, b);
    const hi = mulHighU32(a, b);
    r[0] = lo;
    r[2] = hi;
    mulFlags(c, 32, hi !== 0, lo);
  }
}

/** High 32 bits of an unsigned 32x32 product, exact (doubles alone lose the low bits). */
export function mulHighU32(a: number, b: number): number {
  const al = a & 0xffff, ah = a >>> 16, bl = b & 0xffff, bh = b >>> 16;
  const lo = al * bl;
  const mid1 = ah * bl, mid2 = al * bh;
  const carry = ((lo >>> 16) + (mid1 & 0xffff) + (mid2 & 0xffff)) >>> 16;
  return (ah * bh + (mid1 >>> 16) + (mid2 >>> 16) + carry) | 0;
}

/** High 32 bits of a signed 32x32 product. */
export function mulHighS32(a: number, b: number): number {
  let hi = mulHighU32(a >>> 0, b >>> 0);
  if (a < 0) hi = (hi - b) | 0;
  if (b < 0) hi = (hi - a) | 0;
  return hi;
}

function imul1(c: Cpu, bits: number, b: number): void {
  const r = c.regs;
  if (bits === 8) {
    const p = sext(r[0], 8) * b;
    r[0] = (r[0] & ~0xffff) | (p & 0xffff);
    mulFlags(c, 8, p !== sext(p, 8), p);
  } else if (bits === 16) {
    const p = sext(r[0], 16) * b;
    r[0] = (r[0] & ~0xffff) | (p & 0xffff);
    r[2] = (r[2] & ~0xffff) | ((p >> 16) & 0xffff);
    mulFlags(c, 16, p !== sext(p, 16), p);
  } else {
    const a = r[0];
    const lo = Math.imul(a, b);
    const hi = mulHighS32(a, b);
    r[0] = lo;
    r[2] = hi;
    mulFlags(c, 32, hi !== lo >> 31, lo);
  }
}

/** Two- and three-operand IMUL: dest = a * b truncated, CF=OF when truncation lost information. */
function imulTrunc(c: Cpu, bits: number, a: number, b: number): number {
  if (bits === 16) {
    const p = sext(a, 16) * sext(b, 16);
    mulFlags(c, 16, p !== sext(p, 16), p);
    return p & 0xffff;
  }
  const lo = Math.imul(a, b);
  // The product fits in 32 bits exactly when the double product (exact below 2^53, and far
  // outside the int32 range above it) equals the truncated one.
  mulFlags(c, 32, (a | 0) * (b | 0) !== lo, lo);
  return lo;
}

function div(c: Cpu, bits: number, b: number): void {
  const r = c.regs;
  if (b === 0) c.fault(VEC_DE);
  if (bits === 8) {
    const a = r[0] & 0xffff;
    const q = Math.floor(a / b);
    if (q > 0xff) c.fault(VEC_DE);
    r[0] = (r[0] & ~0xffff) | ((a % b) << 8) | q;
  } else if (bits === 16) {
    const a = ((r[2] & 0xffff) * 0x10000 + (r[0] & 0xffff));
    const q = Math.floor(a / b);
    if (q > 0xffff) c.fault(VEC_DE);
    r[0] = (r[0] & ~0xffff) | q;
    r[2] = (r[2] & ~0xffff) | (a % b);
  } else {
    const hi = r[2] >>> 0, lo = r[0] >>> 0;
    if (hi >= b) c.fault(VEC_DE);
    const [q, rem] = divU64(hi, lo, b);
    r[0] = q;
    r[2] = rem;
  }
  // All flags undefined after DIV; P6 leaves them unchanged in practice.
}

/** Unsigned (hi:lo) / d with hi < d, by schoolbook long division in 16-bit digits. */
function divU64(hi: number, lo: number, d: number): [number, number] {
  if (hi === 0) return [Math.floor(lo / d) | 0, (lo % d) | 0];
  // Both hi*2^32 + lo < 2^64; split the dividend so each step stays below 2^53.
  let rem = hi;
  let q = 0;
  for (let k = 1; k >= 0; k--) {
    const digit = (lo >>> (16 * k)) & 0xffff;
    const cur = rem * 65536 + digit;
    const qd = Math.floor(cur / d);
    rem = cur - qd * d;
    q = q * 65536 + qd;
  }
  return [q | 0, rem | 0];
}

function idiv(c: Cpu, bits: number, b: number): void {
  const r = c.regs;
  if (b === 0) c.fault(VEC_DE);
  if (bits === 8) {
    const a = sext(r[0], 16);
    const q = Math.trunc(a / b);
    if (q > 127 || q < -128) c.fault(VEC_DE);
    const rem = a - q * b;
    r[0] = (r[0] & ~0xffff) | ((rem & 0xff) << 8) | (q & 0xff);
  } else if (bits === 16) {
    const a = ((r[2] << 16) | (r[0] & 0xffff));
    const q = Math.trunc(a / b);
    if (q > 32767 || q < -32768) c.fault(VEC_DE);
    const rem = a - q * b;
    r[0] = (r[0] & ~0xffff) | (q & 0xffff);
    r[2] = (r[2] & ~0xffff) | (rem & 0xffff);
  } else {
    const hi = r[2], lo = r[0];
    const neg = hi < 0;
    // |dividend| as unsigned 64-bit (hi:lo).
    let ahi = hi >>> 0, alo = lo >>> 0;
    if (neg) {
      alo = (~lo + 1) >>> 0;
      ahi = (~hi + (alo === 0 ? 1 : 0)) >>> 0;
    }
    const bneg = b < 0;
    const ab = Math.abs(b);
    if (ahi >= ab) c.fault(VEC_DE);
    const [uq, urem] = divU64(ahi, alo, ab);
    const qmag = uq >>> 0;
    const qneg = neg !== bneg;
    if (qneg ? qmag > 0x80000000 : qmag > 0x7fffffff) c.fault(VEC_DE);
    r[0] = qneg ? -qmag | 0 : qmag | 0;
    r[2] = neg ? -(urem >>> 0) | 0 : urem | 0;
  }
}

def(0xf6, (d, i) => {
  d.modrm(i);
  i.imm2 = 8;
  if (i.reg < 2) i.imm = d.imm8();
  i.exec = group3;
  checkLock(i, i.reg === 2 || i.reg === 3);
});
def(0xf7, (d, i) => {
  d.modrm(i);
  i.imm2 = i.o32 ? 32 : 16;
  if (i.reg < 2) i.imm = d.immV();
  i.exec = group3;
  checkLock(i, i.reg === 2 || i.reg === 3);
});

// ---- IMUL r, r/m (0F AF); IMUL r, r/m, imm (69, 6B) -------------------------------------------
function imulR32(c: Cpu, i: Insn): void {
  c.regs[i.reg] = imulTrunc(c, 32, c.regs[i.reg], c.regs[i.rm]);
}
function imulM32(c: Cpu, i: Insn): void {
  c.regs[i.reg] = imulTrunc(c, 32, c.regs[i.reg], c.read32(i.seg, ea(c, i)));
}
function imul16(c: Cpu, i: Insn): void {
  c.regs[i.reg] = (c.regs[i.reg] & ~0xffff) | imulTrunc(c, 16, c.regs[i.reg], readRm(c, i, 16));
}
def0f(0xaf, (d, i) => {
  d.modrm(i);
  i.exec = i.o32 ? (i.mod === 3 ? imulR32 : imulM32) : imul16;
  checkLock(i, false);
});
function imul3R32(c: Cpu, i: Insn): void {
  c.regs[i.reg] = imulTrunc(c, 32, c.regs[i.rm], i.imm);
}
function imul3M32(c: Cpu, i: Insn): void {
  c.regs[i.reg] = imulTrunc(c, 32, c.read32(i.seg, ea(c, i)), i.imm);
}
function imul3_16(c: Cpu, i: Insn): void {
  c.regs[i.reg] = (c.regs[i.reg] & ~0xffff) | imulTrunc(c, 16, readRm(c, i, 16), i.imm);
}
function imul3(immSigned8: boolean) {
  return (d: import('../decoder.js').Decoder, i: Insn) => {
    d.modrm(i);
    i.imm = immSigned8 ? d.imm8s() : d.immV();
    i.exec = i.o32 ? (i.mod === 3 ? imul3R32 : imul3M32) : imul3_16;
    checkLock(i, false);
  };
}
def(0x69, imul3(false));
def(0x6b, imul3(true));
