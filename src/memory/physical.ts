/**
 * Guest physical memory: one RAM buffer plus MMIO regions, resolved per 4 KiB page.
 *
 * RAM is a single ArrayBuffer viewed as bytes and as 32-bit words, so the CPU's software TLB can
 * point straight into it. A page that is not RAM resolves through `pageRegion`, an index into the
 * MMIO region list (0 = unmapped: reads return all-ones, writes are dropped), the classic
 * "per-page lookup table with a slow path".
 *
 * Physical addresses are 32-bit here (RAM is capped below the PCI hole); PAE's wider physical
 * addresses reach only unmapped space.
 */
export interface MmioHandler {
  readonly name: string;
  /** `offset` is relative to the region's base; `size` is 1, 2 or 4. */
  mmioRead(offset: number, size: number): number;
  mmioWrite(offset: number, size: number, value: number): void;
}

interface Region {
  base: number;
  size: number;
  handler: MmioHandler;
}

export const PAGE_SHIFT = 12;
export const PAGE_SIZE = 1 << PAGE_SHIFT;
/** The largest RAM we place below 4 GiB; physical RAM addresses therefore stay positive int32. */
export const MAX_RAM_BYTES = 0x80000000 - PAGE_SIZE * 256;

export class PhysicalMemory {
  readonly ramSize: number;
  readonly u8: Uint8Array;
  readonly i32: Int32Array;
  /** Per physical page (1M pages = 4 GiB): 0 = RAM or unmapped, else 1 + index into `regions`. */
  readonly pageRegion: Uint16Array;
  private readonly regions: Region[] = [];
  /** Counters of MMIO accesses per region name, for cost breakdowns. */
  readonly mmioCount = new Map<string, number>();

  constructor(ramBytes: number) {
    if (!Number.isInteger(ramBytes) || ramBytes <= 0 || ramBytes % PAGE_SIZE !== 0) {
      throw new Error(`RAM size must be a positive multiple of 4 KiB, got ${ramBytes}`);
    }
    if (ramBytes > MAX_RAM_BYTES) throw new Error(`RAM size ${ramBytes} exceeds the supported maximum ${MAX_RAM_BYTES}`);
    this.ramSize = ramBytes;
    const buf = new ArrayBuffer(ramBytes);
    this.u8 = new Uint8Array(buf);
    this.i32 = new Int32Array(buf);
    this.pageRegion = new Uint16Array(1 << 20);
  }

  /** True when the page holding `addr` is plain RAM that the TLB may map directly. */
  isRam(addr: number): boolean {
    const a = addr >>> 0;
    return a < this.ramSize && this.pageRegion[a >>> PAGE_SHIFT] === 0;
  }

  /** Maps an MMIO handler over [base, base+size), page granular. Overlaps RAM if asked (e.g. the LAPIC page). */
  mapMmio(base: number, size: number, handler: MmioHandler): void {
    if (base % PAGE_SIZE !== 0 || size % PAGE_SIZE !== 0 || size <= 0) {
      throw new Error(`MMIO region ${handler.name} must be page aligned`);
    }
    // Reuse a slot an unmapped region left (a guest remapping in a loop, e.g. toggling PAM
    // shadowing, must not grow the table); indices above 16 bits would alias other regions.
    let slot = this.regions.findIndex((r) => r.handler === DEAD);
    if (slot < 0) {
      if (this.regions.length >= 0xffff) throw new Error(`too many MMIO regions (mapping ${handler.name})`);
      slot = this.regions.length;
      this.regions.push({ base: 0, size: 0, handler: DEAD });
    }
    this.regions[slot] = { base: base >>> 0, size, handler };
    const idx = slot + 1;
    for (let p = base >>> PAGE_SHIFT; p < (base >>> PAGE_SHIFT) + size / PAGE_SIZE; p++) this.pageRegion[p] = idx;
  }

