/**
 * The x87 instruction set (ESC opcodes D8-DF, WAIT, FXSAVE/FXRSTOR): decoding, operand access and
 * the arithmetic, on the state in fpu/fpu.ts. Opcode map per the SDM vol. 2 appendix A.4,
 * including the aliases a P6 decodes (FSTP1, FCOM2, FCOMP3, FXCH4, FCOMP5, FXCH7, FSTP8/9, FFREEP).
 */
import type { Cpu } from '../cpu.js';
import type { Insn } from '../insn.js';
import {
  CR0_EM, CR0_MP, CR0_NE, CR0_TS, CS, FLAG_AF, FLAG_CF, FLAG_OF, FLAG_PF, FLAG_SF, FLAG_ZF, VEC_GP, VEC_MF, VEC_NM, VEC_UD,
} from '../arch.js';
import { setFlags, testCC } from '../flags.js';
import { def, def0f, udHandler } from './table.js';
import {
  Fpu, FSW_C0, FSW_C1, FSW_C2, FSW_C3, FSW_CC, FSW_ZE, FSW_PE, FSW_OE,
} from '../fpu/fpu.js';
import {
  bcdIndefinite, fromBcd, fromDoubleBytes, fromExtended, fromSingleBytes, int64ToNumber, numberToInt64, roundRc, toBcd,
  toDoubleBytes, toExtended, toSingleBytes,
} from '../fpu/float80.js';
import { logOnce } from '../../base/log.js';

const buf = new Uint8Array(16);

// ---- memory helpers ----------------------------------------------------------------------------
function addr(i: Insn, off: number, k: number): number {
  return i.a32 ? (off + k) | 0 : (off + k) & 0xffff;
}
function readBytes(c: Cpu, i: Insn, off: number, n: number): Uint8Array {
  // Check the whole operand first so a fault happens before anything changes.
  c.linR(i.seg, off, 1);
  for (let k = 0; k < n; k++) buf[k] = c.read8(i.seg, addr(i, off, k));
  return buf;
}
function writeBytes(c: Cpu, i: Insn, off: number, bytes: Uint8Array, n: number): void {
  for (let k = 0; k < n; k++) c.linW(i.seg, addr(i, off, k), 1);
  for (let k = 0; k < n; k++) c.write8(i.seg, addr(i, off, k), bytes[k]);
}

function readReal32(c: Cpu, i: Insn, off: number): number {
  const v = c.read32(i.seg, off);
  buf[0] = v; buf[1] = v >> 8; buf[2] = v >> 16; buf[3] = v >> 24;
  return fromSingleBytes(buf, 0);
}
function readReal64(c: Cpu, i: Insn, off: number): number {
  return fromDoubleBytes(readBytes(c, i, off, 8), 0);
}
function readInt(c: Cpu, i: Insn, off: number, bits: number): number {
  if (bits === 16) return (c.read16(i.seg, off) << 16) >> 16;
  if (bits === 32) return c.read32(i.seg, off);
  const lo = c.read32(i.seg, off), hi = c.read32(i.seg, addr(i, off, 4));
  return int64ToNumber(lo, hi);
}

// ---- arithmetic --------------------------------------------------------------------------------
/** op: 0 add, 1 mul, 4 sub (a-b), 5 subr (b-a), 6 div (a/b), 7 divr (b/a). Null = unmasked fault. */
function arith(f: Fpu, op: number, a: number, b: number): number | null {
  let r: number;
  let zeroDivide = false;
  switch (op) {
    case 0: r = a + b; break;
    case 1: r = a * b; break;
    case 4: r = a - b; break;
    case 5: r = b - a; break;
    default: {
      const [n, d] = op === 6 ? [a, b] : [b, a];
      zeroDivide = d === 0 && n === n && n !== 0 && Number.isFinite(n);
      r = n / d;
    }
  }
  if (Number.isNaN(r)) {
    // inf - inf, 0 * inf, 0/0, inf/inf: invalid operation; the masked response is the NaN itself.
    if (!Number.isNaN(a) && !Number.isNaN(b) && !f.invalid()) return null;
  } else if (zeroDivide) {
    if (!f.raise(FSW_ZE)) return null;
  } else if (!Number.isFinite(r) && Number.isFinite(a) && Number.isFinite(b)) {
    if (!f.raise(FSW_OE | FSW_PE)) return null;
  }
  return r;
}

