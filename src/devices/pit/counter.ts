/**
 * One counter of the Intel 8254 programmable interval timer (Intel 8254 datasheet, "Mode
 * Definitions"), evaluated from elapsed clock ticks instead of being stepped per CLK pulse.
 *
 * The counting element (CE) takes a count on a known tick (`start`); its value and the OUT pin at
 * any later tick follow from the mode's arithmetic. Events that change that arithmetic (a control
 * word, a count written, a GATE edge, a new count taking effect at the end of a cycle) rebase it.
 * Ticks are absolute indices of the free-running 1.193182 MHz CLK, so results never depend on when
 * the counter happens to be looked at.
 */
import { logOnce } from '../../base/log.js';

export function toBcd(v: number): number {
  return (v % 10) | (Math.floor(v / 10) % 10) << 4 | (Math.floor(v / 100) % 10) << 8 | (Math.floor(v / 1000) % 10) << 12;
}

export function fromBcd(v: number): number {
  return (v & 0xf) + ((v >> 4) & 0xf) * 10 + ((v >> 8) & 0xf) * 100 + ((v >> 12) & 0xf) * 1000;
}

/** The saved form of a counter: every field, plain numbers and booleans. */
export interface CounterState {
  ctrl: number; crValid: boolean; cr: number; writeMsbNext: boolean; lsb: number; readMsbNext: boolean;
  latched: boolean; latch: number; statusLatched: boolean; status: number; gate: boolean;
  loaded: boolean; start: number; n: number; pausedAt: number; hold: number;
  pendingAt: number; pendingN: number; pendingStart: number; nullCount: boolean; transferAt: number;
}

export class Counter {
  /** Control word bits 5-0 as written (RW1 RW0 M2 M1 M0 BCD): what read-back status reports. */
  ctrl = 0;
  /** Count register (CR), as assembled from the bytes written; `crValid` once a full count arrived. */
  cr = 0;
  crValid = false;
  writeMsbNext = false;
  lsb = 0;
  readMsbNext = false;
  /** Output latch (counter latch command / read-back). */
  latched = false;
  latch = 0;
  statusLatched = false;
  status = 0;
  gate = true;
  /** The CE holds a count: `n` clocks at tick `start` (elapsed 0). */
  loaded = false;
  start = 0;
  n = 0x10000;
  /** Tick at which GATE low stopped counting (modes 0 and 4), or -1. */
  pausedAt = -1;
  /** What the CE shows while it holds no count (undefined on the chip: we keep the last value). */
  hold = 0;
  /** Modes 2 and 3: a count written while counting, taking effect at tick `pendingAt`. */
  pendingAt = -1;
  pendingN = 0;
  pendingStart = 0;
  /** Null count: CR written but not yet transferred to the CE (transfer at `transferAt`, -1 unknown). */
  nullCount = true;
  transferAt = -1;

  get mode(): number {
    const m = (this.ctrl >> 1) & 7;
    return m > 5 ? m - 4 : m; // 6 and 7 are modes 2 and 3
  }
  get rw(): number {
    return (this.ctrl >> 4) & 3;
  }
  get bcd(): boolean {
    return (this.ctrl & 1) !== 0;
  }

  /** The CR as a number of clocks (0 means the full range). */
  private clocks(): number {
    let n = this.bcd ? fromBcd(this.cr) : this.cr;
    if (n === 0) n = this.bcd ? 10000 : 0x10000;
    if (n === 1 && (this.mode === 2 || this.mode === 3)) {
      logOnce('warn', 'pit', 'count1', `8254 mode ${this.mode} with count 1 is illegal; counting 2`);
      n = 2;
    }
    return n;
  }

  /** Applies what is due by tick `t`: a pending count at its cycle boundary, the null-count flag. */
  advance(t: number): void {
    if (this.pendingAt >= 0 && t >= this.pendingAt) {
      this.n = this.pendingN;
      this.start = this.pendingStart;
      this.pendingAt = -1;
    }
    if (this.nullCount && this.transferAt >= 0 && t >= this.transferAt) this.nullCount = false;
  }

  /** Clocks counted since the CE was loaded, or -1 before that. */
  private elapsed(t: number): number {
    if (!this.loaded || t < this.start) return -1;
    return (this.pausedAt >= 0 && this.pausedAt < t ? this.pausedAt : t) - this.start;
  }

