/**
 * Paging (Intel SDM vol. 3, ch. 4): 32-bit two-level paging with 4 KiB and 4 MiB (PSE) pages, and
 * PAE three-level paging with 2 MiB pages and the XD/NX bit. Walks set Accessed and Dirty bits as
 * hardware does (A on every level used, D on the final entry of a write) and raise #PF with precise
 * error codes and CR2. Successful walks fill the CPU's software TLB.
 *
 * Simplification: PAE PDPTEs are read from memory on each walk instead of being cached at CR3 load;
 * guests that rewrite PDPTEs without reloading CR3 would see the change earlier than on hardware.
 */
import type { Cpu } from './cpu.js';
import {
  CR0_PG, CR0_WP, CR4_PAE, CR4_PGE, CR4_PSE, EFER_NXE, PF_I, PF_P, PF_RSVD, PF_U, PF_W, VEC_PF,
} from './arch.js';

/** 0 = read, 1 = write, 2 = instruction fetch. */
export type Access = 0 | 1 | 2;

const P = 1, RW = 2, US = 4, A = 0x20, D = 0x40, PS = 0x80, G = 0x100;

export function translate(c: Cpu, lin: number, access: Access, user: boolean): number {
  if ((c.cr0 & CR0_PG) === 0) {
    const phys = lin & c.a20Mask;
    c.tlbFill(lin, phys, user, true, false, false);
    if (!user) c.tlbFill(lin, phys, true, true, false, false);
    return phys;
  }
  return c.cr4 & CR4_PAE ? walkPae(c, lin, access, user) : walk32(c, lin, access, user);
}

function pageFault(c: Cpu, lin: number, code: number): never {
  c.cr2 = lin;
  return c.fault(VEC_PF, code);
}

/**
 * The error-code bits given by the access itself. I (instruction fetch) is reported only when NX
 * is possible (PAE paging with EFER.NXE), but then for every kind of fetch fault, not-present too.
 */
function errBits(c: Cpu, access: Access, user: boolean): number {
  let e = (access === 1 ? PF_W : 0) | (user ? PF_U : 0);
  if (access === 2 && (c.cr4 & CR4_PAE) !== 0 && (c.efer & EFER_NXE) !== 0) e |= PF_I;
  return e;
}

function readPhys32(c: Cpu, p: number): number {
  return c.mem.read(p & c.a20Mask, 4);
}

function writePhys32(c: Cpu, p: number, v: number): void {
  c.physWrite(p & c.a20Mask, 4, v);
}

/** Decides write permission from the combined R/W and U/S bits of all levels. */
function canWrite(c: Cpu, rw: boolean, user: boolean): boolean {
  if (rw) return true;
  return !user && (c.cr0 & CR0_WP) === 0;
}

function walk32(c: Cpu, lin: number, access: Access, user: boolean): number {
  const pdeAddr = (c.cr3 & -4096) | ((lin >>> 22) << 2);
  let pde = readPhys32(c, pdeAddr);
  const err = errBits(c, access, user);
  if ((pde & P) === 0) return pageFault(c, lin, err);
  if (pde & PS && c.cr4 & CR4_PSE) {
    // 4 MiB page. Bits 13..20 of the PDE (PSE-36) would give physical bits 32..39: we have none,
    // and a non-zero value there points above our physical space, which reads as unmapped.
    const rw = (pde & RW) !== 0, us = (pde & US) !== 0;
    checkPerm(c, lin, access, user, rw, us, false, err);
    const want = A | (access === 1 ? D : 0);
    if ((pde & want) !== want) writePhys32(c, pdeAddr, (pde |= want));
    const phys = ((pde & 0xffc00000) | (lin & 0x3ff000)) & c.a20Mask;
    fill(c, lin, phys, user, rw, us, pde, false, true);
    return phys | (lin & 0xfff);
  }
  const pteAddr = (pde & -4096) | (((lin >>> 12) & 0x3ff) << 2);
  let pte = readPhys32(c, pteAddr);
  if ((pte & P) === 0) return pageFault(c, lin, err);
  const rw = (pde & pte & RW) !== 0, us = (pde & pte & US) !== 0;
  checkPerm(c, lin, access, user, rw, us, false, err);
  if ((pde & A) === 0) writePhys32(c, pdeAddr, (pde |= A));
  const want = A | (access === 1 ? D : 0);
  if ((pte & want) !== want) writePhys32(c, pteAddr, (pte |= want));
  const phys = (pte & -4096) & c.a20Mask;
  fill(c, lin, phys, user, rw, us, pte, false, false);
  return phys | (lin & 0xfff);
}

function checkPerm(
  c: Cpu, lin: number, access: Access, user: boolean, rw: boolean, us: boolean, nx: boolean, err: number,
): void {
  if (user && !us) pageFault(c, lin, err | PF_P);
  if (access === 1 && !canWrite(c, rw, user)) pageFault(c, lin, err | PF_P);
  if (access === 2 && nx) pageFault(c, lin, err | PF_P | PF_I);
}