/** Compares and returns the condition code bits C3 C2 C0 for a ? b (unordered -> all three). */
function compareCC(a: number, b: number): number {
  if (Number.isNaN(a) || Number.isNaN(b)) return FSW_C3 | FSW_C2 | FSW_C0;
  if (a > b) return 0;
  if (a < b) return FSW_C0;
  return FSW_C3;
}

function setCC(f: Fpu, cc: number): void {
  f.fsw = (f.fsw & ~FSW_CC) | cc;
}

/** FCOM/FUCOM family: `unordered` (FUCOM) raises invalid only for signaling NaNs (we have none). */
function fcom(f: Fpu, a: number, b: number, unordered: boolean): void {
  const cc = compareCC(a, b);
  if (cc === (FSW_C3 | FSW_C2 | FSW_C0) && !unordered) f.invalid();
  setCC(f, cc);
}

function fcomi(c: Cpu, f: Fpu, a: number, b: number, unordered: boolean): void {
  const cc = compareCC(a, b);
  if (cc === (FSW_C3 | FSW_C2 | FSW_C0) && !unordered) f.invalid();
  let fl = 0;
  if (cc & FSW_C3) fl |= FLAG_ZF;
  if (cc & FSW_C2) fl |= FLAG_PF;
  if (cc & FSW_C0) fl |= FLAG_CF;
  setFlags(c, FLAG_ZF | FLAG_PF | FLAG_CF | FLAG_OF | FLAG_SF | FLAG_AF, fl);
  f.fsw &= ~FSW_C1;
}

/** Integer conversion for FIST/FISTP: rounded by RC, or the integer indefinite on overflow/NaN. */
function toInt(f: Fpu, v: number, bits: number): number | null {
  const r = roundRc(v, f.rc);
  const lim = 2 ** (bits - 1);
  if (!(r >= -lim && r < lim)) {
    if (!f.invalid()) return null;
    return -lim;
  }
  if (r !== v) f.raise(FSW_PE);
  return r;
}

/** FLD1, FLDL2T, FLDL2E, FLDPI, FLDLG2, FLDLN2, FLDZ (D9 E8-EE), rounded to double. */
const CONSTS = [1, Math.log2(10), Math.LOG2E, Math.PI, Math.log10(2), Math.LN2, 0];

/** ST(0) for a store, or the indefinite NaN after a masked stack underflow; null if unmasked. */
function topForStore(f: Fpu): number | null {
  if (!f.isEmpty(0)) return f.get(0);
  f.fsw &= ~FSW_C1;
  return f.invalid(true) ? NaN : null;
}

