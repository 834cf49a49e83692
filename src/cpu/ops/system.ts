/**
 * System instructions: descriptor tables (LGDT/LIDT/SGDT/SIDT/LLDT/SLDT/LTR/STR), control and debug
 * registers, LMSW/SMSW/CLTS, INVLPG/INVD/WBINVD, LAR/LSL/VERR/VERW/ARPL, CPUID, RDTSC/RDMSR/WRMSR,
 * SYSENTER/SYSEXIT, HLT, the flag instructions (CLI/STI/CLC/STC/CMC/CLD/STD), UD2, hint NOPs, and
 * VMCALL/VMMCALL surfaced as an exit for the hypervisor.
 */
import type { Cpu } from '../cpu.js';
import { ea, type Insn } from '../insn.js';
import {
  CR0_EM, CR0_ET, CR0_MP, CR0_NE, CR0_PE, CR0_PG, CR0_TS, CR0_WP, CR4_PAE, CR4_PGE, CR4_PSE, CR4_TSD, CS, DS, ES, Exit,
  FLAG_CF, FLAG_DF, FLAG_IF, FLAG_IOPL, FLAG_RF, FLAG_VIF, FLAG_VIP, FLAG_VM, FLAG_ZF, FS, GS, LDTR, SS, TR, VEC_GP,
  VEC_NP, VEC_UD, CR4_VME, CR4_PVI, CR4_OSFXSR, CR4_PCE, CR0_AM, CR0_NW, CR0_CD, CR4_DE, CR4_MCE, CR4_OSXMMEXCPT,
} from '../arch.js';
import { getCF, setFlags } from '../flags.js';
import { checkLock, def, def0f, udHandler } from './table.js';
import { readRm, writeRm } from './alu.js';
import { ATTR_PRESENT, dpl, loadCache, readDescriptor } from '../segments.js';
import { cpuid } from '../cpuid.js';
import { logOnce } from '../../base/log.js';

/** Privileged instructions fault with #GP(0) outside ring 0 (and in v86 mode). */
export function requireCpl0(c: Cpu): void {
  if (c.protectedMode && (c.cpl !== 0 || c.v86)) c.fault(VEC_GP, 0);
}

function requireProtected(c: Cpu): void {
  if (!c.protectedMode || c.v86) c.fault(VEC_UD);
}

// ---- 0F 00: SLDT STR LLDT LTR VERR VERW ----------------------------------------------------------
def0f(0x00, (d, i) => {
  d.modrm(i);
  if (i.reg > 5) {
    i.exec = udHandler;
    return;
  }
  i.exec = group6;
  if (i.reg === 2 || i.reg === 3) d.end();
  checkLock(i, false);
});

function group6(c: Cpu, i: Insn): void {
  requireProtected(c);
  switch (i.reg) {
    case 0:
    case 1: {
      const v = c.segSel[i.reg === 0 ? LDTR : TR];
      if (i.mod === 3) writeRm(c, i, i.o32 ? 32 : 16, v);
      else c.write16(i.seg, ea(c, i), v);
      return;
    }
    case 2: {
      requireCpl0(c);
      const sel = readRm(c, i, 16);
      if ((sel & 0xfffc) === 0) {
        c.segSel[LDTR] = sel;
        c.segAttr[LDTR] = 0;
        return;
      }
      if (sel & 4) c.fault(VEC_GP, sel & 0xfffc);
      const d = readDescriptor(c, sel);
      if (d === null || (d.attr & 0x1f) !== 0x02) return c.fault(VEC_GP, sel & 0xfffc);
      if ((d.attr & ATTR_PRESENT) === 0) c.fault(VEC_NP, sel & 0xfffc);
      loadCache(c, LDTR, sel, d);
      return;
    }
    case 3: {
      requireCpl0(c);
      const sel = readRm(c, i, 16);
      if ((sel & 0xfffc) === 0 || sel & 4) c.fault(VEC_GP, sel & 0xfffc);
      const d = readDescriptor(c, sel);
      const t = d === null ? -1 : d.attr & 0x1f;
      if (d === null || (t !== 0x01 && t !== 0x09)) return c.fault(VEC_GP, sel & 0xfffc);
      if ((d.attr & ATTR_PRESENT) === 0) c.fault(VEC_NP, sel & 0xfffc);
      // Mark busy in the table and in the cache.
      c.sysWr8((d.addr + 5) | 0, ((d.hi >> 8) & 0xff) | 0x02);
      d.attr |= 0x02;
      loadCache(c, TR, sel, d);
      return;
    }
    default: {
      // VERR (4) / VERW (5): ZF=1 when the segment is accessible for reading/writing at CPL/RPL.
      const sel = readRm(c, i, 16);
      let ok = false;
      const d = (sel & 0xfffc) === 0 ? null : readDescriptor(c, sel);
      if (d !== null && d.attr & 0x10) {
        const code = (d.attr & 0x08) !== 0;
        const conforming = code && (d.attr & 0x04) !== 0;
        const privOk = conforming || (dpl(d.attr) >= c.cpl && dpl(d.attr) >= (sel & 3));
        if (i.reg === 4) ok = privOk && (!code || (d.attr & 0x02) !== 0);
        else ok = privOk && !code && (d.attr & 0x02) !== 0;
      }
      setFlags(c, FLAG_ZF, ok ? FLAG_ZF : 0);
    }
  }
}

