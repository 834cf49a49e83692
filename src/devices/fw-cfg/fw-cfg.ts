/**
 * QEMU's firmware configuration device (fw_cfg), the x86 I/O port flavour, as SeaBIOS drives it
 * (facts from QEMU's docs/specs/fw_cfg.rst and SeaBIOS's src/fw/paravirt.c):
 *
 * - Selector register, port 510h, 16-bit write: picks an item and rewinds its read offset. Bit 14
 *   is the write channel flag (ignored for selection), bit 15 the architecture-local range.
 * - Data register, port 511h, 8-bit: reads the next byte of the selected item; past its end (or
 *   with no valid item selected) it reads 0. Writes are ignored (the legacy write path is gone).
 * - DMA address register, ports 514h-51Bh: a 64-bit big-endian guest physical address of a
 *   `FWCfgDmaAccess` { be32 control; be32 length; be64 address }. The high half goes to 514h, the
 *   low half to 518h; writing the low half starts the transfer. Reading the register returns the
 *   signature "QEMU CFG" (bytes in that order).
 * - Control bits: 0 error, 1 read, 2 skip, 3 select (selector in bits 31:16), 4 write. When the
 *   transfer ends the device writes control back as 0, or with only the error bit set.
 *
 * Items: 00h signature "QEMU", 01h ID (bit 0 traditional interface, bit 1 DMA), 02h UUID, 03h RAM
 * size, 04h nographic, 05h nb_cpus, 0Dh NUMA, 0Eh boot menu, 0Fh max_cpus, 19h the file directory
 * (be32 count, then per file be32 size, be16 select, be16 reserved, 56-byte NUL-padded name),
 * files from 20h up, and the x86-local ones (8000h ACPI tables, 8001h SMBIOS entries, 8002h IRQ0
 * override, 8003h the e820 reservation table) that SeaBIOS still probes.
 *
 * Every guest access is validated: unknown selectors select nothing, reads past an item's end
 * give 0, DMA descriptors or buffers outside guest RAM, reserved control bits and writes to
 * read-only items set the error bit. Nothing here throws on guest input.
 */
import type { PortDevice } from '../../bus/port-bus.js';

export const FW_CFG_PORT_SELECTOR = 0x510;
export const FW_CFG_PORT_DATA = 0x511;
export const FW_CFG_PORT_DMA = 0x514;

export const FW_CFG_SIGNATURE = 0x00;
export const FW_CFG_ID = 0x01;
export const FW_CFG_UUID = 0x02;
export const FW_CFG_RAM_SIZE = 0x03;
export const FW_CFG_NOGRAPHIC = 0x04;
export const FW_CFG_NB_CPUS = 0x05;
export const FW_CFG_MACHINE_ID = 0x06;
export const FW_CFG_NUMA = 0x0d;
export const FW_CFG_BOOT_MENU = 0x0e;
export const FW_CFG_MAX_CPUS = 0x0f;
export const FW_CFG_FILE_DIR = 0x19;
export const FW_CFG_FILE_FIRST = 0x20;
export const FW_CFG_ARCH_LOCAL = 0x8000;
export const FW_CFG_ACPI_TABLES = 0x8000;
export const FW_CFG_SMBIOS_ENTRIES = 0x8001;
export const FW_CFG_IRQ0_OVERRIDE = 0x8002;
export const FW_CFG_E820_TABLE = 0x8003;
/** Selector bit 14: the write channel (not part of the key). */
export const FW_CFG_WRITE_CHANNEL = 0x4000;

/** FW_CFG_ID feature bits. */
export const FW_CFG_VERSION_TRADITIONAL = 1 << 0;
export const FW_CFG_VERSION_DMA = 1 << 1;

/** FWCfgDmaAccess control bits. */
export const DMA_CTL_ERROR = 1 << 0;
export const DMA_CTL_READ = 1 << 1;
export const DMA_CTL_SKIP = 1 << 2;
export const DMA_CTL_SELECT = 1 << 3;
export const DMA_CTL_WRITE = 1 << 4;
const DMA_CTL_DEFINED = DMA_CTL_ERROR | DMA_CTL_READ | DMA_CTL_SKIP | DMA_CTL_SELECT | DMA_CTL_WRITE;

/** "QEMU CFG" as read from the DMA address register. */
export const FW_CFG_DMA_SIGNATURE = [0x51, 0x45, 0x4d, 0x55, 0x20, 0x43, 0x46, 0x47] as const;

/** File names are at most 55 bytes plus the NUL. */
export const FW_CFG_MAX_FILE_NAME = 55;
/** Largest transfer one DMA descriptor may ask for (guards against absurd lengths). */
const MAX_DMA_LENGTH = 64 << 20;

