/**
 * Intel 8254 programmable interval timer (8254 datasheet) at 0x40-0x43, with the PC's port 0x61
 * (gate of counter 2, speaker enable, counter 2 output, refresh toggle). Counters run at
 * 1.193182 MHz of guest time: their values are computed from the time since they were loaded, and
 * counter 0's output edges are scheduled on the timer queue, so nothing ticks per count.
 *
 * Modes 0-5, binary and BCD, LSB/MSB/both access with the read/write flip-flop, counter latch and
 * read-back (count and status) commands.
 */
import type { PortDevice } from '../../bus/port-bus.js';
import type { Snapshottable } from '../../base/snapshot.js';
import type { TimerHandle, TimerQueue } from '../../bus/timer-queue.js';
import type { GuestClock } from '../../machine/clock.js';

export const PIT_HZ = 1193182;
const NS_PER_TICK = 1e9 / PIT_HZ;

class Counter {
  mode = 0;
  rw = 3;
  bcd = false;
  /** The count the counter was loaded with (1..65536, or 10000 in BCD). */
  reload = 0x10000;
  loadNs = 0;
  loaded = false;
  gate = true;
  /** Count latched by a latch command, or -1. */
  latched = -1;
  latchedLowNext = true;
  status = -1;
  /** Write flip-flop (LSB written, MSB pending) and read flip-flop. */
  writeLow = true;
  readLow = true;
  pendingLow = 0;
  nullCount = true;
  /** Output level frozen while the gate is low (modes that stop). */
  frozenTicks = 0;

  ticks(now: number): number {
    if (!this.loaded) return 0;
    if (!this.gate && (this.mode === 0 || this.mode === 2 || this.mode === 3 || this.mode === 4)) return this.frozenTicks;
    return Math.floor((now - this.loadNs) / NS_PER_TICK);
  }

  value(now: number): number {
    const n = this.reload, t = this.ticks(now);
    if (!this.loaded) return 0;
    switch (this.mode) {
      case 2: return n - (t % n);
      case 3: {
        const v = n - ((t * 2) % n);
        return v & 0xfffe;
      }
      default: return (((n - t) % 0x10000) + 0x10000) % 0x10000;
    }
  }

  output(now: number): boolean {
    if (!this.loaded) return this.mode !== 0;
    const n = this.reload, t = this.ticks(now);
    switch (this.mode) {
      case 0:
      case 1: return t >= n;
      case 2: return t % n !== n - 1;
      case 3: return t % n < Math.ceil(n / 2);
      default: return t !== n;
    }
  }

  /** The tick of the last output rise already signalled (so the next one is strictly later). */
  firedTick = -1;

  /**
   * The tick index of the next rising edge of the output after both `now` and the last signalled
   * edge, or -1 for none. Tick arithmetic is exact, so an edge is never signalled twice.
   */
  nextRiseTick(now: number): number {
    if (!this.loaded || !this.gate) return -1;
    const n = this.reload;
    const t = Math.max(this.ticks(now), this.firedTick);
    switch (this.mode) {
      case 0:
      case 1: return t < n && this.firedTick < n ? n : -1;
      case 2:
      case 3: return (Math.floor(t / n) + 1) * n;
      default: return t <= n && this.firedTick < n + 1 ? n + 1 : -1;
    }
  }
}

function toBcd(v: number): number {
  return (v % 10) | ((Math.floor(v / 10) % 10) << 4) | ((Math.floor(v / 100) % 10) << 8) | ((Math.floor(v / 1000) % 10) << 12);
}
function fromBcd(v: number): number {
  return (v & 0xf) + ((v >> 4) & 0xf) * 10 + ((v >> 8) & 0xf) * 100 + ((v >> 12) & 0xf) * 1000;
}

export interface PitState {
  version: 1;
  counters: Omit<Counter, 'ticks' | 'value' | 'output' | 'nextRiseTick'>[];
  port61: number;
}

export class Pit implements Snapshottable<PitState> {
  readonly counters = [new Counter(), new Counter(), new Counter()];
  /** Port 0x61 bits 0 (gate 2) and 1 (speaker data). */
  port61 = 0;
  private timer: TimerHandle | null = null;
  irqCount = 0;

  constructor(
    private readonly clock: GuestClock,
    private readonly timers: TimerQueue,
    /** Counter 0's output drives IRQ 0 (an edge on the rising output). */
    private readonly irq0: (level: boolean) => void,
  ) {
    this.counters[2].gate = false;
  }

  private scheduleIrq(): void {
    this.timer?.cancel();
    this.timer = null;
    const c = this.counters[0];
    const tick = c.nextRiseTick(this.clock.now());
    if (tick < 0) return;
    this.timer = this.timers.schedule(c.loadNs + tick * NS_PER_TICK, () => {
      this.timer = null;
      c.firedTick = tick;
      this.irqCount++;
      this.irq0(true);
      this.irq0(false);
      this.scheduleIrq();
    });
  }

  private load(k: number, raw: number): void {
    const c = this.counters[k];
    let n = c.bcd ? fromBcd(raw) : raw;
    if (n === 0) n = c.bcd ? 10000 : 0x10000;
    // Modes 2 and 3 cannot count from 1.
    if ((c.mode === 2 || c.mode === 3) && n === 1) n = 2;
    c.reload = n;
    c.loadNs = this.clock.now();
    c.loaded = true;
    c.nullCount = false;
    c.frozenTicks = 0;
    c.firedTick = -1;
    if (k === 0) this.scheduleIrq();
  }

