/**
 * The x87 instruction set: ESC opcodes D8-DF, WAIT/FWAIT (9B) and FXSAVE/FXRSTOR (0F AE /0, /1).
 * This file decodes (SDM vol. 2, appendix A.4, including the aliases a P6 decodes: FSTP1 D9 D8+i,
 * FCOM2 DC D0+i, FCOMP3 DC D8+i, FXCH4 DD C8+i, FCOMP5 DE D0+i, FXCH7 DF C8+i, FSTP8/9 DF D0+i /
 * D8+i, FFREEP DF C0+i; the SSE3 FISTTP forms are #UD), moves memory operands, and applies the
 * architectural framing of every x87 instruction:
 *
 * - #NM when CR0.EM or CR0.TS is set (WAIT: when TS and MP are both set);
 * - waiting instructions (all but FNINIT, FNCLEX, FNSTCW, FNSTSW, FNSTENV, FNSAVE and the 8087/287
 *   no-ops FNENI/FNDISI/FNSETPM) first report a pending unmasked exception: #MF with CR0.NE = 1,
 *   else FERR# (fpu.onFerr) and the instruction proceeds;
 * - non-control instructions record FIP/FCS, the opcode (FOP) and, with a memory operand, FDP/FDS;
 * - memory is read completely before any state changes, and multi-part stores check the whole
 *   destination (limits and pages) before the first byte is written, so a faulting instruction
 *   leaves the FPU and memory as they were.
 *
 * The semantics live in fpu/exec.ts (registers), fpu/convert.ts (memory formats) and fpu/env.ts
 * (state images).
 */
import type { Cpu } from '../cpu.js';
import { ea, type Handler, type Insn } from '../insn.js';
import {
  CR0_EM, CR0_MP, CR0_NE, CR0_TS, CS, EAX, FLAG_AF, FLAG_CF, FLAG_OF, FLAG_PF, FLAG_SF, FLAG_ZF, VEC_GP, VEC_MF, VEC_NM,
  VEC_UD,
} from '../arch.js';
import { setFlags, testCC } from '../flags.js';
import { def, def0f, udHandler } from './table.js';
import { Fpu } from '../fpu/fpu.js';
import { F80 } from '../fpu/float80.js';
import {
  checkLoaded, decodeDouble, decodeSingle, loadBcd, loadInt32, loadInt64, readExt, storeBcd, storeDouble, storeInt,
  storeSingle, stored, writeExt, DEC_OK,
} from '../fpu/convert.js';
import {
  arithMem, arithReg, f2xm1Op, fbinaryPop, fcmov, fcom, fcomi, ffree, fincdec, fldConst, fldSt,
  fprem, frndintOp, fscaleOp, fsign, fsqrt, fstSt, ftrig, ftst, fxam, fxch, fxtractOp, INDEFINITE, load,
} from '../fpu/exec.js';
import {
  envSize, fxrstorImage, fxrstorValid, fxsaveImage, loadEnv, loadState, storeEnv, storeState,
} from '../fpu/env.js';

const buf = new Uint8Array(512);
const val = new F80();

// ---- memory ------------------------------------------------------------------------------------------
/** Offset of byte k of an operand at `off` (16-bit addressing wraps at 64 KiB). */
function addr(i: Insn, off: number, k: number): number {
  return i.a32 ? (off + k) | 0 : (off + k) & 0xffff;
}

/** Reads n (even) bytes into `buf`. */
function readBytes(c: Cpu, i: Insn, off: number, n: number): Uint8Array {
  let k = 0;
  for (; k + 4 <= n; k += 4) {
    const v = c.read32(i.seg, addr(i, off, k));
    buf[k] = v;
    buf[k + 1] = v >>> 8;
    buf[k + 2] = v >>> 16;
    buf[k + 3] = v >>> 24;
  }
  if (k < n) {
    const v = c.read16(i.seg, addr(i, off, k));
    buf[k] = v;
    buf[k + 1] = v >>> 8;
  }
  return buf;
}

// Linear addresses of the first and last byte of the last `segCheckW`.
let lin0 = 0, lin1 = 0;

