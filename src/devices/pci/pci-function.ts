/**
 * One PCI function's configuration space (PCI Local Bus Specification 3.0, chapter 6, type 00h
 * header), the piece every emulated PCI device builds on: chipset functions, and later IDE,
 * e1000 or the Xen platform device.
 *
 * The 256-byte space is stored as bytes with two masks: `wmask` (bits software may change; the
 * rest are read-only, e.g. IDs and class code) and `w1cmask` (bits a 1 clears, e.g. the error
 * bits of the status register). Base address registers are described by `PciBar`s: their address
 * bits below the size are hardwired to 0, so the "write all ones, read back" sizing protocol works
 * without special cases (spec 6.2.5.1). When the command register's I/O or memory space enable,
 * or a BAR, changes what the function decodes, the bus hears about it and the machine moves the
 * BAR's handler (`ioBar`/`mmioBar`) on the port bus or in physical memory.
 *
 * INTx: the function drives its interrupt pin (`setIntx`); the command register's Interrupt
 * Disable bit gates it and the status register's Interrupt Status bit shows it. The bus routes the
 * pin to a PIRQ line of the PIIX.
 *
 * Side effects of config writes beyond masks belong in the `written` hook of a subclass.
 */
import type { Snapshottable } from '../../base/snapshot.js';
import { base64ToBytes, bytesToBase64 } from '../../base/snapshot.js';
import type { MmioHandler } from '../../memory/physical.js';
import type { PortDevice } from '../../bus/port-bus.js';

export interface PciBar {
  kind: 'io' | 'mmio';
  /** Power of two; at least 4 for I/O and 4096 for memory (we map MMIO by pages). */
  size: number;
  prefetchable?: boolean;
}

export interface PciIdentity {
  vendorId: number;
  deviceId: number;
  revision: number;
  /** Base class << 16 | subclass << 8 | programming interface. */
  classCode: number;
  /** Header type byte (bit 7 = multi-function device); 0 by default. */
  headerType?: number;
  subsystemVendorId?: number;
  subsystemId?: number;
  /** 0 = none, 1-4 = INTA#-INTD#. */
  interruptPin?: number;
  /** Up to six BARs (index = BAR number). */
  bars?: Array<PciBar | undefined>;
}

/** What the bus provides to an attached function. */
export interface PciFunctionHost {
  barChanged(fn: PciFunction, bar: number, def: PciBar, oldBase: number | undefined, newBase: number | undefined): void;
  intxChanged(fn: PciFunction): void;
}

// Configuration header offsets (spec figure 6-1).
export const PCI_VENDOR_ID = 0x00;
export const PCI_DEVICE_ID = 0x02;
export const PCI_COMMAND = 0x04;
export const PCI_STATUS = 0x06;
export const PCI_REVISION = 0x08;
export const PCI_CLASS_PROG = 0x09;
export const PCI_CACHE_LINE = 0x0c;
export const PCI_LATENCY = 0x0d;
export const PCI_HEADER_TYPE = 0x0e;
export const PCI_BAR0 = 0x10;
export const PCI_SUBSYSTEM_VENDOR_ID = 0x2c;
export const PCI_SUBSYSTEM_ID = 0x2e;
export const PCI_INTERRUPT_LINE = 0x3c;
export const PCI_INTERRUPT_PIN = 0x3d;

export const CMD_IO = 1 << 0;
export const CMD_MEMORY = 1 << 1;
export const CMD_BUS_MASTER = 1 << 2;
export const CMD_PARITY = 1 << 6;
export const CMD_SERR = 1 << 8;
export const CMD_INTX_DISABLE = 1 << 10;
export const STATUS_INTERRUPT = 1 << 3;
/** Status error bits, write-one-to-clear: master data parity, target aborts, master abort, SERR, parity. */
export const STATUS_W1C = 0xf900;

export interface PciFunctionState {
  version: 1;
  config: string;
  intx: boolean;
}

export class PciFunction implements Snapshottable<PciFunctionState> {
  readonly config = new Uint8Array(256);
  protected readonly wmask = new Uint8Array(256);
  protected readonly w1cmask = new Uint8Array(256);
  readonly bars: Array<PciBar | undefined>;
  private host: PciFunctionHost | undefined;
  /** Decoded base of each BAR as last reported to the host (derived from config). */
  private readonly decoded: Array<number | undefined> = [];
  private intxLevel = false;
  /** Set by the bus at attach time. */
  device = -1;
  fn = -1;

