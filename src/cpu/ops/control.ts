/**
 * Control flow and the stack: Jcc, JMP, CALL, RET, LOOP/JCXZ, far JMP/CALL/RET, INT/INT3/INTO,
 * IRET, ENTER/LEAVE, PUSH/POP (registers, immediates, memory, segment registers), PUSHA/POPA,
 * PUSHF/POPF, and group 5 (FF).
 */
import type { Cpu } from '../cpu.js';
import { ea, type Insn } from '../insn.js';
import type { Decoder } from '../decoder.js';
import {
  CS, FLAG_ZF, FLAG_AC, FLAG_ID, FLAG_IF, FLAG_IOPL, FLAG_NT, FLAG_RF, FLAG_VIF, FLAG_VIP, FLAG_VM, SS, VEC_BP, VEC_GP, VEC_OF,
  CR4_VME,
} from '../arch.js';
import { getCF, getOF, getSF, getZF, testCC } from '../flags.js';
import { checkLock, def, def0f, udHandler } from './table.js';
import { incDecRm, readRm } from './alu.js';
import { deliver, EventKind } from '../interrupts.js';
import { farCall, farJump, farReturn, iret } from '../far.js';
import { loadDataSeg } from '../segments.js';

/** EIP must stay within CS: a near branch outside the limit faults before it is taken. */
function jumpTo(c: Cpu, target: number): void {
  if (target >>> 0 > c.segLimit[CS] && c.protectedMode && !c.v86) c.fault(VEC_GP, 0);
  c.eip = target;
}

// ---- Jcc --------------------------------------------------------------------------------------------
function jcc(c: Cpu, i: Insn): void {
  if (testCC(c, i.imm2)) jumpTo(c, i.target);
  else c.eip = i.next;
}
// The two most common conditions after lazy arithmetic get their own handlers (no testCC switch).
function jz(c: Cpu, i: Insn): void {
  if (c.lazy & FLAG_ZF ? (c.lr & c.lmask) === 0 : (c.flags & FLAG_ZF) !== 0) jumpTo(c, i.target);
  else c.eip = i.next;
}
function jnz(c: Cpu, i: Insn): void {
  if (c.lazy & FLAG_ZF ? (c.lr & c.lmask) !== 0 : (c.flags & FLAG_ZF) === 0) jumpTo(c, i.target);
  else c.eip = i.next;
}
function branchIf(c: Cpu, i: Insn, taken: boolean): void {
  if (taken) jumpTo(c, i.target);
  else c.eip = i.next;
}
const jb = (c: Cpu, i: Insn) => branchIf(c, i, getCF(c) !== 0);
const jae = (c: Cpu, i: Insn) => branchIf(c, i, getCF(c) === 0);
const jbe = (c: Cpu, i: Insn) => branchIf(c, i, getCF(c) !== 0 || getZF(c));
const ja = (c: Cpu, i: Insn) => branchIf(c, i, getCF(c) === 0 && !getZF(c));
const js = (c: Cpu, i: Insn) => branchIf(c, i, getSF(c) !== 0);
const jns = (c: Cpu, i: Insn) => branchIf(c, i, getSF(c) === 0);
const jl = (c: Cpu, i: Insn) => branchIf(c, i, getSF(c) !== getOF(c));
const jge = (c: Cpu, i: Insn) => branchIf(c, i, getSF(c) === getOF(c));
const jle = (c: Cpu, i: Insn) => branchIf(c, i, getZF(c) || getSF(c) !== getOF(c));
const jg = (c: Cpu, i: Insn) => branchIf(c, i, !getZF(c) && getSF(c) === getOF(c));
const JCC_FAST: Record<number, (c: Cpu, i: Insn) => void> = {
  2: jb, 3: jae, 4: jz, 5: jnz, 6: jbe, 7: ja, 8: js, 9: jns, 12: jl, 13: jge, 14: jle, 15: jg,
};
for (let cc = 0; cc < 16; cc++) {
  def(0x70 + cc, (d, i) => {
    i.imm2 = cc;
    i.target = d.relTarget(d.imm8s());
    i.exec = JCC_FAST[cc] ?? jcc;
    d.branch();
  });
  def0f(0x80 + cc, (d, i) => {
    i.imm2 = cc;
    i.target = d.relTarget(d.o32 ? d.imm32() : (d.imm16() << 16) >> 16);
    i.exec = JCC_FAST[cc] ?? jcc;
    d.branch();
  });
}