/** The segment checks of a write of n bytes at `off` (sets lin0/lin1). */
function segCheckW(c: Cpu, i: Insn, off: number, n: number): void {
  if (i.a32 || (off & 0xffff) + n <= 0x10000) {
    lin0 = c.linW(i.seg, off, n);
    lin1 = (lin0 + n - 1) | 0;
  } else {
    lin0 = c.linW(i.seg, off, 0x10000 - off);
    lin1 = c.linW(i.seg, addr(i, off, n - 1), 1);
  }
}

/** Raises the fault a write of n bytes at `off` would raise, before anything is written. */
function checkWrite(c: Cpu, i: Insn, off: number, n: number): void {
  segCheckW(c, i, off, n);
  if ((lin0 ^ lin1) & ~0xfff) {
    const user = c.cpl === 3;
    c.translate(lin0, 1, user);
    c.translate(lin1 & ~0xfff, 1, user);
  }
}

/** Writes n (even) bytes from `b`, after checking the whole destination. */
function writeBytes(c: Cpu, i: Insn, off: number, b: Uint8Array, n: number): void {
  checkWrite(c, i, off, n);
  let k = 0;
  for (; k + 4 <= n; k += 4) c.write32(i.seg, addr(i, off, k), b[k] | (b[k + 1] << 8) | (b[k + 2] << 16) | (b[k + 3] << 24));
  if (k < n) c.write16(i.seg, addr(i, off, k), b[k] | (b[k + 1] << 8));
}

/**
 * Stores an 80-bit operand (FSTP m80real, FBSTP) from `b` as the processor does: the segment
 * checks cover the whole operand, then the low eight bytes and the high two are two separate
 * stores, so a page fault on the high part leaves the low part written (measured: with the
 * operand's last two bytes on a not-present page, the first eight are in memory at the #PF).
 */
function write80(c: Cpu, i: Insn, off: number, b: Uint8Array): void {
  segCheckW(c, i, off, 10);
  write64(c, i, off, b[0] | (b[1] << 8) | (b[2] << 16) | (b[3] << 24), b[4] | (b[5] << 8) | (b[6] << 16) | (b[7] << 24));
  c.write16(i.seg, addr(i, off, 8), b[8] | (b[9] << 8));
}

function write64(c: Cpu, i: Insn, off: number, lo: number, hi: number): void {
  checkWrite(c, i, off, 8);
  c.write32(i.seg, off, lo);
  c.write32(i.seg, addr(i, off, 4), hi);
}

// ---- framing -----------------------------------------------------------------------------------------
function nm(c: Cpu): void {
  if (c.cr0 & (CR0_EM | CR0_TS)) c.fault(VEC_NM);
}

/** A waiting instruction found an unmasked exception pending. */
function reportPending(c: Cpu, f: Fpu): void {
  if (c.cr0 & CR0_NE) c.fault(VEC_MF);
  f.setFerr(true);
}

/** Prologue of waiting instructions. */
function enter(c: Cpu): Fpu {
  nm(c);
  const f = c.fpu;
  if (f.pendingError) reportPending(c, f);
  f.begin();
  return f;
}

function fopOf(i: Insn): number {
  return ((i.op & 7) << 8) | (i.mod << 6) | (i.reg << 3) | i.rm;
}

type MemBody = (c: Cpu, i: Insn, f: Fpu, off: number) => void;
type RegBody = (c: Cpu, f: Fpu, sti: number) => void;

/** A non-control instruction with a memory operand. */
function memInsn(body: MemBody): Handler {
  return (c, i) => {
    const f = enter(c);
    const off = ea(c, i);
    body(c, i, f, off);
    f.commit();
    f.fip = i.eip;
    f.fcs = c.segSel[CS];
    f.fop = fopOf(i);
    f.fdp = off;
    f.fds = c.segSel[i.seg];
  };
}

/** A non-control instruction on registers. */
function regInsn(body: RegBody): Handler {
  return (c, i) => {
    const f = enter(c);
    body(c, f, i.rm);
    f.commit();
    f.fip = i.eip;
    f.fcs = c.segSel[CS];
    f.fop = fopOf(i);
  };
}

/** A control instruction: no pointer update; `wait` ones report pending exceptions first. */
function control(wait: boolean, body: (c: Cpu, i: Insn, f: Fpu) => void): Handler {
  return (c, i) => {
    nm(c);
    const f = c.fpu;
    if (wait && f.pendingError) reportPending(c, f);
    body(c, i, f);
  };
}

