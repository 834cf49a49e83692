/**
 * One ATA channel (a cable with up to two devices) as a host sees it through the legacy ISA
 * register blocks: the command block (8 ports, 1F0h-1F7h / 170h-177h) and the control block's
 * Device Control / Alternate Status register (3F6h / 376h). References: ATA/ATAPI-6 (T13 1410D)
 * chapter 7 (registers), 9 (protocols: PIO data-in, data-out, non-data, software reset), 8
 * (commands), and 9.16 for the device-0-only configuration.
 *
 * The devices are hard disks over a `BlockStore`. Every command completes at once: BSY is never
 * seen by the host except while SRST is held in the Device Control register.
 *
 * Modelled:
 * - the shared task file: Features, Sector Count, LBA Low/Mid/High (each a two-deep FIFO for the
 *   48-bit commands, the previous value readable with Device Control HOB set), Device (DEV bit 4
 *   selects the drive, LBA bit 6), Command; per drive Status and Error;
 * - PIO data-in (IDENTIFY DEVICE, READ SECTORS (EXT), READ MULTIPLE (EXT)): an interrupt before
 *   each DRQ block, none at the end; PIO data-out (WRITE SECTORS (EXT), WRITE MULTIPLE (EXT)):
 *   DRQ without interrupt for the first block, an interrupt after each block; non-data commands
 *   (SET MULTIPLE MODE, FLUSH CACHE (EXT), SET FEATURES, INITIALIZE DEVICE PARAMETERS, READ VERIFY
 *   (EXT), SEEK, RECALIBRATE, EXECUTE DEVICE DIAGNOSTIC, power management): an interrupt at the end;
 * - the data register 16 bits wide; a 32-bit access moves two words (the PIIX does this); a byte
 *   access moves one word, of which the byte lanes DD15:8 are lost; reads with no transfer return
 *   FFFFh, writes with no transfer are dropped;
 * - errors as status ERR with the Error register: ABRT (unknown or unsupported command, bad
 *   parameters, read-only disk, host I/O failure), IDNF (address or count beyond the disk), with the
 *   failing address in the LBA registers. Nothing a guest writes makes the model throw;
 * - INTRQ: a per-drive pending flag, set at the protocol points above, cleared by reading Status
 *   (not Alternate Status) or writing Command; the line is driven by the selected drive when nIEN
 *   is clear (a level; the ISA IRQ input sees its edge);
 * - software reset (SRST): both drives abort, BSY while SRST is one, then the ATA signature (Count 1,
 *   LBA 1/0/0, Device 0), Error 01h (diagnostics passed), Status DRDY|DSC;
 * - absent devices: with device 1 absent and selected, device 0 answers register reads except
 *   Status/Alternate Status, which read 00h, and ignores commands other than EXECUTE DEVICE
 *   DIAGNOSTIC (ATA-6 9.16); a channel without devices reads 00h everywhere (the host's pull-down on
 *   DD7 shows "not busy") and ignores everything.
 * - multiword DMA through the channel's bus master (PIIX3 datasheet, "Bus master IDE registers":
 *   BMICOM start/stop and read/write control, BMISTA active/error/interrupt and the drive DMA
 *   capable bits, BMIDTP the physical region descriptor table): READ DMA (EXT) / WRITE DMA (EXT)
 *   leave the drive with DRQ set until the host starts the bus master; then the whole transfer
 *   runs through the PRD list at once (entries: 32-bit address, byte count with 0 = 64 KiB, EOT
 *   in bit 31 of the second dword), the drive completes and interrupts, BMISTA's interrupt bit is
 *   set (it is on every rising INTRQ, DMA or not) and its active bit stays set only if the PRD
 *   list was larger than the transfer. A list too short for the transfer, a guest address
 *   outside RAM or a direction opposite to the command's ends it with BMISTA error and the
 *   command with ABRT. Without a bus master (`dma` absent) the DMA commands are aborted and
 *   IDENTIFY claims no DMA mode.
 * - DEVICE RESET (08h) is aborted: ATA-6 makes it a PACKET-feature-set command and these drives are
 *   not packet devices (hosts reset an ATA disk with SRST).
 */
import { logOnce } from '../../base/log.js';
import { IrqPin, type IrqTarget } from '../../bus/irq.js';
import type { AccessSize, PortDevice } from '../../bus/port-bus.js';
import type { Snapshottable } from '../../base/snapshot.js';
import { base64ToBytes, bytesToBase64 } from '../../base/snapshot.js';
import type { BlockStore } from '../../pv/block/block-store.js';
import { identifyDevice, MAX_MULTIPLE } from './ata-identify.js';

// Status register bits.
export const ST_BSY = 0x80, ST_DRDY = 0x40, ST_DF = 0x20, ST_DSC = 0x10, ST_DRQ = 0x08, ST_ERR = 0x01;
// Error register bits.
export const ER_UNC = 0x40, ER_IDNF = 0x10, ER_ABRT = 0x04;
// Device Control bits.
export const DC_HOB = 0x80, DC_SRST = 0x04, DC_NIEN = 0x02;
// Device register bits.
export const DEV_LBA = 0x40, DEV_DEV = 0x10;
// Command block register offsets.
export const REG_DATA = 0, REG_ERROR = 1, REG_FEATURE = 1, REG_COUNT = 2, REG_LBA_LOW = 3, REG_LBA_MID = 4, REG_LBA_HIGH = 5,
  REG_DEVICE = 6, REG_STATUS = 7, REG_COMMAND = 7;