// ---- JMP / CALL / RET (near) ------------------------------------------------------------------------
const jmpRel = (c: Cpu, i: Insn) => jumpTo(c, i.target);
def(0xeb, (d, i) => {
  i.target = d.relTarget(d.imm8s());
  i.exec = jmpRel;
  d.branch();
});
def(0xe9, (d, i) => {
  i.target = d.relTarget(d.o32 ? d.imm32() : (d.imm16() << 16) >> 16);
  i.exec = jmpRel;
  d.branch();
});
function callRel32(c: Cpu, i: Insn): void {
  if (i.target >>> 0 > c.segLimit[CS] && c.protectedMode) c.fault(VEC_GP, 0);
  c.push32(i.next);
  c.eip = i.target;
}
function callRel16(c: Cpu, i: Insn): void {
  if (i.target >>> 0 > c.segLimit[CS] && c.protectedMode) c.fault(VEC_GP, 0);
  c.push16(i.next);
  c.eip = i.target;
}
def(0xe8, (d, i) => {
  i.target = d.relTarget(d.o32 ? d.imm32() : (d.imm16() << 16) >> 16);
  i.exec = i.o32 ? callRel32 : callRel16;
  d.branch();
});
function retNear(c: Cpu, i: Insn): void {
  const t = i.o32 ? c.peek32(0) : c.peek16(0);
  jumpTo(c, t);
  c.adjustSp((i.o32 ? 4 : 2) + i.imm);
}
def(0xc3, (d, i) => {
  i.imm = 0;
  i.exec = retNear;
  d.branch();
});
def(0xc2, (d, i) => {
  i.imm = d.imm16();
  i.exec = retNear;
  d.branch();
});

// ---- LOOP / LOOPE / LOOPNE / JCXZ -------------------------------------------------------------------
function loopOp(c: Cpu, i: Insn): void {
  const kind = i.op - 0xe0;
  let count: number;
  if (kind === 3) {
    count = i.a32 ? c.regs[1] : c.regs[1] & 0xffff;
    if (count === 0) jumpTo(c, i.target);
    else c.eip = i.next;
    return;
  }
  if (i.a32) count = c.regs[1] = c.regs[1] - 1;
  else {
    count = (c.regs[1] - 1) & 0xffff;
    c.regs[1] = (c.regs[1] & ~0xffff) | count;
  }
  let take = count !== 0;
  if (kind === 0) take = take && !testCC(c, 4); // LOOPNE: ZF = 0
  else if (kind === 1) take = take && testCC(c, 4); // LOOPE: ZF = 1
  if (take) jumpTo(c, i.target);
  else c.eip = i.next;
}
for (let op = 0xe0; op <= 0xe3; op++) {
  def(op, (d, i) => {
    i.target = d.relTarget(d.imm8s());
    i.exec = loopOp;
    d.branch();
  });
}

// ---- far transfers ----------------------------------------------------------------------------------
def(0xea, (d, i) => {
  i.imm = d.immV();
  i.imm2 = d.imm16();
  i.exec = (c, i) => farJump(c, i.imm2, i.imm, i.o32, i.next);
  d.branch();
});
def(0x9a, (d, i) => {
  i.imm = d.immV();
  i.imm2 = d.imm16();
  i.exec = (c, i) => farCall(c, i.imm2, i.imm, i.o32, i.next);
  d.branch();
});
def(0xcb, (d, i) => {
  i.imm = 0;
  i.exec = (c, i) => farReturn(c, i.o32, i.imm);
  d.branch();
});
def(0xca, (d, i) => {
  i.imm = d.imm16();
  i.exec = (c, i) => farReturn(c, i.o32, i.imm);
  d.branch();
});

