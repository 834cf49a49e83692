/**
 * Far control transfers (Intel SDM vol. 3, ch. 5.8 and the JMP/CALL/RET/IRET pages of vol. 2):
 * direct far jumps and calls to code segments, call gates with privilege changes and parameter
 * copying, task gates and TSS targets (task switches), far returns to the same or an outer
 * privilege level, and IRET in real, virtual-8086 and protected mode (including to v86 and nested
 * task return).
 */
import type { Cpu } from './cpu.js';
import {
  CS, DS, ES, FLAG_AC, FLAG_ID, FLAG_IF, FLAG_IOPL, FLAG_NT, FLAG_RF, FLAG_VIF, FLAG_VIP, FLAG_VM, FS, GS, SS,
  TR, VEC_GP, VEC_NP, VEC_SS, VEC_TS,
} from './arch.js';
import {
  ATTR_CODE, ATTR_CONFORMING, ATTR_PRESENT, ATTR_RW, ATTR_S, type Descriptor, dpl, loadCache, loadNull,
  markAccessed, probePush, readDescriptor, stackFits,
} from './segments.js';
import { taskSwitch, TaskSource } from './task.js';
import { stackFromTss } from './interrupts.js';

function realModeFar(c: Cpu): boolean {
  return !c.protectedMode || c.v86;
}

function mustDescriptor(c: Cpu, sel: number): Descriptor {
  if ((sel & 0xfffc) === 0) c.fault(VEC_GP, 0);
  const d = readDescriptor(c, sel);
  if (d === null) return c.fault(VEC_GP, sel & 0xfffc);
  return d;
}

function checkCodeForTransfer(c: Cpu, d: Descriptor, sel: number, rplMatters: boolean): void {
  const a = d.attr;
  if ((a & (ATTR_S | ATTR_CODE)) !== (ATTR_S | ATTR_CODE)) c.fault(VEC_GP, sel & 0xfffc);
  if (a & ATTR_CONFORMING) {
    if (dpl(a) > c.cpl) c.fault(VEC_GP, sel & 0xfffc);
  } else if ((rplMatters && (sel & 3) > c.cpl) || dpl(a) !== c.cpl) {
    c.fault(VEC_GP, sel & 0xfffc);
  }
  if ((a & ATTR_PRESENT) === 0) c.fault(VEC_NP, sel & 0xfffc);
}

function setCsAndEip(c: Cpu, sel: number, d: Descriptor, off: number, cpl: number): void {
  if (off >>> 0 > d.limit) c.fault(VEC_GP, 0);
  markAccessed(c, d);
  loadCache(c, CS, (sel & ~3) | cpl, d);
  c.setCpl(cpl);
  c.eip = off;
}

export function farJump(c: Cpu, sel: number, off: number, o32: boolean, next: number): void {
  if (!o32) off &= 0xffff;
  if (realModeFar(c)) {
    c.loadRealSeg(CS, sel);
    c.eip = off;
    c.stopBlock = true;
    return;
  }
  const d = mustDescriptor(c, sel);
  if (d.attr & ATTR_S) {
    checkCodeForTransfer(c, d, sel, true);
    setCsAndEip(c, sel, d, off, c.cpl);
    c.stopBlock = true;
    return;
  }
  const type = d.attr & 0x0f;
  if (type === 0x04 || type === 0x0c) {
    const g = gateTarget(c, d, sel);
    const td = mustDescriptor(c, g.sel);
    const a = td.attr;
    if ((a & (ATTR_S | ATTR_CODE)) !== (ATTR_S | ATTR_CODE)) c.fault(VEC_GP, g.sel & 0xfffc);
    if (a & ATTR_CONFORMING ? dpl(a) > c.cpl : dpl(a) !== c.cpl) c.fault(VEC_GP, g.sel & 0xfffc);
    if ((a & ATTR_PRESENT) === 0) c.fault(VEC_NP, g.sel & 0xfffc);
    setCsAndEip(c, g.sel, td, g.off, c.cpl);
  } else if (type === 0x05 || type === 0x01 || type === 0x09) {
    taskTransfer(c, d, sel, TaskSource.Jmp, next);
  } else {
    c.fault(VEC_GP, sel & 0xfffc);
  }
  c.stopBlock = true;
}