function realFormat(c: Cpu): boolean {
  return !c.protectedMode || c.v86;
}

// ---- memory operand forms ------------------------------------------------------------------------
/** Decodes the operand of the arithmetic groups into `val`; returns the DEC_* kind. */
function arithOperand(c: Cpu, i: Insn, group: number, off: number): number {
  switch (group) {
    case 0: return decodeSingle(val, c.read32(i.seg, off));
    case 2: loadInt32(val, c.read32(i.seg, off)); return DEC_OK;
    case 4: {
      const lo = c.read32(i.seg, off), hi = c.read32(i.seg, addr(i, off, 4));
      return decodeDouble(val, lo, hi);
    }
    default: loadInt32(val, (c.read16(i.seg, off) << 16) >> 16); return DEC_OK;
  }
}

/** D8 (m32real), DA (m32int), DC (m64real), DE (m16int): arithmetic and compare with ST(0). */
function arithMemForm(group: number, reg: number): Handler {
  return memInsn((c, i, f, off) => {
    const dec = arithOperand(c, i, group, off);
    if (reg === 2 || reg === 3) fcom(f, val, false, reg - 2, dec);
    else arithMem(f, reg, val, dec);
  });
}

function fldReal(bits: 32 | 64): Handler {
  return memInsn((c, i, f, off) => {
    const dec = bits === 32
      ? decodeSingle(val, c.read32(i.seg, off))
      : decodeDouble(val, c.read32(i.seg, off), c.read32(i.seg, addr(i, off, 4)));
    // Stack overflow (handled by load) comes before the operand's own exceptions.
    f.ctx.c1 = 0;
    if (!f.isEmpty(7) || checkLoaded(f.ctx, val, dec)) load(f, val);
  });
}

/** FST/FSTP m32/m64/m80. */
function fstReal(bits: 32 | 64 | 80, pop: boolean): Handler {
  return memInsn((c, i, f, off) => {
    const ctx = f.ctx;
    const empty = f.isEmpty(0);
    if (empty) {
      if (!f.underflow()) return;
    } else {
      ctx.c1 = 0;
    }
    const x = empty ? INDEFINITE : f.st(0);
    if (bits === 32) {
      if (!storeSingle(ctx, x)) return;
      c.write32(i.seg, off, stored.lo);
    } else if (bits === 64) {
      if (!storeDouble(ctx, x)) return;
      write64(c, i, off, stored.lo, stored.hi);
    } else {
      writeExt(x, buf, 0);
      write80(c, i, off, buf);
    }
    if (!empty) ctx.c1 = ctx.up ? 1 : 0;
    if (pop) f.pop();
  });
}

function fild(bits: 16 | 32 | 64): Handler {
  return memInsn((c, i, f, off) => {
    if (bits === 16) loadInt32(val, (c.read16(i.seg, off) << 16) >> 16);
    else if (bits === 32) loadInt32(val, c.read32(i.seg, off));
    else loadInt64(val, c.read32(i.seg, off), c.read32(i.seg, addr(i, off, 4)));
    load(f, val);
  });
}

function fist(bits: 16 | 32 | 64, pop: boolean): Handler {
  return memInsn((c, i, f, off) => {
    const ctx = f.ctx;
    const empty = f.isEmpty(0);
    if (empty) {
      if (!f.underflow()) return;
    } else {
      ctx.c1 = 0;
    }
    if (!storeInt(ctx, empty ? INDEFINITE : f.st(0), bits)) return;
    if (bits === 16) c.write16(i.seg, off, stored.lo);
    else if (bits === 32) c.write32(i.seg, off, stored.lo);
    else write64(c, i, off, stored.lo, stored.hi);
    if (!empty) ctx.c1 = ctx.up ? 1 : 0;
    if (pop) f.pop();
  });
}

const fldExt = memInsn((c, i, f, off) => {
  readExt(readBytes(c, i, off, 10), 0, val);
  load(f, val);
});

const fbld = memInsn((c, i, f, off) => {
  loadBcd(val, readBytes(c, i, off, 10), 0);
  load(f, val);
});