// ---- INT n, INT3, INTO, IRET ------------------------------------------------------------------------
/** In v86 mode INT n is IOPL-sensitive (VME redirection is not implemented: see README). */
function softInt(c: Cpu, i: Insn, vector: number): void {
  if (c.v86 && (c.flags & FLAG_IOPL) !== FLAG_IOPL && vector !== VEC_BP && vector !== VEC_OF) {
    c.fault(VEC_GP, 0);
  }
  c.eip = i.next;
  deliver(c, vector, EventKind.Software, false, 0);
}
def(0xcd, (d, i) => {
  i.imm = d.imm8();
  i.exec = (c, i) => softInt(c, i, i.imm);
  d.branch();
});
def(0xcc, (d, i) => {
  // INT3 is a trap: the saved EIP is after it. (It skips the IOPL check in v86 mode.)
  i.exec = (c, i) => {
    c.eip = i.next;
    deliver(c, VEC_BP, EventKind.Software, false, 0);
  };
  d.branch();
});
def(0xce, (d, i) => {
  i.exec = (c, i) => {
    c.eip = i.next;
    if (getOF(c)) deliver(c, VEC_OF, EventKind.Software, false, 0);
  };
  d.branch();
});
def(0xcf, (d, i) => {
  i.exec = (c, i) => iret(c, i.o32, i.next);
  d.branch();
});

// ---- ENTER / LEAVE ----------------------------------------------------------------------------------
def(0xc8, (d, i) => {
  i.imm = d.imm16();
  i.imm2 = d.imm8() & 31;
  i.exec = enter;
});
function enter(c: Cpu, i: Insn): void {
  const size = i.imm, level = i.imm2;
  const unit = i.o32 ? 4 : 2;
  const r = c.regs;
  const spMask = c.ss32 ? -1 : 0xffff;
  // Hardware order: push (E)BP, copy the outer frame pointers, push the frame temp, then probe
  // the final (E)SP with write intent. The stores go through explicit offsets and the registers
  // change only at the end, so a fault (on a store or on the probe) leaves ESP/EBP intact while
  // the stores already done stay in memory, as on the processor.
  let sp = (r[4] - unit) & spMask;
  const frame = sp;
  const writeAt = (off: number, v: number) => (unit === 4 ? c.write32(SS, off, v) : c.write16(SS, off, v));
  const readAt = (off: number) => (unit === 4 ? c.read32(SS, off) : c.read16(SS, off));
  writeAt(sp, r[5]);
  let bp = r[5];
  if (level > 0) {
    for (let k = 1; k < level; k++) {
      bp = c.ss32 ? bp - unit : (bp & ~0xffff) | ((bp - unit) & 0xffff);
      sp = (sp - unit) & spMask;
      writeAt(sp, readAt(c.ss32 ? bp : bp & 0xffff));
    }
    sp = (sp - unit) & spMask;
    writeAt(sp, frame);
  }
  const newSp = (sp - size) & spMask;
  c.linRmw(SS, newSp, 1);
  if (unit === 4) r[5] = c.ss32 ? frame : (r[5] & ~0xffff) | (frame & 0xffff);
  else r[5] = (r[5] & ~0xffff) | (frame & 0xffff);
  r[4] = c.ss32 ? newSp : (r[4] & ~0xffff) | (newSp & 0xffff);
}
def(0xc9, (d, i) => {
  i.exec = (c, i) => {
    const bp = c.ss32 ? c.regs[5] : c.regs[5] & 0xffff;
    const v = i.o32 ? c.read32(SS, bp) : c.read16(SS, bp);
    const newSp = bp + (i.o32 ? 4 : 2);
    if (c.ss32) c.regs[4] = newSp;
    else c.regs[4] = (c.regs[4] & ~0xffff) | (newSp & 0xffff);
    if (i.o32) c.regs[5] = v;
    else c.regs[5] = (c.regs[5] & ~0xffff) | v;
  };
});