  constructor(readonly name: string, readonly identity: PciIdentity) {
    this.bars = (identity.bars ?? []).slice(0, 6);
    this.resetConfig();
  }

  /** Power-on configuration values. Subclasses extend this and set their registers' masks. */
  protected resetConfig(): void {
    const id = this.identity;
    this.config.fill(0);
    this.wmask.fill(0);
    this.w1cmask.fill(0);
    this.set16(PCI_VENDOR_ID, id.vendorId);
    this.set16(PCI_DEVICE_ID, id.deviceId);
    this.config[PCI_REVISION] = id.revision;
    this.config[PCI_CLASS_PROG] = id.classCode & 0xff;
    this.config[PCI_CLASS_PROG + 1] = (id.classCode >> 8) & 0xff;
    this.config[PCI_CLASS_PROG + 2] = (id.classCode >> 16) & 0xff;
    this.config[PCI_HEADER_TYPE] = id.headerType ?? 0;
    this.set16(PCI_SUBSYSTEM_VENDOR_ID, id.subsystemVendorId ?? 0);
    this.set16(PCI_SUBSYSTEM_ID, id.subsystemId ?? 0);
    this.config[PCI_INTERRUPT_PIN] = id.interruptPin ?? 0;
    this.setMask(PCI_COMMAND, 2, CMD_IO | CMD_MEMORY | CMD_BUS_MASTER | CMD_PARITY | CMD_SERR | CMD_INTX_DISABLE);
    this.setW1c(PCI_STATUS, 2, STATUS_W1C);
    this.setMask(PCI_CACHE_LINE, 1, 0xff);
    this.setMask(PCI_LATENCY, 1, 0xff);
    this.setMask(PCI_INTERRUPT_LINE, 1, 0xff);
    for (let i = 0; i < this.bars.length; i++) {
      const b = this.bars[i];
      if (!b) continue;
      if (b.size < (b.kind === 'io' ? 4 : 4096) || (b.size & (b.size - 1)) !== 0) {
        throw new Error(`${this.name}: BAR ${i} size ${b.size} is not a power of two of at least ${b.kind === 'io' ? 4 : 4096}`);
      }
      const off = PCI_BAR0 + 4 * i;
      // Address bits below the size read as 0; the low type bits are read-only.
      this.setMask(off, 4, ~(b.size - 1) >>> 0);
      this.set32(off, b.kind === 'io' ? 1 : b.prefetchable ? 0x8 : 0);
    }
  }

  // ---- helpers for subclasses ------------------------------------------------------------------

  protected set16(off: number, v: number): void {
    this.config[off] = v & 0xff;
    this.config[off + 1] = (v >> 8) & 0xff;
  }

  protected set32(off: number, v: number): void {
    for (let k = 0; k < 4; k++) this.config[off + k] = (v >>> (8 * k)) & 0xff;
  }

  protected setMask(off: number, len: number, mask: number): void {
    for (let k = 0; k < len; k++) this.wmask[off + k] = (mask >>> (8 * k)) & 0xff;
  }

  protected setW1c(off: number, len: number, mask: number): void {
    for (let k = 0; k < len; k++) this.w1cmask[off + k] = (mask >>> (8 * k)) & 0xff;
  }

  read8(off: number): number {
    return this.config[off];
  }

  read16(off: number): number {
    return this.config[off] | (this.config[off + 1] << 8);
  }

  read32(off: number): number {
    return (this.config[off] | (this.config[off + 1] << 8) | (this.config[off + 2] << 16) | (this.config[off + 3] << 24)) >>> 0;
  }

  // ---- configuration access (from the bus) -----------------------------------------------------

  /** Reads `size` bytes at `offset` (the bus keeps accesses inside one dword). */
  configRead(offset: number, size: number): number {
    this.beforeRead(offset, size);
    let v = 0;
    for (let k = size - 1; k >= 0; k--) v = (v << 8) | this.config[offset + k];
    return v >>> 0;
  }

  configWrite(offset: number, size: number, value: number): void {
    for (let k = 0; k < size; k++) {
      const off = offset + k;
      const b = (value >>> (8 * k)) & 0xff;
      const m = this.wmask[off];
      const c = this.w1cmask[off];
      this.config[off] = ((this.config[off] & ~m) | (b & m)) & ~(b & c);
    }
    this.written(offset, size);
    if (offset < PCI_COMMAND + 2 && offset + size > PCI_COMMAND) this.commandChanged();
    if (offset < PCI_BAR0 + 24 && offset + size > PCI_BAR0) this.updateBars();
  }