const bcd = new Uint8Array(10);
const fbstp = memInsn((c, i, f, off) => {
  const ctx = f.ctx;
  const empty = f.isEmpty(0);
  if (empty) {
    if (!f.underflow()) return;
  } else {
    ctx.c1 = 0;
  }
  if (!storeBcd(ctx, empty ? INDEFINITE : f.st(0), bcd)) return;
  write80(c, i, off, bcd);
  if (!empty) ctx.c1 = ctx.up ? 1 : 0;
  f.pop();
});

// Environment and state.
const fldcw = control(true, (c, i, f) => f.setControl(c.read16(i.seg, ea(c, i))));
const fnstcw = control(false, (c, i, f) => c.write16(i.seg, ea(c, i), f.fcw));
const fnstswMem = control(false, (c, i, f) => c.write16(i.seg, ea(c, i), f.status));

const fldenv = control(true, (c, i, f) => {
  const b = readBytes(c, i, ea(c, i), envSize(i.o32));
  loadEnv(f, b, i.o32, realFormat(c));
});

const fnstenv = control(false, (c, i, f) => {
  storeEnv(f, buf, i.o32, realFormat(c));
  writeBytes(c, i, ea(c, i), buf, envSize(i.o32));
  // FSTENV then masks every exception (which also clears ES/B).
  f.setControl(f.fcw | 0x3f);
});

const frstor = control(true, (c, i, f) => {
  const b = readBytes(c, i, ea(c, i), envSize(i.o32) + 80);
  loadState(f, b, i.o32, realFormat(c));
});

const fnsave = control(false, (c, i, f) => {
  storeState(f, buf, i.o32, realFormat(c));
  writeBytes(c, i, ea(c, i), buf, envSize(i.o32) + 80);
  f.fninit();
});

/** Memory forms by (opcode - D8) * 8 + ModRM.reg; null = #UD. */
const MEM: (Handler | null)[] = [];
for (let g = 0; g < 8; g += 2) for (let reg = 0; reg < 8; reg++) MEM[g * 8 + reg] = arithMemForm(g, reg);
// D9
MEM[8] = fldReal(32);
MEM[9] = null;
MEM[10] = fstReal(32, false);
MEM[11] = fstReal(32, true);
MEM[12] = fldenv;
MEM[13] = fldcw;
MEM[14] = fnstenv;
MEM[15] = fnstcw;
// DB
MEM[24] = fild(32);
MEM[25] = null; // FISTTP (SSE3)
MEM[26] = fist(32, false);
MEM[27] = fist(32, true);
MEM[28] = null;
MEM[29] = fldExt;
MEM[30] = null;
MEM[31] = fstReal(80, true);
// DD
MEM[40] = fldReal(64);
MEM[41] = null; // FISTTP (SSE3)
MEM[42] = fstReal(64, false);
MEM[43] = fstReal(64, true);
MEM[44] = frstor;
MEM[45] = null;
MEM[46] = fnsave;
MEM[47] = fnstswMem;
// DF
MEM[56] = fild(16);
MEM[57] = null; // FISTTP (SSE3)
MEM[58] = fist(16, false);
MEM[59] = fist(16, true);
MEM[60] = fbld;
MEM[61] = fild(64);
MEM[62] = fbstp;
MEM[63] = fist(64, true);

// ---- register forms ------------------------------------------------------------------------------
const EFLAGS_FCOMI = FLAG_ZF | FLAG_PF | FLAG_CF | FLAG_OF | FLAG_SF | FLAG_AF;
const FCOMI_FLAGS = [0, FLAG_CF, FLAG_ZF, FLAG_ZF | FLAG_PF | FLAG_CF];

function fcomiForm(quiet: boolean, pop: boolean): Handler {
  return regInsn((c, f, sti) => {
    const r = fcomi(f, sti, quiet, pop);
    if (r >= 0) setFlags(c, EFLAGS_FCOMI, FCOMI_FLAGS[r]);
  });
}

/** FCMOVcc condition codes (Jcc numbering) for DA/DB reg 0-3: B, E, BE, U and their negations. */
const FCMOV_CC = [2, 4, 6, 10];

const fnclex = control(false, (_c, _i, f) => f.fnclex());
const fninit = control(false, (_c, _i, f) => f.fninit());
const fnop8087 = control(false, () => {}); // FNENI, FNDISI, FNSETPM: no-ops since the 387
const fnstswAx = control(false, (c, _i, f) => {
  c.regs[EAX] = (c.regs[EAX] & ~0xffff) | f.status;
});

