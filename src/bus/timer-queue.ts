/**
 * Timers in guest time. Devices schedule callbacks at a guest-nanosecond deadline; the machine's
 * run loop calls `runDue(now)` between CPU slices and asks `nextDeadline()` how long the CPU may
 * run (or idle) before something is due. Deadlines are kept in a binary heap.
 */
export interface TimerHandle {
  cancel(): void;
}

interface Entry {
  at: number;
  seq: number;
  cb: () => void;
  live: boolean;
}

export class TimerQueue {
  private heap: Entry[] = [];
  private seq = 0;

  schedule(at: number, cb: () => void): TimerHandle {
    const e: Entry = { at, seq: this.seq++, cb, live: true };
    this.push(e);
    return { cancel: () => { e.live = false; } };
  }

  /** The earliest live deadline, or Infinity. */
  nextDeadline(): number {
    while (this.heap.length > 0 && !this.heap[0].live) this.pop();
    return this.heap.length > 0 ? this.heap[0].at : Infinity;
  }

  /** Runs every callback due at `now` (including ones they schedule for no later than `now`). */
  runDue(now: number): number {
    let n = 0;
    while (this.heap.length > 0) {
      const top = this.heap[0];
      if (!top.live) {
        this.pop();
        continue;
      }
      if (top.at > now) break;
      this.pop();
      top.live = false;
      top.cb();
      n++;
    }
    return n;
  }

  private less(a: Entry, b: Entry): boolean {
    return a.at < b.at || (a.at === b.at && a.seq < b.seq);
  }

  private push(e: Entry): void {
    const h = this.heap;
    h.push(e);
    let i = h.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!this.less(h[i], h[p])) break;
      [h[i], h[p]] = [h[p], h[i]];
      i = p;
    }
  }

  private pop(): void {
    const h = this.heap;
    const last = h.pop()!;
    if (h.length === 0) return;
    h[0] = last;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1, r = l + 1;
      let m = i;
      if (l < h.length && this.less(h[l], h[m])) m = l;
      if (r < h.length && this.less(h[r], h[m])) m = r;
      if (m === i) return;
      [h[i], h[m]] = [h[m], h[i]];
      i = m;
    }
  }
}
