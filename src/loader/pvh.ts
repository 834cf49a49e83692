/**
 * The PVH boot layout (xen-abi.md 2; Xen's docs/misc/pvh.pandoc and
 * xen/include/public/arch-x86/hvm/start_info.h): where the kernel's PT_LOAD segments, the
 * initrd, struct hvm_start_info with its command line, module list and memory map, the ACPI
 * tables and the special pages (XenStore and console rings) go in a PVH domain's RAM, and the
 * entry point from the PHYS32_ENTRY note. A pure function: the machine copies the result into
 * guest memory.
 *
 * Layout (RAM is one block from 0; our PVH domains have no MMIO hole in RAM):
 *   [0, top)                      RAM, the kernel at its p_paddr (16 MiB for Linux)
 *   after the kernel image        the start-info page(s): hvm_start_info, cmdline, modlist, memmap
 *   below the reserved area       the initrd, page aligned, as high as it fits
 *   [top, top + 64 KiB)           ACPI tables and RSDP (e820 NVS, as Xen's toolstack marks them)
 *   [top + 64 KiB, ram)           the special pages: XenStore ring, console ring (e820 reserved:
 *                                 Linux memremap()s them and must not hand them out as RAM)
 * Xen puts the special pages just below 4 GiB; any reserved guest frames work, and keeping them
 * inside the RAM buffer means the ring pages are ordinary memory for the backends.
 */
import { BootImageError } from './errors.js';
import { PT_LOAD, XEN_ELFNOTE, noteNumber, xenNote, type ElfImage } from './elf.js';
import { E820_NVS, E820_RAM, E820_RESERVED, type E820Entry } from './e820.js';
import { buildAcpiTables } from './acpi/tables.js';

export const HVM_START_MAGIC = 0x336ec578;
export const START_INFO_SIZE = 56;
const MODLIST_ENTRY = 32, MEMMAP_ENTRY = 24;
const PAGE = 4096;
export const PVH_ACPI_BYTES = 0x10000;
/** Special pages at the top of RAM, in this order. */
export const PVH_SPECIAL_PAGES = ['xenstore', 'console'] as const;

export interface PvhRequest {
  elf: ElfImage;
  ramBytes: number;
  initrd?: Uint8Array;
  cmdline: string;
  vcpus: number;
}

export interface PvhLayout {
  /** Byte ranges to copy into RAM (RAM is zero elsewhere). */
  writes: { addr: number; bytes: Uint8Array }[];
  entry: number;
  startInfo: number;
  e820: E820Entry[];
  xenstoreGfn: number;
  consoleGfn: number;
  rsdp: number;
  kernelEnd: number;
  initrd?: { addr: number; size: number };
}

const up = (n: number, a: number): number => Math.ceil(n / a) * a;
const down = (n: number, a: number): number => Math.floor(n / a) * a;

/** The PVH entry point of a kernel, or a BootImageError saying why it has none. */
export function pvhEntry(elf: ElfImage): number {
  const note = xenNote(elf, XEN_ELFNOTE.PHYS32_ENTRY);
  if (!note) throw new BootImageError('kernel has no XEN_ELFNOTE_PHYS32_ENTRY note: it was built without PVH support (CONFIG_PVH)');
  const v = noteNumber(note);
  if (v === null) throw new BootImageError(`PHYS32_ENTRY note has a ${note.desc.length}-byte value`);
  return v % 4294967296;
}