  unmapMmio(handler: MmioHandler): void {
    const i = this.regions.findIndex((r) => r.handler === handler);
    if (i < 0) return;
    const r = this.regions[i];
    for (let p = r.base >>> PAGE_SHIFT; p < (r.base >>> PAGE_SHIFT) + r.size / PAGE_SIZE; p++) {
      if (this.pageRegion[p] === i + 1) this.pageRegion[p] = 0;
    }
    // Keep indices stable: leave a dead slot.
    this.regions[i] = { base: 0, size: 0, handler: DEAD };
  }

  /** Slow-path access by physical address, for any page kind. */
  read(addr: number, size: 1 | 2 | 4): number {
    const a = addr >>> 0;
    const ri = this.pageRegion[a >>> PAGE_SHIFT];
    if (ri !== 0) return this.mmioRead(ri, a, size);
    if (a + size > this.ramSize) return size === 4 ? -1 : (1 << (size * 8)) - 1;
    const m = this.u8;
    if (size === 1) return m[a];
    if (size === 2) return m[a] | (m[a + 1] << 8);
    return m[a] | (m[a + 1] << 8) | (m[a + 2] << 16) | (m[a + 3] << 24);
  }

  write(addr: number, size: 1 | 2 | 4, value: number): void {
    const a = addr >>> 0;
    const ri = this.pageRegion[a >>> PAGE_SHIFT];
    if (ri !== 0) {
      this.mmioWrite(ri, a, size, value);
      return;
    }
    if (a + size > this.ramSize) return;
    const m = this.u8;
    m[a] = value;
    if (size >= 2) m[a + 1] = value >> 8;
    if (size === 4) {
      m[a + 2] = value >> 16;
      m[a + 3] = value >> 24;
    }
  }

  private mmioRead(ri: number, a: number, size: number): number {
    const r = this.regions[ri - 1];
    this.count(r.handler.name);
    // An access straddling the region end is split into bytes so each byte goes where it belongs.
    if (a + size > r.base + r.size) return this.splitRead(a, size);
    return r.handler.mmioRead(a - r.base, size);
  }

  private mmioWrite(ri: number, a: number, size: number, value: number): void {
    const r = this.regions[ri - 1];
    this.count(r.handler.name);
    if (a + size > r.base + r.size) {
      for (let k = 0; k < size; k++) this.write(a + k, 1, (value >> (8 * k)) & 0xff);
      return;
    }
    r.handler.mmioWrite(a - r.base, size, value);
  }

  private splitRead(a: number, size: number): number {
    let v = 0;
    for (let k = 0; k < size; k++) v |= this.read(a + k, 1) << (8 * k);
    return v;
  }

  private count(name: string): void {
    this.mmioCount.set(name, (this.mmioCount.get(name) ?? 0) + 1);
  }

  /**
   * Reads `length` bytes at `addr` as the bus would see them: whole RAM pages are copied, pages
   * with an MMIO region (or a PAM-shadowed segment) are read byte by byte through their handler.
   * The caller bounds `addr`/`length`; device DMA uses it through machine/guest-dma.ts.
   */
  readBytes(addr: number, length: number): Uint8Array {
    const out = new Uint8Array(length);
    let k = 0;
    while (k < length) {
      const a = addr + k;
      const n = Math.min(length - k, PAGE_SIZE - (a & (PAGE_SIZE - 1)));
      if (this.isRam(a)) out.set(this.u8.subarray(a, a + n), k);
      else for (let j = 0; j < n; j++) out[k + j] = this.read(a + j, 1);
      k += n;
    }
    return out;
  }

  /** Copies bytes into guest physical memory (RAM only); used by loaders. */
  load(addr: number, bytes: Uint8Array): void {
    if (addr < 0 || addr + bytes.length > this.ramSize) {
      throw new Error(`image of ${bytes.length} bytes at 0x${addr.toString(16)} does not fit in RAM`);
    }
    this.u8.set(bytes, addr);
  }
}

const DEAD: MmioHandler = {
  name: 'unmapped',
  mmioRead: (_o, size) => (size === 4 ? -1 : (1 << (size * 8)) - 1),
  mmioWrite: () => {},
};
