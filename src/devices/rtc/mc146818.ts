/**
 * Motorola MC146818A real-time clock plus RAM (MC146818A datasheet) as the PC's RTC/CMOS: index
 * port 0x70 (bit 7 is the NMI mask, kept for the machine) and data port 0x71, 128 bytes.
 *
 * Bytes 0-9 are the clock, calendar and alarm registers, set from the host's wall clock at start
 * and advanced by update cycles once a second of guest time; registers A-D; 0x0E-0x7F are
 * battery-backed RAM (the machine fills memory sizes through `setMemorySize`/`setByte`), with the
 * century at 0x32. Update cycles and periodic-interrupt edges are computed from elapsed guest time
 * whenever the chip is looked at; timers are armed only while an interrupt could still raise IRQ 8.
 *
 * Register A: UIP (set 244 us before an update and through its 1984 us), DV2-0 (010 runs; 11x
 * holds the divider, and the first update comes half a second after its release), RS3-0 periodic
 * rate. Register B: SET, PIE, AIE, UIE, SQWE, DM, 24/12, DSE. Register C: IRQF, PF, AF, UF,
 * cleared by reading it. Register D: VRT. The flags in C are set whether or not their interrupt is
 * enabled; IRQF and the IRQ pin follow PF·PIE + AF·AIE + UF·UIE.
 */
import { logOnce } from '../../base/log.js';
import type { Snapshottable } from '../../base/snapshot.js';
import type { PortDevice } from '../../bus/port-bus.js';
import { IrqPin, type IrqTarget } from '../../bus/irq.js';
import type { Timer, TimerQueue, VirtualClock } from '../../bus/timer-queue.js';
import { addSeconds, alarmMatches, CENTURY, setTime, tickSecond, type Format } from './calendar.js';

export { CENTURY as CMOS_CENTURY } from './calendar.js';

const REG_A = 0x0a, REG_B = 0x0b, REG_C = 0x0c, REG_D = 0x0d;
const A_UIP = 0x80;
const B_SET = 0x80, B_PIE = 0x40, B_AIE = 0x20, B_UIE = 0x10, B_DM = 0x04, B_24H = 0x02, B_DSE = 0x01;
const C_IRQF = 0x80, C_PF = 0x40, C_AF = 0x20, C_UF = 0x10;
const D_VRT = 0x80;
const SECOND_NS = 1e9;
/** UIP rises 244 us before the update cycle, which lasts 1984 us (32.768 kHz time base). */
const UIP_WINDOW_NS = 244_000 + 1_984_000;
/** Beyond this many missed updates, jump the calendar and only step through the last day. */
const MAX_STEPPED_UPDATES = 86400;

export interface RtcOptions {
  clock: VirtualClock;
  timers: TimerQueue;
  /** IRQ 8. */
  irq?: IrqTarget;
  /** Wall-clock time (Unix ms, shown as UTC) at guest time 0. */
  wallclockAtZeroMs: number;
}

export interface RtcState {
  version: 1;
  cmos: number[];
  index: number;
  nmiMasked: boolean;
  /** Guest ns of a divider phase: updates happen at `anchorNs` + k seconds, periodic edges at multiples of the period after it. */
  anchorNs: number;
  /** Guest ns up to which updates and flags have been applied. */
  syncedNs: number;
}

/** Periodic interrupt period for rate select `rs` with the 32.768 kHz time base, or 0 (none). */
function periodNs(rs: number): number {
  if (rs === 0) return 0;
  const hz = rs <= 2 ? 32768 >> (rs + 6) : 32768 >> (rs - 1); // 1, 2 duplicate rates 8, 9
  return SECOND_NS / hz;
}

export class Rtc implements Snapshottable<RtcState> {
  /** The 128-byte register/RAM file. Time and status bytes go through the ports; RAM may be set directly. */
  readonly cmos = new Uint8Array(128);
  index = 0;
  /** Port 0x70 bit 7: the machine gates NMI with it. */
  nmiMasked = false;
  private anchorNs = 0;
  private syncedNs = 0;
  private readonly pin: IrqPin;
  private readonly periodicTimer: Timer;
  private readonly updateTimer: Timer;