// Commands.
export const CMD = {
  DEVICE_RESET: 0x08,
  RECALIBRATE: 0x10,
  READ_SECTORS: 0x20,
  READ_SECTORS_NR: 0x21,
  READ_SECTORS_EXT: 0x24,
  READ_DMA_EXT: 0x25,
  READ_MULTIPLE_EXT: 0x29,
  WRITE_SECTORS: 0x30,
  WRITE_SECTORS_NR: 0x31,
  WRITE_SECTORS_EXT: 0x34,
  WRITE_DMA_EXT: 0x35,
  WRITE_MULTIPLE_EXT: 0x39,
  READ_VERIFY: 0x40,
  READ_VERIFY_NR: 0x41,
  READ_VERIFY_EXT: 0x42,
  SEEK: 0x70,
  EXECUTE_DIAGNOSTIC: 0x90,
  INITIALIZE_PARAMS: 0x91,
  IDENTIFY_PACKET: 0xa1,
  READ_MULTIPLE: 0xc4,
  WRITE_MULTIPLE: 0xc5,
  SET_MULTIPLE: 0xc6,
  READ_DMA: 0xc8,
  READ_DMA_NR: 0xc9,
  WRITE_DMA: 0xca,
  WRITE_DMA_NR: 0xcb,
  STANDBY_IMMEDIATE: 0xe0,
  IDLE_IMMEDIATE: 0xe1,
  STANDBY: 0xe2,
  IDLE: 0xe3,
  CHECK_POWER_MODE: 0xe5,
  FLUSH_CACHE: 0xe7,
  FLUSH_CACHE_EXT: 0xea,
  IDENTIFY: 0xec,
  SET_FEATURES: 0xef,
} as const;

const SECTOR = 512;

// Bus master IDE registers (offsets in the channel's 8-byte block) and bits.
export const BM_COMMAND = 0, BM_STATUS = 2, BM_PRDT = 4;
export const BMICOM_START = 0x01, BMICOM_WRITE_TO_MEMORY = 0x08;
export const BMISTA_ACTIVE = 0x01, BMISTA_ERROR = 0x02, BMISTA_INTERRUPT = 0x04, BMISTA_DRIVE_CAPABLE = 0x60;

/** Guest memory as the bus master sees it (physical addresses; null / false outside RAM). */
export interface DmaMemory {
  read(addr: number, len: number): Uint8Array | null;
  write(addr: number, bytes: Uint8Array): boolean;
}

/** One ATA hard disk on a channel. */
export class AtaDrive {
  readonly sectors: number;
  readonly cylinders: number;
  readonly heads: number;
  readonly sectorsPerTrack: number;
  // Mutable, saved state.
  status = ST_DRDY | ST_DSC;
  error = 0x01;
  intPending = false;
  multiple = 0;
  curHeads: number;
  curSectorsPerTrack: number;
  writeCache = true;
  /** Multiword DMA mode selected (0-2). */
  dmaMode = 2;

  constructor(readonly store: BlockStore, readonly serial: string) {
    if (store.size % SECTOR !== 0 || store.size < SECTOR) throw new Error(`disk size ${store.size} is not a positive multiple of 512`);
    this.sectors = store.size / SECTOR;
    // The default translation of the ATA spec's annex: 16 heads, 63 sectors per track, at most 16383 cylinders.
    this.heads = 16;
    this.sectorsPerTrack = 63;
    this.cylinders = Math.max(1, Math.min(16383, Math.floor(this.sectors / (16 * 63))));
    this.curHeads = this.heads;
    this.curSectorsPerTrack = this.sectorsPerTrack;
  }

  /** Cylinders of the current geometry. */
  get curCylinders(): number {
    if (this.curHeads === 0 || this.curSectorsPerTrack === 0) return 0;
    return Math.min(65535, Math.floor(Math.min(this.sectors, 16383 * 16 * 63) / (this.curHeads * this.curSectorsPerTrack)));
  }

  /** Power-on / hardware reset defaults (the medium and the serial stay). */
  powerOn(): void {
    this.status = ST_DRDY | ST_DSC;
    this.error = 0x01;
    this.intPending = false;
    this.multiple = 0;
    this.curHeads = this.heads;
    this.curSectorsPerTrack = this.sectorsPerTrack;
    this.writeCache = true;
    this.dmaMode = 2;
  }
}

interface DmaRequest {
  dir: 'in' | 'out';
  lba: number;
  count: number;
  dev: number;
}

interface Transfer {
  dir: 'in' | 'out';
  buf: Uint8Array;
  pos: number;
  /** Next sector to read (data-in) or where `buf` goes (data-out). */
  lba: number;
  /** Sectors not yet moved into (data-in) or out of (data-out) a buffer, `buf` excluded. */
  remaining: number;
  /** Sectors per DRQ block. */
  block: number;
  /** The drive doing the transfer. */
  dev: number;
}