  /** The CE's value at tick `t` (binary, 0 .. 65535 or 0 .. 9999). */
  value(t: number): number {
    const e = this.elapsed(t);
    if (e < 0) return this.hold;
    const n = this.n;
    const range = this.bcd ? 10000 : 0x10000;
    switch (this.mode) {
      case 2:
        return (n - (e % n)) % range;
      case 3: {
        // Decrements by two; an odd count runs N-1 .. 0 in the high half and N-1 .. 2 in the low.
        const p = e % n;
        const high = (n + 1) >> 1;
        const q = p < high ? p : p - high;
        return ((n & 1 ? n - 1 : n) - 2 * q) % range;
      }
      default:
        return (((n - e) % range) + range) % range;
    }
  }

  /** The OUT pin at tick `t`. */
  out(t: number): boolean {
    const e = this.elapsed(t);
    const n = this.n;
    switch (this.mode) {
      case 0: return e >= n; // low from the control word until terminal count
      case 1: return e < 0 || e >= n; // low from the trigger's load until terminal count
      case 2: return e < 0 || e % n !== n - 1; // low for the one clock the CE holds 1
      case 3: return e < 0 || e % n < (n + 1) >> 1; // high for ceil(N/2), low for floor(N/2)
      default: return e !== n; // modes 4, 5: one clock low at terminal count
    }
  }

  /** The first tick after `t` at which OUT changes, or -1 if it never will on its own. */
  nextChange(t: number): number {
    if (!this.loaded) return -1;
    const mode = this.mode;
    if (this.pausedAt >= 0 && (mode === 0 || mode === 4)) return -1; // frozen by GATE
    const n = this.n;
    const e = Math.max(t - this.start, -1);
    let next: number;
    switch (mode) {
      case 0: next = e < n ? n : -1; break;
      case 1: next = e < 0 ? 0 : e < n ? n : -1; break;
      case 2: {
        const base = e < 0 ? 0 : e - (e % n);
        next = e < base + n - 1 ? base + n - 1 : base + n;
        break;
      }
      case 3: {
        const base = e < 0 ? 0 : e - (e % n);
        const fall = base + ((n + 1) >> 1);
        next = e < fall ? fall : base + n;
        break;
      }
      default: next = e < n ? n : e < n + 1 ? n + 1 : -1;
    }
    return next < 0 ? -1 : this.start + next;
  }

  /** A control word for this counter (not a latch command) at tick `t`. */
  control(v: number, t: number): void {
    this.advance(t);
    this.hold = this.value(t);
    this.ctrl = v & 0x3f;
    // "All control logic is immediately reset": OUT to its initial level, no count, flip-flops cleared.
    this.loaded = false;
    this.crValid = false;
    this.nullCount = true;
    this.transferAt = -1;
    this.pausedAt = -1;
    this.pendingAt = -1;
    this.writeMsbNext = false;
    this.readMsbNext = false;
    this.latched = false;
    this.statusLatched = false;
  }

  /** Counter latch command: the first latch holds until read; later ones are ignored. */
  latchCount(t: number): void {
    if (this.latched) return;
    this.advance(t);
    this.latch = this.encode(this.value(t));
    this.latched = true;
  }

  latchStatus(t: number): void {
    if (this.statusLatched) return;
    this.advance(t);
    this.status = (this.out(t) ? 0x80 : 0) | (this.nullCount ? 0x40 : 0) | this.ctrl;
    this.statusLatched = true;
  }

  private encode(v: number): number {
    return this.bcd ? toBcd(v) : v & 0xffff;
  }

  /** A read of the counter's port: latched status, then latched count, else the live count. */
  read(t: number): number {
    if (this.statusLatched) {
      this.statusLatched = false;
      return this.status;
    }
    let v: number;
    if (this.latched) v = this.latch;
    else {
      this.advance(t);
      v = this.encode(this.value(t));
    }
    let byte: number;
    switch (this.rw) {
      case 1: byte = v & 0xff; this.latched = false; break;
      case 2: byte = v >> 8; this.latched = false; break;
      default:
        byte = this.readMsbNext ? v >> 8 : v & 0xff;
        if (this.readMsbNext) this.latched = false;
        this.readMsbNext = !this.readMsbNext;
    }
    return byte & 0xff;
  }

