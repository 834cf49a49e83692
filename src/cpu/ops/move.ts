/**
 * Data movement: MOV (88-8C, 8E, A0-A3, B0-BF, C6/C7), LEA, XCHG, MOVZX/MOVSX, CBW/CWDE/CWD/CDQ,
 * CMOVcc, SETcc, BSWAP, XLAT, CMPXCHG, XADD, CMPXCHG8B, LAHF/SAHF, NOP/PAUSE.
 */
import type { Cpu } from '../cpu.js';
import { ea, type Handler, type Insn } from '../insn.js';
import { FLAG_AF, FLAG_CF, FLAG_PF, FLAG_SF, FLAG_ZF, SS, VEC_UD } from '../arch.js';
import { LazyOp, setFlags, setLazy, testCC } from '../flags.js';
import { checkLock, def, def0f, udHandler } from './table.js';
import { getR8, setR8, sext } from './regs.js';
import { readRm, writeRm, alu } from './alu.js';
import { loadDataSeg } from '../segments.js';

// ---- MOV ------------------------------------------------------------------------------------------
// Top-level handlers (not closures made per decoded instruction), so each is one function
// object that call sites and the block compiler see again and again.
const movEbGbR = (c: Cpu, i: Insn): void => setR8(c, i.rm, getR8(c, i.reg));
const movEbGbM = (c: Cpu, i: Insn): void => c.write8(i.seg, ea(c, i), getR8(c, i.reg));
const movEdGdR = (c: Cpu, i: Insn): void => { c.regs[i.rm] = c.regs[i.reg]; };
const movEdGdM = (c: Cpu, i: Insn): void => c.write32(i.seg, ea(c, i), c.regs[i.reg]);
const movEwGwR = (c: Cpu, i: Insn): void => { c.regs[i.rm] = (c.regs[i.rm] & ~0xffff) | (c.regs[i.reg] & 0xffff); };
const movEwGwM = (c: Cpu, i: Insn): void => c.write16(i.seg, ea(c, i), c.regs[i.reg]);
const movGbEbR = (c: Cpu, i: Insn): void => setR8(c, i.reg, getR8(c, i.rm));
const movGbEbM = (c: Cpu, i: Insn): void => setR8(c, i.reg, c.read8(i.seg, ea(c, i)));
const movGdEdR = (c: Cpu, i: Insn): void => { c.regs[i.reg] = c.regs[i.rm]; };
const movGdEdM = (c: Cpu, i: Insn): void => { c.regs[i.reg] = c.read32(i.seg, ea(c, i)); };
const movGwEwR = (c: Cpu, i: Insn): void => { c.regs[i.reg] = (c.regs[i.reg] & ~0xffff) | (c.regs[i.rm] & 0xffff); };
const movGwEwM = (c: Cpu, i: Insn): void => { c.regs[i.reg] = (c.regs[i.reg] & ~0xffff) | c.read16(i.seg, ea(c, i)); };
def(0x88, (d, i) => {
  d.modrm(i);
  i.exec = i.mod === 3 ? movEbGbR : movEbGbM;
  checkLock(i, false);
});
def(0x89, (d, i) => {
  d.modrm(i);
  if (i.o32) i.exec = i.mod === 3 ? movEdGdR : movEdGdM;
  else i.exec = i.mod === 3 ? movEwGwR : movEwGwM;
  checkLock(i, false);
});
def(0x8a, (d, i) => {
  d.modrm(i);
  i.exec = i.mod === 3 ? movGbEbR : movGbEbM;
  checkLock(i, false);
});
def(0x8b, (d, i) => {
  d.modrm(i);
  if (i.o32) i.exec = i.mod === 3 ? movGdEdR : movGdEdM;
  else i.exec = i.mod === 3 ? movGwEwR : movGwEwM;
  checkLock(i, false);
});
// MOV r/m, Sreg: a register destination gets the selector zero-extended with 32-bit operand size.
def(0x8c, (d, i) => {
  d.modrm(i);
  if (i.reg > 5) {
    i.exec = udHandler;
    return;
  }
  i.exec = i.mod === 3
    ? (c, i) => {
        if (i.o32) c.regs[i.rm] = c.segSel[i.reg];
        else c.regs[i.rm] = (c.regs[i.rm] & ~0xffff) | c.segSel[i.reg];
      }
    : (c, i) => c.write16(i.seg, ea(c, i), c.segSel[i.reg]);
  checkLock(i, false);
});
def(0x8e, (d, i) => {
  d.modrm(i);
  if (i.reg === 1 || i.reg > 5) {
    i.exec = udHandler;
    return;
  }
  i.exec = (c, i) => {
    const sel = i.mod === 3 ? c.regs[i.rm] & 0xffff : c.read16(i.seg, ea(c, i));
    loadDataSeg(c, i.reg, sel);
    if (i.reg === SS) c.inhibitIrq = true;
  };
  if (i.reg === SS) d.end();
  checkLock(i, false);
});
// MOV AL/eAX <-> moffs
def(0xa0, (d, i) => {
  i.imm = d.a32 ? d.imm32() : d.imm16();
  i.seg = i.segOverride >= 0 ? i.segOverride : 3;
  i.exec = (c, i) => setR8(c, 0, c.read8(i.seg, i.imm));
});
def(0xa1, (d, i) => {
  i.imm = d.a32 ? d.imm32() : d.imm16();
  i.seg = i.segOverride >= 0 ? i.segOverride : 3;
  i.exec = i.o32
    ? (c, i) => { c.regs[0] = c.read32(i.seg, i.imm); }
    : (c, i) => { c.regs[0] = (c.regs[0] & ~0xffff) | c.read16(i.seg, i.imm); };
});
def(0xa2, (d, i) => {
  i.imm = d.a32 ? d.imm32() : d.imm16();
  i.seg = i.segOverride >= 0 ? i.segOverride : 3;
  i.exec = (c, i) => c.write8(i.seg, i.imm, c.regs[0]);
});
def(0xa3, (d, i) => {
  i.imm = d.a32 ? d.imm32() : d.imm16();
  i.seg = i.segOverride >= 0 ? i.segOverride : 3;
  i.exec = i.o32 ? (c, i) => c.write32(i.seg, i.imm, c.regs[0]) : (c, i) => c.write16(i.seg, i.imm, c.regs[0]);
});
for (let r = 0; r < 8; r++) {
  def(0xb0 + r, (d, i) => {
    i.reg = r;
    i.imm = d.imm8();
    i.exec = (c, i) => setR8(c, i.reg, i.imm);
  });
  def(0xb8 + r, (d, i) => {
    i.reg = r;
    i.imm = d.immV();
    i.exec = i.o32
      ? (c, i) => { c.regs[i.reg] = i.imm; }
      : (c, i) => { c.regs[i.reg] = (c.regs[i.reg] & ~0xffff) | i.imm; };
  });
}
def(0xc6, (d, i) => {
  d.modrm(i);
  i.imm = d.imm8();
  if (i.reg !== 0) i.exec = udHandler;
  else i.exec = i.mod === 3 ? (c, i) => setR8(c, i.rm, i.imm) : (c, i) => c.write8(i.seg, ea(c, i), i.imm);
  checkLock(i, false);
});
def(0xc7, (d, i) => {
  d.modrm(i);
  i.imm = d.immV();
  if (i.reg !== 0) i.exec = udHandler;
  else if (i.o32) i.exec = i.mod === 3 ? (c, i) => { c.regs[i.rm] = i.imm; } : (c, i) => c.write32(i.seg, ea(c, i), i.imm);
  else i.exec = i.mod === 3 ? (c, i) => { c.regs[i.rm] = (c.regs[i.rm] & ~0xffff) | i.imm; } : (c, i) => c.write16(i.seg, ea(c, i), i.imm);
  checkLock(i, false);
});

