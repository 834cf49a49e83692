/**
 * ACPI fixed hardware registers of a PIIX4-style power management block (ACPI specification 6.x,
 * chapter 4.8 "ACPI Hardware Features" and 4.8.3 "PM1 Event/Control registers", "Power
 * Management Timer", "General-Purpose Event Registers"; register layout of the 82371AB PIIX4
 * datasheet's PM I/O space), one 64-byte I/O block decoded at the PIIX4 function 3's PMBA:
 *
 *   00h PM1a_STS (16)  TMR_STS, BM_STS, GBL_STS, PWRBTN_STS, SLPBTN_STS, RTC_STS, WAK_STS (write 1 to clear)
 *   02h PM1a_EN  (16)  TMR_EN, GBL_EN, PWRBTN_EN, SLPBTN_EN, RTC_EN
 *   04h PM1a_CNT (16)  SCI_EN, BM_RLD, GBL_RLS, SLP_TYP (12:10), SLP_EN (13, write-only)
 *   08h PM_TMR   (32)  24-bit free-running count at 3.579545 MHz (TMR_VAL_EXT = 0)
 *   0Ch GPE0_STS (16)  general-purpose event status (write 1 to clear)
 *   0Eh GPE0_EN  (16)  general-purpose event enables
 *   10h-3Fh            PIIX4 processor/global/device control: read as 0, writes ignored
 *
 * The PM timer is computed from guest time; TMR_STS is set each time bit 23 of the count toggles
 * (every 2^23 counts, about 2.34 s), derived lazily from the count rather than by a ticking timer.
 * A timer-queue entry is armed only while TMR_EN would make the next toggle raise the SCI.
 *
 * The SCI is a level-triggered, active-high line (IRQ 9 in our MADT/FADT), high while SCI_EN is
 * set and an enabled status bit is set. SMI_CMD is 0 in our FADT, which tells the OS the platform
 * is always in ACPI mode, so SCI_EN is set at reset (as firmware would have done).
 *
 * Sleep: writing SLP_EN with SLP_TYP equal to the S5 value calls `onPowerOff`. The default is 0,
 * the PIIX4's own encoding (its PMCNTRL SUS_TYP 000b is Soft Off), which is what our DSDT's \_S5
 * and the DSDT SeaBIOS builds for an HVM guest both name. Other sleep types (S1-S4) are not implemented: logged
 * once and ignored, so the OS simply continues.
 *
 * The reset register named in our FADT is the PIIX3's 0CF9h (src/devices/pci/piix3.ts).
 */
import { log, logOnce } from '../../base/log.js';
import type { Snapshottable } from '../../base/snapshot.js';
import { IrqPin, type IrqTarget } from '../../bus/irq.js';
import type { PortDevice } from '../../bus/port-bus.js';
import type { Timer, TimerQueue, VirtualClock } from '../../bus/timer-queue.js';

export const PM_TIMER_HZ = 3_579_545;
const NS_PER_TICK = 1e9 / PM_TIMER_HZ;
/** TMR_STS is set when bit 23 of the 24-bit counter toggles. */
const TMR_PERIOD_TICKS = 1 << 23;

/** Offsets inside the block, for the FADT. */
export const PM1_EVT_OFFSET = 0x00;
export const PM1_CNT_OFFSET = 0x04;
export const PM_TMR_OFFSET = 0x08;
export const GPE0_OFFSET = 0x0c;
export const PM1_EVT_LEN = 4;
export const PM1_CNT_LEN = 2;
export const PM_TMR_LEN = 4;
export const GPE0_LEN = 4;
export const ACPI_PM_BLOCK_SIZE = 0x40;

/**
 * SLP_TYP value for S5 (soft off) unless configured otherwise: 0, as the PIIX4 encodes Soft Off.
 * Our DSDT's \_S5 says the same, and so does the one SeaBIOS writes for HVM guests (it assumes
 * the PIIX4 encoding), so one device serves both firmware paths.
 */
export const DEFAULT_S5_SLP_TYP = 0;

