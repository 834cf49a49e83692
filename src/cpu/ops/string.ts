/**
 * String instructions: MOVS CMPS STOS LODS SCAS INS OUTS in byte/word/dword forms, with REP,
 * REPE and REPNE, the direction flag, 16- or 32-bit addressing (SI/DI/CX or ESI/EDI/ECX), a
 * segment override on the source (DS by default) and ES fixed for the destination.
 *
 * Each iteration commits its register updates, so a fault in the middle leaves a restartable
 * state with EIP still at the instruction (REPE/REPNE CMPS/SCAS also restore EFLAGS then). A REP instruction runs at most REP_CHUNK iterations
 * per execution and then returns to the run loop with EIP unchanged, so interrupts are served
 * during long copies. REP MOVS/STOS have a bulk path for runs that stay within one RAM page on
 * both sides.
 */
import type { Cpu } from '../cpu.js';
import type { Insn } from '../insn.js';
import type { Decoder } from '../decoder.js';
import { DS, ES, FLAG_DF } from '../arch.js';
import { LazyOp, setLazy } from '../flags.js';
import { def } from './table.js';
import { checkIoPermission } from './io.js';
import { setR8 } from './regs.js';
import { TLB_VALID } from '../cpu.js';

const REP_CHUNK = 4096;

const enum Kind {
  Movs, Cmps, Stos, Lods, Scas, Ins, Outs,
}

function srcSeg(i: Insn): number {
  return i.segOverride >= 0 ? i.segOverride : DS;
}

/** Reads index register `r` (SI/ESI or DI/EDI) for the instruction's address size. */
function idx(c: Cpu, i: Insn, r: number): number {
  return i.a32 ? c.regs[r] : c.regs[r] & 0xffff;
}

function advance(c: Cpu, i: Insn, r: number, delta: number): void {
  if (i.a32) c.regs[r] = c.regs[r] + delta;
  else c.regs[r] = (c.regs[r] & ~0xffff) | ((c.regs[r] + delta) & 0xffff);
}

function count(c: Cpu, i: Insn): number {
  return i.a32 ? c.regs[1] >>> 0 : c.regs[1] & 0xffff;
}

function setCount(c: Cpu, i: Insn, n: number): void {
  if (i.a32) c.regs[1] = n;
  else c.regs[1] = (c.regs[1] & ~0xffff) | (n & 0xffff);
}

function rd(c: Cpu, seg: number, off: number, size: number): number {
  return size === 1 ? c.read8(seg, off) : size === 2 ? c.read16(seg, off) : c.read32(seg, off);
}

function wr(c: Cpu, seg: number, off: number, size: number, v: number): void {
  if (size === 1) c.write8(seg, off, v);
  else if (size === 2) c.write16(seg, off, v);
  else c.write32(seg, off, v);
}

function setAcc(c: Cpu, size: number, v: number): void {
  if (size === 1) setR8(c, 0, v);
  else if (size === 2) c.regs[0] = (c.regs[0] & ~0xffff) | (v & 0xffff);
  else c.regs[0] = v;
}

function acc(c: Cpu, size: number): number {
  return size === 1 ? c.regs[0] & 0xff : size === 2 ? c.regs[0] & 0xffff : c.regs[0];
}