export interface IdeDriveState {
  status: number;
  error: number;
  intPending: boolean;
  multiple: number;
  curHeads: number;
  curSectorsPerTrack: number;
  writeCache: boolean;
  dmaMode: number;
}

export interface IdeChannelState {
  version: 1;
  /** cur/prev pairs: features, count, lbaLow, lbaMid, lbaHigh. */
  regs: number[];
  device: number;
  control: number;
  drives: Array<IdeDriveState | null>;
  xfer: null | { dir: 'in' | 'out'; buf: string; pos: number; lba: number; remaining: number; block: number; dev: number };
  /** Bus master: BMICOM, BMISTA, BMIDTP, and a DMA command waiting for it. */
  bm: { command: number; status: number; prdt: number };
  dma: DmaRequest | null;
}

export interface IdeChannelOptions {
  name: string;
  /** Device 0 (master) and device 1 (slave); undefined = absent. */
  disks: Array<BlockStore | undefined>;
  irq: IrqTarget;
  /** Serial numbers (default "TSXEN-<name>-<n>"). */
  serials?: string[];
  /** Whether the controller decodes the channel's ports now (PCI I/O enable, IDETIM decode enable). */
  decodes?: () => boolean;
  /** The bus master's view of memory; absent: no bus master (PIO only). */
  dma?: DmaMemory;
  /** Whether the bus master may run (PCI command Bus Master Enable); default yes. */
  busMasterEnabled?: () => boolean;
}

const F = 0, C = 1, LL = 2, LM = 3, LH = 4;

export class IdeChannel implements Snapshottable<IdeChannelState> {
  readonly drives: Array<AtaDrive | undefined>;
  /** Task file: [current, previous] per register (Features, Count, LBA Low, Mid, High). */
  private readonly cur = new Uint8Array(5);
  private readonly prev = new Uint8Array(5);
  private device = 0;
  private control = 0;
  private xfer: Transfer | null = null;
  private dmaReq: DmaRequest | null = null;
  private bmCommand = 0;
  private bmStatus = 0;
  private bmPrdt = 0;
  private readonly pin: IrqPin;
  private readonly decodes: () => boolean;

  constructor(readonly opts: IdeChannelOptions) {
    this.drives = [0, 1].map((i) => {
      const d = opts.disks[i];
      return d ? new AtaDrive(d, opts.serials?.[i] ?? `TSXEN-${opts.name}-${i}`) : undefined;
    });
    this.pin = new IrqPin(opts.irq);
    this.decodes = opts.decodes ?? (() => true);
    this.resetRegisters();
  }

  private get sel(): number {
    return (this.device & DEV_DEV) ? 1 : 0;
  }

  private get empty(): boolean {
    return !this.drives[0] && !this.drives[1];
  }

  /** The drive that answers register accesses for the selected device (device 0 stands in for an absent device 1). */
  private responder(): AtaDrive | undefined {
    return this.drives[this.sel] ?? this.drives[this.sel ^ 1];
  }

  /**
   * Removes the disk at position `dev` (0 master, 1 slave), as the Xen platform device's unplug
   * does: a command in flight on it is dropped, and the position then reads as absent.
   */
  unplugDrive(dev: 0 | 1): void {
    if (!this.drives[dev]) return;
    this.drives[dev] = undefined;
    if (this.xfer?.dev === dev) this.xfer = null;
    if (this.dmaReq?.dev === dev) this.dmaReq = null;
    this.updateIrq();
  }

  /** Hardware reset (RESET-, power-on). */
  hardReset(): void {
    for (const d of this.drives) d?.powerOn();
    this.xfer = null;
    this.dmaReq = null;
    this.bmCommand = 0;
    this.bmStatus = 0;
    this.bmPrdt = 0;
    this.control = 0;
    this.resetRegisters();
    this.updateIrq();
  }

  private resetRegisters(): void {
    this.cur.fill(0);
    this.prev.fill(0);
    this.setSignature();
  }

  /** ATA signature after reset / diagnostics: Count 01h, LBA 01h/00h/00h, Device 00h. */
  private setSignature(): void {
    this.cur[C] = 1;
    this.cur[LL] = 1;
    this.cur[LM] = 0;
    this.cur[LH] = 0;
    this.device = 0;
  }

  get irqLevel(): boolean {
    return this.pin.level;
  }

  private computeIrq(): boolean {
    const d = this.drives[this.sel];
    return d !== undefined && d.intPending && (this.control & DC_NIEN) === 0;
  }

  private updateIrq(): void {
    this.pin.set(this.computeIrq());
  }

  private raise(d: AtaDrive): void {
    const before = this.pin.level;
    d.intPending = true;
    this.updateIrq();
    // BMISTA's interrupt bit latches the rising edge of the drive's INTRQ.
    if (this.pin.level && !before) this.bmStatus |= BMISTA_INTERRUPT;
  }

  // ---- register access ---------------------------------------------------------------------------