/** Validates a call gate and returns its target; the gate is in `d`, its selector `sel`. */
function gateTarget(c: Cpu, d: Descriptor, sel: number): { sel: number; off: number; params: number; gate32: boolean } {
  if (dpl(d.attr) < c.cpl || dpl(d.attr) < (sel & 3)) c.fault(VEC_GP, sel & 0xfffc);
  if ((d.attr & ATTR_PRESENT) === 0) c.fault(VEC_NP, sel & 0xfffc);
  const gate32 = (d.attr & 0x08) !== 0;
  return {
    sel: d.lo >>> 16,
    off: gate32 ? (d.lo & 0xffff) | (d.hi & 0xffff0000) : d.lo & 0xffff,
    params: d.hi & 0x1f,
    gate32,
  };
}

function taskTransfer(c: Cpu, d: Descriptor, sel: number, src: TaskSource, next: number): void {
  const type = d.attr & 0x0f;
  if (dpl(d.attr) < c.cpl || dpl(d.attr) < (sel & 3)) c.fault(VEC_GP, sel & 0xfffc);
  if ((d.attr & ATTR_PRESENT) === 0) c.fault(VEC_NP, sel & 0xfffc);
  const tssSel = type === 0x05 ? d.lo >>> 16 : sel;
  taskSwitch(c, tssSel, src, next);
}

export function farCall(c: Cpu, sel: number, off: number, o32: boolean, next: number): void {
  if (!o32) off &= 0xffff;
  if (realModeFar(c)) {
    if (o32) {
      c.push32(c.segSel[CS]);
      c.push32(next);
    } else {
      c.push16(c.segSel[CS]);
      c.push16(next);
    }
    c.loadRealSeg(CS, sel);
    c.eip = off;
    c.stopBlock = true;
    return;
  }
  const d = mustDescriptor(c, sel);
  c.stopBlock = true;
  if (d.attr & ATTR_S) {
    checkCodeForTransfer(c, d, sel, true);
    if (off >>> 0 > d.limit) c.fault(VEC_GP, 0);
    pushFarReturn(c, o32, c.segSel[CS], next);
    setCsAndEip(c, sel, d, off, c.cpl);
    return;
  }
  const type = d.attr & 0x0f;
  if (type === 0x05 || type === 0x01 || type === 0x09) {
    taskTransfer(c, d, sel, TaskSource.Call, next);
    return;
  }
  if (type !== 0x04 && type !== 0x0c) c.fault(VEC_GP, sel & 0xfffc);
  const g = gateTarget(c, d, sel);
  const td = mustDescriptor(c, g.sel);
  const a = td.attr;
  if ((a & (ATTR_S | ATTR_CODE)) !== (ATTR_S | ATTR_CODE) || dpl(a) > c.cpl) c.fault(VEC_GP, g.sel & 0xfffc);
  if ((a & ATTR_PRESENT) === 0) c.fault(VEC_NP, g.sel & 0xfffc);
  const newCpl = a & ATTR_CONFORMING ? c.cpl : dpl(a);
  if (newCpl === c.cpl) {
    if (g.off >>> 0 > td.limit) c.fault(VEC_GP, 0);
    pushFarReturn(c, g.gate32, c.segSel[CS], next);
    setCsAndEip(c, g.sel, td, g.off, c.cpl);
    return;
  }
  // More privileged: switch to the inner stack from the TSS and copy the parameters.
  const { ss: newSs, esp: newEsp } = stackFromTss(c, newCpl, 0);
  if ((newSs & 0xfffc) === 0) c.fault(VEC_TS, 0);
  const ssd = readDescriptor(c, newSs);
  if (ssd === null) return c.fault(VEC_TS, newSs & 0xfffc);
  if ((newSs & 3) !== newCpl || dpl(ssd.attr) !== newCpl || (ssd.attr & (ATTR_S | ATTR_CODE | ATTR_RW)) !== (ATTR_S | ATTR_RW)) {
    c.fault(VEC_TS, newSs & 0xfffc);
  }
  if ((ssd.attr & ATTR_PRESENT) === 0) c.fault(VEC_SS, newSs & 0xfffc);
  const unit = g.gate32 ? 4 : 2;
  if (!stackFits(ssd, newEsp, (4 + g.params) * unit)) c.fault(VEC_SS, newSs & 0xfffc);
  if (g.off >>> 0 > td.limit) c.fault(VEC_GP, 0);
  const oldSs = c.segSel[SS], oldEsp = c.regs[4];
  const params: number[] = [];
  for (let k = 0; k < g.params; k++) params.push(unit === 4 ? c.peek32(k * 4) : c.peek16(k * 2));
  const oldCs = c.segSel[CS];
  const oldCpl = c.cpl;
  // Switch the stack first, then push; undo on a fault so the call can be restarted.
  const saveSs = { sel: c.segSel[SS], base: c.segBase[SS], limit: c.segLimit[SS], attr: c.segAttr[SS] };
  loadCache(c, SS, newSs, ssd);
  c.regs[4] = newEsp;
  c.setCpl(newCpl);
  try {
    const push = (v: number) => (unit === 4 ? c.push32(v) : c.push16(v));
    push(oldSs);
    push(oldEsp);
    for (let k = g.params - 1; k >= 0; k--) push(params[k]);
    push(oldCs);
    push(next);
  } catch (e) {
    c.segSel[SS] = saveSs.sel;
    c.segBase[SS] = saveSs.base;
    c.segLimit[SS] = saveSs.limit;
    c.segAttr[SS] = saveSs.attr;
    c.updateSegFast(SS);
    c.ss32 = (saveSs.attr & 0x4000) !== 0;
    c.regs[4] = oldEsp;
    c.setCpl(oldCpl);
    throw e;
  }
  markAccessed(c, td);
  loadCache(c, CS, (g.sel & ~3) | newCpl, td);
  c.eip = g.off;
}