// ---- instruction bodies ------------------------------------------------------------------------
/** Memory forms: index = (opcode - D8) * 8 + reg. */
function memOp(c: Cpu, i: Insn, f: Fpu, index: number, off: number): void {
  const op = index >> 3, reg = index & 7;
  if (op === 0 || op === 2 || op === 4 || op === 6) {
    // D8/DC: arith with m32/m64 real; DA/DE: with m32/m16 integer.
    const v = op === 0 ? readReal32(c, i, off) : op === 4 ? readReal64(c, i, off) : readInt(c, i, off, op === 2 ? 32 : 16);
    if (!f.checkRead(0)) return;
    const a = f.get(0);
    if (reg === 2 || reg === 3) {
      fcom(f, a, v, false);
      if (reg === 3) f.pop();
      return;
    }
    const r = arith(f, reg, a, v);
    if (r !== null) f.set(0, r);
    return;
  }
  switch (index) {
    case 8: return load(f, readReal32(c, i, off)); // D9 /0 FLD m32
    case 10: case 11: { // FST/FSTP m32
      const v = topForStore(f);
      if (v === null) return;
      toSingleBytes(v, buf, 0);
      c.write32(i.seg, off, buf[0] | (buf[1] << 8) | (buf[2] << 16) | (buf[3] << 24));
      if (index === 11) f.pop();
      return;
    }
    case 12: return fldenv(c, i, f, off);
    case 13: f.fcw = (c.read16(i.seg, off) & 0x1f7f) | 0x40; recheckPending(f); return;
    case 14: fstenv(c, i, f, off); f.fcw |= 0x3f; return;
    case 15: c.write16(i.seg, off, f.fcw); return;
    case 24: return load(f, readInt(c, i, off, 32)); // DB /0 FILD m32
    case 26: case 27: return fist(c, i, f, off, 32, index === 27);
    case 29: return load(f, fromExtended(readBytes(c, i, off, 10), 0)); // FLD m80
    case 31: { // FSTP m80
      const v = topForStore(f);
      if (v === null) return;
      const b = new Uint8Array(10);
      toExtended(v, b, 0);
      writeBytes(c, i, off, b, 10);
      f.pop();
      return;
    }
    case 40: return load(f, readReal64(c, i, off)); // DD /0 FLD m64
    case 42: case 43: { // FST/FSTP m64
      const v = topForStore(f);
      if (v === null) return;
      const b = new Uint8Array(8);
      toDoubleBytes(v, b, 0);
      writeBytes(c, i, off, b, 8);
      if (index === 43) f.pop();
      return;
    }
    case 44: return frstor(c, i, f, off);
    case 46: fsave(c, i, f, off); return;
    case 47: c.write16(i.seg, off, f.status); return;
    case 56: return load(f, readInt(c, i, off, 16)); // DF /0 FILD m16
    case 58: case 59: return fist(c, i, f, off, 16, index === 59);
    case 60: return load(f, fromBcd(readBytes(c, i, off, 10), 0)); // FBLD
    case 61: return load(f, readInt(c, i, off, 64)); // FILD m64
    case 62: { // FBSTP
      const b = new Uint8Array(10);
      const v = f.isEmpty(0) ? NaN : roundRc(f.get(0), f.rc);
      if (Number.isNaN(v) || !toBcd(v, b, 0)) {
        if (!f.invalid(f.isEmpty(0))) return;
        bcdIndefinite(b, 0);
      }
      writeBytes(c, i, off, b, 10);
      f.pop();
      return;
    }
    case 63: return fist(c, i, f, off, 64, true);
    default:
      logOnce('info', 'cpu', `x87:${index}`, `#UD: x87 memory form ${index >> 3}/${index & 7}`);
      return c.fault(VEC_UD);
  }
}

function load(f: Fpu, v: number): void {
  f.push(v);
}

function fist(c: Cpu, i: Insn, f: Fpu, off: number, bits: number, pop: boolean): void {
  let v: number | null;
  if (f.isEmpty(0)) {
    f.fsw &= ~FSW_C1;
    if (!f.invalid(true)) return;
    v = -(2 ** (bits - 1));
  } else {
    v = toInt(f, f.get(0), bits);
    if (v === null) return;
  }
  if (bits === 16) c.write16(i.seg, off, v);
  else if (bits === 32) c.write32(i.seg, off, v);
  else {
    const [lo, hi] = numberToInt64(v);
    c.linW(i.seg, addr(i, off, 4), 4);
    c.write32(i.seg, off, lo);
    c.write32(i.seg, addr(i, off, 4), hi);
  }
  if (pop) f.pop();
}