// ---- 0F 01: SGDT SIDT LGDT LIDT SMSW LMSW INVLPG, VMCALL/VMMCALL ------------------------------------
def0f(0x01, (d, i) => {
  d.modrm(i);
  if (i.mod === 3) {
    // VMCALL (0F 01 C1) and VMMCALL (0F 01 D9): the hypervisor call instructions.
    if ((i.reg === 0 && i.rm === 1) || (i.reg === 3 && i.rm === 1)) {
      i.exec = vmcall;
      d.branch();
      return;
    }
    if (i.reg === 4 || i.reg === 6) {
      i.exec = group7;
      if (i.reg === 6) d.end();
      return;
    }
    i.exec = udHandler;
    return;
  }
  i.exec = group7;
  if (i.reg === 2 || i.reg === 3 || i.reg === 6 || i.reg === 7) d.end();
  checkLock(i, false);
});

function vmcall(c: Cpu, i: Insn): void {
  if (!c.vmcallEnabled) c.fault(VEC_UD);
  // Privilege is the hypervisor's call to make (Xen rejects calls from user mode with -EPERM).
  c.eip = i.next;
  c.exitReason = Exit.Vmcall;
  c.stopBlock = true;
}

function group7(c: Cpu, i: Insn): void {
  switch (i.reg) {
    case 0:
    case 1: {
      // SGDT/SIDT store the 24-bit base with a 16-bit operand size (the high byte is written 0 on P6).
      const off = ea(c, i);
      const base = i.reg === 0 ? c.gdtBase : c.idtBase;
      const limit = i.reg === 0 ? c.gdtLimit : c.idtLimit;
      c.write16(i.seg, off, limit);
      c.write32(i.seg, (off + 2) | 0, i.o32 ? base : base & 0xffffff);
      return;
    }
    case 2:
    case 3: {
      requireCpl0(c);
      const off = ea(c, i);
      const limit = c.read16(i.seg, off);
      let base = c.read32(i.seg, (off + 2) | 0);
      if (!i.o32) base &= 0xffffff;
      if (i.reg === 2) {
        c.gdtBase = base;
        c.gdtLimit = limit;
      } else {
        c.idtBase = base;
        c.idtLimit = limit;
      }
      return;
    }
    case 4: {
      const v = c.cr0 & 0xffff;
      if (i.mod === 3) writeRm(c, i, i.o32 ? 32 : 16, i.o32 ? c.cr0 : v);
      else c.write16(i.seg, ea(c, i), v);
      return;
    }
    case 6: {
      requireCpl0(c);
      const v = readRm(c, i, 16);
      // LMSW changes PE, MP, EM, TS only, and cannot clear PE.
      const next = (c.cr0 & ~0xe) | (v & 0xf) | (c.cr0 & CR0_PE);
      setCr0(c, next, i);
      return;
    }
    case 7:
      requireCpl0(c);
      c.flushTlbPage((c.segBase[i.seg] + ea(c, i)) | 0);
      return;
    default:
      c.fault(VEC_UD);
  }
}