// ---- LEA --------------------------------------------------------------------------------------------
const lea32 = (c: Cpu, i: Insn): void => { c.regs[i.reg] = ea(c, i); };
const lea16 = (c: Cpu, i: Insn): void => { c.regs[i.reg] = (c.regs[i.reg] & ~0xffff) | (ea(c, i) & 0xffff); };
def(0x8d, (d, i) => {
  d.modrm(i);
  if (i.mod === 3) i.exec = udHandler;
  else i.exec = i.o32 ? lea32 : lea16;
  checkLock(i, false);
});

// ---- XCHG -------------------------------------------------------------------------------------------
def(0x86, (d, i) => {
  d.modrm(i);
  i.exec = (c, i) => {
    if (i.mod === 3) {
      const a = getR8(c, i.rm);
      setR8(c, i.rm, getR8(c, i.reg));
      setR8(c, i.reg, a);
    } else {
      const lin = c.linRmw(i.seg, ea(c, i), 1);
      const a = c.rd8(lin);
      c.wr8(lin, getR8(c, i.reg));
      setR8(c, i.reg, a);
    }
  };
  checkLock(i, true);
  if (i.lock && i.mod !== 3) i.lock = false;
});
def(0x87, (d, i) => {
  d.modrm(i);
  const bits = i.o32 ? 32 : 16;
  i.exec = (c, i) => {
    if (i.mod === 3) {
      const a = readRm(c, i, bits);
      writeRm(c, i, bits, c.regs[i.reg]);
      if (bits === 32) c.regs[i.reg] = a;
      else c.regs[i.reg] = (c.regs[i.reg] & ~0xffff) | a;
    } else {
      const lin = c.linRmw(i.seg, ea(c, i), bits >> 3);
      const a = bits === 32 ? c.rd32(lin) : c.rd16(lin);
      if (bits === 32) c.wr32(lin, c.regs[i.reg]);
      else c.wr16(lin, c.regs[i.reg]);
      if (bits === 32) c.regs[i.reg] = a;
      else c.regs[i.reg] = (c.regs[i.reg] & ~0xffff) | a;
    }
  };
  checkLock(i, true);
});
def(0x90, (d, i) => {
  // NOP (also PAUSE with F3). XCHG eAX,eAX has no effect even in 16-bit form.
  i.exec = () => {};
});
for (let r = 1; r < 8; r++) {
  def(0x90 + r, (d, i) => {
    i.reg = r;
    i.exec = i.o32
      ? (c, i) => {
          const t = c.regs[0];
          c.regs[0] = c.regs[i.reg];
          c.regs[i.reg] = t;
        }
      : (c, i) => {
          const t = c.regs[0] & 0xffff;
          c.regs[0] = (c.regs[0] & ~0xffff) | (c.regs[i.reg] & 0xffff);
          c.regs[i.reg] = (c.regs[i.reg] & ~0xffff) | t;
        };
  });
}