/** One iteration; returns false for CMPS/SCAS when a REPE/REPNE condition ends the loop. */
function once(c: Cpu, i: Insn, kind: Kind, size: number, step: number): boolean {
  switch (kind) {
    case Kind.Movs: {
      const v = rd(c, srcSeg(i), idx(c, i, 6), size);
      wr(c, ES, idx(c, i, 7), size, v);
      advance(c, i, 6, step);
      advance(c, i, 7, step);
      return true;
    }
    case Kind.Stos:
      wr(c, ES, idx(c, i, 7), size, acc(c, size));
      advance(c, i, 7, step);
      return true;
    case Kind.Lods:
      setAcc(c, size, rd(c, srcSeg(i), idx(c, i, 6), size));
      advance(c, i, 6, step);
      return true;
    case Kind.Cmps: {
      // The destination (ES:EDI) is read first: with both operands on not-present pages the
      // processor's #PF reports EDI's address (measured).
      const b = rd(c, ES, idx(c, i, 7), size);
      const a = rd(c, srcSeg(i), idx(c, i, 6), size);
      advance(c, i, 6, step);
      advance(c, i, 7, step);
      setLazy(c, LazyOp.Sub, size * 8, a, b, a - b);
      return i.rep === 1 ? a === b : a !== b;
    }
    case Kind.Scas: {
      const a = acc(c, size);
      const b = rd(c, ES, idx(c, i, 7), size);
      advance(c, i, 7, step);
      setLazy(c, LazyOp.Sub, size * 8, a, b, a - b);
      return i.rep === 1 ? a === b : a !== b;
    }
    case Kind.Ins: {
      const port = c.regs[2] & 0xffff;
      // The destination is checked before the port is read (reading a port can have effects).
      const off = idx(c, i, 7);
      c.linW(ES, off, size);
      const v = c.bus.ioRead(port, size as 1 | 2 | 4);
      wr(c, ES, off, size, v);
      advance(c, i, 7, step);
      return true;
    }
    default: {
      const v = rd(c, srcSeg(i), idx(c, i, 6), size);
      c.bus.ioWrite(c.regs[2] & 0xffff, size as 1 | 2 | 4, v);
      advance(c, i, 6, step);
      return true;
    }
  }
}

/** The single (non-REP) form: one iteration, EIP advances normally. */
function single(kind: Kind, size: number) {
  return (c: Cpu, i: Insn): void => {
    if (kind === Kind.Ins || kind === Kind.Outs) checkIoPermission(c, c.regs[2] & 0xffff, size);
    once(c, i, kind, size, c.flags & FLAG_DF ? -size : size);
  };
}

/** The REP form: up to REP_CHUNK iterations, then EIP stays here (resume) or moves on (done). */
function repeated(kind: Kind, size: number) {
  const conditional = kind === Kind.Cmps || kind === Kind.Scas;
  const bulkable = kind === Kind.Movs || kind === Kind.Stos;
  return (c: Cpu, i: Insn): void => {
    const step = c.flags & FLAG_DF ? -size : size;
    if (kind === Kind.Ins || kind === Kind.Outs) checkIoPermission(c, c.regs[2] & 0xffff, size);
    // SDM vol. 2 (REP prefix): a fault during REPE/REPNE CMPS or SCAS restores EFLAGS to its
    // state before the instruction; ECX/ESI/EDI keep the completed iterations. The state before
    // the instruction survives our own chunking: a resumed instruction keeps its first value.
    // (The try/catch is only on that path: it costs the plain MOVS/STOS loop a few percent.)
    let r: number;
    let saved = 0;
    if (conditional) {
      saved = c.repResume && c.repEip === i.eip ? c.repFlags : c.getFlags();
      c.repResume = false;
      try {
        r = iterate(c, i, kind, size, step, bulkable);
      } catch (e) {
        c.flags = saved;
        c.lazy = 0;
        throw e;
      }
    } else {
      r = iterate(c, i, kind, size, step, bulkable);
    }
    const finished = r <= 0;
    c.eip = finished ? i.next : i.eip;
    if (conditional && !finished) {
      c.repResume = true;
      c.repEip = i.eip;
      c.repFlags = saved;
    }
    c.stopBlock = true;
  };
}

/**
 * Up to REP_CHUNK iterations of a REP instruction. Returns the count left when the chunk ran out
 * (> 0), or 0 when the instruction is finished (count exhausted, or a REPE/REPNE condition ended it).
 */
function iterate(c: Cpu, i: Insn, kind: Kind, size: number, step: number, bulkable: boolean): number {
  let n = count(c, i);
  let budget = REP_CHUNK;
  while (n !== 0 && budget > 0) {
    if (bulkable && n > 1) {
      const done = bulk(c, i, kind, size, step, Math.min(n, budget));
      if (done > 0) {
        n -= done;
        budget -= done;
        setCount(c, i, n);
        continue;
      }
    }
    const more = once(c, i, kind, size, step);
    n = i.a32 ? (n - 1) >>> 0 : (n - 1) & 0xffff;
    setCount(c, i, n);
    budget--;
    if (!more) return 0;
  }
  return n;
}