/** Register forms: index = (opcode - D8) * 8 + reg, `sti` = ModRM.rm. */
function regOp(c: Cpu, i: Insn, f: Fpu, index: number, sti: number): void {
  const op = index >> 3, reg = index & 7;
  switch (op) {
    case 0: { // D8: ST0 = ST0 op ST(i); FCOM/FCOMP ST(i)
      if (!f.checkRead(0) || !f.checkRead(sti)) return;
      if (reg === 2 || reg === 3) {
        fcom(f, f.get(0), f.get(sti), false);
        if (reg === 3) f.pop();
        return;
      }
      const r = arith(f, reg, f.get(0), f.get(sti));
      if (r !== null) f.set(0, r);
      return;
    }
    case 1: return d9reg(c, f, reg, sti, i);
    case 2: { // DA: FCMOVB/E/BE/U, FUCOMPP
      if (reg < 4) {
        if (!f.checkRead(sti)) return;
        const cc = [2, 4, 6, 10][reg];
        if (testCC(c, cc)) f.set(0, f.get(sti));
        return;
      }
      if (reg === 5 && sti === 1) {
        if (!f.checkRead(0) || !f.checkRead(1)) return;
        fcom(f, f.get(0), f.get(1), true);
        f.pop();
        f.pop();
        return;
      }
      return c.fault(VEC_UD);
    }
    case 3: { // DB: FCMOVNB/NE/NBE/NU, FNCLEX, FNINIT, FUCOMI, FCOMI
      if (reg < 4) {
        if (!f.checkRead(sti)) return;
        const cc = [3, 5, 7, 11][reg];
        if (testCC(c, cc)) f.set(0, f.get(sti));
        return;
      }
      if (reg === 4) {
        if (sti === 2) { f.fsw &= 0x7f00; f.onFerr(false); return; } // FNCLEX: clear exceptions, ES, B
        if (sti === 3) return f.fninit();
        if (sti === 0 || sti === 1 || sti === 4) return; // FNENI, FNDISI, FNSETPM: no-ops on a 387+
        return c.fault(VEC_UD);
      }
      if (reg === 5 || reg === 6) {
        if (!f.checkRead(0) || !f.checkRead(sti)) return;
        return fcomi(c, f, f.get(0), f.get(sti), reg === 5);
      }
      return c.fault(VEC_UD);
    }
    case 4: { // DC: ST(i) = ST(i) op ST0 (SUB/SUBR and DIV/DIVR swapped as encoded), FCOM2/FCOMP3
      if (!f.checkRead(0) || !f.checkRead(sti)) return;
      if (reg === 2 || reg === 3) {
        fcom(f, f.get(0), f.get(sti), false);
        if (reg === 3) f.pop();
        return;
      }
      const r = arith(f, reg, f.get(sti), f.get(0));
      if (r !== null) f.set(sti, r);
      return;
    }
    case 5: { // DD: FFREE, FXCH4, FST, FSTP, FUCOM, FUCOMP
      switch (reg) {
        case 0: f.empty[f.phys(sti)] = 1; return;
        case 1: return fxch(f, sti);
        case 2: case 3:
          if (!f.checkRead(0)) return;
          f.set(sti, f.get(0));
          if (reg === 3) f.pop();
          return;
        case 4: case 5:
          if (!f.checkRead(0) || !f.checkRead(sti)) return;
          fcom(f, f.get(0), f.get(sti), true);
          if (reg === 5) f.pop();
          return;
        default: return c.fault(VEC_UD);
      }
    }
    case 6: { // DE: arith-and-pop, FCOMP5, FCOMPP
      if (reg === 3) {
        if (sti !== 1) return c.fault(VEC_UD);
        if (!f.checkRead(0) || !f.checkRead(1)) return;
        fcom(f, f.get(0), f.get(1), false);
        f.pop();
        f.pop();
        return;
      }
      if (!f.checkRead(0) || !f.checkRead(sti)) return;
      if (reg === 2) {
        fcom(f, f.get(0), f.get(sti), false);
        f.pop();
        return;
      }
      const r = arith(f, reg, f.get(sti), f.get(0));
      if (r !== null) f.set(sti, r);
      f.pop();
      return;
    }
    default: { // DF: FFREEP, FXCH7, FSTP8/9, FNSTSW AX, FUCOMIP, FCOMIP
      switch (reg) {
        case 0: f.empty[f.phys(sti)] = 1; f.pop(); return;
        case 1: return fxch(f, sti);
        case 2: case 3:
          if (!f.checkRead(0)) return;
          f.set(sti, f.get(0));
          f.pop();
          return;
        case 4:
          if (sti !== 0) return c.fault(VEC_UD);
          c.regs[0] = (c.regs[0] & ~0xffff) | f.status;
          return;
        case 5: case 6:
          if (!f.checkRead(0) || !f.checkRead(sti)) return;
          fcomi(c, f, f.get(0), f.get(sti), reg === 5);
          f.pop();
          return;
        default: return c.fault(VEC_UD);
      }
    }
  }
}