// ---- MOVZX / MOVSX ----------------------------------------------------------------------------------
// The 32-bit forms get their own top-level handlers (the hot ones in compiled kernel code).
const movzxR8 = (c: Cpu, i: Insn): void => { c.regs[i.reg] = getR8(c, i.rm); };
const movzxM8 = (c: Cpu, i: Insn): void => { c.regs[i.reg] = c.read8(i.seg, ea(c, i)); };
const movzxR16 = (c: Cpu, i: Insn): void => { c.regs[i.reg] = c.regs[i.rm] & 0xffff; };
const movzxM16 = (c: Cpu, i: Insn): void => { c.regs[i.reg] = c.read16(i.seg, ea(c, i)); };
const movsxR8 = (c: Cpu, i: Insn): void => { c.regs[i.reg] = (getR8(c, i.rm) << 24) >> 24; };
const movsxM8 = (c: Cpu, i: Insn): void => { c.regs[i.reg] = (c.read8(i.seg, ea(c, i)) << 24) >> 24; };
const movsxR16 = (c: Cpu, i: Insn): void => { c.regs[i.reg] = (c.regs[i.rm] << 16) >> 16; };
const movsxM16 = (c: Cpu, i: Insn): void => { c.regs[i.reg] = (c.read16(i.seg, ea(c, i)) << 16) >> 16; };
const MOVX32: Record<string, Handler> = {
  '8u3': movzxR8, '8u': movzxM8, '16u3': movzxR16, '16u': movzxM16,
  '8s3': movsxR8, '8s': movsxM8, '16s3': movsxR16, '16s': movsxM16,
};
function movx(srcBits: number, signed: boolean) {
  const reg32 = MOVX32[`${srcBits}${signed ? 's' : 'u'}3`], mem32 = MOVX32[`${srcBits}${signed ? 's' : 'u'}`];
  const o16: Handler = (c, i) => {
    let v = readRm(c, i, srcBits);
    if (signed) v = sext(v, srcBits);
    c.regs[i.reg] = (c.regs[i.reg] & ~0xffff) | (v & 0xffff);
  };
  return (d: import('../decoder.js').Decoder, i: Insn) => {
    d.modrm(i);
    i.exec = i.o32 ? (i.mod === 3 ? reg32 : mem32) : o16;
    checkLock(i, false);
  };
}
def0f(0xb6, movx(8, false));
def0f(0xb7, movx(16, false));
def0f(0xbe, movx(8, true));
def0f(0xbf, movx(16, true));