/**
 * Bulk REP MOVS/STOS for an ascending run that stays inside one page on each side, with flat
 * segments and RAM pages writable through the TLB. Returns the number of elements done (0 to
 * fall back to the one-at-a-time path, which handles every fault and corner case).
 */
function bulk(c: Cpu, i: Insn, kind: Kind, size: number, step: number, max: number): number {
  if (step < 0) return 0;
  const di = idx(c, i, 7);
  const dlin = c.linW(ES, di, size);
  const dPage = 4096 - (dlin & 0xfff);
  let n = Math.min(max, Math.floor(dPage / size));
  if (!i.a32) n = Math.min(n, Math.floor((0x10000 - di) / size));
  if (n <= 1) return 0;
  const bytes = n * size;
  // The whole destination run must pass the segment check, not just its first element.
  c.linW(ES, di, bytes);
  const we = c.tlbW[dlin >>> 12];
  if ((we & TLB_VALID) === 0) return 0;
  const dphys = (we & -4096) | (dlin & 0xfff);
  const m = c.ram8;
  if (kind === Kind.Movs) {
    const si = idx(c, i, 6);
    const slin = c.linR(srcSeg(i), si, size);
    const sPage = 4096 - (slin & 0xfff);
    if (sPage < bytes || (!i.a32 && si + bytes > 0x10000)) return 0;
    c.linR(srcSeg(i), si, bytes);
    const re = c.tlbR[slin >>> 12];
    if ((re & TLB_VALID) === 0) return 0;
    const sphys = (re & -4096) | (slin & 0xfff);
    // Overlapping forward copies must behave as element-by-element copies.
    if (sphys < dphys && sphys + bytes > dphys) return 0;
    if (c.codePage[dphys >>> 12]) c.blocks.invalidateWrite(dphys, bytes);
    m.copyWithin(dphys, sphys, sphys + bytes);
    advance(c, i, 6, bytes);
  } else {
    if (c.codePage[dphys >>> 12]) c.blocks.invalidateWrite(dphys, bytes);
    const v = acc(c, size);
    if (size === 1) m.fill(v & 0xff, dphys, dphys + bytes);
    else {
      for (let k = 0; k < bytes; k += size) {
        m[dphys + k] = v;
        m[dphys + k + 1] = v >> 8;
        if (size === 4) {
          m[dphys + k + 2] = v >> 16;
          m[dphys + k + 3] = v >> 24;
        }
      }
    }
  }
  advance(c, i, 7, bytes);
  return n;
}

function defString(op: number, kind: Kind, byte: boolean) {
  // Handlers are made once per form at load time, not per decoded instruction.
  const sizes = byte ? [1] : [2, 4];
  const one = sizes.map((sz) => single(kind, sz));
  const rep = sizes.map((sz) => repeated(kind, sz));
  def(op, (d: Decoder, i: Insn) => {
    const k = byte || !i.o32 ? 0 : 1;
    // F2 on a string op without a condition acts as REP (as on P6 hardware).
    if (kind !== Kind.Cmps && kind !== Kind.Scas && i.rep === 2) i.rep = 1;
    if (i.rep === 0) {
      i.exec = one[k];
      return;
    }
    i.exec = rep[k];
    // A REP instruction sets EIP itself (it may resume), so it ends its block.
    d.branch();
  });
}
defString(0xa4, Kind.Movs, true);
defString(0xa5, Kind.Movs, false);
defString(0xa6, Kind.Cmps, true);
defString(0xa7, Kind.Cmps, false);
defString(0xaa, Kind.Stos, true);
defString(0xab, Kind.Stos, false);
defString(0xac, Kind.Lods, true);
defString(0xad, Kind.Lods, false);
defString(0xae, Kind.Scas, true);
defString(0xaf, Kind.Scas, false);
defString(0x6c, Kind.Ins, true);
defString(0x6d, Kind.Ins, false);
defString(0x6e, Kind.Outs, true);
defString(0x6f, Kind.Outs, false);
