/**
 * The power management function of the Intel 82371AB PIIX4 (PIIX4 datasheet, order number
 * 290562, function 3 "Power Management"), which our machine places at PCI 00:01.3 next to the
 * PIIX3 ISA bridge: vendor 8086h, device 7113h, class 068000h (other bridge).
 *
 * Modelled: PMBA (40h: PM I/O base, bit 0 hardwired to 1 = I/O space, bits 15:6 select a 64-byte
 * block) and PMREGMISC (80h: bit 0 PMIOSE enables that block). Together they decide where the
 * ACPI fixed hardware block (src/devices/acpi-pm) answers; `onPmIoChange(base)` reports every
 * change (undefined = not decoded). SMBBA (90h) and SMBHSTCFG (D2h) are stored so the SMBus
 * driver's probe reads a disabled host controller; the rest of 40h-FFh (DEVACT, DEVRES...) is
 * plain storage. The SCI is hardwired to IRQ 9 in this machine, not a PCI interrupt, so the
 * interrupt pin register reads 0.
 */
import { PciFunction } from './pci-function.js';

export const PIIX4_PMBA = 0x40;
export const PIIX4_PMREGMISC = 0x80;
export const PIIX4_SMBBA = 0x90;
export const PIIX4_SMBHSTCFG = 0xd2;
/** Size of the PM I/O block PMBA decodes. */
export const PIIX4_PM_IO_SIZE = 0x40;

export interface Piix4PmOptions {
  /** The PM I/O block moved to `base`, or stopped decoding (undefined). */
  onPmIoChange?: (base: number | undefined) => void;
}

export class Piix4PowerManagement extends PciFunction {
  /** The base last reported (derived from PMBA/PMREGMISC). */
  private reported: number | undefined;

  constructor(private readonly opts: Piix4PmOptions = {}) {
    super('piix4-pm', { vendorId: 0x8086, deviceId: 0x7113, revision: 0x03, classCode: 0x068000 });
  }

  protected override resetConfig(): void {
    super.resetConfig();
    // The function has no BARs or interrupt; only the I/O enable of PCICMD matters (SMBus).
    this.setMask(0x3c, 1, 0);
    for (let off = 0x40; off < 0x100; off++) this.wmask[off] = 0xff;
    // PMBA: bits 15:6 writable, bit 0 reads 1.
    this.set32(PIIX4_PMBA, 0x00000001);
    this.setMask(PIIX4_PMBA, 4, 0x0000ffc0);
    this.config[PIIX4_PMREGMISC] = 0;
    this.setMask(PIIX4_PMREGMISC, 1, 0x01);
    this.set32(PIIX4_SMBBA, 0x00000001);
    this.setMask(PIIX4_SMBBA, 4, 0x0000fff0);
    this.config[PIIX4_SMBHSTCFG] = 0;
    this.setMask(PIIX4_SMBHSTCFG, 1, 0x0f);
  }

  /** The I/O base the PM block decodes at now, or undefined. */
  get pmIoBase(): number | undefined {
    if ((this.config[PIIX4_PMREGMISC] & 1) === 0) return undefined;
    const base = this.read32(PIIX4_PMBA) & 0xffc0;
    return base === 0 ? undefined : base;
  }

  protected override written(offset: number, size: number): void {
    const touches = (reg: number, len: number) => offset < reg + len && offset + size > reg;
    if (touches(PIIX4_PMBA, 4) || touches(PIIX4_PMREGMISC, 1)) this.announce(false);
  }

  private announce(always: boolean): void {
    const b = this.pmIoBase;
    if (!always && b === this.reported) return;
    this.reported = b;
    this.opts.onPmIoChange?.(b);
  }

  /**
   * What firmware does before an OS runs: place the PM block at `base` and enable it (there is no
   * BIOS in direct kernel boot, and the FADT we publish names this base).
   */
  firmwareInit(base: number): void {
    this.configWrite(PIIX4_PMBA, 4, base);
    this.configWrite(PIIX4_PMREGMISC, 1, 1);
  }

  override reset(): void {
    super.reset();
    this.announce(true);
  }

  protected override restored(): void {
    // Report the restored decoding so the machine re-registers the block.
    this.announce(true);
  }
}
