/**
 * Intel 82441FX PCI and Memory Controller (PMC), the host bridge of the 440FX PCIset (Intel
 * 440FX PCIset datasheet, order number 290549), at PCI 00:00.0: vendor 8086h, device 1237h.
 *
 * Configuration registers modelled: the standard header (PCICMD defaults to memory access and
 * bus master enabled, status 0280h: fast back-to-back capable, medium DEVSEL timing), the
 * Programmable Attribute Map registers PAM0-PAM6 (59h-5Fh) that decide whether the C0000h-FFFFFh
 * windows read/write DRAM or the PCI bus (BIOS shadowing), and SMRAM (72h) with its lock.
 * The remaining device-specific registers (50h-FFh: PMCCFG, DRB, DRAMC, ERRCMD...) are plain
 * storage, which is all software can observe of them without real DRAM behind.
 *
 * The machine owns shadowing: `onPamChange(index, value)` reports each PAM register change, and
 * `pamRegions` decodes a register into its address ranges.
 */
import { PciFunction, PCI_COMMAND, PCI_STATUS } from './pci-function.js';

export const I440FX_PAM0 = 0x59;
export const I440FX_SMRAM = 0x72;

/** SMRAM register bits (datasheet, SMRAM—System Management RAM Control Register). */
export const SMRAM_D_OPEN = 1 << 6;
export const SMRAM_D_CLS = 1 << 5;
export const SMRAM_D_LCK = 1 << 4;
export const SMRAM_G_SMRAME = 1 << 3;
/** C_BASE_SEG: hardwired 010b, SMRAM at A0000h-BFFFFh. */
const SMRAM_C_BASE_SEG = 0x02;

export interface PamRegion {
  base: number;
  size: number;
  /** Reads go to DRAM (else to PCI, i.e. the BIOS ROM). */
  readDram: boolean;
  /** Writes go to DRAM (else to PCI). */
  writeDram: boolean;
}

/**
 * The ranges one PAM register controls and their current attributes. PAM0 bits 5:4 cover
 * F0000h-FFFFFh (its low nibble is reserved); PAMn (n = 1-6) bits 1:0 cover 16 KiB at
 * C0000h + (n-1)*32 KiB and bits 5:4 the next 16 KiB. Attribute 00 = disabled (PCI), 01 = read
 * only, 10 = write only, 11 = read/write (datasheet, PAM register description).
 */
export function pamRegions(index: number, value: number): PamRegion[] {
  const attr = (bits: number): { readDram: boolean; writeDram: boolean } => ({ readDram: (bits & 1) !== 0, writeDram: (bits & 2) !== 0 });
  if (index === 0) return [{ base: 0xf0000, size: 0x10000, ...attr((value >> 4) & 3) }];
  const base = 0xc0000 + (index - 1) * 0x8000;
  return [
    { base, size: 0x4000, ...attr(value & 3) },
    { base: base + 0x4000, size: 0x4000, ...attr((value >> 4) & 3) },
  ];
}

export interface I440fxOptions {
  /** PAM register `index` (0-6) now holds `value`. */
  onPamChange?: (index: number, value: number) => void;
  /** The SMRAM register now holds `value`. */
  onSmramChange?: (value: number) => void;
  /**
   * Subsystem vendor/device IDs (2Ch/2Eh; 0 by default). QEMU's i440FX reports 1AF4h:1100h ("Qemu
   * virtual machine"), which is how SeaBIOS recognises the platform it may use fw_cfg on.
   */
  subsystem?: { vendorId: number; id: number };
}

export class I440fxHostBridge extends PciFunction {
  constructor(private readonly opts: I440fxOptions = {}) {
    super('i440fx', {
      vendorId: 0x8086, deviceId: 0x1237, revision: 0x02, classCode: 0x060000,
      subsystemVendorId: opts.subsystem?.vendorId, subsystemId: opts.subsystem?.id,
    });
  }

  protected override resetConfig(): void {
    super.resetConfig();
    // PCICMD: MAE and BME are set at reset; only SERR# and parity enables are writable.
    this.set16(PCI_COMMAND, 0x0006);
    this.setMask(PCI_COMMAND, 2, 0x0140);
    this.set16(PCI_STATUS, 0x0280);
    // Interrupt line/pin are not implemented by the host bridge.
    this.setMask(0x3c, 1, 0);
    // Device-specific space: storage.
    for (let off = 0x50; off < 0x100; off++) this.wmask[off] = 0xff;
    // PAM0 uses only bits 5:4; PAM1-6 bits 5:4 and 1:0.
    this.wmask[I440FX_PAM0] = 0x30;
    for (let i = 1; i <= 6; i++) this.wmask[I440FX_PAM0 + i] = 0x33;
    // DRB0-7: one 8 MB row each by default (datasheet default 01h).
    for (let off = 0x60; off < 0x68; off++) this.config[off] = 0x01;
    this.config[I440FX_SMRAM] = SMRAM_C_BASE_SEG;
    this.wmask[I440FX_SMRAM] = SMRAM_D_OPEN | SMRAM_D_CLS | SMRAM_D_LCK | SMRAM_G_SMRAME;
  }

  private pamBefore = new Uint8Array(7);
  private smramBefore = 0;

  override configWrite(offset: number, size: number, value: number): void {
    for (let i = 0; i < 7; i++) this.pamBefore[i] = this.config[I440FX_PAM0 + i];
    this.smramBefore = this.config[I440FX_SMRAM];
    super.configWrite(offset, size, value);
  }

  protected override written(offset: number, size: number): void {
    if (offset <= I440FX_SMRAM && offset + size > I440FX_SMRAM) this.smramWritten();
    for (let i = 0; i < 7; i++) {
      const v = this.config[I440FX_PAM0 + i];
      if (v !== this.pamBefore[i]) this.opts.onPamChange?.(i, v);
    }
  }

  /** D_LCK makes D_OPEN zero and read-only, and D_LCK/G_SMRAME read-only until reset (datasheet, SMRAM register). */
  private smramWritten(): void {
    let v = this.config[I440FX_SMRAM];
    if (this.smramBefore & SMRAM_D_LCK) {
      // Locked: only D_CLS stays writable.
      v = (this.smramBefore & ~SMRAM_D_CLS) | (v & SMRAM_D_CLS);
    }
    if (v & SMRAM_D_LCK) {
      v &= ~SMRAM_D_OPEN;
      this.wmask[I440FX_SMRAM] = SMRAM_D_CLS;
    }
    this.config[I440FX_SMRAM] = v;
    if (v !== this.smramBefore) this.opts.onSmramChange?.(v);
  }

  pam(index: number): number {
    return this.config[I440FX_PAM0 + index];
  }

  get smram(): number {
    return this.config[I440FX_SMRAM];
  }

  override reset(): void {
    super.reset();
    this.restored();
  }

  /** After reset or restore the machine re-derives shadowing and SMRAM from every register. */
  protected override restored(): void {
    if (this.config[I440FX_SMRAM] & SMRAM_D_LCK) this.wmask[I440FX_SMRAM] = SMRAM_D_CLS;
    for (let i = 0; i < 7; i++) this.opts.onPamChange?.(i, this.config[I440FX_PAM0 + i]);
    this.opts.onSmramChange?.(this.config[I440FX_SMRAM]);
  }
}