  /** Reads command block register `reg` (0-7); 16-bit for the data register. */
  readRegister(reg: number): number {
    if (this.empty) return 0;
    if (reg === REG_DATA) return this.readData();
    const hob = (this.control & DC_HOB) !== 0;
    const d = this.responder()!;
    switch (reg) {
      case REG_ERROR: return d.error;
      case REG_COUNT: return hob ? this.prev[C] : this.cur[C];
      case REG_LBA_LOW: return hob ? this.prev[LL] : this.cur[LL];
      case REG_LBA_MID: return hob ? this.prev[LM] : this.cur[LM];
      case REG_LBA_HIGH: return hob ? this.prev[LH] : this.cur[LH];
      case REG_DEVICE: return this.device;
      default: {
        const sd = this.drives[this.sel];
        if (!sd) return 0;
        sd.intPending = false;
        this.updateIrq();
        return sd.status;
      }
    }
  }

  readAltStatus(): number {
    if (this.empty) return 0;
    return this.drives[this.sel]?.status ?? 0;
  }

  writeRegister(reg: number, value: number): void {
    if (this.empty) return;
    value &= reg === REG_DATA ? 0xffff : 0xff;
    if (reg === REG_DATA) return this.writeData(value);
    if (reg === REG_COMMAND) return this.command(value);
    // Any command block write clears HOB.
    this.control &= ~DC_HOB;
    if (reg === REG_DEVICE) {
      this.device = value;
      this.updateIrq();
      return;
    }
    const k = reg === REG_FEATURE ? F : reg - 1;
    this.prev[k] = this.cur[k];
    this.cur[k] = value;
  }

  writeControl(value: number): void {
    if (this.empty) return;
    const was = this.control;
    this.control = value & (DC_HOB | DC_SRST | DC_NIEN);
    if ((value & DC_SRST) && !(was & DC_SRST)) {
      this.xfer = null;
      this.dmaReq = null;
      for (const d of this.drives) if (d) { d.status = ST_BSY; d.intPending = false; }
    } else if (!(value & DC_SRST) && (was & DC_SRST)) {
      for (const d of this.drives) if (d) { d.status = ST_DRDY | ST_DSC; d.error = 0x01; }
      this.setSignature();
    }
    this.updateIrq();
  }

  // ---- data register -----------------------------------------------------------------------------

  private readData(): number {
    const x = this.xfer;
    if (!x || x.dir !== 'in') {
      logOnce('debug', 'ide', `${this.opts.name}-rd-idle`, `${this.opts.name}: data register read with no data-in transfer`);
      return 0xffff;
    }
    const v = x.buf[x.pos] | (x.buf[x.pos + 1] << 8);
    x.pos += 2;
    if (x.pos >= x.buf.length) this.blockDone();
    return v;
  }

  private writeData(v: number): void {
    const x = this.xfer;
    if (!x || x.dir !== 'out') {
      logOnce('debug', 'ide', `${this.opts.name}-wr-idle`, `${this.opts.name}: data register write with no data-out transfer`);
      return;
    }
    x.buf[x.pos] = v & 0xff;
    x.buf[x.pos + 1] = v >> 8;
    x.pos += 2;
    if (x.pos >= x.buf.length) this.blockDone();
  }

  /** The host emptied (data-in) or filled (data-out) the current DRQ block. */
  private blockDone(): void {
    const x = this.xfer!;
    const d = this.drives[x.dev]!;
    if (x.dir === 'in') {
      if (x.remaining > 0) {
        this.loadBlock(d, x);
      } else {
        this.xfer = null;
        d.status = ST_DRDY | ST_DSC;
      }
      return;
    }
    const n = x.buf.length / SECTOR;
    if (!this.storeWrite(d, x.lba, x.buf)) return;
    x.lba += n;
    if (x.remaining > 0) {
      const m = Math.min(x.block, x.remaining);
      x.remaining -= m;
      x.buf = new Uint8Array(m * SECTOR);
      x.pos = 0;
      d.status = ST_DRDY | ST_DSC | ST_DRQ;
    } else {
      this.xfer = null;
      d.status = ST_DRDY | ST_DSC;
    }
    this.raise(d);
  }

  private loadBlock(d: AtaDrive, x: Transfer): void {
    const m = Math.min(x.block, x.remaining);
    const buf = new Uint8Array(m * SECTOR);
    try {
      d.store.read(x.lba * SECTOR, buf);
    } catch (e) {
      logOnce('warn', 'ide', `${this.opts.name}-rd-fail`, `${this.opts.name}: disk read failed: ${(e as Error).message}`);
      this.xfer = null;
      this.fail(d, ER_UNC, x.lba);
      return;
    }
    x.buf = buf;
    x.pos = 0;
    x.lba += m;
    x.remaining -= m;
    d.status = ST_DRDY | ST_DSC | ST_DRQ;
    this.raise(d);
  }

  private storeWrite(d: AtaDrive, lba: number, data: Uint8Array): boolean {
    try {
      d.store.write(lba * SECTOR, data);
      if (!d.writeCache) d.store.flush();
      return true;
    } catch (e) {
      logOnce('warn', 'ide', `${this.opts.name}-wr-fail`, `${this.opts.name}: disk write failed: ${(e as Error).message}`);
      this.xfer = null;
      this.fail(d, ER_ABRT, lba);
      return false;
    }
  }

  // ---- commands ----------------------------------------------------------------------------------

