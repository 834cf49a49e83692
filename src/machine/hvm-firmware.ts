/**
 * The firmware ROM of the HVM machine and the i440FX's BIOS shadowing (Programmable Attribute Map).
 *
 * The BIOS image (e.g. SeaBIOS's bios-256k.bin) answers at the top of the 4 GiB space
 * ([4 GiB - size, 4 GiB), where the reset vector FFFFFFF0h lands) and its last 128 KiB also in the
 * legacy window E0000h-FFFFFh, as the ISA BIOS alias does on a PC. Below 1 MiB the PAM registers
 * decide per segment (F0000h-FFFFFh as one 64 KiB segment, C0000h-EFFFFh in 16 KiB ones) whether
 * reads come from DRAM or from the PCI side (the ROM alias for E0000h-FFFFFh, nothing, i.e. all
 * ones, for C0000h-DFFFFh, where option ROMs would decode), and whether writes go to DRAM or are
 * lost on PCI. A segment that reads and writes DRAM is plain RAM (the CPU's TLB maps it directly);
 * any other state is an MMIO region that routes each access.
 *
 * Every change of a segment's mapping calls `changed()`, which must flush the CPU's TLB and its
 * decoded-block cache: the same physical address now holds other bytes.
 */
import type { MmioHandler, PhysicalMemory } from '../memory/physical.js';
import { pamRegions } from '../devices/pci/i440fx.js';

/** Where the ISA BIOS alias of the ROM's last 128 KiB starts. */
export const ISA_BIOS_BASE = 0xe0000;
export const ISA_BIOS_SIZE = 0x20000;
/** The BIOS area ends at 1 MiB. */
const BIOS_AREA_END = 0x100000;

/** The ROM at the top of the 4 GiB space: reads the image, drops writes. */
export class BiosRom implements MmioHandler {
  readonly name = 'bios-rom';
  readonly base: number;

  constructor(readonly image: Uint8Array) {
    const n = image.length;
    if (n < ISA_BIOS_SIZE || n > 16 << 20 || n % 0x10000 !== 0) {
      throw new Error(`BIOS image must be a multiple of 64 KiB between 128 KiB and 16 MiB, got ${n} bytes`);
    }
    this.base = 0x100000000 - n;
  }

  mmioRead(offset: number, size: number): number {
    return readLe(this.image, offset, size);
  }

  mmioWrite(): void {}

  /** A byte of the ISA alias (E0000h-FFFFFh), `addr` physical. */
  isaByte(addr: number): number {
    return this.image[this.image.length - BIOS_AREA_END + addr];
  }
}

function readLe(b: Uint8Array, off: number, size: number): number {
  if (off + size > b.length) return size === 4 ? -1 : (1 << (size * 8)) - 1;
  if (size === 1) return b[off];
  if (size === 2) return b[off] | (b[off + 1] << 8);
  return b[off] | (b[off + 1] << 8) | (b[off + 2] << 16) | (b[off + 3] << 24);
}

/** One PAM-controlled segment in a state other than DRAM read/write. */
class ShadowSegment implements MmioHandler {
  readonly name: string;
  readDram = false;
  writeDram = false;

  constructor(readonly base: number, readonly size: number, private readonly ram: Uint8Array, private readonly rom: BiosRom) {
    this.name = `shadow-${base.toString(16)}`;
  }

  mmioRead(offset: number, size: number): number {
    const a = this.base + offset;
    if (this.readDram) return readLe(this.ram, a, size);
    if (a < ISA_BIOS_BASE) return size === 4 ? -1 : (1 << (size * 8)) - 1; // nothing decodes there
    let v = 0;
    for (let k = 0; k < size; k++) v |= this.rom.isaByte(a + k) << (8 * k);
    return v;
  }

  mmioWrite(offset: number, size: number, value: number): void {
    if (!this.writeDram) return;
    const a = this.base + offset;
    for (let k = 0; k < size; k++) this.ram[a + k] = value >> (8 * k);
  }
}

/** The shadowing state of the BIOS area, driven by the host bridge's PAM registers. */
export class BiosShadow {
  private readonly segments: ShadowSegment[] = [];
  /** Per segment: whether its MMIO handler is currently mapped. */
  private readonly mapped: boolean[] = [];

  constructor(private readonly mem: PhysicalMemory, rom: BiosRom, private readonly changed: () => void) {
    if (mem.ramSize < BIOS_AREA_END) throw new Error('the BIOS area needs at least 1 MiB of RAM behind it');
    for (let i = 0; i < 7; i++) {
      for (const r of pamRegions(i, 0)) {
        this.segments.push(new ShadowSegment(r.base, r.size, mem.u8, rom));
        this.mapped.push(false);
      }
    }
    // Power-on: every PAM register is 0, all segments decode to PCI.
    for (let i = 0; i < 7; i++) this.apply(i, 0, true);
  }

  /** PAM register `index` (0-6) now holds `value`. */
  pamChanged(index: number, value: number): void {
    this.apply(index, value, false);
  }

  private apply(index: number, value: number, initial: boolean): void {
    let any = false;
    for (const r of pamRegions(index, value)) {
      const i = this.segments.findIndex((s) => s.base === r.base);
      if (i < 0) continue;
      const s = this.segments[i];
      const wantMmio = !(r.readDram && r.writeDram);
      if (!initial && s.readDram === r.readDram && s.writeDram === r.writeDram && this.mapped[i] === wantMmio) continue;
      s.readDram = r.readDram;
      s.writeDram = r.writeDram;
      if (this.mapped[i] && !wantMmio) this.mem.unmapMmio(s);
      else if (!this.mapped[i] && wantMmio) this.mem.mapMmio(s.base, s.size, s);
      this.mapped[i] = wantMmio;
      any = true;
    }
    if (any) this.changed();
  }

  /** Withdraws every segment's MMIO region (before a reset builds the next shadow state). */
  detach(): void {
    this.segments.forEach((s, i) => {
      if (this.mapped[i]) this.mem.unmapMmio(s);
      this.mapped[i] = false;
    });
    this.changed();
  }

  /** Segment states, for tests: base -> 'pci' | 'ro' | 'wo' | 'rw'. */
  describe(): Map<number, string> {
    const m = new Map<number, string>();
    for (const s of this.segments) m.set(s.base, s.readDram ? (s.writeDram ? 'rw' : 'ro') : s.writeDram ? 'wo' : 'pci');
    return m;
  }
}
