/**
 * CPUID: reports exactly what this CPU implements, no more. A guest that trusts these bits must
 * never hit an unimplemented feature. The machine can add leaves (the Xen range at 0x40000000)
 * through `Cpu.cpuidHook`.
 */
import type { Cpu } from './cpu.js';

/** Leaf 1 EDX feature bits, by name, for the features implemented. */
export const FEAT_EDX = {
  FPU: 1 << 0, PSE: 1 << 3, TSC: 1 << 4, MSR: 1 << 5, PAE: 1 << 6, CX8: 1 << 8, APIC: 1 << 9, SEP: 1 << 11,
  MTRR: 1 << 12, PGE: 1 << 13, CMOV: 1 << 15, PAT: 1 << 16, FXSR: 1 << 24,
} as const;

/** Family 6, model 15 (a P6-lineage core), stepping 1: what Linux's i686 kernels expect. */
export const CPU_SIGNATURE = 0x000006f1;

export interface CpuidConfig {
  /** Whether a local APIC is present on this machine (the platform decides). */
  apic: boolean;
  /** Whether FXSAVE/FXRSTOR are implemented (set by the FPU once it supports them). */
  fxsr: boolean;
  /** Leaf 1 ECX bit 31: running under a hypervisor (set by Xen machines, whose leaves the hook adds). */
  hypervisor?: boolean;
}

const BRAND = 'tsxen virtual CPU (i686)';

function brandWords(): number[] {
  const s = BRAND.padEnd(48, '\0');
  const w: number[] = [];
  for (let k = 0; k < 48; k += 4) {
    w.push(s.charCodeAt(k) | (s.charCodeAt(k + 1) << 8) | (s.charCodeAt(k + 2) << 16) | (s.charCodeAt(k + 3) << 24));
  }
  return w;
}
const BRAND_WORDS = brandWords();

function str4(s: string): number {
  return s.charCodeAt(0) | (s.charCodeAt(1) << 8) | (s.charCodeAt(2) << 16) | (s.charCodeAt(3) << 24);
}

/** Returns [EAX, EBX, ECX, EDX] for a leaf and subleaf. */
export function cpuid(c: Cpu, leaf: number, sub: number): [number, number, number, number] {
  const hooked = c.cpuidHook?.(leaf, sub);
  if (hooked) return hooked;
  switch (leaf) {
    case 0:
      return [1, str4('Genu'), str4('ntel'), str4('ineI')];
    case 1: {
      let edx = FEAT_EDX.FPU | FEAT_EDX.PSE | FEAT_EDX.TSC | FEAT_EDX.MSR | FEAT_EDX.PAE | FEAT_EDX.CX8 | FEAT_EDX.SEP |
        FEAT_EDX.MTRR | FEAT_EDX.PGE | FEAT_EDX.CMOV | FEAT_EDX.PAT;
      if (c.cpuidConfig.apic) edx |= FEAT_EDX.APIC;
      if (c.cpuidConfig.fxsr) edx |= FEAT_EDX.FXSR;
      // EBX: APIC ID in bits 31..24, one logical processor; CLFLUSH size field 0 (no CLFLUSH).
      const ecx = c.cpuidConfig.hypervisor ? 1 << 31 : 0;
      return [CPU_SIGNATURE, (c.apicId & 0xff) << 24, ecx, edx];
    }
    case 0x80000000:
      return [0x80000004 | 0, 0, 0, 0];
    case 0x80000001:
      // NX is the only extended feature (EFER.NXE is implemented).
      return [0, 0, 0, 1 << 20];
    case 0x80000002:
    case 0x80000003:
    case 0x80000004: {
      const k = (leaf - 0x80000002) * 4;
      return [BRAND_WORDS[k], BRAND_WORDS[k + 1], BRAND_WORDS[k + 2], BRAND_WORDS[k + 3]];
    }
    default:
      // Intel: leaves above the maximum return the highest basic leaf's values.
      if (leaf < 0x80000000) return cpuid(c, 1, 0);
      return [0, 0, 0, 0];
  }
}
