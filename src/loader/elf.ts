/**
 * ELF executables (System V gABI; ELF32 and ELF64, little endian, x86/x86-64) as a PVH loader
 * needs them: the PT_LOAD segments at their physical addresses and the notes, in particular
 * Xen's ELF notes (xen/include/public/elfnote.h), whose PHYS32_ENTRY is the PVH entry point.
 *
 * Everything is bounds-checked against the file: a malformed image is a BootImageError naming
 * what is wrong, never an out-of-range read.
 */
import { BootImageError } from './errors.js';

export const PT_LOAD = 1, PT_NOTE = 4;
export const EM_386 = 3, EM_X86_64 = 62;

/** Xen ELF note types (elfnote.h). */
export const XEN_ELFNOTE = {
  ENTRY: 1, HYPERCALL_PAGE: 2, VIRT_BASE: 3, PADDR_OFFSET: 4, XEN_VERSION: 5, GUEST_OS: 6,
  GUEST_VERSION: 7, LOADER: 8, PAE_MODE: 9, FEATURES: 10, BSD_SYMTAB: 11, HV_START_LOW: 12,
  L1_MFN_VALID: 13, SUSPEND_CANCEL: 14, INIT_P2M: 15, MOD_START_PFN: 16, SUPPORTED_FEATURES: 17,
  PHYS32_ENTRY: 18, PHYS32_RELOC: 19,
} as const;

export interface ElfSegment {
  type: number;
  /** Offset of the segment's bytes in the file. */
  offset: number;
  vaddr: number;
  paddr: number;
  filesz: number;
  memsz: number;
  flags: number;
}

export interface ElfNote {
  name: string;
  type: number;
  desc: Uint8Array;
}

export interface ElfImage {
  bits: 32 | 64;
  machine: number;
  entry: number;
  segments: ElfSegment[];
  notes: ElfNote[];
  bytes: Uint8Array;
}

const MAX_SEGMENTS = 256;

export function isElf(b: Uint8Array): boolean {
  return b.length >= 4 && b[0] === 0x7f && b[1] === 0x45 && b[2] === 0x4c && b[3] === 0x46;
}

/** Parses an ELF executable's program headers and notes. */
export function parseElf(b: Uint8Array): ElfImage {
  if (!isElf(b)) throw new BootImageError('not an ELF file (bad magic)');
  if (b.length < 52) throw new BootImageError('ELF header is truncated');
  const cls = b[4];
  if (cls !== 1 && cls !== 2) throw new BootImageError(`ELF class ${cls} is neither ELF32 nor ELF64`);
  if (b[5] !== 1) throw new BootImageError('ELF file is not little endian');
  const bits = cls === 1 ? 32 : 64;
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const u64 = (off: number): number => {
    const v = dv.getUint32(off, true) + dv.getUint32(off + 4, true) * 4294967296;
    if (!Number.isSafeInteger(v)) throw new BootImageError('ELF value does not fit in 53 bits');
    return v;
  };
  const word = (off: number): number => (bits === 32 ? dv.getUint32(off, true) : u64(off));
  if (bits === 64 && b.length < 64) throw new BootImageError('ELF64 header is truncated');
  const type = dv.getUint16(16, true);
  if (type !== 2) throw new BootImageError(`ELF type ${type} is not an executable (ET_EXEC)`);
  const machine = dv.getUint16(18, true);
  if (machine !== EM_386 && machine !== EM_X86_64) throw new BootImageError(`ELF machine ${machine} is not x86`);
  const entry = word(24);
  const phoff = bits === 32 ? dv.getUint32(28, true) : u64(32);
  const phentsize = dv.getUint16(bits === 32 ? 42 : 54, true);
  const phnum = dv.getUint16(bits === 32 ? 44 : 56, true);
  const minEnt = bits === 32 ? 32 : 56;
  if (phnum === 0) throw new BootImageError('ELF file has no program headers');
  if (phnum > MAX_SEGMENTS) throw new BootImageError(`ELF file has ${phnum} program headers (more than ${MAX_SEGMENTS})`);
  if (phentsize < minEnt) throw new BootImageError(`ELF program header size ${phentsize} is too small`);
  if (phoff + phnum * phentsize > b.length) throw new BootImageError('ELF program headers run past the end of the file');
  const segments: ElfSegment[] = [];
  for (let k = 0; k < phnum; k++) {
    const o = phoff + k * phentsize;
    const s: ElfSegment = bits === 32
      ? {
        type: dv.getUint32(o, true), offset: dv.getUint32(o + 4, true), vaddr: dv.getUint32(o + 8, true),
        paddr: dv.getUint32(o + 12, true), filesz: dv.getUint32(o + 16, true), memsz: dv.getUint32(o + 20, true),
        flags: dv.getUint32(o + 24, true),
      }
      : {
        type: dv.getUint32(o, true), flags: dv.getUint32(o + 4, true), offset: u64(o + 8), vaddr: u64(o + 16),
        paddr: u64(o + 24), filesz: u64(o + 32), memsz: u64(o + 40),
      };
    if (s.type === PT_LOAD || s.type === PT_NOTE) {
      if (s.offset + s.filesz > b.length) throw new BootImageError(`ELF segment ${k} runs past the end of the file`);
      if (s.filesz > s.memsz) throw new BootImageError(`ELF segment ${k} has filesz > memsz`);
    }
    segments.push(s);
  }
  const notes: ElfNote[] = [];
  for (const s of segments) if (s.type === PT_NOTE) parseNotes(b.subarray(s.offset, s.offset + s.filesz), notes);
  return { bits, machine, entry, segments, notes, bytes: b };
}

function parseNotes(b: Uint8Array, out: ElfNote[]): void {
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const align4 = (n: number): number => (n + 3) & ~3;
  let o = 0;
  while (o + 12 <= b.length) {
    const namesz = dv.getUint32(o, true), descsz = dv.getUint32(o + 4, true), type = dv.getUint32(o + 8, true);
    const nameAt = o + 12, descAt = nameAt + align4(namesz);
    if (namesz > b.length || descsz > b.length || descAt + descsz > b.length) throw new BootImageError('ELF note runs past its segment');
    let name = '';
    for (let k = 0; k < namesz && b[nameAt + k] !== 0; k++) name += String.fromCharCode(b[nameAt + k]);
    out.push({ name, type, desc: b.subarray(descAt, descAt + descsz) });
    o = descAt + align4(descsz);
  }
}

/** A numeric note's value (descs of 1, 2, 4 or 8 bytes, little endian), or null. */
export function noteNumber(n: ElfNote): number | null {
  const d = n.desc;
  switch (d.length) {
    case 1: return d[0];
    case 2: return d[0] | (d[1] << 8);
    case 4: return (d[0] | (d[1] << 8) | (d[2] << 16) | (d[3] << 24)) >>> 0;
    case 8: {
      const lo = (d[0] | (d[1] << 8) | (d[2] << 16) | (d[3] << 24)) >>> 0;
      const hi = (d[4] | (d[5] << 8) | (d[6] << 16) | (d[7] << 24)) >>> 0;
      return lo + hi * 4294967296;
    }
    default: return null;
  }
}

/** A string note's value (NUL-terminated ASCII). */
export function noteString(n: ElfNote): string {
  let s = '';
  for (let k = 0; k < n.desc.length && n.desc[k] !== 0; k++) s += String.fromCharCode(n.desc[k]);
  return s;
}

export function xenNote(elf: ElfImage, type: number): ElfNote | undefined {
  return elf.notes.find((n) => n.name === 'Xen' && n.type === type);
}