/** The handler of a register form, or null for #UD. `g` = opcode - D8, ModRM = 11 reg rm. */
function regForm(g: number, reg: number, rm: number): Handler | null {
  switch (g) {
    case 0: // D8: FADD FMUL FCOM FCOMP FSUB FSUBR FDIV FDIVR ST(0), ST(i)
      if (reg === 2 || reg === 3) return regInsn((_c, f, sti) => fcom(f, f.isEmpty(sti) ? null : f.st(sti), false, reg - 2));
      return regInsn((_c, f, sti) => arithReg(f, reg, sti, false, false));
    case 1: return d9Form(reg, rm);
    case 2: // DA: FCMOVB/E/BE/U, FUCOMPP
      if (reg < 4) return regInsn((c, f, sti) => fcmov(f, sti, testCC(c, FCMOV_CC[reg])));
      if (reg === 5 && rm === 1) return regInsn((_c, f) => fcom(f, f.isEmpty(1) ? null : f.st(1), true, 2));
      return null;
    case 3: // DB: FCMOVNB/NE/NBE/NU, FNENI FNDISI FNCLEX FNINIT FNSETPM, FUCOMI, FCOMI
      if (reg < 4) return regInsn((c, f, sti) => fcmov(f, sti, testCC(c, FCMOV_CC[reg] | 1)));
      if (reg === 4) {
        if (rm === 2) return fnclex;
        if (rm === 3) return fninit;
        if (rm === 0 || rm === 1 || rm === 4) return fnop8087;
        return null;
      }
      if (reg === 5 || reg === 6) return fcomiForm(reg === 5, false);
      return null;
    case 4: // DC: FADD FMUL FCOM2 FCOMP3 FSUBR FSUB FDIVR FDIV ST(i), ST(0)
      if (reg === 2 || reg === 3) return regInsn((_c, f, sti) => fcom(f, f.isEmpty(sti) ? null : f.st(sti), false, reg - 2));
      return regInsn((_c, f, sti) => arithReg(f, reg, sti, true, false));
    case 5: // DD: FFREE, FXCH4, FST, FSTP, FUCOM, FUCOMP
      switch (reg) {
        case 0: return regInsn((_c, f, sti) => ffree(f, sti, false));
        case 1: return regInsn((_c, f, sti) => fxch(f, sti));
        case 2: case 3: return regInsn((_c, f, sti) => fstSt(f, sti, reg === 3));
        case 4: case 5: return regInsn((_c, f, sti) => fcom(f, f.isEmpty(sti) ? null : f.st(sti), true, reg - 4));
        default: return null;
      }
    case 6: // DE: FADDP FMULP FCOMP5 FCOMPP FSUBRP FSUBP FDIVRP FDIVP
      if (reg === 2) return regInsn((_c, f, sti) => fcom(f, f.isEmpty(sti) ? null : f.st(sti), false, 1));
      if (reg === 3) return rm === 1 ? regInsn((_c, f) => fcom(f, f.isEmpty(1) ? null : f.st(1), false, 2)) : null;
      return regInsn((_c, f, sti) => arithReg(f, reg, sti, true, true));
    default: // DF: FFREEP, FXCH7, FSTP8, FSTP9, FNSTSW AX, FUCOMIP, FCOMIP
      switch (reg) {
        case 0: return regInsn((_c, f, sti) => ffree(f, sti, true));
        case 1: return regInsn((_c, f, sti) => fxch(f, sti));
        case 2: case 3: return regInsn((_c, f, sti) => fstSt(f, sti, true));
        case 4: return rm === 0 ? fnstswAx : null;
        case 5: case 6: return fcomiForm(reg === 5, true);
        default: return null;
      }
  }
}