  private command(cmd: number): void {
    const d = this.drives[this.sel];
    if (cmd === CMD.EXECUTE_DIAGNOSTIC) return this.diagnostic();
    if (!d) return; // an absent device ignores commands
    if (d.status & ST_BSY) return;
    this.control &= ~DC_HOB;
    d.intPending = false;
    this.xfer = null;
    this.dmaReq = null;
    d.error = 0;
    switch (cmd) {
      case CMD.IDENTIFY: {
        const block = identifyDevice({
          sectors: d.sectors, serial: d.serial, cylinders: d.cylinders, heads: d.heads, sectorsPerTrack: d.sectorsPerTrack,
          curCylinders: d.curCylinders, curHeads: d.curHeads, curSectorsPerTrack: d.curSectorsPerTrack,
          multiple: d.multiple, writeCache: d.writeCache, device: this.sel as 0 | 1, otherPresent: this.drives[this.sel ^ 1] !== undefined,
          dma: this.opts.dma !== undefined, dmaMode: d.dmaMode,
        });
        this.xfer = { dir: 'in', buf: block, pos: 0, lba: 0, remaining: 0, block: 1, dev: this.sel };
        d.status = ST_DRDY | ST_DSC | ST_DRQ;
        return this.raise(d);
      }
      case CMD.READ_SECTORS: case CMD.READ_SECTORS_NR: return this.readWrite(d, 'in', false, 1);
      case CMD.READ_SECTORS_EXT: return this.readWrite(d, 'in', true, 1);
      case CMD.READ_MULTIPLE: return this.readWrite(d, 'in', false, d.multiple);
      case CMD.READ_MULTIPLE_EXT: return this.readWrite(d, 'in', true, d.multiple);
      case CMD.WRITE_SECTORS: case CMD.WRITE_SECTORS_NR: return this.readWrite(d, 'out', false, 1);
      case CMD.WRITE_SECTORS_EXT: return this.readWrite(d, 'out', true, 1);
      case CMD.WRITE_MULTIPLE: return this.readWrite(d, 'out', false, d.multiple);
      case CMD.WRITE_MULTIPLE_EXT: return this.readWrite(d, 'out', true, d.multiple);
      case CMD.READ_DMA: case CMD.READ_DMA_NR: return this.dmaCommand(d, 'in', false);
      case CMD.READ_DMA_EXT: return this.dmaCommand(d, 'in', true);
      case CMD.WRITE_DMA: case CMD.WRITE_DMA_NR: return this.dmaCommand(d, 'out', false);
      case CMD.WRITE_DMA_EXT: return this.dmaCommand(d, 'out', true);
      case CMD.READ_VERIFY: case CMD.READ_VERIFY_NR: case CMD.READ_VERIFY_EXT: {
        const r = this.range(d, cmd === CMD.READ_VERIFY_EXT);
        if (typeof r === 'number') return this.fail(d, ER_IDNF, r < 0 ? undefined : r);
        return this.done(d);
      }
      case CMD.SET_MULTIPLE: {
        const n = this.cur[C];
        if (n !== 0 && (n > MAX_MULTIPLE || (n & (n - 1)) !== 0)) return this.fail(d, ER_ABRT);
        d.multiple = n;
        return this.done(d);
      }
      case CMD.FLUSH_CACHE: case CMD.FLUSH_CACHE_EXT:
        try {
          d.store.flush();
        } catch (e) {
          logOnce('warn', 'ide', `${this.opts.name}-flush-fail`, `${this.opts.name}: disk flush failed: ${(e as Error).message}`);
          return this.fail(d, ER_ABRT);
        }
        return this.done(d);
      case CMD.SET_FEATURES: return this.setFeatures(d);
      case CMD.INITIALIZE_PARAMS: {
        const heads = (this.device & 0x0f) + 1;
        const spt = this.cur[C];
        if (spt === 0) return this.fail(d, ER_ABRT);
        d.curHeads = heads;
        d.curSectorsPerTrack = spt;
        return this.done(d);
      }
      case CMD.SEEK: {
        const r = this.addressOf(d, false);
        if (r < 0 || r >= d.sectors) return this.fail(d, ER_IDNF, r < 0 ? undefined : r);
        return this.done(d);
      }
      case CMD.STANDBY_IMMEDIATE: case CMD.IDLE_IMMEDIATE: case CMD.STANDBY: case CMD.IDLE:
        return this.done(d);
      case CMD.CHECK_POWER_MODE:
        this.cur[C] = 0xff; // active or idle
        return this.done(d);
      default:
        if ((cmd & 0xf0) === CMD.RECALIBRATE) return this.done(d);
        logOnce('info', 'ide', `cmd-${cmd}`, `${this.opts.name}: ATA command 0x${cmd.toString(16)} not supported: aborted`);
        return this.fail(d, ER_ABRT);
    }
  }

  private done(d: AtaDrive): void {
    d.status = ST_DRDY | ST_DSC;
    this.raise(d);
  }

  /** Ends the command with ERR; `lba` (if given) goes to the address registers. */
  private fail(d: AtaDrive, error: number, lba?: number): void {
    d.error = error;
    d.status = ST_DRDY | ST_DSC | ST_ERR;
    if (lba !== undefined) this.setAddress(lba);
    this.raise(d);
  }