  /** Hook: refresh registers that reflect live state before a read. */
  protected beforeRead(_offset: number, _size: number): void {}

  /** Hook: side effects of a configuration write (after masks are applied). */
  protected written(_offset: number, _size: number): void {}

  private commandChanged(): void {
    this.updateBars();
    this.updateIntx();
  }

  // ---- BARs ------------------------------------------------------------------------------------

  /** The address BAR `i` decodes now, or undefined (decode disabled, unassigned, or out of range). */
  barBase(i: number): number | undefined {
    const b = this.bars[i];
    if (!b) return undefined;
    const cmd = this.read16(PCI_COMMAND);
    const raw = this.read32(PCI_BAR0 + 4 * i);
    if (b.kind === 'io') {
      if ((cmd & CMD_IO) === 0) return undefined;
      const base = raw & ~(b.size - 1) & 0xfffffffc;
      // Zero is "unassigned"; I/O space ends at 64 KiB on a PC.
      if (base === 0 || base + b.size > 0x10000) return undefined;
      return base;
    }
    if ((cmd & CMD_MEMORY) === 0) return undefined;
    const base = (raw & ~(b.size - 1) & 0xfffffff0) >>> 0;
    // Zero is unassigned; all-ones (sizing in progress) would overlap the top of memory.
    if (base === 0 || base + b.size > 0x100000000) return undefined;
    return base;
  }

  /** Re-derives every BAR's decoded address and tells the host about changes. */
  protected updateBars(): void {
    for (let i = 0; i < this.bars.length; i++) {
      const def = this.bars[i];
      if (!def) continue;
      const nb = this.barBase(i);
      const ob = this.decoded[i];
      if (nb === ob) continue;
      this.decoded[i] = nb;
      this.host?.barChanged(this, i, def, ob, nb);
    }
  }

  /** The port device serving I/O BAR `bar` (devices with I/O BARs override this). */
  ioBar(bar: number): PortDevice | undefined {
    void bar;
    return undefined;
  }

  /** The MMIO handler serving memory BAR `bar` (devices with memory BARs override this). */
  mmioBar(bar: number): MmioHandler | undefined {
    void bar;
    return undefined;
  }

  // ---- INTx ------------------------------------------------------------------------------------

  /** Drives the function's interrupt pin (asserted = true). */
  setIntx(level: boolean): void {
    if (level === this.intxLevel) return;
    this.intxLevel = level;
    this.updateIntx();
  }

  /** Whether the pin reaches the bus: asserted and not disabled by the command register. */
  get intxAsserted(): boolean {
    return this.intxLevel && (this.read16(PCI_COMMAND) & CMD_INTX_DISABLE) === 0 && this.config[PCI_INTERRUPT_PIN] !== 0;
  }

  private updateIntx(): void {
    // Interrupt Status shows the internal request whatever Interrupt Disable says.
    if (this.intxLevel) this.config[PCI_STATUS] |= STATUS_INTERRUPT;
    else this.config[PCI_STATUS] &= ~STATUS_INTERRUPT;
    this.host?.intxChanged(this);
  }

  // ---- attachment and state --------------------------------------------------------------------

  /** Called by the bus. */
  attach(host: PciFunctionHost, device: number, fn: number): void {
    this.host = host;
    this.device = device;
    this.fn = fn;
    this.updateBars();
  }

  /** Bus reset (RST#): power-on configuration; decoded BARs are withdrawn. */
  reset(): void {
    this.resetConfig();
    this.intxLevel = false;
    this.updateBars();
    this.updateIntx();
  }

  save(): PciFunctionState {
    return { version: 1, config: bytesToBase64(this.config), intx: this.intxLevel };
  }

  /**
   * Restores configuration space. Decoded BARs are derived: the host is told about every BAR
   * whose decoding differs from what it was told before, so a fresh machine maps them again.
   */
  restore(s: PciFunctionState): void {
    if (s.version !== 1) throw new Error(`${this.name}: PCI function state version ${s.version} is not supported`);
    const bytes = base64ToBytes(s.config);
    if (bytes.length !== 256) throw new Error(`${this.name}: saved configuration space is ${bytes.length} bytes`);
    this.config.set(bytes);
    this.intxLevel = s.intx;
    this.updateBars();
    this.restored();
  }

  /** Hook: re-announce derived state (chipset mappings) after a restore. */
  protected restored(): void {}
}