// ---- LAR / LSL ---------------------------------------------------------------------------------------
function larLsl(lsl: boolean) {
  return (d: import('../decoder.js').Decoder, i: Insn) => {
    d.modrm(i);
    i.exec = (c, i) => {
      requireProtected(c);
      const sel = readRm(c, i, 16);
      const desc = (sel & 0xfffc) === 0 ? null : readDescriptor(c, sel);
      let ok = false;
      if (desc !== null) {
        const a = desc.attr;
        const conformingCode = (a & 0x1c) === 0x1c;
        const type = a & 0x1f;
        // System types valid for LAR: TSS(1,3,9,B), LDT(2), gates (4,5,C) for LAR only.
        const sysOk = lsl ? [1, 2, 3, 9, 11].includes(type) : [1, 2, 3, 4, 5, 9, 11, 12].includes(type);
        const validType = a & 0x10 ? true : sysOk;
        ok = validType && (conformingCode || (dpl(a) >= c.cpl && dpl(a) >= (sel & 3)));
      }
      setFlags(c, FLAG_ZF, ok ? FLAG_ZF : 0);
      if (!ok || desc === null) return;
      const v = lsl ? desc.limit : desc.hi & 0x00f0ff00;
      if (i.o32) c.regs[i.reg] = v;
      else c.regs[i.reg] = (c.regs[i.reg] & ~0xffff) | (v & 0xffff);
    };
    checkLock(i, false);
  };
}
def0f(0x02, larLsl(false));
def0f(0x03, larLsl(true));

// ARPL (63): adjusts a selector's RPL upwards; #UD outside protected mode. The destination is
// read, and written only when its RPL changes (measured: no write check otherwise, so a selector
// on a read-only page that needs no change does not fault; a not-present one faults as a read).
def(0x63, (d, i) => {
  d.modrm(i);
  i.exec = (c, i) => {
    requireProtected(c);
    const dst = readRm(c, i, 16);
    const src = c.regs[i.reg] & 0xffff;
    if ((dst & 3) < (src & 3)) {
      writeRm(c, i, 16, (dst & ~3) | (src & 3));
      setFlags(c, FLAG_ZF, FLAG_ZF);
    } else {
      setFlags(c, FLAG_ZF, 0);
    }
  };
  checkLock(i, false);
});

// ---- CLTS, INVD, WBINVD, UD2, hint NOPs ---------------------------------------------------------------
def0f(0x06, (d, i) => {
  i.exec = (c) => {
    requireCpl0(c);
    c.cr0 &= ~CR0_TS;
  };
});
def0f(0x08, (d, i) => {
  i.exec = (c) => requireCpl0(c);
});
def0f(0x09, (d, i) => {
  i.exec = (c) => requireCpl0(c);
});
def0f(0x0b, (d, i) => {
  i.exec = (c) => c.fault(VEC_UD);
  d.end();
});
// 0F 18 (prefetch hints, P6 with SSE only: #UD here), 0F 19-1F: reserved-NOP (hint) space on P6.
for (let op = 0x19; op <= 0x1f; op++) {
  def0f(op, (d, i) => {
    d.modrm(i);
    i.exec = () => {};
  });
}

// ---- MOV to/from control and debug registers -----------------------------------------------------------
def0f(0x20, (d, i) => {
  d.modrm(i); // the mod field is ignored: always a register operand
  i.exec = (c, i) => {
    requireCpl0(c);
    let v: number;
    switch (i.reg) {
      case 0: v = c.cr0; break;
      case 2: v = c.cr2; break;
      case 3: v = c.cr3; break;
      case 4: v = c.cr4; break;
      default: return c.fault(VEC_UD);
    }
    c.regs[i.rm] = v;
  };
});
def0f(0x22, (d, i) => {
  d.modrm(i);
  i.exec = (c, i) => {
    requireCpl0(c);
    const v = c.regs[i.rm];
    switch (i.reg) {
      case 0: setCr0(c, v, i); break;
      case 2: c.cr2 = v; break;
      case 3:
        c.cr3 = v & ~0x7;
        c.flushTlb(false);
        break;
      case 4: setCr4(c, v); break;
      default: return c.fault(VEC_UD);
    }
    c.eip = i.next;
    c.stopBlock = true;
  };
  d.branch();
});
def0f(0x21, (d, i) => {
  d.modrm(i);
  i.exec = (c, i) => {
    requireCpl0(c);
    c.regs[i.rm] = c.dr[debugReg(c, i.reg)];
  };
});
def0f(0x23, (d, i) => {
  d.modrm(i);
  i.exec = (c, i) => {
    requireCpl0(c);
    const r = debugReg(c, i.reg);
    const v = c.regs[i.rm];
    if (r === 6) c.dr[6] = (v & 0xe00f) | (0xffff0ff0 | 0);
    else if (r === 7) {
      c.dr[7] = (v & 0xffff2fff) | 0x400;
      if (v & 0xff) logOnce('info', 'cpu', 'dr7', 'debug breakpoints enabled in DR7: hardware breakpoints are not implemented');
    } else c.dr[r] = v;
  };
});