function pushFarReturn(c: Cpu, o32: boolean, cs: number, eip: number): void {
  // Check room for both words before writing either, so a #SS or #PF leaves ESP unchanged.
  probePush(c, o32 ? 8 : 4);
  if (o32) {
    c.push32(cs);
    c.push32(eip);
  } else {
    c.push16(cs);
    c.push16(eip);
  }
}

/** The checks RETF and IRET make on the code segment they return to (same or outer ring). */
function returnCodeSegment(c: Cpu, sel: number): Descriptor {
  const d = mustDescriptor(c, sel);
  const rpl = sel & 3;
  if (rpl < c.cpl) c.fault(VEC_GP, sel & 0xfffc);
  const a = d.attr;
  if ((a & (ATTR_S | ATTR_CODE)) !== (ATTR_S | ATTR_CODE)) c.fault(VEC_GP, sel & 0xfffc);
  if (a & ATTR_CONFORMING ? dpl(a) > rpl : dpl(a) !== rpl) c.fault(VEC_GP, sel & 0xfffc);
  if ((a & ATTR_PRESENT) === 0) c.fault(VEC_NP, sel & 0xfffc);
  return d;
}

export function farReturn(c: Cpu, o32: boolean, popBytes: number): void {
  const unit = o32 ? 4 : 2;
  const peek = (k: number) => (o32 ? c.peek32(k) : c.peek16(k));
  const off = peek(0);
  const sel = peek(unit) & 0xffff;
  c.stopBlock = true;
  if (realModeFar(c)) {
    c.loadRealSeg(CS, sel);
    c.eip = off;
    c.adjustSp(2 * unit + popBytes);
    return;
  }
  const d = returnCodeSegment(c, sel);
  const rpl = sel & 3;
  if (rpl === c.cpl) {
    setCsAndEip(c, sel, d, off, rpl);
    c.adjustSp(2 * unit + popBytes);
    return;
  }
  const newEsp = peek(2 * unit + popBytes);
  const newSs = peek(3 * unit + popBytes) & 0xffff;
  returnToOuter(c, sel, d, off, rpl, newSs, newEsp + popBytes);
}

