/**
 * A fixed-capacity byte ring (the 16550A's receiver FIFO) and an unbounded one for the host's
 * input backlog; neither allocates per byte.
 */
export class ByteFifo {
  private buf: Uint8Array;
  private head = 0;
  private count = 0;

  constructor(capacity: number, private readonly growable = false) {
    this.buf = new Uint8Array(capacity);
  }

  get length(): number {
    return this.count;
  }

  get full(): boolean {
    return !this.growable && this.count === this.buf.length;
  }

  push(b: number): boolean {
    if (this.count === this.buf.length) {
      if (!this.growable) return false;
      const bigger = new Uint8Array(this.buf.length * 2);
      for (let k = 0; k < this.count; k++) bigger[k] = this.buf[(this.head + k) % this.buf.length];
      this.buf = bigger;
      this.head = 0;
    }
    this.buf[(this.head + this.count) % this.buf.length] = b;
    this.count++;
    return true;
  }

  /** Removes and returns the oldest byte (the caller checks `length` first). */
  shift(): number {
    const b = this.buf[this.head];
    this.head = (this.head + 1) % this.buf.length;
    this.count--;
    return b;
  }

  clear(): void {
    this.head = 0;
    this.count = 0;
  }

  toArray(): number[] {
    const out: number[] = [];
    for (let k = 0; k < this.count; k++) out.push(this.buf[(this.head + k) % this.buf.length]);
    return out;
  }
}