// ---- CBW/CWDE, CWD/CDQ ------------------------------------------------------------------------------
def(0x98, (d, i) => {
  i.exec = i.o32
    ? (c) => { c.regs[0] = (c.regs[0] << 16) >> 16; }
    : (c) => { c.regs[0] = (c.regs[0] & ~0xffff) | (((c.regs[0] << 24) >> 24) & 0xffff); };
});
def(0x99, (d, i) => {
  i.exec = i.o32
    ? (c) => { c.regs[2] = c.regs[0] >> 31; }
    : (c) => { c.regs[2] = (c.regs[2] & ~0xffff) | (((c.regs[0] << 16) >> 31) & 0xffff); };
});

// ---- CMOVcc, SETcc ----------------------------------------------------------------------------------
// The source is read (and may fault) whether or not the condition holds. A 32-bit CMOV writes
// nothing when false (zero-extension is a 64-bit-mode rule).
function cmovR32(c: Cpu, i: Insn): void {
  const v = c.regs[i.rm];
  if (testCC(c, i.imm2)) c.regs[i.reg] = v;
}
function cmovM32(c: Cpu, i: Insn): void {
  const v = c.read32(i.seg, ea(c, i));
  if (testCC(c, i.imm2)) c.regs[i.reg] = v;
}
function cmov16(c: Cpu, i: Insn): void {
  const v = readRm(c, i, 16);
  if (testCC(c, i.imm2)) c.regs[i.reg] = (c.regs[i.reg] & ~0xffff) | v;
}
function setccR(c: Cpu, i: Insn): void {
  setR8(c, i.rm, testCC(c, i.imm2) ? 1 : 0);
}
function setccM(c: Cpu, i: Insn): void {
  c.write8(i.seg, ea(c, i), testCC(c, i.imm2) ? 1 : 0);
}
for (let cc = 0; cc < 16; cc++) {
  def0f(0x40 + cc, (d, i) => {
    d.modrm(i);
    i.imm2 = cc;
    i.exec = i.o32 ? (i.mod === 3 ? cmovR32 : cmovM32) : cmov16;
    checkLock(i, false);
  });
  def0f(0x90 + cc, (d, i) => {
    d.modrm(i);
    i.imm2 = cc;
    i.exec = i.mod === 3 ? setccR : setccM;
    checkLock(i, false);
  });
}

// ---- BSWAP, XLAT, LAHF/SAHF -------------------------------------------------------------------------
for (let r = 0; r < 8; r++) {
  def0f(0xc8 + r, (d, i) => {
    i.reg = r;
    i.exec = i.o32
      ? (c, i) => {
          const v = c.regs[i.reg];
          c.regs[i.reg] = ((v & 0xff) << 24) | ((v & 0xff00) << 8) | ((v >>> 8) & 0xff00) | (v >>> 24);
        }
      : (c, i) => {
          // BSWAP with a 16-bit operand is undefined; P6 hardware clears the low word.
          c.regs[i.reg] &= ~0xffff;
        };
  });
}
def(0xd7, (d, i) => {
  i.seg = i.segOverride >= 0 ? i.segOverride : 3;
  i.exec = i.a32
    ? (c, i) => setR8(c, 0, c.read8(i.seg, (c.regs[3] + (c.regs[0] & 0xff)) | 0))
    : (c, i) => setR8(c, 0, c.read8(i.seg, (c.regs[3] + (c.regs[0] & 0xff)) & 0xffff));
});
def(0x9f, (d, i) => {
  i.exec = (c) => setR8(c, 4, c.getFlags() & 0xff);
});
def(0x9e, (d, i) => {
  i.exec = (c) => setFlags(c, FLAG_SF | FLAG_ZF | FLAG_AF | FLAG_PF | FLAG_CF, getR8(c, 4));
});