export interface FwCfgGuestMemory {
  /** Reads `length` bytes of guest RAM at `addr`, or null when any of it is not RAM. */
  read(addr: number, length: number): Uint8Array | null;
  /** Writes bytes to guest RAM at `addr`; false (nothing written) when any of it is not RAM. */
  write(addr: number, bytes: Uint8Array): boolean;
}

interface Item {
  data: Uint8Array;
  /** The guest may write it through DMA (in place, up to its size). */
  writable: boolean;
}

export interface FwCfgFileInfo {
  name: string;
  select: number;
  size: number;
}

export class FwCfg {
  private readonly items = new Map<number, Item>();
  private readonly files: FwCfgFileInfo[] = [];
  private selected: Item | undefined;
  private offset = 0;
  private dmaHigh = 0;
  /** Transfers that ended with the error bit, for diagnostics. */
  dmaErrors = 0;

  constructor(private readonly mem: FwCfgGuestMemory, opts: { dma?: boolean } = {}) {
    this.setItem(FW_CFG_SIGNATURE, new Uint8Array([0x51, 0x45, 0x4d, 0x55])); // "QEMU"
    this.setU32(FW_CFG_ID, FW_CFG_VERSION_TRADITIONAL | (opts.dma === false ? 0 : FW_CFG_VERSION_DMA));
    this.rebuildDirectory();
  }

  // ---- contents (host side) ----------------------------------------------------------------------

  setItem(key: number, data: Uint8Array, writable = false): void {
    if (!Number.isInteger(key) || key < 0 || key > 0xffff || (key & FW_CFG_WRITE_CHANNEL) !== 0) {
      throw new Error(`fw_cfg: bad item key 0x${key.toString(16)}`);
    }
    this.items.set(key, { data, writable });
  }

  setU16(key: number, v: number): void {
    const b = new Uint8Array(2);
    new DataView(b.buffer).setUint16(0, v, true);
    this.setItem(key, b);
  }

  setU32(key: number, v: number): void {
    const b = new Uint8Array(4);
    new DataView(b.buffer).setUint32(0, v >>> 0, true);
    this.setItem(key, b);
  }

  setU64(key: number, v: bigint): void {
    const b = new Uint8Array(8);
    new DataView(b.buffer).setBigUint64(0, v, true);
    this.setItem(key, b);
  }

  /** Adds (or replaces) a named file; returns its selector. */
  addFile(name: string, data: Uint8Array, writable = false): number {
    if (name.length === 0 || name.length > FW_CFG_MAX_FILE_NAME || !/^[\x20-\x7e]+$/.test(name)) {
      throw new Error(`fw_cfg: bad file name ${JSON.stringify(name)}`);
    }
    const existing = this.files.find((f) => f.name === name);
    const select = existing?.select ?? FW_CFG_FILE_FIRST + this.files.length;
    if (select >= FW_CFG_WRITE_CHANNEL) throw new Error('fw_cfg: too many files');
    this.setItem(select, data, writable);
    if (existing) existing.size = data.length;
    else this.files.push({ name, select, size: data.length });
    this.rebuildDirectory();
    return select;
  }

  /** The current contents of a file (after guest writes to writable ones). */
  file(name: string): Uint8Array | undefined {
    const f = this.files.find((x) => x.name === name);
    return f ? this.items.get(f.select)?.data : undefined;
  }

  get fileList(): readonly FwCfgFileInfo[] {
    return this.files;
  }

  private rebuildDirectory(): void {
    // Sorted by name, as QEMU presents them (SeaBIOS does not depend on the order).
    const sorted = [...this.files].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    const dir = new Uint8Array(4 + 64 * sorted.length);
    const v = new DataView(dir.buffer);
    v.setUint32(0, sorted.length, false);
    sorted.forEach((f, i) => {
      const at = 4 + 64 * i;
      v.setUint32(at, f.size, false);
      v.setUint16(at + 4, f.select, false);
      for (let k = 0; k < f.name.length; k++) dir[at + 8 + k] = f.name.charCodeAt(k);
    });
    this.items.set(FW_CFG_FILE_DIR, { data: dir, writable: false });
  }

  // ---- guest interface ---------------------------------------------------------------------------

  /** Selects an item by key (the write-channel bit is not part of it) and rewinds. */
  select(selector: number): void {
    this.selected = this.items.get(selector & 0xffff & ~FW_CFG_WRITE_CHANNEL);
    this.offset = 0;
  }