/** DR4/DR5 alias DR6/DR7 while CR4.DE is clear; with debug extensions on they raise #UD. */
function debugReg(c: Cpu, r: number): number {
  if (r === 4 || r === 5) {
    if (c.cr4 & CR4_DE) c.fault(VEC_UD);
    return r + 2;
  }
  return r;
}

const CR0_WRITABLE = CR0_PE | CR0_MP | CR0_EM | CR0_TS | CR0_NE | CR0_WP | CR0_AM | CR0_NW | CR0_CD | CR0_PG;

function setCr0(c: Cpu, v: number, i: Insn): void {
  if ((v & CR0_PG) && !(v & CR0_PE)) c.fault(VEC_GP, 0);
  if ((v & CR0_NW) && !(v & CR0_CD)) c.fault(VEC_GP, 0);
  const old = c.cr0;
  c.cr0 = (v & CR0_WRITABLE) | CR0_ET;
  if ((old ^ c.cr0) & (CR0_PG | CR0_WP | CR0_PE)) {
    c.flushTlb(true);
  }
  if ((old ^ c.cr0) & CR0_PE) {
    // Entering or leaving protected mode changes how segment limits apply and CPL.
    if (!(c.cr0 & CR0_PE)) c.setCpl(0);
    for (let s = 0; s < 6; s++) c.updateSegFast(s);
  }
  c.eip = i.next;
  c.stopBlock = true;
}

/** CR4 bits this CPU implements (VME/PVI are not: CPUID does not offer VME). */
const CR4_SUPPORTED = CR4_PSE | CR4_PAE | CR4_PGE | CR4_TSD | CR4_PCE | CR4_OSFXSR | CR4_OSXMMEXCPT | CR4_DE | CR4_MCE;

/**
 * The CR4 bits a guest may set: those implemented whose feature CPUID leaf 1 reports (a bit for a
 * feature CPUID does not offer is reserved and faults, as on a processor without it).
 */
function cr4Allowed(c: Cpu): number {
  const edx = cpuid(c, 1, 0)[3];
  let ok = CR4_PCE; // RDPMC exists on every P6
  if (edx & (1 << 2)) ok |= CR4_DE;
  if (edx & (1 << 3)) ok |= CR4_PSE;
  if (edx & (1 << 4)) ok |= CR4_TSD;
  if (edx & (1 << 6)) ok |= CR4_PAE;
  if (edx & (1 << 7)) ok |= CR4_MCE;
  if (edx & (1 << 13)) ok |= CR4_PGE;
  if (edx & (1 << 24)) ok |= CR4_OSFXSR;
  if (edx & (1 << 25)) ok |= CR4_OSXMMEXCPT;
  return ok & CR4_SUPPORTED;
}

function setCr4(c: Cpu, v: number): void {
  const bad = v & ~cr4Allowed(c);
  if (bad) {
    if (bad & (CR4_VME | CR4_PVI)) {
      logOnce('info', 'cpu', 'cr4-vme', 'guest tried to set CR4.VME/PVI, which CPUID does not report: #GP');
    } else {
      logOnce('info', 'cpu', 'cr4-bits', `guest tried to set CR4 bits 0x${bad.toString(16)}, not offered by CPUID: #GP`);
    }
    c.fault(VEC_GP, 0);
  }
  const old = c.cr4;
  c.cr4 = v;
  if ((old ^ v) & (CR4_PSE | CR4_PAE | CR4_PGE)) c.flushTlb(true);
}

