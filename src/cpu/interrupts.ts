/**
 * Interrupt and exception delivery (Intel SDM vol. 3, ch. 6): the real-mode IVT, protected-mode
 * interrupt/trap/task gates with privilege changes and stack switches, delivery from virtual-8086
 * mode, the double-fault rules, and triple fault (shutdown).
 */
import type { Cpu } from './cpu.js';
import { FAULT } from './cpu.js';
import {
  CS, DS, ES, Exit, FLAG_AC, FLAG_IF, FLAG_NT, FLAG_RF, FLAG_TF, FLAG_VM, FS, GS, SS, TR,
  VEC_DF, VEC_GP, VEC_NMI, VEC_NP, VEC_SS, VEC_TS,
} from './arch.js';
import {
  ATTR_CODE, ATTR_CONFORMING, ATTR_PRESENT, ATTR_S, dpl, loadCache, loadNull, probePush, readDescriptor, stackFits,
} from './segments.js';
import { taskSwitch, TaskSource } from './task.js';

/** How an event arose; it changes privilege checks (INT n) and the EXT bit of error codes. */
export const enum EventKind {
  Exception = 0,
  Software = 1, // INT n, INT3, INTO: gate DPL is checked against CPL
  External = 2, // INTR, NMI
}

/** Exceptions that push an error code. */
export function pushesErrorCode(vector: number): boolean {
  return vector === 8 || (vector >= 10 && vector <= 14) || vector === 17;
}

/** Contributory exceptions for the double-fault rule (SDM table 6-5). */
function contributory(v: number): boolean {
  return v === 0 || (v >= 10 && v <= 13);
}

/** Delivers a pending NMI or INTR if it can be taken now; true if something was delivered. */
export function deliverPendingEvent(c: Cpu): boolean {
  if (c.nmiPending && !c.nmiBlocked) {
    c.nmiPending = false;
    c.nmiBlocked = true;
    c.halted = false;
    guardedDelivery(c, VEC_NMI, EventKind.External, false, 0);
    return true;
  }
  if (c.intrLine && c.flags & FLAG_IF) {
    const vec = c.bus.acknowledgeInterrupt();
    if (vec < 0) return false;
    c.halted = false;
    guardedDelivery(c, vec & 0xff, EventKind.External, false, 0);
    return true;
  }
  return false;
}

/** Delivers the exception recorded in c.exc* (raised by a faulting instruction). */
export function deliverException(c: Cpu): void {
  guardedDelivery(c, c.excVector, EventKind.Exception, c.excHasCode, c.excCode);
}

/**
 * Runs a delivery, turning a fault during delivery into #DF or, when that fails too, shutdown.
 */
function guardedDelivery(c: Cpu, vector: number, kind: EventKind, hasCode: boolean, code: number): void {
  let v = vector, k = kind, hc = hasCode, ec = code;
  // Interrupts and software INTs count as benign "first events" whatever their vector number.
  let first = kind === EventKind.Exception ? vector : -1;
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      deliver(c, v, k, hc, ec);
      return;
    } catch (e) {
      if (e !== FAULT) throw e;
      const second = c.excVector;
      if (first === VEC_DF) break; // a fault while delivering #DF: triple fault
      const isDouble = (contributory(first) && contributory(second)) ||
        (first === 14 && (second === 14 || contributory(second)));
      if (isDouble) {
        v = VEC_DF;
        hc = true;
        ec = 0;
      } else {
        v = second;
        hc = c.excHasCode;
        ec = c.excCode;
      }
      k = EventKind.Exception;
      first = v;
    }
  }
  c.halted = true;
  c.exitReason = Exit.Shutdown;
  c.onShutdown('triple fault');
}

