/**
 * How a vCPU of an HVM-container Xen domain (PVH now, PVHVM later) looks to its guest: Xen's
 * CPUID leaves at 0x40000000 (xen-abi.md 1.1), the hypercall-page MSR (1.2) and VMCALL/VMMCALL
 * as the hypercall instruction anywhere (1.3).
 */
import type { Cpu } from '../cpu/cpu.js';
import { XEN_MAJOR, XEN_MINOR } from '../xen/abi.js';

export const XEN_CPUID_BASE = 0x40000000;
export const XEN_HYPERCALL_MSR = 0x40000000;
/** Leaf base+4 EAX: the vCPU id in EBX is valid. */
const XEN_HVM_CPUID_VCPU_ID_PRESENT = 1 << 3;

const sig = (s: string): number => s.charCodeAt(0) | (s.charCodeAt(1) << 8) | (s.charCodeAt(2) << 16) | (s.charCodeAt(3) << 24);

/** Xen's hypervisor leaves for vCPU `vcpuId`, or null for any other leaf. */
export function xenCpuidLeaf(leaf: number, vcpuId: number): [number, number, number, number] | null {
  switch (leaf >>> 0) {
    case XEN_CPUID_BASE: return [XEN_CPUID_BASE + 4, sig('XenV'), sig('MMXe'), sig('nVMM')];
    case XEN_CPUID_BASE + 1: return [(XEN_MAJOR << 16) | XEN_MINOR, 0, 0, 0];
    case XEN_CPUID_BASE + 2: return [1, XEN_HYPERCALL_MSR, 0, 0];
    case XEN_CPUID_BASE + 3: return [0, 0, 0, 0];
    case XEN_CPUID_BASE + 4: return [XEN_HVM_CPUID_VCPU_ID_PRESENT, vcpuId, 0, 0];
    default: return null;
  }
}

/**
 * The hypercall page an older guest installs through the MSR: 128 slots of 32 bytes, each
 * `mov eax, N; vmcall; ret`, slot 23 (the PV iret) `ud2`, the rest int3 (Xen's VMX layout).
 */
export function hypercallPage(): Uint8Array {
  const p = new Uint8Array(4096).fill(0xcc);
  for (let n = 0; n < 128; n++) {
    const o = n * 32;
    if (n === 23) {
      p[o] = 0x0f;
      p[o + 1] = 0x0b;
      continue;
    }
    p.set([0xb8, n, 0, 0, 0, 0x0f, 0x01, 0xc1, 0xc3], o);
  }
  return p;
}

/**
 * Makes `cpu` a Xen HVM-container vCPU: hypervisor CPUID bit and leaves, the hypercall MSR
 * writing the page into guest RAM, and VMCALL/VMMCALL exiting to the hypervisor.
 */
export function enlightenCpu(cpu: Cpu, vcpuId: number): void {
  cpu.vmcallEnabled = true;
  cpu.cpuidConfig.hypervisor = true;
  cpu.cpuidHook = (leaf) => xenCpuidLeaf(leaf, vcpuId);
  const page = hypercallPage();
  cpu.msr.extra.push({
    read: (index) => (index >>> 0 === XEN_HYPERCALL_MSR ? [0, 0] : null),
    write: (index, lo, hi) => {
      if (index >>> 0 !== XEN_HYPERCALL_MSR) return false;
      // Bits 11:0 index the hypercall page: we have one, so anything but 0 is #GP (returning
      // false lets the CPU's unknown-MSR path raise it).
      if ((lo & 0xfff) !== 0 || hi !== 0) return false;
      const gpa = (lo >>> 0) & ~0xfff;
      if (!cpu.mem.isRam(gpa)) return false;
      cpu.writePhysBytes(gpa, page);
      return true;
    },
  });
}