// ---- CPUID, RDTSC, RDMSR, WRMSR, RDPMC -----------------------------------------------------------------
def0f(0xa2, (d, i) => {
  i.exec = (c) => {
    const r = cpuid(c, c.regs[0] >>> 0, c.regs[1] >>> 0);
    c.regs[0] = r[0];
    c.regs[3] = r[1];
    c.regs[1] = r[2];
    c.regs[2] = r[3];
  };
});
def0f(0x31, (d, i) => {
  i.exec = (c) => {
    if (c.cr4 & CR4_TSD && c.protectedMode && (c.cpl !== 0 || c.v86)) c.fault(VEC_GP, 0);
    const t = c.msr.tsc();
    c.regs[0] = t % 4294967296 | 0;
    c.regs[2] = Math.floor(t / 4294967296) | 0;
  };
});
def0f(0x32, (d, i) => {
  i.exec = (c) => {
    requireCpl0(c);
    const [lo, hi] = c.msr.read(c.regs[1]);
    c.regs[0] = lo;
    c.regs[2] = hi;
  };
});
def0f(0x30, (d, i) => {
  i.exec = (c, i) => {
    requireCpl0(c);
    c.msr.write(c.regs[1], c.regs[0], c.regs[2]);
    c.eip = i.next;
    c.stopBlock = true;
  };
  d.branch();
});
def0f(0x33, (d, i) => {
  i.exec = (c) => c.fault(VEC_GP, 0); // no performance counters are implemented
});

// ---- SYSENTER / SYSEXIT ---------------------------------------------------------------------------------
def0f(0x34, (d, i) => {
  i.exec = (c) => {
    const cs = c.msr.sysenterCs & 0xfffc;
    if (!c.protectedMode || cs === 0) c.fault(VEC_GP, 0);
    c.setFlagsMasked(0, FLAG_VM | FLAG_IF | FLAG_RF);
    flatSeg(c, CS, cs, 0x9b, 0);
    flatSeg(c, SS, cs + 8, 0x93, 0);
    c.setCpl(0);
    c.regs[4] = c.msr.sysenterEsp;
    c.eip = c.msr.sysenterEip;
    for (let s = 0; s < 6; s++) c.updateSegFast(s);
  };
  d.branch();
});
def0f(0x35, (d, i) => {
  i.exec = (c) => {
    const cs = c.msr.sysenterCs & 0xfffc;
    if (!c.protectedMode || c.v86 || c.cpl !== 0 || cs === 0) c.fault(VEC_GP, 0);
    flatSeg(c, CS, (cs + 16) | 3, 0xfb, 3);
    flatSeg(c, SS, (cs + 24) | 3, 0xf3, 3);
    c.setCpl(3);
    c.regs[4] = c.regs[1];
    c.eip = c.regs[2];
  };
  d.branch();
});

/** SYSENTER/SYSEXIT load fixed flat 4 GiB segments without reading descriptors. */
function flatSeg(c: Cpu, seg: number, sel: number, access: number, _dpl: number): void {
  loadCache(c, seg, sel, { lo: 0, hi: 0, base: 0, limit: 0xffffffff, attr: access | 0xc000, addr: 0 });
}

// ---- HLT, CLI/STI, flag bit instructions -----------------------------------------------------------------
def(0xf4, (d, i) => {
  i.exec = (c, i) => {
    requireCpl0(c);
    c.eip = i.next;
    c.halted = true;
    c.exitReason = Exit.Halt;
    c.stopBlock = true;
  };
  d.branch();
});

/** CLI/STI are IOPL-sensitive; with PVI/VME they would touch VIF instead (not offered by CPUID). */
function ifAllowed(c: Cpu): void {
  if (!c.protectedMode) return;
  const iopl = (c.flags & FLAG_IOPL) >> 12;
  if (c.v86 ? iopl !== 3 : c.cpl > iopl) c.fault(VEC_GP, 0);
}
def(0xfa, (d, i) => {
  i.exec = (c) => {
    ifAllowed(c);
    c.flags &= ~FLAG_IF;
  };
});
def(0xfb, (d, i) => {
  i.exec = (c) => {
    ifAllowed(c);
    if (!(c.flags & FLAG_IF)) c.inhibitIrq = true;
    c.flags |= FLAG_IF;
  };
  d.end();
});
def(0xf5, (d, i) => {
  i.exec = (c) => setFlags(c, FLAG_CF, getCF(c) ^ 1);
});
def(0xf8, (d, i) => {
  i.exec = (c) => setFlags(c, FLAG_CF, 0);
});
def(0xf9, (d, i) => {
  i.exec = (c) => setFlags(c, FLAG_CF, FLAG_CF);
});
def(0xfc, (d, i) => {
  i.exec = (c) => {
    c.flags &= ~FLAG_DF;
  };
});
def(0xfd, (d, i) => {
  i.exec = (c) => {
    c.flags |= FLAG_DF;
  };
});

export { ES, DS, FS, GS, FLAG_VIF, FLAG_VIP };
