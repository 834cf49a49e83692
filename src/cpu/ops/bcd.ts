/**
 * Decimal and miscellaneous one-byte instructions: DAA DAS AAA AAS AAM AAD (BCD adjusts), SALC
 * (undocumented D6, present on P6), BOUND (62), INT1/ICEBP (F1).
 */
import type { Cpu } from '../cpu.js';
import { ea } from '../insn.js';
import { FLAG_AF, FLAG_CF, FLAG_OF, FLAG_PF, FLAG_SF, FLAG_ZF, VEC_BR, VEC_DB, VEC_DE } from '../arch.js';
import { getAF, getCF, setFlags, szp } from '../flags.js';
import { checkLock, def, udHandler } from './table.js';
import { setR8, sext } from './regs.js';
import { deliver, EventKind } from '../interrupts.js';

const ALL = FLAG_CF | FLAG_PF | FLAG_AF | FLAG_ZF | FLAG_SF | FLAG_OF;

function daa(c: Cpu): void {
  const old = c.regs[0] & 0xff;
  const oldCf = getCF(c);
  let al = old, cf = 0, af = 0;
  if ((al & 0x0f) > 9 || getAF(c)) {
    al += 6;
    cf = oldCf | (al > 0xff ? 1 : 0);
    af = FLAG_AF;
  }
  if (old > 0x99 || oldCf) {
    al += 0x60;
    cf = 1;
  }
  al &= 0xff;
  setR8(c, 0, al);
  setFlags(c, ALL, cf | af | szp(8, al));
}

function das(c: Cpu): void {
  const old = c.regs[0] & 0xff;
  const oldCf = getCF(c);
  let al = old, cf = 0, af = 0;
  if ((al & 0x0f) > 9 || getAF(c)) {
    al -= 6;
    cf = oldCf | (al < 0 ? 1 : 0);
    af = FLAG_AF;
  }
  if (old > 0x99 || oldCf) {
    al -= 0x60;
    cf = 1;
  }
  al &= 0xff;
  setR8(c, 0, al);
  setFlags(c, ALL, cf | af | szp(8, al));
}

function aaa(c: Cpu, sub: boolean): void {
  const r = c.regs;
  let ax = r[0] & 0xffff;
  let cfaf = 0;
  if ((ax & 0x0f) > 9 || getAF(c)) {
    ax = sub ? ax - 0x106 : ax + 0x106;
    cfaf = FLAG_CF | FLAG_AF;
  }
  ax = (ax & 0xff0f) & 0xffff;
  r[0] = (r[0] & ~0xffff) | ax;
  setFlags(c, ALL, cfaf | szp(8, ax & 0xff));
}

def(0x27, (d, i) => {
  i.exec = daa;
});
def(0x2f, (d, i) => {
  i.exec = das;
});
def(0x37, (d, i) => {
  i.exec = (c) => aaa(c, false);
});
def(0x3f, (d, i) => {
  i.exec = (c) => aaa(c, true);
});
def(0xd4, (d, i) => {
  i.imm = d.imm8();
  i.exec = (c, i) => {
    if (i.imm === 0) c.fault(VEC_DE);
    const al = c.regs[0] & 0xff;
    const ah = Math.floor(al / i.imm), rem = al % i.imm;
    c.regs[0] = (c.regs[0] & ~0xffff) | (ah << 8) | rem;
    setFlags(c, ALL, szp(8, rem));
  };
});
def(0xd5, (d, i) => {
  i.imm = d.imm8();
  i.exec = (c, i) => {
    const al = ((c.regs[0] & 0xff) + ((c.regs[0] >> 8) & 0xff) * i.imm) & 0xff;
    c.regs[0] = (c.regs[0] & ~0xffff) | al;
    setFlags(c, ALL, szp(8, al));
  };
});
def(0xd6, (d, i) => {
  i.exec = (c) => setR8(c, 0, getCF(c) ? 0xff : 0);
});

// BOUND r, m16&16 / m32&32: #BR when the signed index is outside [lower, upper].
def(0x62, (d, i) => {
  d.modrm(i);
  if (i.mod === 3) {
    i.exec = udHandler;
    return;
  }
  i.exec = (c, i) => {
    const off = ea(c, i);
    const size = i.o32 ? 4 : 2;
    const next = i.a32 ? (off + size) | 0 : (off + size) & 0xffff;
    // The lower bound is read and checked before the upper one is read (measured: an index below
    // the lower bound raises #BR even when the upper bound is on a not-present page).
    const v = size === 4 ? c.regs[i.reg] : sext(c.regs[i.reg], 16);
    const lo = size === 4 ? c.read32(i.seg, off) : sext(c.read16(i.seg, off), 16);
    if (v < lo) c.fault(VEC_BR);
    const hi = size === 4 ? c.read32(i.seg, next) : sext(c.read16(i.seg, next), 16);
    if (v > hi) c.fault(VEC_BR);
  };
  checkLock(i, false);
});

// INT1 / ICEBP: a debug trap through vector 1 without the privilege check of INT n.
def(0xf1, (d, i) => {
  i.exec = (c, i) => {
    c.eip = i.next;
    deliver(c, VEC_DB, EventKind.External, false, 0);
  };
  d.branch();
});
