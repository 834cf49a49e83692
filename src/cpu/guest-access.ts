/**
 * Access to guest memory by linear (virtual) address on behalf of the hypervisor, as Xen's
 * copy_from_guest/copy_to_guest do for HVM and PVH guests: hypercall arguments are pointers in the
 * guest's current address space. The walk uses the guest's page tables with supervisor rights but
 * never injects a fault: an unmapped address simply fails (the hypercall returns -EFAULT).
 */
import { FAULT, type Cpu } from './cpu.js';
import { translate } from './mmu.js';

/** Physical address of `lin`, or -1 if the guest has no suitable mapping. */
export function linearToPhys(c: Cpu, lin: number, write: boolean): number {
  const cr2 = c.cr2, v = c.excVector, code = c.excCode, has = c.excHasCode;
  try {
    return translate(c, lin | 0, write ? 1 : 0, false) >>> 0;
  } catch (e) {
    if (e !== FAULT) throw e;
    return -1;
  } finally {
    // A failed probe must leave no trace in the architectural state.
    c.cr2 = cr2;
    c.excVector = v;
    c.excCode = code;
    c.excHasCode = has;
  }
}

/** Physical address of `lin` if it maps guest RAM (hypercall buffers may not point at MMIO). */
function ramPhys(c: Cpu, lin: number, write: boolean): number {
  const p = linearToPhys(c, lin, write);
  return p >= 0 && c.mem.isRam(p) ? p : -1;
}

/** Copies `len` bytes from guest linear address `lin`, or returns null on an unmapped page. */
export function copyFromGuest(c: Cpu, lin: number, len: number): Uint8Array | null {
  if (!Number.isInteger(len) || len < 0 || len > 1 << 24) return null;
  const out = new Uint8Array(len);
  let done = 0;
  while (done < len) {
    const at = (lin + done) | 0;
    const p = ramPhys(c, at, false);
    if (p < 0) return null;
    const n = Math.min(len - done, 4096 - (at & 0xfff));
    for (let k = 0; k < n; k++) out[done + k] = c.mem.read(p + k, 1);
    done += n;
  }
  return out;
}

/** Copies bytes to guest linear address `lin`; false (and nothing written) on an unmapped page. */
export function copyToGuest(c: Cpu, lin: number, bytes: Uint8Array): boolean {
  // Translate every page first so a failure writes nothing.
  const phys: number[] = [];
  for (let done = 0; done < bytes.length;) {
    const at = (lin + done) | 0;
    const p = ramPhys(c, at, true);
    if (p < 0) return false;
    phys.push(p);
    done += Math.min(bytes.length - done, 4096 - (at & 0xfff));
  }
  let done = 0;
  for (const p of phys) {
    const at = (lin + done) | 0;
    const n = Math.min(bytes.length - done, 4096 - (at & 0xfff));
    for (let k = 0; k < n; k++) c.physWrite(p + k, 1, bytes[done + k]);
    done += n;
  }
  return true;
}