function fill(
  c: Cpu, lin: number, phys: number, user: boolean, rw: boolean, us: boolean, leaf: number, nx: boolean, large: boolean,
): void {
  const global = (leaf & G) !== 0 && (c.cr4 & CR4_PGE) !== 0;
  // The write table is filled only once the Dirty bit is set, so the first write to a clean page
  // still walks and sets D.
  const dirty = (leaf & D) !== 0;
  c.tlbFill(lin, phys, false, dirty && canWrite(c, rw, false), nx, global, large);
  if (us) c.tlbFill(lin, phys, true, dirty && canWrite(c, rw, true), nx, global, large);
  void user;
}

/** Reads a 64-bit PAE entry as [low, high] 32-bit halves. */
function readEntry64(c: Cpu, p: number, out: Int32Array): void {
  out[0] = readPhys32(c, p);
  out[1] = readPhys32(c, p + 4);
}

const e64 = new Int32Array(2);

function walkPae(c: Cpu, lin: number, access: Access, user: boolean): number {
  const nxe = (c.efer & EFER_NXE) !== 0;
  const err = errBits(c, access, user);
  // Reserved physical-address bits: we implement 36-bit physical addresses (MAXPHYADDR = 36).
  const hiReserved = nxe ? 0x7ffffff0 : 0xfffffff0 | 0;

  const pdpteAddr = (c.cr3 & -32) + ((lin >>> 30) << 3);
  readEntry64(c, pdpteAddr >>> 0, e64);
  const pdpteLo = e64[0], pdpteHi = e64[1];
  if ((pdpteLo & P) === 0) return pageFault(c, lin, err);
  // PDPTE reserved bits: 1,2,5..8 and the high bits (NX is reserved at this level too).
  if (pdpteLo & 0x1e6 || pdpteHi & (0xfffffff0 | 0)) return pageFault(c, lin, err | PF_P | PF_RSVD);

  const pdeAddr = (pdpteLo & -4096) + (((lin >>> 21) & 0x1ff) << 3);
  readEntry64(c, pdeAddr >>> 0, e64);
  let pdeLo = e64[0];
  const pdeHi = e64[1];
  if ((pdeLo & P) === 0) return pageFault(c, lin, err);
  if (pdeHi & hiReserved) return pageFault(c, lin, err | PF_P | PF_RSVD);
  const pdeNx = nxe && pdeHi < 0;
  if (pdeLo & PS) {
    if (pdeLo & 0x1fe000) return pageFault(c, lin, err | PF_P | PF_RSVD);
    const rw = (pdeLo & RW) !== 0, us = (pdeLo & US) !== 0;
    checkPerm(c, lin, access, user, rw, us, pdeNx, err);
    const want = A | (access === 1 ? D : 0);
    if ((pdeLo & want) !== want) writePhys32(c, pdeAddr, (pdeLo |= want));
    if (pdeHi & 0xf) return unmappedHigh(c, lin, user, access);
    const phys = ((pdeLo & 0xffe00000) | (lin & 0x1ff000)) & c.a20Mask;
    fill(c, lin, phys, user, rw, us, pdeLo, pdeNx, true);
    return phys | (lin & 0xfff);
  }

  const pteAddr = (pdeLo & -4096) + (((lin >>> 12) & 0x1ff) << 3);
  if (pdeHi & 0xf) return unmappedHigh(c, lin, user, access);
  readEntry64(c, pteAddr >>> 0, e64);
  let pteLo = e64[0];
  const pteHi = e64[1];
  if ((pteLo & P) === 0) return pageFault(c, lin, err);
  if (pteHi & hiReserved) return pageFault(c, lin, err | PF_P | PF_RSVD);
  const nx = pdeNx || (nxe && pteHi < 0);
  const rw = (pdeLo & pteLo & RW) !== 0, us = (pdeLo & pteLo & US) !== 0;
  checkPerm(c, lin, access, user, rw, us, nx, err);
  if ((pdeLo & A) === 0) writePhys32(c, pdeAddr, (pdeLo |= A));
  const want = A | (access === 1 ? D : 0);
  if ((pteLo & want) !== want) writePhys32(c, pteAddr, (pteLo |= want));
  if (pteHi & 0xf) return unmappedHigh(c, lin, user, access);
  const phys = (pteLo & -4096) & c.a20Mask;
  fill(c, lin, phys, user, rw, us, pteLo, nx, false);
  return phys | (lin & 0xfff);
}

/**
 * A mapping to physical memory above 4 GiB: we have none there, so return an address in the
 * unmapped top page (reads give all-ones, writes vanish), without caching it.
 */
function unmappedHigh(_c: Cpu, lin: number, _user: boolean, _access: Access): number {
  return (0xfffff000 | (lin & 0xfff)) | 0;
}

export { CR0_PG };
