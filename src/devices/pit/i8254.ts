/**
 * Intel 8254 programmable interval timer (Intel 8254 datasheet) as wired in the PC: ports
 * 0x40-0x42 are counters 0-2 and 0x43 the control word register; counter 0's OUT drives IRQ 0;
 * counter 2's GATE and OUT are bits 0 and 5 of port 0x61 (system control port B), which also
 * holds the speaker data enable (bit 1) and the refresh-detect toggle (bit 4).
 *
 * Counters run at 1.193182 MHz of guest time, computed from elapsed virtual time (see
 * counter.ts); only counter 0's OUT transitions are scheduled on the timer queue, so nothing
 * ticks per count. Control words, counter latch and read-back commands, LSB/MSB/both access with
 * separate read and write flip-flops, binary and BCD counting, modes 0-5.
 */
import type { Snapshottable } from '../../base/snapshot.js';
import type { PortDevice } from '../../bus/port-bus.js';
import { IrqPin, type IrqTarget } from '../../bus/irq.js';
import type { Timer, TimerQueue, VirtualClock } from '../../bus/timer-queue.js';
import { Counter, type CounterState } from './counter.js';

export const PIT_HZ = 1_193_182;

/** Index of the last CLK pulse at or before `ns` of guest time. */
export function tickAt(ns: number): number {
  return Math.floor((ns * PIT_HZ) / 1e9);
}

/** The first whole guest nanosecond at which `tick` has occurred. */
export function nsOfTick(tick: number): number {
  let ns = Math.ceil((tick * 1e9) / PIT_HZ);
  while (tickAt(ns) < tick) ns++;
  while (ns > 0 && tickAt(ns - 1) >= tick) ns--;
  return ns;
}

/** Periods a periodic counter's timer may fall behind before it stops replaying them. */
const STALL_PERIODS = 64;

/** DRAM refresh request period: counter 1 as every PC BIOS programs it (mode 2, count 18). */
const REFRESH_NS = (18 * 1e9) / PIT_HZ;

export interface PitOptions {
  clock: VirtualClock;
  timers: TimerQueue;
  /** Counter 0's OUT: IRQ 0. */
  irq0?: IrqTarget;
}

export interface PitState {
  version: 1;
  counters: CounterState[];
  /** Port 0x61 bits 0-3 as written. */
  port61: number;
}

export class Pit implements Snapshottable<PitState> {
  readonly counters = [new Counter(), new Counter(), new Counter()];
  /** Port 0x61 bits 0-3: GATE2, speaker data enable, parity and channel check disables. */
  private port61 = 0;
  private readonly out0: IrqPin;
  private readonly timer: Timer;
  /** The tick counter 0's next OUT change is armed for, or -1. */
  private armedTick = -1;
  /** Rising edges of OUT0 delivered, for statistics. */
  irqCount = 0;

  constructor(private readonly opts: PitOptions) {
    this.out0 = new IrqPin(opts.irq0);
    this.timer = opts.timers.timer(() => this.updateOut0(this.armedTick));
    this.counters[2].gate = false;
  }

  /** The current tick, after delivering any OUT0 change already due (so edges keep their order). */
  private tick(): number {
    const t = tickAt(this.opts.clock.now());
    while (this.armedTick >= 0 && this.armedTick <= t) this.updateOut0(this.armedTick);
    return t;
  }

  /** Drives IRQ 0 from counter 0's OUT at tick `t` and arms the timer for its next change. */
  private updateOut0(t: number): void {
    const c = this.counters[0];
    c.advance(t);
    const level = c.out(t);
    if (level && !this.out0.level) this.irqCount++;
    this.out0.set(level);
    let next = c.nextChange(t);
    // A periodic counter far behind its deadlines (a host stall) resumes from now instead of
    // replaying every period (the PIC would merge those edges anyway). A timer that is merely
    // late still delivers each transition in order, and one-shot modes always get their edge.
    const mode = c.mode;
    if (next >= 0 && (mode === 2 || mode === 3)) {
      const now = tickAt(this.opts.clock.now());
      if (next < now - STALL_PERIODS * c.n) next = c.nextChange(now - c.n);
    }
    this.armedTick = next;
    if (next < 0) this.timer.cancel();
    else this.timer.arm(nsOfTick(next));
  }

  private writeControl(v: number): void {
    const t = this.tick();
    const sc = v >> 6;
    if (sc === 3) {
      // Read-back: COUNT (bit 5) and STATUS (bit 4) are active low; bits 1-3 select counters 0-2.
      for (let k = 0; k < 3; k++) {
        if ((v & (2 << k)) === 0) continue;
        const c = this.counters[k];
        if ((v & 0x10) === 0) c.latchStatus(t);
        if ((v & 0x20) === 0) c.latchCount(t);
      }
      return;
    }
    const c = this.counters[sc];
    if ((v & 0x30) === 0) c.latchCount(t);
    else {
      c.control(v, t);
      if (sc === 0) this.updateOut0(t);
    }
  }

  /** Ports 0x40-0x43. */
  ports(): PortDevice {
    return {
      name: 'pit',
      ioRead: (off) => (off < 3 ? this.counters[off].read(this.tick()) : 0xff),
      ioWrite: (off, _size, v) => {
        if (off === 3) return this.writeControl(v);
        const t = this.tick();
        this.counters[off].write(v, t);
        if (off === 0) this.updateOut0(t);
      },
    };
  }

  /** Port 0x61, system control port B. */
  port61Device(): PortDevice {
    return {
      name: 'port61',
      ioRead: () => {
        const now = this.opts.clock.now();
        const t = tickAt(now);
        const c2 = this.counters[2];
        c2.advance(t);
        const refresh = Math.floor(now / REFRESH_NS) & 1;
        return this.port61 | (refresh << 4) | (c2.out(t) ? 0x20 : 0);
      },
      ioWrite: (_off, _size, v) => {
        this.port61 = v & 0x0f;
        this.counters[2].setGate((v & 1) !== 0, this.tick());
      },
    };
  }

  /** Whether the speaker is sounding: data enabled and counter 2's OUT gated through. */
  get speakerOn(): boolean {
    return (this.port61 & 3) === 3;
  }

  save(): PitState {
    return { version: 1, counters: this.counters.map((c) => c.save()), port61: this.port61 };
  }

  restore(s: PitState): void {
    if (s.version !== 1) throw new Error(`PIT state version ${s.version} is not supported`);
    s.counters.forEach((cs, k) => this.counters[k].restore(cs));
    this.port61 = s.port61;
    this.armedTick = -1;
    const t = this.tick();
    const c0 = this.counters[0];
    c0.advance(t);
    this.out0.restoreLevel(c0.out(t));
    this.updateOut0(t);
  }
}
