/**
 * What a hypercall handler sees: the calling domain and vCPU, the five argument registers, and
 * copies to and from guest linear addresses (pointer arguments are virtual addresses in the
 * caller's address space, xen-abi.md 1.4). A failed copy is -EFAULT, never a guest fault.
 */
import type { Cpu } from '../../cpu/cpu.js';
import { copyFromGuest, copyToGuest } from '../../cpu/guest-access.js';
import type { XenDomain, XenVcpu } from '../domain.js';

export class HypercallContext {
  constructor(
    readonly domain: XenDomain,
    readonly vcpu: XenVcpu,
  ) {}

  get cpu(): Cpu {
    return this.vcpu.cpu;
  }

  /** Argument n (1..5) of a 32-bit caller: EBX, ECX, EDX, ESI, EDI. */
  arg(n: number): number {
    const r = this.cpu.regs;
    switch (n) {
      case 1: return r[3] >>> 0;
      case 2: return r[1] >>> 0;
      case 3: return r[2] >>> 0;
      case 4: return r[6] >>> 0;
      default: return r[7] >>> 0;
    }
  }

  /** Reads `len` bytes at guest linear `lin` as a DataView, or null (-EFAULT). */
  read(lin: number, len: number): DataView | null {
    const b = copyFromGuest(this.cpu, lin, len);
    return b === null ? null : new DataView(b.buffer, b.byteOffset, b.byteLength);
  }

  write(lin: number, bytes: Uint8Array): boolean {
    return copyToGuest(this.cpu, lin, bytes);
  }

  writeU32(lin: number, v: number): boolean {
    const b = new Uint8Array(4);
    new DataView(b.buffer).setUint32(0, v >>> 0, true);
    return this.write(lin, b);
  }
}