  private diagnostic(): void {
    this.xfer = null;
    for (const d of this.drives) if (d) { d.status = ST_DRDY | ST_DSC; d.error = 0x01; d.intPending = false; }
    this.setSignature();
    // Device 0 interrupts (ATA-6 9.9); with only device 1 present it interrupts itself.
    const d = this.drives[0] ?? this.drives[1]!;
    d.intPending = true;
    this.updateIrq();
  }

  private setFeatures(d: AtaDrive): void {
    const sub = this.cur[F];
    switch (sub) {
      case 0x02: d.writeCache = true; return this.done(d);
      case 0x82:
        d.writeCache = false;
        try { d.store.flush(); } catch { return this.fail(d, ER_ABRT); }
        return this.done(d);
      case 0x03: {
        // Set transfer mode: PIO default (00h/01h), PIO flow control modes 0-4 (08h-0Ch), multiword
        // DMA modes 0-2 (20h-22h) with a bus master; no Ultra DMA.
        const mode = this.cur[C];
        if (mode <= 0x01 || (mode >= 0x08 && mode <= 0x0c)) return this.done(d);
        if (this.opts.dma && mode >= 0x20 && mode <= 0x22) {
          d.dmaMode = mode & 3;
          return this.done(d);
        }
        return this.fail(d, ER_ABRT);
      }
      case 0x66: case 0xcc: return this.done(d); // (dis)allow reverting to power-on defaults
      default:
        logOnce('info', 'ide', `sf-${sub}`, `${this.opts.name}: SET FEATURES 0x${sub.toString(16)} not supported: aborted`);
        return this.fail(d, ER_ABRT);
    }
  }

  /** The starting address of the command in the task file: LBA, or CHS under the current geometry (-1 = invalid CHS). */
  private addressOf(d: AtaDrive, ext: boolean): number {
    if (ext) {
      return (this.prev[LH] * 2 ** 40) + (this.prev[LM] * 2 ** 32) + (this.prev[LL] * 2 ** 24)
        + (this.cur[LH] << 16) + (this.cur[LM] << 8) + this.cur[LL];
    }
    if (this.device & DEV_LBA) return ((this.device & 0x0f) * 2 ** 24) + (this.cur[LH] << 16) + (this.cur[LM] << 8) + this.cur[LL];
    const cyl = this.cur[LM] | (this.cur[LH] << 8);
    const head = this.device & 0x0f;
    const s = this.cur[LL];
    if (s === 0 || s > d.curSectorsPerTrack || head >= d.curHeads) return -1;
    return (cyl * d.curHeads + head) * d.curSectorsPerTrack + s - 1;
  }

  /** The command's [lba, count], or the first address outside the disk (for IDNF; -1: an invalid CHS address). */
  private range(d: AtaDrive, ext: boolean): [number, number] | number {
    const lba = this.addressOf(d, ext);
    const count = ext ? ((this.prev[C] << 8) | this.cur[C]) || 65536 : this.cur[C] || 256;
    if (lba < 0) return -1;
    if (lba >= d.sectors) return lba;
    if (lba + count > d.sectors) return d.sectors;
    return [lba, count];
  }

  /** Puts `lba` in the address registers (LBA or CHS, as the command addressed them). */
  private setAddress(lba: number): void {
    if (this.device & DEV_LBA || lba >= 2 ** 28) {
      this.cur[LL] = lba & 0xff;
      this.cur[LM] = (lba >>> 8) & 0xff;
      this.cur[LH] = (lba >>> 16) & 0xff;
      const hi = Math.floor(lba / 2 ** 24);
      this.prev[LL] = hi & 0xff;
      this.prev[LM] = Math.floor(hi / 256) & 0xff;
      this.prev[LH] = Math.floor(hi / 65536) & 0xff;
      if (lba < 2 ** 28) this.device = (this.device & 0xf0) | (hi & 0x0f);
      return;
    }
    const d = this.drives[this.sel]!;
    const spt = d.curSectorsPerTrack || 1, heads = d.curHeads || 1;
    const cyl = Math.floor(lba / (spt * heads));
    this.cur[LL] = (lba % spt) + 1;
    this.cur[LM] = cyl & 0xff;
    this.cur[LH] = (cyl >> 8) & 0xff;
    this.device = (this.device & 0xf0) | (Math.floor(lba / spt) % heads);
  }

  private readWrite(d: AtaDrive, dir: 'in' | 'out', ext: boolean, block: number): void {
    if (block === 0) return this.fail(d, ER_ABRT); // READ/WRITE MULTIPLE before SET MULTIPLE MODE
    if (dir === 'out' && d.store.readOnly) return this.fail(d, ER_ABRT);
    const r = this.range(d, ext);
    if (typeof r === 'number') return this.fail(d, ER_IDNF, r < 0 ? undefined : r);
    const [lba, count] = r;
    const x: Transfer = { dir, buf: new Uint8Array(0), pos: 0, lba, remaining: count, block, dev: this.sel };
    this.xfer = x;
    if (dir === 'in') return this.loadBlock(d, x);
    const m = Math.min(block, count);
    x.remaining -= m;
    x.buf = new Uint8Array(m * SECTOR);
    d.status = ST_DRDY | ST_DSC | ST_DRQ; // no interrupt before the first data-out block
  }

