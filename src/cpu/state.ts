/**
 * The CPU's saved state: every architectural register, descriptor cache, control/debug register,
 * MSR and pending event, as a named, versioned plain value. Derived fields (TLB, decoded blocks,
 * fast-path segment limits, the lazy-flag record) are rebuilt on restore, never saved: flags are
 * materialised first so the saved EFLAGS is exact.
 */
import type { Cpu } from './cpu.js';
import { materialize } from './flags.js';

export interface CpuState {
  version: 1;
  regs: number[];
  eip: number;
  eflags: number;
  seg: { sel: number; base: number; limit: number; attr: number }[];
  cpl: number;
  gdt: [number, number];
  idt: [number, number];
  cr: { cr0: number; cr2: number; cr3: number; cr4: number; efer: number };
  dr: number[];
  msr: {
    sysenterCs: number; sysenterEsp: number; sysenterEip: number; apicBaseLo: number; patLo: number; patHi: number;
    miscEnable: number; mtrrDefType: number; mtrrs: [number, number, number][]; tscOffset: number;
  };
  a20: boolean;
  events: { intrLine: boolean; nmiPending: boolean; nmiBlocked: boolean; halted: boolean; inhibitIrq: boolean };
  /** A REPE/REPNE CMPS/SCAS resumed part-way: its EIP and EFLAGS from before its first iteration. */
  rep?: { eip: number; flags: number };
  icount: number;
  /** The x87 state, when the FPU provides a saved form. */
  fpu?: unknown;
}

export function saveCpu(c: Cpu): CpuState {
  materialize(c);
  const seg = [];
  for (let s = 0; s < 8; s++) seg.push({ sel: c.segSel[s], base: c.segBase[s], limit: c.segLimit[s], attr: c.segAttr[s] });
  const m = c.msr;
  const fpu = c.fpu as unknown as { save?: () => unknown };
  const state: CpuState = {
    version: 1,
    regs: Array.from(c.regs.subarray(0, 16)),
    eip: c.eip,
    eflags: c.flags,
    seg,
    cpl: c.cpl,
    gdt: [c.gdtBase, c.gdtLimit],
    idt: [c.idtBase, c.idtLimit],
    cr: { cr0: c.cr0, cr2: c.cr2, cr3: c.cr3, cr4: c.cr4, efer: c.efer },
    dr: Array.from(c.dr),
    msr: {
      sysenterCs: m.sysenterCs, sysenterEsp: m.sysenterEsp, sysenterEip: m.sysenterEip, apicBaseLo: m.apicBaseLo,
      patLo: m.patLo, patHi: m.patHi, miscEnable: m.miscEnable, mtrrDefType: m.mtrrDefType,
      mtrrs: [...m.mtrrs.entries()].map(([k, [lo, hi]]) => [k, lo, hi] as [number, number, number]),
      tscOffset: m.tscOffset,
    },
    a20: c.a20Mask === -1,
    events: {
      intrLine: c.intrLine, nmiPending: c.nmiPending, nmiBlocked: c.nmiBlocked, halted: c.halted, inhibitIrq: c.inhibitIrq,
    },
    icount: c.icount,
  };
  if (c.repResume) state.rep = { eip: c.repEip, flags: c.repFlags };
  if (fpu.save) state.fpu = fpu.save();
  return state;
}

export function restoreCpu(c: Cpu, s: CpuState): void {
  if (s.version !== 1) throw new Error(`CPU state version ${s.version} is not supported`);
  if (s.regs.length !== 16 || s.seg.length !== 8) throw new Error('CPU state is malformed');
  c.regs.set(s.regs);
  c.eip = s.eip;
  c.flags = s.eflags;
  c.lazy = 0;
  for (let k = 0; k < 8; k++) {
    c.segSel[k] = s.seg[k].sel;
    c.segBase[k] = s.seg[k].base;
    c.segLimit[k] = s.seg[k].limit;
    c.segAttr[k] = s.seg[k].attr;
  }
  [c.gdtBase, c.gdtLimit] = s.gdt;
  [c.idtBase, c.idtLimit] = s.idt;
  c.cr0 = s.cr.cr0;
  c.cr2 = s.cr.cr2;
  c.cr3 = s.cr.cr3;
  c.cr4 = s.cr.cr4;
  c.efer = s.cr.efer;
  c.dr.set(s.dr);
  const m = c.msr;
  Object.assign(m, {
    sysenterCs: s.msr.sysenterCs, sysenterEsp: s.msr.sysenterEsp, sysenterEip: s.msr.sysenterEip,
    apicBaseLo: s.msr.apicBaseLo, patLo: s.msr.patLo, patHi: s.msr.patHi, miscEnable: s.msr.miscEnable,
    mtrrDefType: s.msr.mtrrDefType, tscOffset: s.msr.tscOffset,
  });
  m.mtrrs.clear();
  for (const [k, lo, hi] of s.msr.mtrrs) m.mtrrs.set(k, [lo, hi]);
  c.a20Mask = s.a20 ? -1 : ~(1 << 20);
  c.intrLine = s.events.intrLine;
  c.nmiPending = s.events.nmiPending;
  c.nmiBlocked = s.events.nmiBlocked;
  c.halted = s.events.halted;
  c.inhibitIrq = s.events.inhibitIrq;
  c.repResume = s.rep !== undefined;
  c.repEip = s.rep?.eip ?? 0;
  c.repFlags = s.rep?.flags ?? 0;
  c.icount = s.icount;
  const fpu = c.fpu as unknown as { restore?: (v: unknown) => void };
  if (s.fpu !== undefined && fpu.restore) fpu.restore(s.fpu);
  // Rebuild derived state.
  c.setCpl(s.cpl);
  const cs32 = (c.segAttr[1] & 0x4000) !== 0, ss32 = (c.segAttr[2] & 0x4000) !== 0;
  const pm = c.protectedMode && !c.v86;
  c.cs32 = pm && cs32;
  c.ss32 = pm && ss32;
  for (let k = 0; k < 6; k++) c.updateSegFast(k);
  c.flushTlb(true);
  c.blocks.clear();
}