function fxch(f: Fpu, sti: number): void {
  if (f.isEmpty(0) || f.isEmpty(sti)) {
    f.fsw &= ~FSW_C1;
    if (!f.invalid(true)) return;
    // Masked response: empty registers read as the indefinite NaN.
    if (f.isEmpty(0)) f.set(0, NaN);
    if (f.isEmpty(sti)) f.set(sti, NaN);
  }
  const a = f.get(0);
  f.set(0, f.get(sti));
  f.set(sti, a);
  f.fsw &= ~FSW_C1;
}

const LARGE = 2 ** 63;

function d9reg(c: Cpu, f: Fpu, reg: number, sti: number, _i: Insn): void {
  switch (reg) {
    case 0: { // FLD ST(i)
      if (!f.checkRead(sti)) {
        f.push(NaN);
        return;
      }
      return f.push(f.get(sti));
    }
    case 1: return fxch(f, sti);
    case 2:
      if (sti === 0) return; // FNOP
      return c.fault(VEC_UD);
    case 3: // FSTP1 alias
      if (!f.checkRead(0)) return;
      f.set(sti, f.get(0));
      f.pop();
      return;
    case 5: // constants
      if (sti === 7) return c.fault(VEC_UD);
      return f.push(CONSTS[sti]);
  }
  // D9 E0-E7 and F0-FF act on the stack top.
  const code = (reg << 3) | sti;
  if (code === 0x20 || code === 0x21 || code === 0x24 || code === 0x25) {
    if (code === 0x25) return fxam(f);
    if (!f.checkRead(0)) return;
    const v = f.get(0);
    if (code === 0x20) f.set(0, -v);
    else if (code === 0x21) f.set(0, Math.abs(v));
    else fcom(f, v, 0, false);
    if (code !== 0x24) f.fsw &= ~FSW_C1;
    return;
  }
  if (code === 0x36) { f.top = (f.top - 1) & 7; f.fsw &= ~FSW_C1; return; } // FDECSTP
  if (code === 0x37) { f.top = (f.top + 1) & 7; f.fsw &= ~FSW_C1; return; } // FINCSTP
  if (code < 0x30) return c.fault(VEC_UD);
  if (!f.checkRead(0)) return;
  const x = f.get(0);
  const twoOp = code === 0x31 || code === 0x33 || code === 0x35 || code === 0x38 || code === 0x39 || code === 0x3d;
  if (twoOp && !f.checkRead(1)) return;
  const y = twoOp ? f.get(1) : 0;
  switch (code) {
    case 0x30: f.set(0, Math.expm1(x * Math.LN2)); return; // F2XM1
    case 0x31: { // FYL2X
      if (x < 0 || (x === 0 && y === 0)) { if (!f.invalid()) return; }
      if (x === 0 && y !== 0) f.raise(FSW_ZE);
      f.set(1, y * Math.log2(x));
      f.pop();
      return;
    }
    case 0x32: { // FPTAN
      if (Math.abs(x) >= LARGE) { f.fsw |= FSW_C2; return; }
      f.fsw &= ~FSW_C2;
      f.set(0, Math.tan(x));
      f.push(1);
      return;
    }
    case 0x33: f.set(1, Math.atan2(y, x)); f.pop(); return; // FPATAN
    case 0x34: { // FXTRACT
      if (x === 0) {
        f.raise(FSW_ZE);
        f.set(0, -Infinity);
        f.push(x);
        return;
      }
      if (!Number.isFinite(x)) {
        f.set(0, Math.abs(x));
        f.push(x);
        return;
      }
      const e = Math.floor(Math.log2(Math.abs(x)));
      let m = x / 2 ** e;
      let ee = e;
      if (Math.abs(m) >= 2) { m /= 2; ee++; } else if (Math.abs(m) < 1) { m *= 2; ee--; }
      f.set(0, ee);
      f.push(m);
      return;
    }
    case 0x35: case 0x38: return fprem(f, x, y, code === 0x35); // FPREM1 / FPREM
    case 0x39: f.set(1, y * (Math.log1p(x) / Math.LN2)); f.pop(); return; // FYL2XP1
    case 0x3a: // FSQRT
      if (x < 0) { if (!f.invalid()) return; }
      f.set(0, Math.sqrt(x));
      return;
    case 0x3b: { // FSINCOS
      if (Math.abs(x) >= LARGE) { f.fsw |= FSW_C2; return; }
      f.fsw &= ~FSW_C2;
      f.set(0, Math.sin(x));
      f.push(Math.cos(x));
      return;
    }
    case 0x3c: { // FRNDINT
      const r = roundRc(x, f.rc);
      if (r !== x && Number.isFinite(x)) f.raise(FSW_PE);
      f.set(0, Number.isFinite(x) ? r : x);
      return;
    }
    case 0x3d: { // FSCALE
      const n = Math.trunc(y);
      f.set(0, Number.isNaN(y) ? NaN : x * 2 ** Math.max(-2200, Math.min(2200, n)));
      return;
    }
    case 0x3e: case 0x3f: { // FSIN / FCOS
      if (Math.abs(x) >= LARGE) { f.fsw |= FSW_C2; return; }
      f.fsw &= ~FSW_C2;
      f.set(0, code === 0x3e ? Math.sin(x) : Math.cos(x));
      return;
    }
  }
}