  // ---- bus master DMA ----------------------------------------------------------------------------

  private dmaCommand(d: AtaDrive, dir: 'in' | 'out', ext: boolean): void {
    if (!this.opts.dma) return this.fail(d, ER_ABRT);
    if (dir === 'out' && d.store.readOnly) return this.fail(d, ER_ABRT);
    const r = this.range(d, ext);
    if (typeof r === 'number') return this.fail(d, ER_IDNF, r < 0 ? undefined : r);
    this.dmaReq = { dir, lba: r[0], count: r[1], dev: this.sel };
    // DMARQ asserted: the drive waits for the bus master with DRQ set.
    d.status = ST_DRDY | ST_DSC | ST_DRQ;
    this.runDma();
  }

  /** Runs a waiting DMA command if the bus master is started and enabled. */
  runDma(): void {
    const req = this.dmaReq;
    const mem = this.opts.dma;
    if (!req || !mem || !(this.bmCommand & BMICOM_START) || !(this.opts.busMasterEnabled?.() ?? true)) return;
    this.dmaReq = null;
    const d = this.drives[req.dev]!;
    const total = req.count * SECTOR;
    const toMemory = req.dir === 'in';
    let data: Uint8Array | null = null;
    if (toMemory) {
      data = new Uint8Array(total);
      try {
        d.store.read(req.lba * SECTOR, data);
      } catch (e) {
        logOnce('warn', 'ide', `${this.opts.name}-rd-fail`, `${this.opts.name}: disk read failed: ${(e as Error).message}`);
        this.bmStatus &= ~BMISTA_ACTIVE;
        return this.fail(d, ER_UNC, req.lba);
      }
    }
    const out = toMemory ? null : new Uint8Array(total);
    let moved = 0;
    let ok = ((this.bmCommand & BMICOM_WRITE_TO_MEMORY) !== 0) === toMemory;
    let eot = false;
    /** The last entry used was consumed to its end. */
    let full = true;
    // At most 64K entries (the table may not cross a 64 KiB boundary, so it is at most 8K entries; be generous).
    for (let i = 0; ok && moved < total && !eot && i < 65536; i++) {
      const e = mem.read((this.bmPrdt + 8 * i) >>> 0, 8);
      if (!e) { ok = false; break; }
      const addr = (e[0] | (e[1] << 8) | (e[2] << 16) | (e[3] << 24)) & 0xfffffffe;
      const len = ((e[4] | (e[5] << 8)) & 0xfffe) || 0x10000;
      eot = (e[7] & 0x80) !== 0;
      const n = Math.min(len, total - moved);
      full = n === len;
      if (toMemory) {
        ok = mem.write(addr >>> 0, data!.subarray(moved, moved + n));
      } else {
        const got = mem.read(addr >>> 0, n);
        if (got) out!.set(got, moved);
        ok = got !== null;
      }
      moved += n;
    }
    if (!ok || moved < total) {
      // Bus master stops with an error; the command fails.
      this.bmStatus = (this.bmStatus & ~BMISTA_ACTIVE) | BMISTA_ERROR;
      return this.fail(d, ER_ABRT, req.lba);
    }
    if (!toMemory && !this.storeWrite(d, req.lba, out!)) {
      this.bmStatus = (this.bmStatus & ~BMISTA_ACTIVE) | BMISTA_ERROR;
      return;
    }
    // The PRD list ended exactly with the transfer: the bus master is done. A longer list leaves it active.
    if (eot && full) this.bmStatus &= ~BMISTA_ACTIVE;
    this.done(d);
  }

  /** Reads bus master register byte `off` (0-7). */
  bmRead(off: number): number {
    switch (off) {
      case BM_COMMAND: return this.bmCommand;
      case BM_STATUS: return this.bmStatus;
      case BM_PRDT: case BM_PRDT + 1: case BM_PRDT + 2: case BM_PRDT + 3: return (this.bmPrdt >>> (8 * (off - BM_PRDT))) & 0xff;
      default: return 0;
    }
  }

  bmWrite(off: number, v: number): void {
    v &= 0xff;
    switch (off) {
      case BM_COMMAND: {
        const start = (v & BMICOM_START) !== 0 && !(this.bmCommand & BMICOM_START);
        // The direction bit may only change while the bus master is stopped.
        const dir = (this.bmCommand & BMICOM_START) ? this.bmCommand & BMICOM_WRITE_TO_MEMORY : v & BMICOM_WRITE_TO_MEMORY;
        this.bmCommand = (v & BMICOM_START) | dir;
        if (start) {
          this.bmStatus |= BMISTA_ACTIVE;
          this.runDma();
        } else if (!(v & BMICOM_START)) {
          this.bmStatus &= ~BMISTA_ACTIVE;
        }
        return;
      }
      case BM_STATUS:
        this.bmStatus = (this.bmStatus & BMISTA_ACTIVE) | (v & BMISTA_DRIVE_CAPABLE) | (this.bmStatus & ~v & (BMISTA_ERROR | BMISTA_INTERRUPT));
        return;
      case BM_PRDT: case BM_PRDT + 1: case BM_PRDT + 2: case BM_PRDT + 3: {
        const sh = 8 * (off - BM_PRDT);
        this.bmPrdt = ((this.bmPrdt & ~(0xff << sh)) | (v << sh)) & 0xfffffffc;
        this.bmPrdt >>>= 0;
        return;
      }
      default:
    }
  }

