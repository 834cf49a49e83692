/**
 * The BIOS e820 memory map of the emulated PC, as handed to Linux in the zero page (and later
 * to PVH guests). Pure functions; addresses and sizes are plain numbers (exact up to 2^53).
 *
 * The PC map for N bytes of RAM:
 *   0x00000000-0x0009fbff  RAM            conventional memory
 *   0x0009fc00-0x0009ffff  reserved       EBDA
 *   0x000f0000-0x000fffff  reserved       system BIOS
 *   0x00100000-low end     RAM            low end = min(N, pciHoleStart = 0xe0000000)
 *   0x100000000-...        RAM            the rest of N above 4 GiB, if N is past the hole
 * (0xa0000-0xeffff, VGA memory and option ROMs, is simply absent, as on real PCs.)
 * Extra ranges (ACPI tables, NVS, device windows) are laid over it: where they overlap RAM the
 * RAM entry is split around them.
 */
import { BootImageError } from './errors.js';

export const E820_RAM = 1;
export const E820_RESERVED = 2;
export const E820_ACPI = 3;
export const E820_NVS = 4;
export const E820_UNUSABLE = 5;
export const E820_PMEM = 7;

/** The zero page holds at most this many entries (e820_table[128] at 0x2d0). */
export const E820_MAX_ENTRIES = 128;
/** Default start of the 32-bit PCI hole: RAM stops here and resumes at 4 GiB. */
export const PCI_HOLE_START = 0xe0000000;
export const FOUR_GIB = 0x100000000;

const EBDA_START = 0x9fc00;
const BIOS_START = 0xf0000;
const ONE_MIB = 0x100000;

export interface E820Entry {
  addr: number;
  size: number;
  type: number;
}

export interface PcE820Options {
  /** Where RAM below 4 GiB stops (default 0xe0000000). Page aligned, between 16 MiB and 4 GiB. */
  pciHoleStart?: number;
}

export function e820TypeName(type: number): string {
  return ({ 1: 'RAM', 2: 'reserved', 3: 'ACPI data', 4: 'ACPI NVS', 5: 'unusable', 7: 'persistent memory' } as Record<number, string>)[type] ?? `type ${type}`;
}

function checkRange(e: E820Entry, what: string): void {
  if (!Number.isSafeInteger(e.addr) || !Number.isSafeInteger(e.size) || e.addr < 0 || e.size <= 0 || !Number.isSafeInteger(e.addr + e.size)) {
    throw new BootImageError(`${what} {addr ${e.addr}, size ${e.size}} is not a valid range (non-negative integers, size > 0)`);
  }
  if (!Number.isInteger(e.type) || e.type < 1 || e.type > 0xffffffff) throw new BootImageError(`${what} has an invalid e820 type ${e.type}`);
}

/**
 * The memory map of a PC with `ramBytes` of RAM (a multiple of 4 KiB, at least 2 MiB), with
 * `extraReserved` ranges laid over it. Sorted by address, no overlaps, adjacent same-type
 * entries merged.
 */
export function pcE820(ramBytes: number, extraReserved: readonly E820Entry[] = [], opts: PcE820Options = {}): E820Entry[] {
  if (!Number.isSafeInteger(ramBytes) || ramBytes < 2 * ONE_MIB) throw new BootImageError(`RAM size ${ramBytes} is too small: a PC needs at least 2 MiB`);
  if (ramBytes % 4096 !== 0) throw new BootImageError(`RAM size ${ramBytes} is not a multiple of 4 KiB`);
  const hole = opts.pciHoleStart ?? PCI_HOLE_START;
  if (!Number.isInteger(hole) || hole % 4096 !== 0 || hole < 16 * ONE_MIB || hole > FOUR_GIB) {
    throw new BootImageError(`PCI hole start ${hole} must be page aligned and between 16 MiB and 4 GiB`);
  }
  const lowEnd = Math.min(ramBytes, hole);
  const map: E820Entry[] = [
    { addr: 0, size: EBDA_START, type: E820_RAM },
    { addr: EBDA_START, size: 0xa0000 - EBDA_START, type: E820_RESERVED },
    { addr: BIOS_START, size: ONE_MIB - BIOS_START, type: E820_RESERVED },
    { addr: ONE_MIB, size: lowEnd - ONE_MIB, type: E820_RAM },
  ];
  if (ramBytes > lowEnd) map.push({ addr: FOUR_GIB, size: ramBytes - lowEnd, type: E820_RAM });
  return overlayE820(map, extraReserved);
}

/**
 * Lays `ranges` over `map`: each range replaces whatever the map had there (RAM entries are split
 * around it). The ranges must not overlap one another. Returns a new sorted, merged map.
 */
export function overlayE820(map: readonly E820Entry[], ranges: readonly E820Entry[]): E820Entry[] {
  map.forEach((e, k) => checkRange(e, `e820 entry ${k}`));
  ranges.forEach((r, k) => checkRange(r, `extra range ${k}`));
  const sorted = [...ranges].sort((a, b) => a.addr - b.addr);
  for (let k = 1; k < sorted.length; k++) {
    const a = sorted[k - 1], b = sorted[k];
    if (b.addr < a.addr + a.size) {
      throw new BootImageError(`extra e820 ranges overlap: ${hexRange(a)} and ${hexRange(b)}`);
    }
  }
  let out: E820Entry[] = map.map((e) => ({ ...e }));
  for (const r of sorted) {
    const rEnd = r.addr + r.size;
    const next: E820Entry[] = [];
    for (const e of out) {
      const eEnd = e.addr + e.size;
      if (eEnd <= r.addr || e.addr >= rEnd) {
        next.push(e);
        continue;
      }
      if (e.addr < r.addr) next.push({ addr: e.addr, size: r.addr - e.addr, type: e.type });
      if (eEnd > rEnd) next.push({ addr: rEnd, size: eEnd - rEnd, type: e.type });
    }
    next.push({ addr: r.addr, size: r.size, type: r.type });
    out = next;
  }
  return normalizeE820(out);
}

/** Sorts by address and merges touching entries of the same type. Entries must not overlap. */
export function normalizeE820(map: readonly E820Entry[]): E820Entry[] {
  const s = map.filter((e) => e.size > 0).map((e) => ({ ...e })).sort((a, b) => a.addr - b.addr);
  const out: E820Entry[] = [];
  for (const e of s) {
    const last = out[out.length - 1];
    if (last && e.addr < last.addr + last.size) throw new BootImageError(`e820 entries overlap: ${hexRange(last)} and ${hexRange(e)}`);
    if (last && last.type === e.type && last.addr + last.size === e.addr) last.size += e.size;
    else out.push(e);
  }
  return out;
}

/** Total bytes of a given type (RAM by default) in a map. */
export function e820Total(map: readonly E820Entry[], type = E820_RAM): number {
  return map.reduce((n, e) => (e.type === type ? n + e.size : n), 0);
}

/** The entry of `type` (RAM by default) containing [addr, addr + size), or undefined. */
export function e820Containing(map: readonly E820Entry[], addr: number, size: number, type = E820_RAM): E820Entry | undefined {
  return map.find((e) => e.type === type && e.addr <= addr && addr + size <= e.addr + e.size);
}

export function hexRange(e: { addr: number; size: number }): string {
  return `[0x${e.addr.toString(16)}-0x${(e.addr + e.size - 1).toString(16)}]`;
}