function fxam(f: Fpu): void {
  const v = f.get(0);
  const sign = v < 0 || Object.is(v, -0) ? FSW_C1 : 0;
  let cls: number;
  if (f.isEmpty(0)) cls = FSW_C3 | FSW_C0;
  else if (Number.isNaN(v)) cls = FSW_C0;
  else if (!Number.isFinite(v)) cls = FSW_C2 | FSW_C0;
  else if (v === 0) cls = FSW_C3;
  else cls = FSW_C2; // every double is a normal extended value
  f.fsw = (f.fsw & ~FSW_CC) | cls | sign;
}

/** FPREM (truncating quotient) and FPREM1 (round-to-nearest quotient). */
function fprem(f: Fpu, x: number, y: number, ieee: boolean): void {
  if (Number.isNaN(x) || Number.isNaN(y) || !Number.isFinite(x) || y === 0) {
    if (!f.invalid()) return;
    f.set(0, NaN);
    setCC(f, 0);
    return;
  }
  if (!Number.isFinite(y)) {
    setCC(f, 0);
    return;
  }
  const ex = Math.floor(Math.log2(Math.abs(x) || 1)), ey = Math.floor(Math.log2(Math.abs(y)));
  if (x !== 0 && ex - ey >= 64) {
    // Partial remainder: reduce by a multiple of y scaled to 2^(ex-ey-32), report incomplete.
    const scale = 2 ** (ex - ey - 32);
    const r = x % (y * scale);
    f.set(0, r);
    f.fsw = (f.fsw & ~FSW_CC) | FSW_C2;
    return;
  }
  let r = x % y;
  let q = Math.trunc(x / y);
  if (ieee) {
    const ay = Math.abs(y), ar = Math.abs(r);
    if (ar * 2 > ay || (ar * 2 === ay && Math.abs(q) % 2 === 1)) {
      r = r - Math.sign(r) * ay;
      q += Math.sign(x) * Math.sign(y);
    }
  }
  const qa = Math.abs(q) % 8;
  f.set(0, r === 0 ? (x < 0 ? -0 : 0) : r);
  f.fsw = (f.fsw & ~FSW_CC) | (qa & 1 ? FSW_C1 : 0) | (qa & 2 ? FSW_C3 : 0) | (qa & 4 ? FSW_C0 : 0);
}

// ---- environment and state images (SDM vol. 1, figures 8-9 to 8-12) --------------------------------
function envLayout32(c: Cpu, i: Insn): boolean {
  return i.o32;
}