  /** One byte from the data register. */
  readByte(): number {
    const it = this.selected;
    if (it === undefined || this.offset >= it.data.length) return 0;
    return it.data[this.offset++];
  }

  /** Runs the DMA descriptor at guest physical `addr` (its control word is written back). */
  dma(addr: number): void {
    const desc = this.mem.read(addr, 16);
    if (desc === null) {
      // Nowhere to report the error: the descriptor itself is not in RAM.
      this.dmaErrors++;
      return;
    }
    const v = new DataView(desc.buffer, desc.byteOffset, 16);
    const control = v.getUint32(0, false);
    const length = v.getUint32(4, false);
    const bufHi = v.getUint32(8, false), bufLo = v.getUint32(12, false);
    const ok = this.runDma(control, length, bufHi, bufLo);
    if (!ok) this.dmaErrors++;
    const back = new Uint8Array(4);
    new DataView(back.buffer).setUint32(0, ok ? 0 : DMA_CTL_ERROR, false);
    this.mem.write(addr, back);
  }

  private runDma(control: number, length: number, bufHi: number, bufLo: number): boolean {
    if ((control & ~(DMA_CTL_DEFINED | 0xffff0000)) !== 0) return false; // reserved bits
    if (control & DMA_CTL_SELECT) this.select(control >>> 16);
    const op = control & (DMA_CTL_READ | DMA_CTL_SKIP | DMA_CTL_WRITE);
    if (op === 0) return true; // select only
    // One operation per descriptor: read takes precedence over write, then skip (fw_cfg.rst).
    const it = this.selected;
    if (length > MAX_DMA_LENGTH) return false;
    if (op & DMA_CTL_READ) {
      if (bufHi !== 0) return false;
      const out = new Uint8Array(length);
      if (it !== undefined && this.offset < it.data.length) {
        const n = Math.min(length, it.data.length - this.offset);
        out.set(it.data.subarray(this.offset, this.offset + n));
      }
      if (!this.mem.write(bufLo, out)) return false;
      this.advance(length);
      return true;
    }
    if (op & DMA_CTL_WRITE) {
      if (bufHi !== 0) return false;
      if (it === undefined || !it.writable) return false;
      const src = this.mem.read(bufLo, length);
      if (src === null) return false;
      if (this.offset + length > it.data.length) return false;
      it.data.set(src, this.offset);
      this.advance(length);
      return true;
    }
    // Skip.
    this.advance(length);
    return true;
  }

  private advance(n: number): void {
    const len = this.selected?.data.length ?? 0;
    this.offset = Math.min(len, this.offset + n);
  }

  /** The device's ports: register at 510h with a count of 12 (510h-51Bh). */
  ports(): PortDevice {
    return {
      name: 'fw-cfg',
      widths: 7,
      ioRead: (off, size) => {
        if (off === 1 && size === 1) return this.readByte();
        if (off >= 4 && off < 12) {
          let v = 0;
          for (let k = 0; k < size && off - 4 + k < 8; k++) v |= FW_CFG_DMA_SIGNATURE[off - 4 + k] << (8 * k);
          return v;
        }
        if (off === 1) {
          // Wider data reads: successive bytes, little-endian.
          let v = 0;
          for (let k = 0; k < size; k++) v |= this.readByte() << (8 * k);
          return v;
        }
        return 0;
      },
      ioWrite: (off, size, value) => {
        if (off === 0 && size === 2) this.select(value);
        else if (off === 4 && size === 4) this.dmaHigh = swap32(value);
        else if (off === 8 && size === 4) {
          const lo = swap32(value);
          const hi = this.dmaHigh;
          this.dmaHigh = 0;
          // Above 4 GiB nothing is RAM here: the descriptor cannot even be reported on.
          if (hi !== 0) this.dmaErrors++;
          else this.dma(lo);
        }
      },
    };
  }
}

function swap32(v: number): number {
  return (((v & 0xff) << 24) | ((v & 0xff00) << 8) | ((v >>> 8) & 0xff00) | (v >>> 24)) >>> 0;
}

/** An e820 table as the "etc/e820" file carries it: { le64 address, le64 length, le32 type }. */
export function e820File(entries: ReadonlyArray<{ base: number; length: number; type: number }>): Uint8Array {
  const b = new Uint8Array(20 * entries.length);
  const v = new DataView(b.buffer);
  entries.forEach((e, i) => {
    v.setBigUint64(20 * i, BigInt(e.base), true);
    v.setBigUint64(20 * i + 8, BigInt(e.length), true);
    v.setUint32(20 * i + 16, e.type, true);
  });
  return b;
}
