/**
 * The IDE function of the Intel 82371SB PIIX3 (PIIX3 datasheet, order number 290550, section 2.3
 * "PCI configuration registers - IDE interface", function 1): vendor 8086h, device 7010h, class
 * 010180h (mass storage / IDE, programming interface 80h: both channels in legacy ("compatibility")
 * mode, not switchable). The channels answer at the ISA addresses whatever the BARs say:
 * primary 1F0h-1F7h + 3F6h on IRQ 14, secondary 170h-177h + 376h on IRQ 15 (src/devices/ide/
 * ide-channel.ts has the ATA side).
 *
 * Decoding follows the datasheet: a channel's ports answer only while PCICMD's I/O Space Enable
 * (bit 0) and that channel's IDETIM IDE Decode Enable (40h / 42h bit 15) are both set; otherwise
 * they float (reads all ones), as with the chip's power-up values (0). Firmware sets both.
 *
 * Bus master IDE (when `dma` is given): BMIBA (20h, BAR 4) is a 16-byte I/O BAR, the primary
 * channel's BMICOM/BMISTA/BMIDTP at +0, +2, +4, the secondary's at +8; transfers run only while
 * PCICMD's Bus Master Enable is set (ide-channel.ts has the DMA engine). Without `dma` the BAR
 * reads 0 and the drives claim no DMA mode, so hosts use PIO.
 *
 * Not modelled: the timing registers (IDETIM other bits, SIDETIM at 44h) are plain storage.
 */
import type { IrqTarget } from '../../bus/irq.js';
import type { BlockStore } from '../../pv/block/block-store.js';
import type { PortDevice } from '../../bus/port-bus.js';
import { CMD_BUS_MASTER, CMD_IO, PciFunction, PCI_COMMAND, PCI_STATUS, type PciFunctionState } from '../pci/pci-function.js';
import { IdeChannel, type DmaMemory, type IdeChannelState } from './ide-channel.js';

export const PIIX3_IDETIM_PRIMARY = 0x40;
export const PIIX3_IDETIM_SECONDARY = 0x42;
export const PIIX3_SIDETIM = 0x44;
export const IDETIM_DECODE_ENABLE = 0x8000;
/** BAR 4 (BMIBA, config 20h): the bus master IDE registers. */
export const PIIX3_BMIBA_BAR = 4;
export const PIIX3_BMIBA_SIZE = 16;

/** Legacy resources of the two channels. */
export const IDE_LEGACY = [
  { command: 0x1f0, control: 0x3f6, irq: 14 },
  { command: 0x170, control: 0x376, irq: 15 },
] as const;

export interface Piix3IdeOptions {
  /** Up to four disks: primary master, primary slave, secondary master, secondary slave (undefined = none). */
  disks: Array<BlockStore | undefined>;
  /** IRQ 14 and IRQ 15. */
  irqs: [IrqTarget, IrqTarget];
  /** Serial numbers by disk position (default derived from the position). */
  serials?: string[];
  /** Guest memory for bus master DMA; absent: no bus master (PIO only). */
  dma?: DmaMemory;
}

export interface Piix3IdeState extends PciFunctionState {
  channels: IdeChannelState[];
}

export class Piix3Ide extends PciFunction {
  readonly channels: [IdeChannel, IdeChannel];
  private bmPort: PortDevice | undefined;

  constructor(opts: Piix3IdeOptions) {
    super('piix3-ide', {
      vendorId: 0x8086, deviceId: 0x7010, revision: 0x00, classCode: 0x010180,
      bars: opts.dma ? [undefined, undefined, undefined, undefined, { kind: 'io', size: PIIX3_BMIBA_SIZE }] : [],
    });
    if (opts.disks.length > 4) throw new Error(`at most 4 IDE disks, got ${opts.disks.length}`);
    const mk = (c: number, name: string) => new IdeChannel({
      name,
      disks: [opts.disks[2 * c], opts.disks[2 * c + 1]],
      irq: opts.irqs[c],
      serials: [opts.serials?.[2 * c] ?? `TSXEN000${2 * c}`, opts.serials?.[2 * c + 1] ?? `TSXEN000${2 * c + 1}`],
      decodes: () => this.decodes(c),
      dma: opts.dma,
      busMasterEnabled: () => (this.read16(PCI_COMMAND) & CMD_BUS_MASTER) !== 0,
    });
    this.channels = [mk(0, 'primary'), mk(1, 'secondary')];
  }

  protected override resetConfig(): void {
    super.resetConfig();
    this.setMask(PCI_COMMAND, 2, CMD_IO | CMD_BUS_MASTER);
    this.set16(PCI_STATUS, 0x0280);
    this.setW1c(PCI_STATUS, 2, 0x3800); // master abort, received/signalled target abort
    this.setMask(0x3c, 1, 0);
    this.setMask(PIIX3_IDETIM_PRIMARY, 2, 0xf3ff);
    this.setMask(PIIX3_IDETIM_SECONDARY, 2, 0xf3ff);
    this.setMask(PIIX3_SIDETIM, 1, 0xff);
  }

  /** Whether channel `c` (0 primary, 1 secondary) decodes its legacy ports now. */
  decodes(c: number): boolean {
    return (this.read16(PCI_COMMAND) & CMD_IO) !== 0 && (this.read16(c === 0 ? PIIX3_IDETIM_PRIMARY : PIIX3_IDETIM_SECONDARY) & IDETIM_DECODE_ENABLE) !== 0;
  }

  protected override written(offset: number, size: number): void {
    // Bus Master Enable may have been set with a DMA command waiting.
    if (offset < PCI_COMMAND + 2 && offset + size > PCI_COMMAND) for (const ch of this.channels ?? []) ch.runDma();
  }

  override ioBar(bar: number): PortDevice | undefined {
    if (bar !== PIIX3_BMIBA_BAR || !this.bars[bar]) return undefined;
    this.bmPort ??= {
      name: 'piix3-bmide',
      widths: 7,
      ioRead: (off, size) => {
        let v = 0;
        for (let k = 0; k < size; k++) {
          const o = off + k;
          v += (o < 16 ? this.channels[o >> 3].bmRead(o & 7) : 0xff) * 2 ** (8 * k);
        }
        return v;
      },
      ioWrite: (off, size, value) => {
        for (let k = 0; k < size; k++) {
          const o = off + k;
          if (o < 16) this.channels[o >> 3].bmWrite(o & 7, (value >>> (8 * k)) & 0xff);
        }
      },
    };
    return this.bmPort;
  }

  /**
   * Xen unplug: removes every disk (`all`) or every disk but the primary master (auxiliary
   * disks). Returns how many were removed.
   */
  unplugDisks(all: boolean): number {
    let n = 0;
    for (let c = 0; c < 2; c++) for (const d of [0, 1] as const) {
      if (!all && c === 0 && d === 0) continue;
      if (this.channels[c].drives[d]) { this.channels[c].unplugDrive(d); n++; }
    }
    return n;
  }

  /** PCI reset (RST#) also resets the drives (the PIIX drives the IDE RESET- signal from it). */
  override reset(): void {
    super.reset();
    for (const ch of this.channels) ch.hardReset();
  }

  override save(): Piix3IdeState {
    return { ...super.save(), channels: this.channels.map((c) => c.save()) };
  }

  override restore(s: Piix3IdeState): void {
    if (!Array.isArray(s.channels) || s.channels.length !== 2) throw new Error('piix3-ide: saved state must have two channels');
    super.restore(s);
    this.channels[0].restore(s.channels[0]);
    this.channels[1].restore(s.channels[1]);
  }
}