// PM1 status/enable bits.
export const TMR_STS = 1 << 0;
export const BM_STS = 1 << 4;
export const GBL_STS = 1 << 5;
export const PWRBTN_STS = 1 << 8;
export const SLPBTN_STS = 1 << 9;
export const RTC_STS = 1 << 10;
export const WAK_STS = 1 << 15;
/** Bits with an enable (and so able to raise the SCI). */
const PM1_EN_MASK = TMR_STS | GBL_STS | PWRBTN_STS | SLPBTN_STS | RTC_STS;
// PM1 control bits.
export const SCI_EN = 1 << 0;
const BM_RLD = 1 << 1;
const GBL_RLS = 1 << 2;
const SLP_TYP_SHIFT = 10;
export const SLP_EN = 1 << 13;
const PM1_CNT_STORED = SCI_EN | BM_RLD | (7 << SLP_TYP_SHIFT);

export interface AcpiPmOptions {
  clock: VirtualClock;
  timers: TimerQueue;
  /** The SCI output (IRQ 9, level, active high). */
  sci?: IrqTarget;
  /** SLP_EN written with the S5 sleep type. */
  onPowerOff?: () => void;
  /** SLP_TYP value meaning S5 (must match the DSDT's \_S5). */
  s5SlpTyp?: number;
}

export interface AcpiPmState {
  version: 1;
  /** PM1_STS without TMR_STS (which is derived from the count and `tmrAckPeriod`). */
  pm1Sts: number;
  pm1En: number;
  pm1Cnt: number;
  /** Bit-23 period of the count when TMR_STS was last cleared. */
  tmrAckPeriod: number;
  gpeSts: number;
  gpeEn: number;
}

/** Register starts and lengths for splitting writes. */
const WRITABLE_REGS: ReadonlyArray<readonly [number, number]> = [[0x00, 2], [0x02, 2], [0x04, 2], [0x0c, 2], [0x0e, 2]];

export class AcpiPm implements Snapshottable<AcpiPmState> {
  private readonly sci: IrqPin;
  private readonly timer: Timer;
  private readonly s5: number;
  private pm1Sts = 0;
  private pm1En = 0;
  private pm1Cnt = SCI_EN;
  private tmrAckPeriod = 0;
  private gpeSts = 0;
  private gpeEn = 0;
  private port: PortDevice | undefined;

  constructor(private readonly opts: AcpiPmOptions) {
    this.sci = new IrqPin(opts.sci);
    this.s5 = opts.s5SlpTyp ?? DEFAULT_S5_SLP_TYP;
    this.timer = opts.timers.timer(() => this.update());
    this.reset();
  }

  reset(): void {
    this.pm1Sts = 0;
    this.pm1En = 0;
    this.pm1Cnt = SCI_EN;
    this.tmrAckPeriod = this.period(this.opts.clock.now());
    this.gpeSts = 0;
    this.gpeEn = 0;
    this.update();
  }

  // ---- the PM timer ----------------------------------------------------------------------------

  private ticks(now: number): number {
    return Math.floor(now / NS_PER_TICK);
  }

  private period(now: number): number {
    return Math.floor(this.ticks(now) / TMR_PERIOD_TICKS);
  }

  /** PM_TMR: the low 24 bits of the count. */
  timerValue(): number {
    return this.ticks(this.opts.clock.now()) % 0x1000000;
  }

  private pm1Status(now: number): number {
    return this.pm1Sts | (this.period(now) > this.tmrAckPeriod ? TMR_STS : 0);
  }

  // ---- events ----------------------------------------------------------------------------------

  /** The fixed power button was pressed (e.g. `xl shutdown` later): PWRBTN_STS, SCI if enabled. */
  pressPowerButton(): void {
    this.pm1Sts |= PWRBTN_STS;
    this.update();
  }

  /** Sets general-purpose event status bit `n` (0-15). */
  raiseGpe(n: number): void {
    this.gpeSts |= 1 << (n & 15);
    this.update();
  }

  /** Recomputes the SCI and arms the timer for the next TMR_STS if it would raise the SCI. */
  private update(): void {
    const now = this.opts.clock.now();
    const sts = this.pm1Status(now);
    const sciEn = (this.pm1Cnt & SCI_EN) !== 0;
    this.sci.set(sciEn && ((sts & this.pm1En & PM1_EN_MASK) !== 0 || (this.gpeSts & this.gpeEn) !== 0));
    if (sciEn && (this.pm1En & TMR_STS) && !(sts & TMR_STS)) {
      // The next bit-23 toggle after the acknowledged period.
      const tick = (this.tmrAckPeriod + 1) * TMR_PERIOD_TICKS;
      let at = Math.ceil(tick * NS_PER_TICK);
      while (this.ticks(at) < tick) at++;
      this.timer.arm(at);
    } else {
      this.timer.cancel();
    }
  }

