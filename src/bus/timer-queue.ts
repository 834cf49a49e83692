/**
 * Timers in guest (virtual) time. Devices arm callbacks at a deadline in guest nanoseconds; the
 * machine's run loop calls `runDue(now)` between CPU slices and asks `nextDeadline()` how long the
 * CPU may run (or idle) before something is due. Nothing here reads a host clock: what "now" is
 * belongs to the machine (host-following or instruction-counted), injected as a `VirtualClock`.
 *
 * A device that fires periodically keeps one `Timer` and re-arms it from its own callback, so the
 * steady state allocates nothing: the heap holds the Timer objects themselves, each knowing its
 * slot, which also makes cancel and re-arm O(log n) without leaving dead entries behind.
 */

/** Guest time as the machine defines it, in nanoseconds since the machine started. */
export interface VirtualClock {
  now(): number;
}

export interface TimerHandle {
  cancel(): void;
}

/** Called with the deadline it was armed for (not the possibly later time it actually runs at). */
export type TimerCallback = (deadline: number) => void;

/** A re-armable timer owned by one device. */
export class Timer implements TimerHandle {
  /** Deadline in guest ns; meaningful while armed. */
  at = 0;
  /** Arming order, so equal deadlines run first-armed first. Owned by the queue. */
  seq = 0;
  /** Index in the queue's heap, or -1 when not armed. Owned by the queue. */
  slot = -1;

  constructor(
    private readonly queue: TimerQueue,
    readonly callback: TimerCallback,
  ) {}

  get armed(): boolean {
    return this.slot >= 0;
  }

  /** (Re)arms the timer for `at` guest ns; a deadline already past runs at the next `runDue`. */
  arm(at: number): void {
    this.queue.arm(this, at);
  }

  cancel(): void {
    this.queue.disarm(this);
  }
}

export class TimerQueue {
  private readonly heap: Timer[] = [];
  private seq = 0;

  /** A timer to keep and re-arm (no allocation per period). */
  timer(callback: TimerCallback): Timer {
    return new Timer(this, callback);
  }

  /** One-shot convenience: arms a fresh timer. */
  schedule(at: number, callback: TimerCallback): TimerHandle {
    const t = new Timer(this, callback);
    this.arm(t, at);
    return t;
  }

  /** Number of armed timers. */
  get size(): number {
    return this.heap.length;
  }

  /** The earliest deadline, or Infinity when nothing is armed. */
  nextDeadline(): number {
    return this.heap.length > 0 ? this.heap[0].at : Infinity;
  }

  /**
   * Runs every timer due at `now`, earliest first, including ones that callbacks arm for no later
   * than `now`. Returns how many ran.
   */
  runDue(now: number): number {
    const h = this.heap;
    let n = 0;
    while (h.length > 0 && h[0].at <= now) {
      const t = h[0];
      this.removeAt(0);
      t.callback(t.at);
      n++;
    }
    return n;
  }

  arm(t: Timer, at: number): void {
    if (Number.isNaN(at)) throw new Error('timer armed with a NaN deadline');
    t.at = at;
    t.seq = this.seq++;
    if (t.slot >= 0) {
      this.up(t.slot);
      this.down(t.slot);
      return;
    }
    t.slot = this.heap.length;
    this.heap.push(t);
    this.up(t.slot);
  }

  disarm(t: Timer): void {
    if (t.slot >= 0) this.removeAt(t.slot);
  }

  private removeAt(i: number): void {
    const h = this.heap;
    const t = h[i];
    const last = h.pop()!;
    t.slot = -1;
    if (i === h.length) return;
    h[i] = last;
    last.slot = i;
    this.up(i);
    this.down(last.slot);
  }

  private less(a: Timer, b: Timer): boolean {
    return a.at < b.at || (a.at === b.at && a.seq < b.seq);
  }

  private place(i: number, t: Timer): void {
    this.heap[i] = t;
    t.slot = i;
  }

  private up(i: number): void {
    const h = this.heap;
    const t = h[i];
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!this.less(t, h[p])) break;
      this.place(i, h[p]);
      i = p;
    }
    this.place(i, t);
  }

  private down(i: number): void {
    const h = this.heap;
    const t = h[i];
    const n = h.length;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= n) break;
      const r = l + 1;
      const c = r < n && this.less(h[r], h[l]) ? r : l;
      if (!this.less(h[c], t)) break;
      this.place(i, h[c]);
      i = c;
    }
    this.place(i, t);
  }
}