  /** A write of the counter's port at tick `t`. */
  write(v: number, t: number): void {
    this.advance(t);
    switch (this.rw) {
      case 1: this.cr = v; break;
      case 2: this.cr = v << 8; break;
      case 3:
        if (!this.writeMsbNext) {
          this.lsb = v;
          this.writeMsbNext = true;
          // Mode 0: the first byte of a new count stops counting and drives OUT low at once.
          if (this.mode === 0 && this.loaded) {
            this.hold = this.value(t);
            this.loaded = false;
          }
          return;
        }
        this.writeMsbNext = false;
        this.cr = this.lsb | (v << 8);
        break;
      default: return;
    }
    this.newCount(t);
  }

  /** A complete count arrived in CR at tick `t`. */
  private newCount(t: number): void {
    this.crValid = true;
    this.nullCount = true;
    const n = this.clocks();
    switch (this.mode) {
      case 1:
      case 5:
        this.transferAt = -1; // waits for a GATE trigger
        return;
      case 2:
      case 3:
        if (!this.gate) {
          // The CE takes the count on the next CLK but cannot count; the GATE rising edge reloads it.
          this.hold = n % (this.bcd ? 10000 : 0x10000);
          this.loaded = false;
          this.transferAt = t + 1;
          return;
        }
        if (this.loaded && t >= this.start) {
          this.deferCount(n, t);
          return;
        }
        break;
      default:
        break;
    }
    // Modes 0 and 4, and the first count of modes 2 and 3: loaded on the next CLK pulse. Until
    // then reads already show the new count: on the chip that clock comes before the slow ISA
    // read cycle does, and software relies on it (Linux's quick TSC calibration reads at once).
    this.hold = n % (this.bcd ? 10000 : 0x10000);
    this.load(n, t + 1);
    if (!this.gate && (this.mode === 0 || this.mode === 4)) this.pausedAt = this.start;
  }

  private load(n: number, at: number): void {
    this.loaded = true;
    this.n = n;
    this.start = at;
    this.pausedAt = -1;
    this.pendingAt = -1;
    this.transferAt = at;
  }

  /** Modes 2 and 3: a new count waits for the end of the current period (mode 2) or half-cycle (3). */
  private deferCount(n: number, t: number): void {
    const e = t - this.start;
    const cycle = e - (e % this.n);
    let boundary: number;
    let start: number;
    if (this.mode === 2) {
      boundary = this.start + cycle + this.n;
      start = boundary;
    } else if (e % this.n < (this.n + 1) >> 1) {
      // End of the high half: the new count starts in its low half.
      boundary = this.start + cycle + ((this.n + 1) >> 1);
      start = boundary - ((n + 1) >> 1);
    } else {
      boundary = this.start + cycle + this.n;
      start = boundary;
    }
    this.pendingAt = boundary;
    this.pendingN = n;
    this.pendingStart = start;
    this.transferAt = boundary;
  }

  /** The GATE input changed at tick `t`. */
  setGate(level: boolean, t: number): void {
    if (level === this.gate) return;
    this.advance(t);
    this.gate = level;
    const mode = this.mode;
    if (!level) {
      if (!this.loaded) return;
      if (mode === 0 || mode === 4) this.pausedAt = Math.max(t, this.start);
      else if (mode === 2 || mode === 3) {
        // Counting stops and OUT goes high at once; the rising edge will reload.
        this.hold = this.value(t);
        this.loaded = false;
        this.pendingAt = -1;
      }
      return;
    }
    if (mode === 0 || mode === 4) {
      if (this.loaded && this.pausedAt >= 0) {
        if (t > this.pausedAt) this.start += t - this.pausedAt;
        this.pausedAt = -1;
      }
      return;
    }
    // Modes 1, 2, 3, 5: a rising edge is a trigger that (re)loads CR on the next CLK pulse.
    if (!this.crValid) return;
    const n = this.clocks();
    this.hold = n % (this.bcd ? 10000 : 0x10000);
    this.load(n, t + 1);
  }

  save(): CounterState {
    return {
      ctrl: this.ctrl, crValid: this.crValid, cr: this.cr, writeMsbNext: this.writeMsbNext, lsb: this.lsb,
      readMsbNext: this.readMsbNext, latched: this.latched, latch: this.latch, statusLatched: this.statusLatched,
      status: this.status, gate: this.gate, loaded: this.loaded, start: this.start, n: this.n, pausedAt: this.pausedAt,
      hold: this.hold, pendingAt: this.pendingAt, pendingN: this.pendingN, pendingStart: this.pendingStart,
      nullCount: this.nullCount, transferAt: this.transferAt,
    };
  }

  restore(s: CounterState): void {
    Object.assign(this, s);
  }
}