  // ---- ports -------------------------------------------------------------------------------------

  /** The command block (8 ports). */
  commandBlock(): PortDevice {
    return {
      name: `ide-${this.opts.name}`,
      widths: 7,
      ioRead: (off, size) => {
        if (!this.decodes()) return 0xffffffff;
        if (off === REG_DATA) {
          if (size === 4) {
            const lo = this.readRegister(REG_DATA);
            return (lo + this.readRegister(REG_DATA) * 0x10000) >>> 0;
          }
          return this.readRegister(REG_DATA) & (size === 1 ? 0xff : 0xffff);
        }
        let v = 0;
        for (let k = 0; k < size; k++) v += (off + k < 8 ? this.readRegister(off + k) & 0xff : 0xff) * 2 ** (8 * k);
        return v;
      },
      ioWrite: (off, size: AccessSize, value) => {
        if (!this.decodes()) return;
        if (off === REG_DATA) {
          this.writeRegister(REG_DATA, value & 0xffff);
          if (size === 4) this.writeRegister(REG_DATA, value >>> 16);
          return;
        }
        for (let k = 0; k < size && off + k < 8; k++) this.writeRegister(off + k, (value >>> (8 * k)) & 0xff);
      },
    };
  }

  /** The control block's Alternate Status (read) / Device Control (write) register (1 port). */
  controlBlock(): PortDevice {
    return {
      name: `ide-${this.opts.name}-ctl`,
      ioRead: () => (this.decodes() ? this.readAltStatus() : 0xff),
      ioWrite: (_off, _size, value) => {
        if (this.decodes()) this.writeControl(value & 0xff);
      },
    };
  }

  // ---- state -------------------------------------------------------------------------------------

  save(): IdeChannelState {
    const x = this.xfer;
    return {
      version: 1,
      regs: [...this.cur, ...this.prev],
      device: this.device,
      control: this.control,
      drives: this.drives.map((d) => d ? {
        status: d.status, error: d.error, intPending: d.intPending, multiple: d.multiple,
        curHeads: d.curHeads, curSectorsPerTrack: d.curSectorsPerTrack, writeCache: d.writeCache, dmaMode: d.dmaMode,
      } : null),
      xfer: x ? { dir: x.dir, buf: bytesToBase64(x.buf), pos: x.pos, lba: x.lba, remaining: x.remaining, block: x.block, dev: x.dev } : null,
      bm: { command: this.bmCommand, status: this.bmStatus, prdt: this.bmPrdt },
      dma: this.dmaReq ? { ...this.dmaReq } : null,
    };
  }

  restore(s: IdeChannelState): void {
    if (s.version !== 1) throw new Error(`ide-${this.opts.name}: state version ${s.version} is not supported`);
    if (s.regs.length !== 10 || s.drives.length !== 2) throw new Error(`ide-${this.opts.name}: malformed saved state`);
    for (let i = 0; i < 2; i++) {
      if ((s.drives[i] === null) !== (this.drives[i] === undefined)) throw new Error(`ide-${this.opts.name}: saved drive ${i} presence differs from this machine's`);
    }
    this.cur.set(s.regs.slice(0, 5));
    this.prev.set(s.regs.slice(5));
    this.device = s.device & 0xff;
    this.control = s.control & (DC_HOB | DC_SRST | DC_NIEN);
    s.drives.forEach((ds, i) => {
      const d = this.drives[i];
      if (!d || !ds) return;
      Object.assign(d, {
        status: ds.status, error: ds.error, intPending: ds.intPending, multiple: ds.multiple,
        curHeads: ds.curHeads, curSectorsPerTrack: ds.curSectorsPerTrack, writeCache: ds.writeCache, dmaMode: ds.dmaMode & 3,
      });
    });
    this.xfer = null;
    if (s.xfer) {
      const buf = base64ToBytes(s.xfer.buf);
      const x = s.xfer;
      if (!this.drives[x.dev] || buf.length % SECTOR !== 0 || x.pos < 0 || x.pos >= buf.length || (x.pos & 1)) {
        throw new Error(`ide-${this.opts.name}: malformed saved transfer`);
      }
      this.xfer = { dir: x.dir, buf, pos: x.pos, lba: x.lba, remaining: x.remaining, block: x.block, dev: x.dev };
    }
    this.bmCommand = s.bm.command & (BMICOM_START | BMICOM_WRITE_TO_MEMORY);
    this.bmStatus = s.bm.status & (BMISTA_ACTIVE | BMISTA_ERROR | BMISTA_INTERRUPT | BMISTA_DRIVE_CAPABLE);
    this.bmPrdt = (s.bm.prdt & 0xfffffffc) >>> 0;
    this.dmaReq = null;
    if (s.dma) {
      if (!this.drives[s.dma.dev]) throw new Error(`ide-${this.opts.name}: malformed saved DMA request`);
      this.dmaReq = { ...s.dma };
    }
    this.pin.restoreLevel(this.computeIrq());
  }
}
