/**
 * Hardware task switching (Intel SDM vol. 3, ch. 7): JMP/CALL to a TSS or task gate, task gates in
 * the IDT (Linux's double-fault handler uses one), and IRET with NT set. Saves the outgoing state
 * into the current TSS, maintains busy bits and the back link, and loads the incoming state with
 * the checks that report #TS.
 */
import type { Cpu } from './cpu.js';
import {
  CR0_PG, CR0_TS, CS, DS, ES, FLAG_NT, FLAG_VM, FS, GS, LDTR, SS, TR, VEC_GP, VEC_NP, VEC_TS,
} from './arch.js';
import { ATTR_PRESENT, decodeDescriptor, loadCache, loadDataSeg, readDescriptor } from './segments.js';

export const enum TaskSource {
  Jmp = 0,
  Call = 1,
  Iret = 2,
  Gate = 3,
}

export function taskSwitch(c: Cpu, sel: number, src: TaskSource, returnEip: number): void {
  c.stopBlock = true;
  if (sel & 4) c.fault(VEC_TS, sel & 0xfffc);
  const nd = readDescriptor(c, sel);
  if (nd === null) return c.fault(src === TaskSource.Iret ? VEC_TS : VEC_GP, sel & 0xfffc);
  const ntype = nd.attr & 0x0f;
  const busy = ntype === 0x03 || ntype === 0x0b;
  const avail = ntype === 0x01 || ntype === 0x09;
  if (src === TaskSource.Iret ? !busy : !avail) return c.fault(src === TaskSource.Iret ? VEC_TS : VEC_GP, sel & 0xfffc);
  if ((nd.attr & ATTR_PRESENT) === 0) return c.fault(VEC_NP, sel & 0xfffc);
  const new32 = (ntype & 0x08) !== 0;
  if (nd.limit < (new32 ? 0x67 : 0x2b)) return c.fault(VEC_TS, sel & 0xfffc);

  // Save the outgoing task.
  const ob = c.segBase[TR];
  const old32 = (c.segAttr[TR] & 0x08) !== 0;
  let flags = c.getFlags();
  if (src === TaskSource.Jmp || src === TaskSource.Iret) {
    clearBusy(c, c.segSel[TR]);
  }
  if (src === TaskSource.Iret) flags &= ~FLAG_NT;
  const r = c.regs;
  if (old32) {
    c.sysWr32((ob + 0x20) | 0, returnEip);
    c.sysWr32((ob + 0x24) | 0, flags);
    for (let k = 0; k < 8; k++) c.sysWr32((ob + 0x28 + k * 4) | 0, r[k]);
    for (let s = 0; s < 6; s++) c.sysWr16((ob + 0x48 + s * 4) | 0, c.segSel[s]);
  } else {
    c.sysWr16((ob + 0x0e) | 0, returnEip);
    c.sysWr16((ob + 0x10) | 0, flags);
    for (let k = 0; k < 8; k++) c.sysWr16((ob + 0x12 + k * 2) | 0, r[k]);
    for (let s = 0; s < 4; s++) c.sysWr16((ob + 0x22 + s * 2) | 0, c.segSel[s]);
  }

  // Read the incoming state before committing to it.
  const nb = nd.base;
  let eip: number, nflags: number, cr3 = c.cr3, ldt: number;
  const nregs = new Int32Array(8);
  const nsegs = [0, 0, 0, 0, 0, 0];
  if (new32) {
    cr3 = c.sysRd32((nb + 0x1c) | 0);
    eip = c.sysRd32((nb + 0x20) | 0);
    nflags = c.sysRd32((nb + 0x24) | 0);
    for (let k = 0; k < 8; k++) nregs[k] = c.sysRd32((nb + 0x28 + k * 4) | 0);
    for (let s = 0; s < 6; s++) nsegs[s] = c.sysRd16((nb + 0x48 + s * 4) | 0);
    ldt = c.sysRd16((nb + 0x60) | 0);
  } else {
    eip = c.sysRd16((nb + 0x0e) | 0);
    nflags = c.sysRd16((nb + 0x10) | 0);
    for (let k = 0; k < 8; k++) nregs[k] = c.sysRd16((nb + 0x12 + k * 2) | 0) | (r[k] & ~0xffff);
    for (let s = 0; s < 4; s++) nsegs[s] = c.sysRd16((nb + 0x22 + s * 2) | 0);
    ldt = c.sysRd16((nb + 0x2a) | 0);
  }

  if (src === TaskSource.Call || src === TaskSource.Gate) {
    c.sysWr16(nb, c.segSel[TR]);
    nflags |= FLAG_NT;
  }
  if (src !== TaskSource.Iret) setBusy(c, sel);

  // Commit: TR, CR3, registers, flags.
  const trDesc = readDescriptor(c, sel)!;
  loadCache(c, TR, sel, trDesc);
  c.cr0 |= CR0_TS;
  if (new32 && c.cr0 & CR0_PG && cr3 !== c.cr3) {
    c.cr3 = cr3;
    c.flushTlb(false);
  }
  r.set(nregs);
  c.eip = eip;
  c.lazy = 0;
  c.flags = (nflags & 0x3f7fd7) | 2;

  // LDT, then segments; faults from here on are reported in the context of the new task.
  if ((ldt & 0xfffc) === 0) {
    c.segSel[LDTR] = ldt;
    c.segAttr[LDTR] = 0;
  } else {
    if (ldt & 4) c.fault(VEC_TS, ldt & 0xfffc);
    const ld = readDescriptor(c, ldt);
    if (ld === null || (ld.attr & 0x1f) !== 0x02) c.fault(VEC_TS, ldt & 0xfffc);
    if ((ld!.attr & ATTR_PRESENT) === 0) c.fault(VEC_TS, ldt & 0xfffc);
    loadCache(c, LDTR, ldt, ld!);
  }
  if (c.flags & FLAG_VM) {
    c.setCpl(3);
    for (let s = 0; s < 6; s++) c.loadRealSeg(s, nsegs[s]);
    return;
  }
  const cpl = nsegs[CS] & 3;
  c.setCpl(cpl);
  const csd = readDescriptor(c, nsegs[CS]);
  if (csd === null || (csd.attr & 0x18) !== 0x18) return c.fault(VEC_TS, nsegs[CS] & 0xfffc);
  if ((csd.attr & ATTR_PRESENT) === 0) return c.fault(VEC_NP, nsegs[CS] & 0xfffc);
  loadCache(c, CS, nsegs[CS], csd);
  loadDataSeg(c, SS, nsegs[SS], true);
  for (const s of [ES, DS, FS, GS]) loadDataSeg(c, s, nsegs[s], true);
}

function descAddr(c: Cpu, sel: number): number {
  return (c.gdtBase + (sel & 0xfff8)) | 0;
}

function clearBusy(c: Cpu, sel: number): void {
  const a = (descAddr(c, sel) + 5) | 0;
  c.sysWr8(a, c.sysRd8(a) & ~0x02);
}

function setBusy(c: Cpu, sel: number): void {
  const a = (descAddr(c, sel) + 5) | 0;
  c.sysWr8(a, c.sysRd8(a) | 0x02);
}

export { decodeDescriptor };