/** Raises an interrupt or exception now: INT n and friends call this with EIP already advanced. */
export function deliver(c: Cpu, vector: number, kind: EventKind, hasCode: boolean, code: number): void {
  c.stopBlock = true;
  // An event between the chunks of a REPE/REPNE CMPS/SCAS ends it as an instruction: its EFLAGS
  // are saved with the frame, and the restart after the handler begins afresh (string.ts).
  c.repResume = false;
  if (!c.protectedMode) {
    if (interceptTrap(c, vector, kind)) return;
    return deliverReal(c, vector);
  }
  const ext = kind === EventKind.External ? 1 : 0;
  if (vector * 8 + 7 > c.idtLimit) return c.fault(VEC_GP, vector * 8 + 2 + ext);
  const addr = (c.idtBase + vector * 8) | 0;
  const lo = c.sysRd32(addr), hi = c.sysRd32((addr + 4) | 0);
  const type = (hi >> 8) & 0x1f;
  const gateDpl = (hi >> 13) & 3;
  if (type !== 0x05 && type !== 0x06 && type !== 0x07 && type !== 0x0e && type !== 0x0f) {
    return c.fault(VEC_GP, vector * 8 + 2 + ext);
  }
  if (kind === EventKind.Software && gateDpl < c.cpl) return c.fault(VEC_GP, vector * 8 + 2);
  if ((hi & 0x8000) === 0) return c.fault(VEC_NP, vector * 8 + 2 + ext);
  // Past the gate's privilege and presence checks, a software trap is taken.
  if (interceptTrap(c, vector, kind)) return;

  if (type === 0x05) {
    const tssSel = lo >>> 16;
    taskSwitch(c, tssSel, TaskSource.Gate, c.eip);
    if (hasCode) pushErr(c, code);
    return;
  }

  const gate32 = (type & 0x08) !== 0;
  const trapGate = (type & 0x01) !== 0;
  const sel = lo >>> 16;
  const offset = gate32 ? (lo & 0xffff) | (hi & 0xffff0000) : lo & 0xffff;
  if ((sel & 0xfffc) === 0) return c.fault(VEC_GP, ext);
  const d = readDescriptor(c, sel);
  if (d === null) return c.fault(VEC_GP, (sel & 0xfffc) + ext);
  const a = d.attr;
  if ((a & (ATTR_S | ATTR_CODE)) !== (ATTR_S | ATTR_CODE) || dpl(a) > c.cpl) {
    return c.fault(VEC_GP, (sel & 0xfffc) + ext);
  }
  if ((a & ATTR_PRESENT) === 0) return c.fault(VEC_NP, (sel & 0xfffc) + ext);

  const oldFlags = c.getFlags();
  const oldCs = c.segSel[CS], oldEip = c.eip;
  const fromV86 = (oldFlags & FLAG_VM) !== 0;
  const newCpl = a & ATTR_CONFORMING ? c.cpl : dpl(a);

  if (newCpl < c.cpl) {
    if (fromV86 && newCpl !== 0) return c.fault(VEC_GP, (sel & 0xfffc) + ext);
    // Inter-privilege: new stack from the TSS.
    const { ss: newSs, esp: newEsp } = stackFromTss(c, newCpl, ext);
    const ssd = readDescriptor(c, newSs);
    if (ssd === null) return c.fault(VEC_TS, (newSs & 0xfffc) + ext);
    if ((newSs & 3) !== newCpl || dpl(ssd.attr) !== newCpl || (ssd.attr & 0x1a) !== 0x12) {
      return c.fault(VEC_TS, (newSs & 0xfffc) + ext);
    }
    if ((ssd.attr & ATTR_PRESENT) === 0) return c.fault(VEC_SS, (newSs & 0xfffc) + ext);
    const oldSs = c.segSel[SS], oldEsp = c.regs[4];
    const oldSegs = fromV86 ? [c.segSel[ES], c.segSel[DS], c.segSel[FS], c.segSel[GS]] : null;
    // Build the frame on the new stack before committing any state, so a fault leaves us intact.
    const stack32 = (ssd.attr & 0x4000) !== 0;
    const words: number[] = [];
    if (oldSegs) words.push(oldSegs[3], oldSegs[2], oldSegs[1], oldSegs[0]);
    words.push(oldSs, oldEsp, oldFlags, oldCs, oldEip);
    if (hasCode) words.push(code);
    const unit = gate32 ? 4 : 2;
    let sp = newEsp;
    const spMask = stack32 ? -1 : 0xffff;
    const linAt = (off: number) => (ssd.base + (off & spMask)) | 0;
    // Limit check of the whole frame before anything is written.
    if (!stackFits(ssd, newEsp, words.length * unit)) return c.fault(VEC_SS, (newSs & 0xfffc) + ext);
    c.setCpl(newCpl);
    try {
      for (const w of words) {
        sp = (sp - unit) & spMask;
        if (unit === 4) c.sysWr32(linAt(sp), w);
        else c.sysWr16(linAt(sp), w);
      }
    } catch (e) {
      c.setCpl(oldCs & 3);
      throw e;
    }
    loadCache(c, SS, (newSs & ~3) | newCpl, ssd);
    c.regs[4] = stack32 ? sp : (newEsp & ~0xffff) | (sp & 0xffff);
    if (fromV86) {
      loadNull(c, ES, 0);
      loadNull(c, DS, 0);
      loadNull(c, FS, 0);
      loadNull(c, GS, 0);
    }
  } else {
    if (fromV86) return c.fault(VEC_GP, (sel & 0xfffc) + ext);
    probePush(c, (hasCode ? 4 : 3) * (gate32 ? 4 : 2));
    if (gate32) {
      c.push32(oldFlags);
      c.push32(oldCs);
      c.push32(oldEip);
      if (hasCode) c.push32(code);
    } else {
      c.push16(oldFlags);
      c.push16(oldCs);
      c.push16(oldEip);
      if (hasCode) c.push16(code);
    }
  }
  loadCache(c, CS, (sel & ~3) | newCpl, d);
  c.setCpl(newCpl);
  c.eip = offset;
  let clear = FLAG_TF | FLAG_NT | FLAG_VM | FLAG_RF;
  if (!trapGate) clear |= FLAG_IF;
  c.flags &= ~clear;
  if (fromV86) {
    // Segment fast paths were computed in v86 terms; recompute them for protected mode.
    for (let s = 0; s < 6; s++) c.updateSegFast(s);
  }
}

