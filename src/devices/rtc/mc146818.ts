/**
 * Motorola MC146818A real-time clock and CMOS RAM (MC146818A datasheet), at index port 0x70 (bit
 * 7 masks NMI) and data port 0x71. The clock starts at the host's wall time and advances with
 * guest time; registers A-D with the update-in-progress window, binary/BCD and 12/24-hour modes,
 * the SET bit, and the periodic, alarm and update-ended interrupts on IRQ 8 (register C is
 * cleared by reading it). Bytes 0x0E-0x7F are battery-backed NVRAM, with the century at 0x32.
 */
import type { PortDevice } from '../../bus/port-bus.js';
import type { Snapshottable } from '../../base/snapshot.js';
import type { TimerHandle, TimerQueue } from '../../bus/timer-queue.js';
import type { GuestClock } from '../../machine/clock.js';

const REG_A = 0x0a, REG_B = 0x0b, REG_C = 0x0c, REG_D = 0x0d;
const B_SET = 0x80, B_PIE = 0x40, B_AIE = 0x20, B_UIE = 0x10, B_DM = 0x04, B_24H = 0x02;
const C_IRQF = 0x80, C_PF = 0x40, C_AF = 0x20, C_UF = 0x10;
/** The update cycle takes 1984 us; UIP rises 244 us before it. */
const UIP_NS = 244_000 + 1_984_000;
export const CMOS_CENTURY = 0x32;

export interface RtcOptions {
  clock: GuestClock;
  timers: TimerQueue;
  irq: (level: boolean) => void;
  /** Unix time in ms at guest time 0 (the host's wall clock at start). */
  wallclockAtZeroMs: number;
}

export interface RtcState {
  version: 1;
  cmos: number[];
  index: number;
  nmiMasked: boolean;
  offsetMs: number;
}

export class Rtc implements Snapshottable<RtcState> {
  readonly cmos = new Uint8Array(128);
  index = 0;
  nmiMasked = false;
  /** Guest adjustments of the clock, in ms, relative to host-following time. */
  private offsetMs = 0;
  /** Time frozen while the SET bit is on. */
  private setFrozenMs = 0;
  private periodic: TimerHandle | null = null;
  private secondTick: TimerHandle | null = null;

  constructor(private readonly opts: RtcOptions) {
    this.cmos[REG_A] = 0x26; // 32.768 kHz time base, 1024 Hz periodic rate
    this.cmos[REG_B] = B_24H;
    this.cmos[REG_D] = 0x80; // valid RAM and time
  }

  /** Current RTC time in Unix ms. */
  nowMs(): number {
    if (this.cmos[REG_B] & B_SET) return this.setFrozenMs;
    return this.opts.wallclockAtZeroMs + this.opts.clock.now() / 1e6 + this.offsetMs;
  }

  private encode(v: number): number {
    return this.cmos[REG_B] & B_DM ? v : ((Math.floor(v / 10) << 4) | (v % 10));
  }

  private decode(v: number): number {
    return this.cmos[REG_B] & B_DM ? v : (v >> 4) * 10 + (v & 0xf);
  }

  private readTime(reg: number): number {
    const d = new Date(Math.floor(this.nowMs()));
    switch (reg) {
      case 0: return this.encode(d.getUTCSeconds());
      case 2: return this.encode(d.getUTCMinutes());
      case 4: {
        const h = d.getUTCHours();
        if (this.cmos[REG_B] & B_24H) return this.encode(h);
        const h12 = h % 12 === 0 ? 12 : h % 12;
        return this.encode(h12) | (h >= 12 ? 0x80 : 0);
      }
      case 6: return this.encode(d.getUTCDay() + 1);
      case 7: return this.encode(d.getUTCDate());
      case 8: return this.encode(d.getUTCMonth() + 1);
      case 9: return this.encode(d.getUTCFullYear() % 100);
      default: return this.encode(Math.floor(d.getUTCFullYear() / 100)); // century
    }
  }

  /** A guest write of a time field (while SET is on): adjust the frozen time. */
  private writeTime(reg: number, raw: number): void {
    const d = new Date(Math.floor(this.setFrozenMs));
    let v = this.decode(raw & (reg === 4 ? 0x7f : 0xff));
    switch (reg) {
      case 0: d.setUTCSeconds(v); break;
      case 2: d.setUTCMinutes(v); break;
      case 4:
        if (!(this.cmos[REG_B] & B_24H)) v = (v % 12) + (raw & 0x80 ? 12 : 0);
        d.setUTCHours(v);
        break;
      case 7: d.setUTCDate(v); break;
      case 8: d.setUTCMonth(v - 1); break;
      case 9: d.setUTCFullYear(Math.floor(d.getUTCFullYear() / 100) * 100 + v); break;
      case CMOS_CENTURY: d.setUTCFullYear(v * 100 + (d.getUTCFullYear() % 100)); break;
      default: return;
    }
    this.setFrozenMs = d.getTime();
  }