export function planPvh(req: PvhRequest): PvhLayout {
  const { elf, ramBytes } = req;
  const entry = pvhEntry(elf);
  const specialBase = ramBytes - PVH_SPECIAL_PAGES.length * PAGE;
  const acpiBase = specialBase - PVH_ACPI_BYTES;
  const writes: PvhLayout['writes'] = [];
  let kernelEnd = 0;
  let kernelStart = Infinity;
  for (const s of elf.segments) {
    if (s.type !== PT_LOAD || s.memsz === 0) continue;
    if (s.paddr + s.memsz > acpiBase) {
      throw new BootImageError(`kernel segment at 0x${s.paddr.toString(16)} (+0x${s.memsz.toString(16)}) does not fit in ${ramBytes >> 20} MiB of RAM`);
    }
    if (s.paddr < 0x100000) throw new BootImageError(`kernel segment at 0x${s.paddr.toString(16)} is below 1 MiB`);
    writes.push({ addr: s.paddr, bytes: elf.bytes.subarray(s.offset, s.offset + s.filesz) });
    kernelEnd = Math.max(kernelEnd, s.paddr + s.memsz);
    kernelStart = Math.min(kernelStart, s.paddr);
  }
  if (kernelEnd === 0) throw new BootImageError('kernel has no loadable segments');
  if (entry < kernelStart || entry >= kernelEnd) throw new BootImageError(`PVH entry 0x${entry.toString(16)} is outside the kernel image`);

  // The memory map the guest sees (also what XENMEM_memory_map returns).
  const e820: E820Entry[] = [
    { addr: 0, size: acpiBase, type: E820_RAM },
    { addr: acpiBase, size: PVH_ACPI_BYTES, type: E820_NVS },
    { addr: specialBase, size: ramBytes - specialBase, type: E820_RESERVED },
  ];

  // hvm_start_info, then the command line, the module list and the memory map.
  const startInfo = up(kernelEnd, PAGE);
  const cmd = encodeAscii(req.cmdline);
  const cmdAt = startInfo + START_INFO_SIZE;
  const modAt = up(cmdAt + cmd.length, 8);
  const nMods = req.initrd ? 1 : 0;
  const mapAt = modAt + nMods * MODLIST_ENTRY;
  const infoEnd = mapAt + e820.length * MEMMAP_ENTRY;

  let initrd: PvhLayout['initrd'];
  if (req.initrd) {
    const addr = down(acpiBase - req.initrd.length, PAGE);
    if (addr < up(infoEnd, PAGE)) {
      throw new BootImageError(`initrd of ${req.initrd.length} bytes does not fit in ${ramBytes >> 20} MiB of RAM with the kernel`);
    }
    initrd = { addr, size: req.initrd.length };
    writes.push({ addr, bytes: req.initrd });
  }

  const acpi = buildAcpiTables({
    profile: 'pvh', tablesAddress: acpiBase, rsdpAddress: acpiBase + PVH_ACPI_BYTES - 64, cpus: req.vcpus,
  });
  if (acpi.tables.bytes.length > PVH_ACPI_BYTES - 64) throw new BootImageError('ACPI tables do not fit their area');
  writes.push({ addr: acpi.tables.address, bytes: acpi.tables.bytes }, { addr: acpi.rsdp.address, bytes: acpi.rsdp.bytes });

  const info = new Uint8Array(infoEnd - startInfo);
  const dv = new DataView(info.buffer);
  const u64 = (off: number, v: number): void => {
    dv.setUint32(off, v % 4294967296, true);
    dv.setUint32(off + 4, Math.floor(v / 4294967296), true);
  };
  dv.setUint32(0, HVM_START_MAGIC, true);
  dv.setUint32(4, 1, true); // version 1: has the memory map
  dv.setUint32(8, 0, true); // flags: an unprivileged domU
  dv.setUint32(12, nMods, true);
  u64(16, nMods ? modAt : 0);
  u64(24, cmdAt);
  u64(32, acpi.rsdp.address);
  u64(40, mapAt);
  dv.setUint32(48, e820.length, true);
  info.set(cmd, cmdAt - startInfo);
  if (initrd) {
    u64(modAt - startInfo, initrd.addr);
    u64(modAt - startInfo + 8, initrd.size);
  }
  e820.forEach((e, k) => {
    const o = mapAt - startInfo + k * MEMMAP_ENTRY;
    u64(o, e.addr);
    u64(o + 8, e.size);
    dv.setUint32(o + 16, e.type, true);
  });
  writes.push({ addr: startInfo, bytes: info });

  return {
    writes, entry, startInfo, e820, kernelEnd, initrd, rsdp: acpi.rsdp.address,
    xenstoreGfn: specialBase / PAGE, consoleGfn: specialBase / PAGE + 1,
  };
}

function encodeAscii(s: string): Uint8Array {
  const b = new Uint8Array(s.length + 1);
  for (let k = 0; k < s.length; k++) {
    const c = s.charCodeAt(k);
    if (c > 0x7e || c < 0x20) throw new BootImageError(`command line has a non-printable or non-ASCII character at ${k}`);
    b[k] = c;
  }
  return b;
}
