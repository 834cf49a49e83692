/**
 * Model-specific registers (Intel SDM vol. 4) that a P6-class CPU with PAE/NX exposes and that
 * Linux and SeaBIOS touch. Unknown MSRs raise #GP, as on hardware; the machine may add handlers
 * (e.g. the Xen hypercall-page MSR) through `extra`.
 */
import type { Cpu } from './cpu.js';
import { logOnce } from '../base/log.js';
import { EFER_LMA, EFER_LME, EFER_NXE, EFER_SCE, VEC_GP } from './arch.js';

export const MSR_TSC = 0x10;
export const MSR_APIC_BASE = 0x1b;
export const MSR_SYSENTER_CS = 0x174;
export const MSR_SYSENTER_ESP = 0x175;
export const MSR_SYSENTER_EIP = 0x176;
export const MSR_MISC_ENABLE = 0x1a0;
export const MSR_PAT = 0x277;
export const MSR_MTRRCAP = 0xfe;
export const MSR_MTRR_DEF_TYPE = 0x2ff;
export const MSR_EFER = 0xc0000080;
export const MSR_PLATFORM_ID = 0x17;
export const MSR_BIOS_SIGN_ID = 0x8b;

/** A machine-provided MSR (64-bit values as [lo, hi]). Returning false means "not mine". */
export interface MsrHandler {
  read(index: number): [number, number] | null;
  write(index: number, lo: number, hi: number): boolean;
}

export class MsrFile {
  sysenterCs = 0;
  sysenterEsp = 0;
  sysenterEip = 0;
  apicBaseLo = 0xfee00900 | 0; // enabled, BSP
  /** Power-on PAT: WB, WT, UC-, UC in each half (entry 0 must be WB: Linux BUGs otherwise). */
  patLo = 0x00070406;
  patHi = 0x00070406;
  miscEnable = 1;
  mtrrDefType = 0;
  readonly mtrrs = new Map<number, [number, number]>();
  /**
   * TSC = source + offset. The default source counts retired instructions (one tick each); a
   * machine replaces it with guest time at its advertised TSC frequency.
   */
  tscOffset = 0;
  tscSource: () => number = () => this.c.icount;
  extra: MsrHandler[] = [];

  constructor(private readonly c: Cpu) {}

  reset(): void {
    this.sysenterCs = this.sysenterEsp = this.sysenterEip = 0;
    this.apicBaseLo = 0xfee00900 | 0;
    this.patLo = this.patHi = 0x00070406;
    this.mtrrDefType = 0;
    this.mtrrs.clear();
    this.tscOffset = 0;
  }

  /** The current time-stamp counter as a double (exact up to 2^53). */
  tsc(): number {
    return this.tscSource() + this.tscOffset;
  }

  read(index: number): [number, number] {
    index >>>= 0;
    for (const h of this.extra) {
      const v = h.read(index);
      if (v) return v;
    }
    switch (index) {
      case MSR_TSC: {
        const t = this.tsc();
        return [t % 4294967296 | 0, Math.floor(t / 4294967296) | 0];
      }
      case MSR_APIC_BASE: return [this.apicBaseLo, 0];
      case MSR_SYSENTER_CS: return [this.sysenterCs, 0];
      case MSR_SYSENTER_ESP: return [this.sysenterEsp, 0];
      case MSR_SYSENTER_EIP: return [this.sysenterEip, 0];
      case MSR_MISC_ENABLE: return [this.miscEnable, 0];
      case MSR_PAT: return [this.patLo, this.patHi];
      case MSR_EFER: return [this.c.efer, 0];
      case MSR_PLATFORM_ID: return [0, 0];
      case MSR_BIOS_SIGN_ID: return [0, 0];
      case MSR_MTRRCAP: return [0x508, 0]; // 8 variable ranges, fixed ranges, write-combining
      case MSR_MTRR_DEF_TYPE: return [this.mtrrDefType, 0];
    }
    if (isMtrr(index)) return this.mtrrs.get(index) ?? [0, 0];
    logOnce('info', 'cpu', `rdmsr:${index}`, `rdmsr of unknown MSR 0x${index.toString(16)}: #GP`);
    return this.c.fault(VEC_GP, 0);
  }

  write(index: number, lo: number, hi: number): void {
    index >>>= 0;
    for (const h of this.extra) if (h.write(index, lo, hi)) return;
    switch (index) {
      case MSR_TSC:
        this.tscOffset = (lo >>> 0) + (hi >>> 0) * 4294967296 - this.tscSource();
        return;
      case MSR_APIC_BASE: this.apicBaseLo = lo; return;
      case MSR_SYSENTER_CS: this.sysenterCs = lo & 0xffff; return;
      case MSR_SYSENTER_ESP: this.sysenterEsp = lo; return;
      case MSR_SYSENTER_EIP: this.sysenterEip = lo; return;
      case MSR_MISC_ENABLE: this.miscEnable = lo; return;
      case MSR_PAT: this.patLo = lo; this.patHi = hi; return;
      case MSR_EFER: {
        // Only SCE and NXE are implemented (no long mode yet); setting reserved bits faults.
        if (lo & ~(EFER_SCE | EFER_NXE) || hi !== 0) {
          if (lo & (EFER_LME | EFER_LMA)) logOnce('warn', 'cpu', 'efer-lme', 'guest tried to enable long mode: not supported yet');
          this.c.fault(VEC_GP, 0);
        }
        this.c.efer = lo;
        this.c.flushTlb(true);
        return;
      }
      case MSR_BIOS_SIGN_ID: return;
      case MSR_MTRR_DEF_TYPE: this.mtrrDefType = lo; return;
    }
    if (isMtrr(index)) {
      this.mtrrs.set(index, [lo, hi]);
      return;
    }
    logOnce('info', 'cpu', `wrmsr:${index}`, `wrmsr of unknown MSR 0x${index.toString(16)}: #GP`);
    this.c.fault(VEC_GP, 0);
  }
}

function isMtrr(index: number): boolean {
  return (index >= 0x200 && index <= 0x20f) || index === 0x250 || index === 0x258 || index === 0x259 ||
    (index >= 0x268 && index <= 0x26f);
}