  private regA(): number {
    // UIP is set during the last 244 us of each second plus the update itself.
    const ms = this.nowMs();
    const intoSecondNs = (ms - Math.floor(ms / 1000) * 1000) * 1e6;
    const uip = !(this.cmos[REG_B] & B_SET) && intoSecondNs >= 1e9 - UIP_NS + 1_984_000 ? 0x80 : 0;
    return (this.cmos[REG_A] & 0x7f) | uip;
  }

  read(reg: number): number {
    switch (reg) {
      case 0: case 2: case 4: case 6: case 7: case 8: case 9: case CMOS_CENTURY:
        return this.cmos[REG_B] & B_SET ? this.cmos[reg] : this.readTime(reg);
      case REG_A: return this.regA();
      case REG_C: {
        const v = this.cmos[REG_C];
        this.cmos[REG_C] = 0;
        this.opts.irq(false);
        return v;
      }
      default: return this.cmos[reg & 0x7f];
    }
  }

  write(reg: number, v: number): void {
    switch (reg) {
      case REG_A:
        this.cmos[REG_A] = v & 0x7f;
        this.program();
        return;
      case REG_B: {
        const old = this.cmos[REG_B];
        if (v & B_SET && !(old & B_SET)) {
          this.setFrozenMs = this.nowMs();
          for (const r of [0, 2, 4, 6, 7, 8, 9, CMOS_CENTURY]) this.cmos[r] = this.readTime(r);
        }
        this.cmos[REG_B] = v;
        if (!(v & B_SET) && old & B_SET) {
          this.offsetMs = this.setFrozenMs - (this.opts.wallclockAtZeroMs + this.opts.clock.now() / 1e6);
        }
        this.program();
        return;
      }
      case REG_C:
      case REG_D:
        return; // read-only
      case 0: case 2: case 4: case 6: case 7: case 8: case 9: case CMOS_CENTURY:
        this.cmos[reg] = v;
        if (this.cmos[REG_B] & B_SET) this.writeTime(reg, v);
        return;
      default:
        this.cmos[reg & 0x7f] = v;
    }
  }

  private raise(flag: number): void {
    this.cmos[REG_C] |= flag;
    const b = this.cmos[REG_B];
    if ((flag & C_PF && b & B_PIE) || (flag & C_AF && b & B_AIE) || (flag & C_UF && b & B_UIE)) {
      this.cmos[REG_C] |= C_IRQF;
      this.opts.irq(true);
    }
  }

  /** (Re)schedules the periodic interrupt and the once-a-second update/alarm check. */
  private program(): void {
    this.periodic?.cancel();
    this.periodic = null;
    this.secondTick?.cancel();
    this.secondTick = null;
    const b = this.cmos[REG_B];
    const rate = this.cmos[REG_A] & 0x0f;
    if (b & B_PIE && rate !== 0) {
      const hz = 32768 >> (rate - 1);
      const period = 1e9 / (rate <= 2 ? 32768 >> (rate + 6) : hz);
      const tick = () => {
        this.raise(C_PF);
        this.periodic = this.opts.timers.schedule(this.opts.clock.now() + period, tick);
      };
      this.periodic = this.opts.timers.schedule(this.opts.clock.now() + period, tick);
    }
    if (b & (B_UIE | B_AIE) && !(b & B_SET)) {
      const next = () => {
        const ms = this.nowMs();
        return this.opts.clock.now() + (Math.floor(ms / 1000) * 1000 + 1000 - ms) * 1e6;
      };
      const tick = () => {
        this.raise(C_UF);
        const c = this.cmos;
        const match = (alarm: number, now: number) => (alarm & 0xc0) === 0xc0 || alarm === now;
        if (match(c[1], this.readTime(0)) && match(c[3], this.readTime(2)) && match(c[5], this.readTime(4))) this.raise(C_AF);
        this.secondTick = this.opts.timers.schedule(next(), tick);
      };
      this.secondTick = this.opts.timers.schedule(next(), tick);
    }
  }

  ports(): PortDevice {
    return {
      name: 'rtc',
      ioRead: (off) => (off === 0 ? 0xff : this.read(this.index)),
      ioWrite: (off, _s, v) => {
        if (off === 0) {
          this.index = v & 0x7f;
          this.nmiMasked = (v & 0x80) !== 0;
        } else this.write(this.index, v & 0xff);
      },
    };
  }

  save(): RtcState {
    return { version: 1, cmos: Array.from(this.cmos), index: this.index, nmiMasked: this.nmiMasked, offsetMs: this.offsetMs };
  }

  restore(s: RtcState): void {
    if (s.version !== 1) throw new Error(`RTC state version ${s.version} is not supported`);
    this.cmos.set(s.cmos);
    this.index = s.index;
    this.nmiMasked = s.nmiMasked;
    this.offsetMs = s.offsetMs;
    this.program();
  }
}