function fstenv(c: Cpu, i: Insn, f: Fpu, off: number): void {
  const pm = c.protectedMode && !c.v86;
  const w = (k: number, v: number) => (envLayout32(c, i) ? c.write32(i.seg, addr(i, off, k * 4), v) : c.write16(i.seg, addr(i, off, k * 2), v));
  const n = envLayout32(c, i) ? 28 : 14;
  c.linW(i.seg, addr(i, off, n - 1), 1);
  w(0, f.fcw | (envLayout32(c, i) ? 0xffff0000 : 0));
  w(1, f.status | (envLayout32(c, i) ? 0xffff0000 : 0));
  w(2, f.tagWord | (envLayout32(c, i) ? 0xffff0000 : 0));
  if (pm) {
    w(3, f.fip);
    w(4, envLayout32(c, i) ? (f.fcs & 0xffff) | ((f.fop & 0x7ff) << 16) : f.fcs);
    w(5, f.fdp);
    w(6, envLayout32(c, i) ? f.fds & 0xffff : f.fds);
  } else {
    // Real-mode format: linear 20/32-bit pointers split with the opcode.
    const fip = (f.fcs << 4) + f.fip, fdp = (f.fds << 4) + f.fdp;
    w(3, fip & 0xffff);
    w(4, envLayout32(c, i) ? ((fip >>> 16) << 12) | (f.fop & 0x7ff) : ((fip >>> 16) << 12) | (f.fop & 0x7ff));
    w(5, fdp & 0xffff);
    w(6, (fdp >>> 16) << 12);
  }
}

function fldenv(c: Cpu, i: Insn, f: Fpu, off: number): void {
  const r = (k: number) => (envLayout32(c, i) ? c.read32(i.seg, addr(i, off, k * 4)) : c.read16(i.seg, addr(i, off, k * 2)));
  const fcw = r(0), fsw = r(1), ftw = r(2);
  const pm = c.protectedMode && !c.v86;
  const a = r(3), b = r(4), d = r(5), e = r(6);
  f.fcw = (fcw & 0x1f7f) | 0x40;
  f.status = fsw & 0xffff;
  f.tagWord = ftw & 0xffff;
  if (pm) {
    f.fip = a;
    f.fcs = b & 0xffff;
    f.fop = envLayout32(c, i) ? (b >>> 16) & 0x7ff : 0;
    f.fdp = d;
    f.fds = e & 0xffff;
  } else {
    f.fip = (a & 0xffff) | ((b >>> 12) << 16);
    f.fcs = 0;
    f.fop = b & 0x7ff;
    f.fdp = (d & 0xffff) | ((e >>> 12) << 16);
    f.fds = 0;
  }
  recheckPending(f);
}

function fsave(c: Cpu, i: Insn, f: Fpu, off: number): void {
  const envSize = envLayout32(c, i) ? 28 : 14;
  c.linW(i.seg, addr(i, off, envSize + 79), 1);
  fstenv(c, i, f, off);
  const b = new Uint8Array(80);
  for (let k = 0; k < 8; k++) toExtended(f.get(k), b, k * 10);
  writeBytes(c, i, addr(i, off, envSize), b, 80);
  f.fninit();
}

function frstor(c: Cpu, i: Insn, f: Fpu, off: number): void {
  const envSize = envLayout32(c, i) ? 28 : 14;
  const b = readBytes(c, i, addr(i, off, envSize), 80).slice(0, 80);
  fldenv(c, i, f, off);
  for (let k = 0; k < 8; k++) f.r[f.phys(k)] = fromExtended(b, k * 10);
}

/** Loading a status word with unmasked exceptions set makes them pending, as on hardware. */
function recheckPending(f: Fpu): void {
  const unmasked = f.fsw & ~f.fcw & 0x3f;
  if (unmasked) f.fsw |= 0x8080;
  else f.fsw &= ~0x8080;
  f.onFerr(unmasked !== 0);
}

// ---- entry: #NM, pending exceptions, pointers ------------------------------------------------------
/** Control instructions that neither wait for pending exceptions nor update FIP/FDP. */
function isControl(index: number, mod: number, rm: number): boolean {
  if (mod !== 3) return index === 12 || index === 13 || index === 14 || index === 15 || index === 44 || index === 46 || index === 47;
  return (index === 28 && rm <= 4) || (index === 60 && rm === 0);
}

function x87(c: Cpu, i: Insn): void {
  if (c.cr0 & (CR0_EM | CR0_TS)) c.fault(VEC_NM);
  const f = c.fpu;
  const index = i.imm2;
  const control = isControl(index, i.mod, i.rm);
  if (!control && f.pendingError) reportPending(c);
  if (i.mod === 3) {
    if (!control) recordIp(c, i, f);
    regOp(c, i, f, index, i.rm);
    return;
  }
  const off = i.ea(c);
  if (!control) {
    recordIp(c, i, f);
    f.fdp = off;
    f.fds = c.segSel[i.seg];
  }
  memOp(c, i, f, index, off);
}