// ---- PUSH / POP ---------------------------------------------------------------------------------------
// Top-level handlers, one function object each, rather than closures made per decoded instruction.
// PUSH ESP pushes the value before the decrement.
const pushR32 = (c: Cpu, i: Insn): void => c.push32(c.regs[i.reg]);
const pushR16 = (c: Cpu, i: Insn): void => c.push16(c.regs[i.reg]);
const popR32 = (c: Cpu, i: Insn): void => {
  const v = c.pop32();
  c.regs[i.reg] = v;
};
const popR16 = (c: Cpu, i: Insn): void => {
  const v = c.pop16();
  c.regs[i.reg] = (c.regs[i.reg] & ~0xffff) | v;
};
for (let r = 0; r < 8; r++) {
  def(0x50 + r, (d, i) => {
    i.reg = r;
    i.exec = i.o32 ? pushR32 : pushR16;
  });
  def(0x58 + r, (d, i) => {
    i.reg = r;
    i.exec = i.o32 ? popR32 : popR16;
  });
}
def(0x68, (d, i) => {
  i.imm = d.immV();
  i.exec = i.o32 ? (c, i) => c.push32(i.imm) : (c, i) => c.push16(i.imm);
});
def(0x6a, (d, i) => {
  i.imm = d.imm8s();
  i.exec = i.o32 ? (c, i) => c.push32(i.imm) : (c, i) => c.push16(i.imm);
});
def(0x8f, (d, i) => {
  d.modrm(i);
  if (i.reg !== 0) {
    i.exec = udHandler;
    return;
  }
  // POP r/m: the address is computed with ESP already incremented (SDM), and ESP is only
  // committed once the store succeeded.
  i.exec = (c, i) => {
    const unit = i.o32 ? 4 : 2;
    const v = i.o32 ? c.peek32(0) : c.peek16(0);
    if (i.mod === 3) {
      c.adjustSp(unit);
      if (i.o32) c.regs[i.rm] = v;
      else c.regs[i.rm] = (c.regs[i.rm] & ~0xffff) | v;
      return;
    }
    const oldSp = c.regs[4];
    c.adjustSp(unit);
    try {
      if (i.o32) c.write32(i.seg, ea(c, i), v);
      else c.write16(i.seg, ea(c, i), v);
    } catch (e) {
      c.regs[4] = oldSp;
      throw e;
    }
  };
  checkLock(i, false);
});

// Segment register push/pop: ES 06/07, CS 0E, SS 16/17, DS 1E/1F, FS 0F A0/A1, GS 0F A8/A9.
function pushSeg(seg: number) {
  return (d: Decoder, i: Insn) => {
    i.reg = seg;
    // A 32-bit push of a segment register writes 16 bits into a 4-byte slot (P6 behaviour).
    i.exec = i.o32
      ? (c, i) => {
          const sp = c.ss32 ? c.regs[4] - 4 : (c.regs[4] - 4) & 0xffff;
          c.write16(SS, sp, c.segSel[i.reg]);
          c.adjustSp(-4);
        }
      : (c, i) => c.push16(c.segSel[i.reg]);
  };
}
function popSeg(seg: number) {
  return (d: Decoder, i: Insn) => {
    i.reg = seg;
    i.exec = (c, i) => {
      const v = i.o32 ? c.peek32(0) & 0xffff : c.peek16(0);
      loadDataSeg(c, i.reg, v);
      c.adjustSp(i.o32 ? 4 : 2);
      if (i.reg === SS) c.inhibitIrq = true;
    };
    if (seg === SS) d.end();
  };
}
def(0x06, pushSeg(0));
def(0x07, popSeg(0));
def(0x0e, pushSeg(1));
def(0x16, pushSeg(2));
def(0x17, popSeg(2));
def(0x1e, pushSeg(3));
def(0x1f, popSeg(3));
def0f(0xa0, pushSeg(4));
def0f(0xa1, popSeg(4));
def0f(0xa8, pushSeg(5));
def0f(0xa9, popSeg(5));

// ---- PUSHA / POPA -----------------------------------------------------------------------------------
def(0x60, (d, i) => {
  i.exec = (c, i) => {
    const r = c.regs;
    const unit = i.o32 ? 4 : 2;
    const spMask = c.ss32 ? -1 : 0xffff;
    const sp0 = r[4];
    for (let k = 0; k < 8; k++) {
      const off = (sp0 - unit * (k + 1)) & spMask;
      const v = k === 4 ? sp0 : r[k];
      if (unit === 4) c.write32(SS, off, v);
      else c.write16(SS, off, v);
    }
    c.adjustSp(-8 * unit);
  };
});
def(0x61, (d, i) => {
  i.exec = (c, i) => {
    const unit = i.o32 ? 4 : 2;
    const vals: number[] = [];
    for (let k = 0; k < 8; k++) vals.push(unit === 4 ? c.peek32(k * unit) : c.peek16(k * unit));
    const r = c.regs;
    for (let k = 0; k < 8; k++) {
      const reg = 7 - k;
      if (reg === 4) continue; // the saved ESP is skipped
      if (unit === 4) r[reg] = vals[k];
      else r[reg] = (r[reg] & ~0xffff) | vals[k];
    }
    c.adjustSp(8 * unit);
  };
});