  private control(v: number): void {
    const sc = v >> 6;
    if (sc === 3) {
      // Read-back: bit 5 clear = latch count, bit 4 clear = latch status, bits 3-1 select counters.
      const now = this.clock.now();
      for (let k = 0; k < 3; k++) {
        if ((v & (2 << k)) === 0) continue;
        const c = this.counters[k];
        if ((v & 0x20) === 0 && c.latched < 0) {
          c.latched = c.value(now);
          c.latchedLowNext = true;
        }
        if ((v & 0x10) === 0 && c.status < 0) {
          c.status = (c.output(now) ? 0x80 : 0) | (c.nullCount ? 0x40 : 0) | (c.rw << 4) | (c.mode << 1) | (c.bcd ? 1 : 0);
        }
      }
      return;
    }
    const c = this.counters[sc];
    const rw = (v >> 4) & 3;
    if (rw === 0) {
      if (c.latched < 0) {
        c.latched = c.value(this.clock.now());
        c.latchedLowNext = true;
      }
      return;
    }
    c.rw = rw;
    c.mode = (v >> 1) & 7;
    if (c.mode > 5) c.mode -= 4; // 6 and 7 alias modes 2 and 3
    c.bcd = (v & 1) !== 0;
    c.writeLow = true;
    c.readLow = true;
    c.latched = -1;
    c.status = -1;
    c.loaded = false;
    c.nullCount = true;
    if (sc === 0) this.scheduleIrq();
  }

  private readCounter(k: number): number {
    const c = this.counters[k];
    if (c.status >= 0) {
      const s = c.status;
      c.status = -1;
      return s;
    }
    let v: number;
    const fromLatch = c.latched >= 0;
    v = fromLatch ? c.latched : c.value(this.clock.now());
    if (c.bcd) v = toBcd(v % 10000);
    v &= 0xffff;
    let out: number;
    if (c.rw === 1) out = v & 0xff;
    else if (c.rw === 2) out = v >> 8;
    else {
      const low = fromLatch ? c.latchedLowNext : c.readLow;
      out = low ? v & 0xff : v >> 8;
      if (fromLatch) c.latchedLowNext = !c.latchedLowNext;
      else c.readLow = !c.readLow;
      if (fromLatch && c.latchedLowNext) c.latched = -1;
      return out;
    }
    if (fromLatch) c.latched = -1;
    return out;
  }

  private writeCounter(k: number, v: number): void {
    const c = this.counters[k];
    if (c.rw === 1) this.load(k, v);
    else if (c.rw === 2) this.load(k, v << 8);
    else if (c.writeLow) {
      c.pendingLow = v;
      c.writeLow = false;
    } else {
      c.writeLow = true;
      this.load(k, c.pendingLow | (v << 8));
    }
  }

  private setGate2(level: boolean): void {
    const c = this.counters[2];
    const now = this.clock.now();
    if (level === c.gate) return;
    if (!level) c.frozenTicks = c.ticks(now);
    if (level) {
      // A rising gate (re)starts modes 1, 2, 3 and 5; modes 0 and 4 resume where they stopped.
      if (c.mode === 1 || c.mode === 5 || c.mode === 2 || c.mode === 3) c.loadNs = now;
      else c.loadNs = now - c.frozenTicks * NS_PER_TICK;
    }
    c.gate = level;
  }

  ports(): PortDevice {
    return {
      name: 'pit',
      ioRead: (off) => (off < 3 ? this.readCounter(off) : 0xff),
      ioWrite: (off, _s, v) => {
        v &= 0xff;
        if (off < 3) this.writeCounter(off, v);
        else this.control(v);
      },
    };
  }

  /** Port 0x61: system control port B. */
  port61Device(): PortDevice {
    return {
      name: 'port61',
      ioRead: () => {
        const now = this.clock.now();
        // Bit 4 toggles with the DRAM refresh (every 15.085 us); bit 5 is counter 2's output.
        const refresh = Math.floor(now / 15085) & 1;
        return (this.port61 & 3) | (refresh << 4) | (this.counters[2].output(now) ? 0x20 : 0);
      },
      ioWrite: (_o, _s, v) => {
        this.port61 = v & 3;
        this.setGate2((v & 1) !== 0);
      },
    };
  }

  save(): PitState {
    return {
      version: 1,
      port61: this.port61,
      counters: this.counters.map((c) => ({
        mode: c.mode, rw: c.rw, bcd: c.bcd, reload: c.reload, loadNs: c.loadNs, loaded: c.loaded, gate: c.gate,
        latched: c.latched, latchedLowNext: c.latchedLowNext, status: c.status, writeLow: c.writeLow, readLow: c.readLow,
        pendingLow: c.pendingLow, nullCount: c.nullCount, frozenTicks: c.frozenTicks, firedTick: c.firedTick,
      })),
    };
  }

  restore(s: PitState): void {
    if (s.version !== 1) throw new Error(`PIT state version ${s.version} is not supported`);
    this.port61 = s.port61;
    s.counters.forEach((cs, k) => Object.assign(this.counters[k], cs));
    this.scheduleIrq();
  }
}