function recordIp(c: Cpu, i: Insn, f: Fpu): void {
  f.fip = i.eip;
  f.fcs = c.segSel[CS];
  f.fop = ((i.op & 7) << 8) | (i.mod << 6) | (i.reg << 3) | i.rm;
}

function reportPending(c: Cpu): void {
  // With CR0.NE the error is an exception; without it the platform saw FERR# (IRQ 13) already.
  if (c.cr0 & CR0_NE) c.fault(VEC_MF);
}

for (let op = 0xd8; op <= 0xdf; op++) {
  def(op, (d, i) => {
    d.modrm(i);
    i.imm2 = ((op - 0xd8) << 3) | i.reg;
    i.exec = x87;
  });
}

// WAIT/FWAIT: #NM when TS and MP are set; reports pending unmasked exceptions.
def(0x9b, (d, i) => {
  i.exec = (c) => {
    if ((c.cr0 & (CR0_TS | CR0_MP)) === (CR0_TS | CR0_MP)) c.fault(VEC_NM);
    if (c.fpu.pendingError) reportPending(c);
  };
});

// ---- FXSAVE / FXRSTOR (0F AE /0, /1) --------------------------------------------------------------
def0f(0xae, (d, i) => {
  d.modrm(i);
  if (i.mod === 3 || i.reg > 1) {
    i.exec = udHandler;
    return;
  }
  i.exec = i.reg === 0 ? fxsave : fxrstor;
});

function fxsave(c: Cpu, i: Insn): void {
  if (c.cr0 & (CR0_EM | CR0_TS)) c.fault(c.cr0 & CR0_EM ? VEC_UD : VEC_NM);
  const off = i.ea(c);
  if (((c.segBase[i.seg] + off) & 15) !== 0) c.fault(VEC_GP, 0);
  const f = c.fpu;
  const b = new Uint8Array(512);
  const dv = new DataView(b.buffer);
  dv.setUint16(0, f.fcw, true);
  dv.setUint16(2, f.status, true);
  b[4] = f.abridgedTag;
  dv.setUint16(6, f.fop, true);
  dv.setUint32(8, f.fip, true);
  dv.setUint16(12, f.fcs, true);
  dv.setUint32(16, f.fdp, true);
  dv.setUint16(20, f.fds, true);
  // No SSE: MXCSR and its mask read as the architectural defaults.
  dv.setUint32(24, 0x1f80, true);
  dv.setUint32(28, 0xffbf, true);
  for (let k = 0; k < 8; k++) if (!f.isEmpty(k)) toExtended(f.get(k), b, 32 + k * 16);
  c.linW(i.seg, addr(i, off, 511), 1);
  for (let k = 0; k < 512; k += 4) c.write32(i.seg, addr(i, off, k), dv.getInt32(k, true));
}

function fxrstor(c: Cpu, i: Insn): void {
  if (c.cr0 & (CR0_EM | CR0_TS)) c.fault(c.cr0 & CR0_EM ? VEC_UD : VEC_NM);
  const off = i.ea(c);
  if (((c.segBase[i.seg] + off) & 15) !== 0) c.fault(VEC_GP, 0);
  const b = new Uint8Array(512);
  const dv = new DataView(b.buffer);
  for (let k = 0; k < 512; k += 4) dv.setInt32(k, c.read32(i.seg, addr(i, off, k)), true);
  if (dv.getUint32(24, true) & 0xffff0000) c.fault(VEC_GP, 0); // reserved MXCSR bits
  const f = c.fpu;
  f.fcw = (dv.getUint16(0, true) & 0x1f7f) | 0x40;
  f.status = dv.getUint16(2, true);
  f.fop = dv.getUint16(6, true) & 0x7ff;
  f.fip = dv.getUint32(8, true);
  f.fcs = dv.getUint16(12, true);
  f.fdp = dv.getUint32(16, true);
  f.fds = dv.getUint16(20, true);
  // Registers are stored in stack order; the abridged tag is by physical register.
  for (let k = 0; k < 8; k++) f.r[f.phys(k)] = fromExtended(b, 32 + k * 16);
  f.abridgedTag = b[4];
  recheckPending(f);
}