  get sciLevel(): boolean {
    return this.sci.level;
  }

  // ---- registers -------------------------------------------------------------------------------

  private readRegister(start: number, now: number): number {
    switch (start) {
      case 0x00: return this.pm1Status(now);
      case 0x02: return this.pm1En;
      case 0x04: return this.pm1Cnt;
      case 0x08: return this.ticks(now) % 0x1000000;
      case 0x0c: return this.gpeSts;
      case 0x0e: return this.gpeEn;
      default: return 0;
    }
  }

  private writeRegister(start: number, bits: number, mask: number): void {
    const now = this.opts.clock.now();
    switch (start) {
      case 0x00: {
        const clear = bits & mask;
        if (clear & TMR_STS) this.tmrAckPeriod = this.period(now);
        this.pm1Sts &= ~(clear & ~TMR_STS);
        break;
      }
      case 0x02:
        this.pm1En = (this.pm1En & ~mask) | (bits & mask & PM1_EN_MASK);
        break;
      case 0x04: {
        this.pm1Cnt = (this.pm1Cnt & ~mask) | (bits & mask & PM1_CNT_STORED);
        if (bits & mask & GBL_RLS) logOnce('debug', 'acpi-pm', 'gbl-rls', 'GBL_RLS written: no firmware to signal');
        if (bits & mask & SLP_EN) this.sleep((this.pm1Cnt >> SLP_TYP_SHIFT) & 7);
        break;
      }
      case 0x0c:
        this.gpeSts &= ~(bits & mask);
        break;
      case 0x0e:
        this.gpeEn = (this.gpeEn & ~mask) | (bits & mask);
        break;
    }
    this.update();
  }

  private sleep(type: number): void {
    if (type === this.s5) {
      log('info', 'acpi-pm', 'S5 requested (SLP_TYP/SLP_EN): powering off');
      this.opts.onPowerOff?.();
      return;
    }
    logOnce('info', 'acpi-pm', `slp-${type}`, `sleep type ${type} requested: only S5 (${this.s5}) is implemented, ignored`);
  }

  /** The 64-byte I/O block (offsets relative to PMBA), any width at any offset. */
  ports(): PortDevice {
    if (this.port) return this.port;
    this.port = {
      name: 'acpi-pm',
      widths: 7,
      ioRead: (off, size) => {
        const now = this.opts.clock.now();
        let v = 0;
        for (let k = size - 1; k >= 0; k--) {
          const o = off + k;
          const start = o >= 0x08 && o < 0x0c ? 0x08 : o & ~1;
          v = (v << 8) | ((this.readRegister(start, now) >>> ((o - start) * 8)) & 0xff);
        }
        return v >>> 0;
      },
      ioWrite: (off, size, value) => {
        for (const [start, len] of WRITABLE_REGS) {
          let bits = 0, mask = 0;
          for (let k = 0; k < size; k++) {
            const o = off + k;
            if (o < start || o >= start + len) continue;
            const sh = (o - start) * 8;
            mask |= 0xff << sh;
            bits |= ((value >>> (8 * k)) & 0xff) << sh;
          }
          if (mask) this.writeRegister(start, bits, mask);
        }
      },
    };
    return this.port;
  }

  // ---- saved state -----------------------------------------------------------------------------

  save(): AcpiPmState {
    return {
      version: 1,
      pm1Sts: this.pm1Sts,
      pm1En: this.pm1En,
      pm1Cnt: this.pm1Cnt,
      tmrAckPeriod: this.tmrAckPeriod,
      gpeSts: this.gpeSts,
      gpeEn: this.gpeEn,
    };
  }

  restore(s: AcpiPmState): void {
    if (s.version !== 1) throw new Error(`ACPI PM state version ${s.version} is not supported`);
    this.pm1Sts = s.pm1Sts;
    this.pm1En = s.pm1En;
    this.pm1Cnt = s.pm1Cnt;
    this.tmrAckPeriod = s.tmrAckPeriod;
    this.gpeSts = s.gpeSts;
    this.gpeEn = s.gpeEn;
    // The SCI level is derived; the interrupt controller saved the level it last saw.
    const now = this.opts.clock.now();
    const sts = this.pm1Status(now);
    this.sci.restoreLevel((this.pm1Cnt & SCI_EN) !== 0 && ((sts & this.pm1En & PM1_EN_MASK) !== 0 || (this.gpeSts & this.gpeEn) !== 0));
    this.update();
  }
}