  constructor(private readonly opts: RtcOptions) {
    this.pin = new IrqPin(opts.irq);
    this.periodicTimer = opts.timers.timer(() => this.onTimer());
    this.updateTimer = opts.timers.timer(() => this.onTimer());
    const now = opts.clock.now();
    // As a BIOS leaves it: 32.768 kHz divider running, 1024 Hz rate, 24-hour BCD, RAM and time valid.
    this.cmos[REG_A] = 0x26;
    this.cmos[REG_B] = B_24H;
    this.cmos[REG_D] = D_VRT;
    const wallMs = opts.wallclockAtZeroMs + now / 1e6;
    setTime(this.cmos, wallMs, this.format());
    // The next update lands where the wall clock's next second begins.
    const intoSecondMs = ((wallMs % 1000) + 1000) % 1000;
    this.anchorNs = now + (1000 - intoSecondMs) * 1e6;
    this.syncedNs = now;
  }

  private format(): Format {
    const b = this.cmos[REG_B];
    return { binary: (b & B_DM) !== 0, h24: (b & B_24H) !== 0 };
  }

  private running(): boolean {
    return ((this.cmos[REG_A] >> 4) & 7) === 2;
  }

  /** Applies the update cycles and periodic edges between the last look and `now`. */
  private sync(now: number): void {
    const last = this.syncedNs;
    if (now <= last) return;
    this.syncedNs = now;
    if (!this.running()) return;
    const c = this.cmos;
    const period = periodNs(c[REG_A] & 0x0f);
    if (period > 0 && Math.floor((now - this.anchorNs) / period) > Math.floor((last - this.anchorNs) / period)) c[REG_C] |= C_PF;
    if (c[REG_B] & B_SET) return; // SET inhibits update cycles
    let updates = Math.floor((now - this.anchorNs) / SECOND_NS) - Math.floor((last - this.anchorNs) / SECOND_NS);
    if (updates <= 0) return;
    const f = this.format();
    if (updates > MAX_STEPPED_UPDATES) {
      addSeconds(c, updates - MAX_STEPPED_UPDATES, f);
      updates = MAX_STEPPED_UPDATES;
    }
    for (let k = 0; k < updates; k++) {
      tickSecond(c, f);
      if (alarmMatches(c)) c[REG_C] |= C_AF;
    }
    c[REG_C] |= C_UF;
  }

  /** IRQF = PF·PIE + AF·AIE + UF·UIE; the pin follows it. */
  private updateIrq(): void {
    const c = this.cmos;
    const b = c[REG_B];
    const on = (c[REG_C] & C_PF && b & B_PIE) || (c[REG_C] & C_AF && b & B_AIE) || (c[REG_C] & C_UF && b & B_UIE);
    if (on) c[REG_C] |= C_IRQF;
    this.pin.set((c[REG_C] & C_IRQF) !== 0);
  }

  /**
   * Arms the timers that could raise IRQ 8: none while IRQF is already set (the pin cannot rise
   * again before register C is read), the periodic edge if PIE, the next update if UIE or AIE.
   */
  private program(now: number): void {
    const c = this.cmos;
    const b = c[REG_B];
    const idle = !this.running() || (c[REG_C] & C_IRQF) !== 0;
    const period = periodNs(c[REG_A] & 0x0f);
    if (idle || !(b & B_PIE) || period === 0) this.periodicTimer.cancel();
    else this.periodicTimer.arm(this.anchorNs + (Math.floor((now - this.anchorNs) / period) + 1) * period);
    if (idle || b & B_SET || !(b & (B_UIE | B_AIE))) this.updateTimer.cancel();
    else this.updateTimer.arm(this.anchorNs + (Math.floor((now - this.anchorNs) / SECOND_NS) + 1) * SECOND_NS);
  }

  private onTimer(): void {
    const now = this.opts.clock.now();
    this.sync(now);
    this.updateIrq();
    this.program(now);
  }

  /** Register A with UIP: within 2228 us before an update, unless SET or the divider is held. */
  private readA(now: number): number {
    const a = this.cmos[REG_A] & 0x7f;
    if (!this.running() || this.cmos[REG_B] & B_SET) return a;
    const pos = (((now - this.anchorNs) % SECOND_NS) + SECOND_NS) % SECOND_NS;
    return pos >= SECOND_NS - UIP_WINDOW_NS ? a | A_UIP : a;
  }