// ---- PUSHF / POPF -----------------------------------------------------------------------------------
def(0x9c, (d, i) => {
  i.exec = (c, i) => {
    let f = c.getFlags();
    if (c.v86 && (f & FLAG_IOPL) !== FLAG_IOPL) {
      if (!(c.cr4 & CR4_VME) || i.o32) c.fault(VEC_GP, 0);
      // VME: the pushed IF is VIF.
      f = (f & ~FLAG_IF) | (f & FLAG_VIF ? FLAG_IF : 0) | FLAG_IOPL;
      c.push16(f);
      return;
    }
    // VM and RF are never pushed as set.
    if (i.o32) c.push32(f & ~(FLAG_VM | FLAG_RF));
    else c.push16(f);
  };
});
def(0x9d, (d, i) => {
  i.exec = (c, i) => popf(c, i);
  d.end();
});

export function popf(c: Cpu, i: Insn): void {
  const v = i.o32 ? c.peek32(0) : c.peek16(0);
  let mask = 0x0dd5 | FLAG_NT | (i.o32 ? FLAG_AC | FLAG_ID : 0); // status flags, TF, DF, OF, NT
  if (c.v86) {
    if ((c.flags & FLAG_IOPL) !== FLAG_IOPL) {
      if (!(c.cr4 & CR4_VME) || i.o32 || (v & 0x100) || ((v & FLAG_IF) && c.flags & FLAG_VIP)) c.fault(VEC_GP, 0);
      // VME: IF in the image goes to VIF.
      c.setFlagsMasked(v & 0xffff, mask & 0xffff & ~FLAG_IF);
      c.flags = (c.flags & ~FLAG_VIF) | (v & FLAG_IF ? FLAG_VIF : 0);
      c.adjustSp(2);
      return;
    }
    mask |= FLAG_IF; // IOPL stays
  } else if (c.protectedMode) {
    if (c.cpl === 0) mask |= FLAG_IOPL | FLAG_IF;
    else if (c.cpl <= ((c.flags & FLAG_IOPL) >> 12)) mask |= FLAG_IF;
  } else {
    mask |= FLAG_IOPL | FLAG_IF;
  }
  if (!i.o32) mask &= 0xffff;
  c.setFlagsMasked(v, mask);
  c.adjustSp(i.o32 ? 4 : 2);
}

// ---- Group 4 (FE) and group 5 (FF) ------------------------------------------------------------------
def(0xfe, (d, i) => {
  d.modrm(i);
  if (i.reg > 1) {
    i.exec = udHandler;
    return;
  }
  i.exec = i.reg === 0 ? (c, i) => incDecRm(c, i, 8, 1) : (c, i) => incDecRm(c, i, 8, -1);
  checkLock(i, true);
});
def(0xff, (d, i) => {
  d.modrm(i);
  const bits = i.o32 ? 32 : 16;
  switch (i.reg) {
    case 0:
      i.exec = (c, i) => incDecRm(c, i, bits, 1);
      checkLock(i, true);
      return;
    case 1:
      i.exec = (c, i) => incDecRm(c, i, bits, -1);
      checkLock(i, true);
      return;
    case 2:
      i.exec = (c, i) => {
        const t = readRm(c, i, bits);
        if (t >>> 0 > c.segLimit[CS] && c.protectedMode && !c.v86) c.fault(VEC_GP, 0);
        if (bits === 32) c.push32(i.next);
        else c.push16(i.next);
        c.eip = t;
      };
      d.branch();
      break;
    case 3:
    case 5:
      if (i.mod === 3) {
        i.exec = udHandler;
        d.end();
        return;
      }
      i.exec = (c, i) => {
        const off = ea(c, i);
        const target = bits === 32 ? c.read32(i.seg, off) : c.read16(i.seg, off);
        const sel = c.read16(i.seg, (off + (bits >> 3)) | 0);
        if (i.reg === 3) farCall(c, sel, target, i.o32, i.next);
        else farJump(c, sel, target, i.o32, i.next);
      };
      d.branch();
      break;
    case 4:
      i.exec = (c, i) => jumpTo(c, readRm(c, i, bits));
      d.branch();
      break;
    case 6:
      i.exec = (c, i) => {
        const v = readRm(c, i, bits);
        if (bits === 32) c.push32(v);
        else c.push16(v);
      };
      break;
    default:
      i.exec = udHandler;
      d.end();
      return;
  }
  checkLock(i, false);
});

export { FLAG_VIP };