/** Loads CS and SS:ESP for a return to a less privileged level, then drops now-invalid segments. */
function returnToOuter(c: Cpu, sel: number, d: Descriptor, off: number, rpl: number, newSs: number, newEsp: number): void {
  if ((newSs & 0xfffc) === 0) c.fault(VEC_GP, 0);
  const ssd = readDescriptor(c, newSs);
  if (ssd === null) return c.fault(VEC_GP, newSs & 0xfffc);
  if ((newSs & 3) !== rpl || dpl(ssd.attr) !== rpl || (ssd.attr & (ATTR_S | ATTR_CODE | ATTR_RW)) !== (ATTR_S | ATTR_RW)) {
    c.fault(VEC_GP, newSs & 0xfffc);
  }
  if ((ssd.attr & ATTR_PRESENT) === 0) c.fault(VEC_SS, newSs & 0xfffc);
  if (off >>> 0 > d.limit) c.fault(VEC_GP, 0);
  markAccessed(c, d);
  loadCache(c, CS, sel, d);
  markAccessed(c, ssd);
  loadCache(c, SS, newSs, ssd);
  c.setCpl(rpl);
  c.eip = off;
  c.regs[4] = c.ss32 ? newEsp : (c.regs[4] & ~0xffff) | (newEsp & 0xffff);
  for (const s of [ES, DS, FS, GS]) {
    const a = c.segAttr[s];
    const dataOrNcCode = (a & ATTR_CODE) === 0 || (a & ATTR_CONFORMING) === 0;
    if ((a & ATTR_S) && dataOrNcCode && dpl(a) < rpl) loadNull(c, s, 0);
  }
}

export function iret(c: Cpu, o32: boolean, next: number): void {
  c.stopBlock = true;
  c.nmiBlocked = false;
  const unit = o32 ? 4 : 2;
  const peek = (k: number) => (o32 ? c.peek32(k) : c.peek16(k));
  if (!c.protectedMode) {
    const off = peek(0), sel = peek(unit) & 0xffff, fl = peek(2 * unit);
    c.loadRealSeg(CS, sel);
    c.eip = o32 ? off : off & 0xffff;
    c.adjustSp(3 * unit);
    const mask = o32 ? 0x257fd5 : 0x7fd5;
    c.setFlagsMasked(fl, mask);
    return;
  }
  if (c.v86) {
    if ((c.flags & FLAG_IOPL) !== FLAG_IOPL) c.fault(VEC_GP, 0);
    const off = peek(0), sel = peek(unit) & 0xffff, fl = peek(2 * unit);
    c.loadRealSeg(CS, sel);
    c.eip = o32 ? off : off & 0xffff;
    c.adjustSp(3 * unit);
    // IOPL is not changed from v86 mode; VM stays set.
    c.setFlagsMasked(fl, (o32 ? 0x254dd5 : 0x4dd5) | FLAG_IF);
    return;
  }
  if (c.flags & FLAG_NT) {
    const back = c.sysRd16(c.segBase[TR]);
    taskSwitch(c, back, TaskSource.Iret, next);
    return;
  }
  const off = peek(0), sel = peek(unit) & 0xffff, fl = peek(2 * unit);
  if (o32 && fl & FLAG_VM && c.cpl === 0) {
    returnToV86(c, off, sel, fl);
    return;
  }
  const d = returnCodeSegment(c, sel);
  const rpl = sel & 3;
  const oldCpl = c.cpl;
  if (rpl === c.cpl) {
    setCsAndEip(c, sel, d, o32 ? off : off & 0xffff, rpl);
    c.adjustSp(3 * unit);
  } else {
    const newEsp = peek(3 * unit), newSs = peek(4 * unit) & 0xffff;
    returnToOuter(c, sel, d, o32 ? off : off & 0xffff, rpl, newSs, newEsp);
  }
  // Which flags IRET may change depends on the privilege it ran at.
  let mask = 0x4dd5 | FLAG_RF | FLAG_AC | FLAG_ID; // CF PF AF ZF SF TF DF OF NT
  if (oldCpl <= (c.flags & FLAG_IOPL) >> 12) mask |= FLAG_IF;
  if (oldCpl === 0) mask |= FLAG_IOPL | FLAG_IF | FLAG_VIF | FLAG_VIP;
  if (!o32) mask &= 0xffff;
  c.setFlagsMasked(fl, mask);
}

function returnToV86(c: Cpu, off: number, sel: number, fl: number): void {
  const esp = c.peek32(12), ss = c.peek32(16), es = c.peek32(20), ds = c.peek32(24), fs = c.peek32(28), gs = c.peek32(32);
  c.setFlagsMasked(fl, 0x3f7fd5);
  c.flags |= FLAG_VM;
  c.setCpl(3);
  for (const [s, v] of [[CS, sel], [SS, ss], [ES, es], [DS, ds], [FS, fs], [GS, gs]] as const) c.loadRealSeg(s, v & 0xffff);
  c.regs[4] = esp;
  c.eip = off & 0xffff;
}

export { VEC_NP, FLAG_IF };
