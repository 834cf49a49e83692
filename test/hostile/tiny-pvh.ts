/**
 * Tiny PVH "kernels" for tests: hand-assembled 32-bit code in an ELF32 executable whose
 * PHYS32_ENTRY note points at it, loaded at 1 MiB. Enough to drive a PvhMachine with a guest
 * that does exactly what a test wants (hypercalls, garbage, faults) in a few hundred instructions.
 */
export const TINY_BASE = 0x100000;

/** Little-endian bytes of a 32-bit value. */
export const le32 = (v: number): number[] => [v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, (v >>> 24) & 0xff];

/** An ELF32 executable with `image` (code and data) at TINY_BASE and the PVH entry at `entry`. */
export function tinyPvhElf(image: number[], entry = TINY_BASE): Uint8Array {
  const note = [4, 0, 0, 0, 4, 0, 0, 0, 18, 0, 0, 0, 0x58, 0x65, 0x6e, 0, ...le32(entry)];
  const phoff = 52, codeOff = 0x100, noteOff = codeOff + ((image.length + 3) & ~3);
  const b = new Uint8Array(noteOff + note.length);
  const dv = new DataView(b.buffer);
  b.set([0x7f, 0x45, 0x4c, 0x46, 1, 1, 1]);
  dv.setUint16(16, 2, true);
  dv.setUint16(18, 3, true);
  dv.setUint32(24, entry, true);
  dv.setUint32(28, phoff, true);
  dv.setUint16(42, 32, true);
  dv.setUint16(44, 2, true);
  const ph = (k: number, type: number, off: number, pa: number, size: number) => {
    const o = phoff + k * 32;
    dv.setUint32(o, type, true); dv.setUint32(o + 4, off, true); dv.setUint32(o + 8, pa, true);
    dv.setUint32(o + 12, pa, true); dv.setUint32(o + 16, size, true); dv.setUint32(o + 20, size, true);
  };
  ph(0, 1, codeOff, TINY_BASE, image.length);
  ph(1, 4, noteOff, 0, note.length);
  b.set(image, codeOff);
  b.set(note, noteOff);
  return b;
}

// A few encodings (32-bit operand size).
export const movEax = (v: number) => [0xb8, ...le32(v)];
export const movEbx = (v: number) => [0xbb, ...le32(v)];
export const movEcx = (v: number) => [0xb9, ...le32(v)];
export const movEdx = (v: number) => [0xba, ...le32(v)];
export const VMCALL = [0x0f, 0x01, 0xc1];
export const HLT = [0xf4];
export const CLI = [0xfa];
/** lidt [abs] */
export const lidt = (addr: number) => [0x0f, 0x01, 0x1d, ...le32(addr)];
/** dec dword [abs] */
export const decMem = (addr: number) => [0xff, 0x0d, ...le32(addr)];