// ---- CMPXCHG, XADD, CMPXCHG8B -----------------------------------------------------------------------
function cmpxchg(bits: number) {
  return (d: import('../decoder.js').Decoder, i: Insn) => {
    d.modrm(i);
    const b = bits === 8 ? 8 : i.o32 ? 32 : 16;
    i.exec = (c, i) => {
      const m = b === 32 ? -1 : (1 << b) - 1;
      if (i.mod !== 3) c.linRmw(i.seg, ea(c, i), b >> 3);
      const dest = readRm(c, i, b);
      const acc = b === 8 ? c.regs[0] & 0xff : c.regs[0] & m;
      alu(c, 7, b, acc, dest);
      if ((acc & m) === (dest & m)) {
        writeRm(c, i, b, b === 8 ? getR8(c, i.reg) : c.regs[i.reg]);
      } else {
        // The destination is written back with its own value (a locked cycle always writes).
        writeRm(c, i, b, dest);
        if (b === 8) setR8(c, 0, dest);
        else if (b === 16) c.regs[0] = (c.regs[0] & ~0xffff) | dest;
        else c.regs[0] = dest;
      }
    };
    checkLock(i, true);
  };
}
def0f(0xb0, cmpxchg(8));
def0f(0xb1, cmpxchg(16));

function xadd(bits: number) {
  return (d: import('../decoder.js').Decoder, i: Insn) => {
    d.modrm(i);
    const b = bits === 8 ? 8 : i.o32 ? 32 : 16;
    i.exec = (c, i) => {
      // The memory operand's address is taken once, before the source register changes.
      const lin = i.mod === 3 ? 0 : c.linRmw(i.seg, ea(c, i), b >> 3);
      const dest = i.mod === 3 ? readRm(c, i, b) : b === 8 ? c.rd8(lin) : b === 16 ? c.rd16(lin) : c.rd32(lin);
      const src = b === 8 ? getR8(c, i.reg) : b === 16 ? c.regs[i.reg] & 0xffff : c.regs[i.reg];
      const sum = alu(c, 0, b, dest, src);
      if (i.mod !== 3) {
        if (b === 8) c.wr8(lin, sum);
        else if (b === 16) c.wr16(lin, sum);
        else c.wr32(lin, sum);
      }
      // Register first, then a register destination: with the same register for both, the sum wins.
      if (b === 8) setR8(c, i.reg, dest);
      else if (b === 16) c.regs[i.reg] = (c.regs[i.reg] & ~0xffff) | dest;
      else c.regs[i.reg] = dest;
      if (i.mod === 3) writeRm(c, i, b, sum);
    };
    checkLock(i, true);
  };
}
def0f(0xc0, xadd(8));
def0f(0xc1, xadd(16));

def0f(0xc7, (d, i) => {
  d.modrm(i);
  if (i.reg !== 1 || i.mod === 3) {
    i.exec = udHandler;
    return;
  }
  i.exec = (c, i) => {
    const lin = c.linRmw(i.seg, ea(c, i), 8);
    const lo = c.rd32(lin), hi = c.rd32((lin + 4) | 0);
    if (lo === c.regs[0] && hi === c.regs[2]) {
      c.wr32(lin, c.regs[3]);
      c.wr32((lin + 4) | 0, c.regs[1]);
      setFlags(c, FLAG_ZF, FLAG_ZF);
    } else {
      c.wr32(lin, lo);
      c.wr32((lin + 4) | 0, hi);
      c.regs[0] = lo;
      c.regs[2] = hi;
      setFlags(c, FLAG_ZF, 0);
    }
  };
  checkLock(i, true);
});

// ---- LES LDS LSS LFS LGS: load a far pointer into a segment register and a general register --------
function loadFar(seg: number) {
  return (d: import('../decoder.js').Decoder, i: Insn) => {
    d.modrm(i);
    if (i.mod === 3) {
      i.exec = udHandler;
      return;
    }
    i.imm2 = seg;
    i.exec = (c, i) => {
      const off = ea(c, i);
      const size = i.o32 ? 4 : 2;
      const v = i.o32 ? c.read32(i.seg, off) : c.read16(i.seg, off);
      const sel = c.read16(i.seg, i.a32 ? (off + size) | 0 : (off + size) & 0xffff);
      loadDataSeg(c, i.imm2, sel);
      if (i.o32) c.regs[i.reg] = v;
      else c.regs[i.reg] = (c.regs[i.reg] & ~0xffff) | v;
      if (i.imm2 === SS) c.inhibitIrq = true;
    };
    if (seg === SS) d.end();
    checkLock(i, false);
  };
}
def(0xc4, loadFar(0));
def(0xc5, loadFar(3));
def0f(0xb2, loadFar(SS));
def0f(0xb4, loadFar(4));
def0f(0xb5, loadFar(5));

export { setLazy, LazyOp, VEC_UD };