function pushErr(c: Cpu, code: number): void {
  const tss32 = (c.segAttr[TR] & 0x08) !== 0;
  if (tss32) c.push32(code);
  else c.push16(code);
}

/** Reads SSn:ESPn for privilege `n` from the current TSS. */
export function stackFromTss(c: Cpu, n: number, ext: number): { ss: number; esp: number } {
  const type = c.segAttr[TR] & 0x0f;
  const base = c.segBase[TR], limit = c.segLimit[TR];
  if (type === 0x09 || type === 0x0b) {
    const off = 4 + n * 8;
    if (off + 5 > limit) c.fault(VEC_TS, (c.segSel[TR] & 0xfffc) + ext);
    return { esp: c.sysRd32((base + off) | 0), ss: c.sysRd16((base + off + 4) | 0) };
  }
  const off = 2 + n * 4;
  if (off + 3 > limit) c.fault(VEC_TS, (c.segSel[TR] & 0xfffc) + ext);
  return { esp: c.sysRd16((base + off) | 0), ss: c.sysRd16((base + off + 2) | 0) };
}

/**
 * Test harnesses (Cpu.interceptExceptions) see a software trap that passed the gate checks (INT3,
 * INTO, INT n) as an exit, with EIP after the instruction, instead of entering the handler.
 */
function interceptTrap(c: Cpu, vector: number, kind: EventKind): boolean {
  if (!c.interceptExceptions || kind !== EventKind.Software) return false;
  c.excVector = vector;
  c.excHasCode = false;
  c.excCode = 0;
  c.exitReason = Exit.Exception;
  return true;
}

/** Real mode: the IVT at IDTR.base, 4 bytes per vector, 16-bit frame. */
function deliverReal(c: Cpu, vector: number): void {
  if (vector * 4 + 3 > c.idtLimit) return c.fault(VEC_GP, 0);
  const addr = (c.idtBase + vector * 4) | 0;
  const ip = c.sysRd16(addr), cs = c.sysRd16((addr + 2) | 0);
  c.push16(c.getFlags());
  c.push16(c.segSel[CS]);
  c.push16(c.eip);
  c.flags &= ~(FLAG_IF | FLAG_TF | FLAG_AC | FLAG_RF);
  c.loadRealSeg(CS, cs);
  c.eip = ip;
}

export { FLAG_IF };