function d9Form(reg: number, rm: number): Handler | null {
  switch (reg) {
    case 0: return regInsn((_c, f, sti) => fldSt(f, sti));
    case 1: return regInsn((_c, f, sti) => fxch(f, sti));
    case 2: return rm === 0 ? regInsn(() => {}) : null; // FNOP
    case 3: return regInsn((_c, f, sti) => fstSt(f, sti, true)); // FSTP1
    case 4:
      switch (rm) {
        case 0: return regInsn((_c, f) => fsign(f, false)); // FCHS
        case 1: return regInsn((_c, f) => fsign(f, true)); // FABS
        case 4: return regInsn((_c, f) => ftst(f));
        case 5: return regInsn((_c, f) => fxam(f));
        default: return null;
      }
    case 5: return rm === 7 ? null : regInsn((_c, f) => fldConst(f, rm));
    case 6:
      switch (rm) {
        case 0: return regInsn((_c, f) => f2xm1Op(f));
        case 1: return regInsn((_c, f) => fbinaryPop(f, 0)); // FYL2X
        case 2: return regInsn((_c, f) => ftrig(f, 2)); // FPTAN
        case 3: return regInsn((_c, f) => fbinaryPop(f, 2)); // FPATAN
        case 4: return regInsn((_c, f) => fxtractOp(f));
        case 5: return regInsn((_c, f) => fprem(f, true)); // FPREM1
        case 6: return regInsn((_c, f) => fincdec(f, -1)); // FDECSTP
        default: return regInsn((_c, f) => fincdec(f, 1)); // FINCSTP
      }
    default:
      switch (rm) {
        case 0: return regInsn((_c, f) => fprem(f, false)); // FPREM
        case 1: return regInsn((_c, f) => fbinaryPop(f, 1)); // FYL2XP1
        case 2: return regInsn((_c, f) => fsqrt(f));
        case 3: return regInsn((_c, f) => ftrig(f, 3)); // FSINCOS
        case 4: return regInsn((_c, f) => frndintOp(f));
        case 5: return regInsn((_c, f) => fscaleOp(f));
        case 6: return regInsn((_c, f) => ftrig(f, 0)); // FSIN
        default: return regInsn((_c, f) => ftrig(f, 1)); // FCOS
      }
  }
}

/** Register forms by (opcode - D8) * 64 + (ModRM & 0x3F), built once. */
const REG: (Handler | null)[] = [];
for (let g = 0; g < 8; g++) for (let m = 0; m < 64; m++) REG[g * 64 + m] = regForm(g, m >> 3, m & 7);

for (let op = 0xd8; op <= 0xdf; op++) {
  const g = op - 0xd8;
  def(op, (d, i) => {
    d.modrm(i);
    const h = i.mod === 3 ? REG[g * 64 + i.reg * 8 + i.rm] : MEM[g * 8 + i.reg];
    i.exec = h === null || i.lock ? udHandler : h;
  });
}

// WAIT/FWAIT: #NM when TS and MP are set; reports a pending unmasked exception.
def(0x9b, (_d, i) => {
  i.exec = (c) => {
    if ((c.cr0 & (CR0_TS | CR0_MP)) === (CR0_TS | CR0_MP)) c.fault(VEC_NM);
    const f = c.fpu;
    if (f.pendingError) reportPending(c, f);
  };
  if (i.lock) i.exec = udHandler;
});

// ---- FXSAVE / FXRSTOR (0F AE /0, /1) ---------------------------------------------------------------
function fxPrologue(c: Cpu, i: Insn): number {
  if (!c.cpuidConfig.fxsr || c.cr0 & CR0_EM) c.fault(VEC_UD);
  if (c.cr0 & CR0_TS) c.fault(VEC_NM);
  const off = ea(c, i);
  if ((c.segBase[i.seg] + off) & 15) c.fault(VEC_GP, 0);
  return off;
}

const fx = new Uint8Array(512);
function fxsave(c: Cpu, i: Insn): void {
  const off = fxPrologue(c, i);
  checkWrite(c, i, off, 512);
  fxsaveImage(c.fpu, fx);
  writeBytes(c, i, off, fx, 288);
}

function fxrstor(c: Cpu, i: Insn): void {
  const off = fxPrologue(c, i);
  const b = readBytes(c, i, off, 512);
  if (!fxrstorValid(b)) c.fault(VEC_GP, 0);
  fxrstorImage(c.fpu, b);
}

def0f(0xae, (d, i) => {
  d.modrm(i);
  i.exec = i.mod === 3 || i.reg > 1 || i.lock ? udHandler : i.reg === 0 ? fxsave : fxrstor;
});