  /** A read of CMOS register `reg` through port 0x71. */
  readRegister(reg: number): number {
    reg &= 0x7f;
    if (reg > REG_D && reg !== CENTURY) return this.cmos[reg];
    const now = this.opts.clock.now();
    this.sync(now);
    switch (reg) {
      case REG_A: return this.readA(now);
      case REG_C: {
        const v = this.cmos[REG_C];
        this.cmos[REG_C] = 0;
        this.updateIrq();
        this.program(now);
        return v;
      }
      case REG_D: return D_VRT;
      default: return this.cmos[reg];
    }
  }

  /** A write of CMOS register `reg` through port 0x71. */
  writeRegister(reg: number, v: number): void {
    reg &= 0x7f;
    v &= 0xff;
    if (reg > REG_D && reg !== CENTURY) {
      this.cmos[reg] = v;
      return;
    }
    const now = this.opts.clock.now();
    this.sync(now);
    const c = this.cmos;
    switch (reg) {
      case REG_A: {
        const wasRunning = this.running();
        c[REG_A] = v & 0x7f; // UIP is read-only
        const dv = (v >> 4) & 7;
        if (dv !== 2 && (dv & 6) !== 6) logOnce('warn', 'rtc', `dv${dv}`, `RTC divider select ${dv} is not the PC's 32.768 kHz time base; the clock stops`);
        // Leaving divider reset: the chain restarts, and the first update comes half a second later.
        if (!wasRunning && this.running()) this.anchorNs = now + SECOND_NS / 2;
        break;
      }
      case REG_B:
        if (v & B_SET && !(c[REG_B] & B_SET)) v &= ~B_UIE; // SET going high clears UIE
        if (v & B_DSE) logOnce('info', 'rtc', 'dse', 'RTC daylight saving (DSE) is not modelled');
        c[REG_B] = v;
        break;
      case REG_C:
      case REG_D:
        return; // read-only
      default:
        c[reg] = v; // clock, calendar, alarm and century bytes
        return;
    }
    this.updateIrq();
    this.program(now);
  }

  /** Port device for 0x70 (index, NMI mask; write-only) and 0x71 (data). */
  ports(): PortDevice {
    return {
      name: 'rtc',
      ioRead: (off) => (off === 0 ? 0xff : this.readRegister(this.index)),
      ioWrite: (off, _size, v) => {
        if (off === 0) {
          this.index = v & 0x7f;
          this.nmiMasked = (v & 0x80) !== 0;
        } else this.writeRegister(this.index, v);
      },
    };
  }

  /** Sets a battery-backed RAM byte (0x0E-0x7F), as firmware setup would. */
  setByte(index: number, value: number): void {
    if (index < 0x0e || index > 0x7f) throw new Error(`CMOS byte 0x${index.toString(16)} is not RAM`);
    this.cmos[index] = value & 0xff;
  }

  /**
   * Fills the memory size bytes a BIOS leaves for the OS (base, extended below 64 MiB in KiB,
   * extended above 16 MiB in 64 KiB units) and the standard checksum over 0x10-0x2D.
   */
  setMemorySize(ramBytes: number): void {
    const extKb = Math.max(0, Math.min(0xfc00, Math.floor((ramBytes - 0x100000) / 1024)));
    const above16M = Math.max(0, Math.min(0xffff, Math.floor((ramBytes - 16 * 1048576) / 65536)));
    const put16 = (at: number, v: number) => {
      this.setByte(at, v & 0xff);
      this.setByte(at + 1, v >> 8);
    };
    put16(0x15, 640);
    put16(0x17, extKb);
    put16(0x30, extKb);
    put16(0x34, above16M);
    let sum = 0;
    for (let i = 0x10; i <= 0x2d; i++) sum += this.cmos[i];
    // The AT checksum is stored high byte first.
    this.cmos[0x2e] = (sum >> 8) & 0xff;
    this.cmos[0x2f] = sum & 0xff;
  }

  save(): RtcState {
    return {
      version: 1, cmos: Array.from(this.cmos), index: this.index, nmiMasked: this.nmiMasked,
      anchorNs: this.anchorNs, syncedNs: this.syncedNs,
    };
  }

  restore(s: RtcState): void {
    if (s.version !== 1) throw new Error(`RTC state version ${s.version} is not supported`);
    this.cmos.set(s.cmos);
    this.index = s.index;
    this.nmiMasked = s.nmiMasked;
    this.anchorNs = s.anchorNs;
    this.syncedNs = s.syncedNs;
    this.pin.restoreLevel((this.cmos[REG_C] & C_IRQF) !== 0);
    this.program(this.opts.clock.now());
  }
}
