/**
 * The PV console backend (struct xencons_interface, xen/include/public/io/console.h; see
 * ../shared/docs/xen-abi.md 7): drains the guest's out[] ring to a sink and feeds host input into
 * in[]. The ring page belongs to a hostile guest: indices are re-read and checked on every pass,
 * and a ring whose producer runs more than a ring's length ahead is treated as broken (logged
 * once; the console stops serving that guest, the rest of tsxen carries on).
 */
import { logOnce } from '../../base/log.js';

const IN_SIZE = 1024, OUT_SIZE = 2048;
const IN_OFF = 0, OUT_OFF = 1024, IN_CONS = 3072, IN_PROD = 3076, OUT_CONS = 3080, OUT_PROD = 3084;

export interface ConsoleBackendOptions {
  /** Bytes from the guest. */
  sink: (bytes: Uint8Array) => void;
  /** Notify the guest through the console event channel. */
  notify: () => void;
  /** Name used in log lines (the domain's name). */
  name: string;
}

export class ConsoleBackend {
  private readonly pending: number[] = [];
  broken = false;

  constructor(
    private readonly ring: Uint8Array,
    private readonly opts: ConsoleBackendOptions,
  ) {
    if (ring.length < 4096) throw new Error('console ring must be a whole page');
  }

  private u32(off: number): number {
    const r = this.ring;
    return (r[off] | (r[off + 1] << 8) | (r[off + 2] << 16) | (r[off + 3] << 24)) >>> 0;
  }

  private setU32(off: number, v: number): void {
    const r = this.ring;
    r[off] = v;
    r[off + 1] = v >>> 8;
    r[off + 2] = v >>> 16;
    r[off + 3] = v >>> 24;
  }

  private fail(why: string): void {
    this.broken = true;
    logOnce('warn', 'console', `${this.opts.name}:broken`, `${this.opts.name}: console ring broken (${why}); console disconnected`);
  }

  /**
   * Services the ring: drains guest output and moves queued input in. Called when the guest
   * notifies, and periodically (the guest spins on SCHEDOP_yield when the ring is full).
   */
  service(): void {
    if (this.broken) return;
    let news = false;
    const cons = this.u32(OUT_CONS), prod = this.u32(OUT_PROD);
    const avail = (prod - cons) >>> 0;
    if (avail > OUT_SIZE) return this.fail(`out_prod - out_cons = ${avail}`);
    if (avail > 0) {
      const out = new Uint8Array(avail);
      for (let k = 0; k < avail; k++) out[k] = this.ring[OUT_OFF + ((cons + k) & (OUT_SIZE - 1))];
      this.setU32(OUT_CONS, (cons + avail) >>> 0);
      this.opts.sink(out);
      news = true;
    }
    if (this.pending.length > 0 && this.fillInput()) news = true;
    if (news) this.opts.notify();
  }

  /** Queues host input (keystrokes) for the guest; excess waits until the guest consumes. */
  input(bytes: Uint8Array): void {
    if (this.broken) return;
    for (const b of bytes) this.pending.push(b);
    if (this.fillInput()) this.opts.notify();
  }

  private fillInput(): boolean {
    const cons = this.u32(IN_CONS), prod = this.u32(IN_PROD);
    const used = (prod - cons) >>> 0;
    if (used > IN_SIZE) {
      this.fail(`in_prod - in_cons = ${used}`);
      return false;
    }
    const n = Math.min(IN_SIZE - used, this.pending.length);
    if (n === 0) return false;
    for (let k = 0; k < n; k++) this.ring[IN_OFF + ((prod + k) & (IN_SIZE - 1))] = this.pending[k];
    this.pending.splice(0, n);
    this.setU32(IN_PROD, (prod + n) >>> 0);
    return true;
  }

  get queuedInput(): number {
    return this.pending.length;
  }
}
