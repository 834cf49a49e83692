/**
 * The x86 I/O port space: 64K byte-addressed ports, each dispatching to the device registered over
 * it. A device sees an offset from the base it was registered at, never the absolute port, so the
 * same model serves COM1 and COM2.
 *
 * Dispatch is one table read per access: `table[port]` holds the registration owning that port.
 * An access the owner cannot take whole (a width it does not implement, or one running past its
 * last port into a neighbour) is split into narrower accesses, each reaching its own owner, as the
 * ISA bus does with byte-wide peripherals. Unclaimed ports float high: reads return all ones and
 * writes vanish, each port logged once at debug level.
 */
import { logOnce } from '../base/log.js';

export type AccessSize = 1 | 2 | 4;

export interface PortDevice {
  readonly name: string;
  /**
   * The access widths the device implements itself, as the OR of the sizes (1 | 2 | 4 = 7). Other
   * widths are split into halves until they fit. Absent means byte-wide only, as most ISA chips are.
   */
  readonly widths?: number;
  /** Returns the value read; bits above the access width are ignored. */
  ioRead(offset: number, size: AccessSize): number;
  /** `value` has already been masked to the access width. */
  ioWrite(offset: number, size: AccessSize, value: number): void;
}

interface Registration {
  readonly dev: PortDevice;
  readonly base: number;
  /** One past the last port. */
  readonly end: number;
  readonly widths: number;
  /** Index of the device's access counters (shared by registrations with the same name). */
  readonly counter: number;
}

export interface PortAccessCount {
  name: string;
  reads: number;
  writes: number;
}

const MASK = [0, 0xff, 0xffff, 0, 0xffffffff];

/** What answers on a port nobody claimed. */
const floating: PortDevice = {
  name: '(unclaimed)',
  widths: 7,
  ioRead(port, size) {
    logOnce('debug', 'ports', `r${port}`, `read of unclaimed port 0x${port.toString(16)} (size ${size})`);
    return 0xffffffff;
  },
  ioWrite(port, size, value) {
    logOnce('debug', 'ports', `w${port}`, `write of unclaimed port 0x${port.toString(16)} (size ${size}, value 0x${value.toString(16)})`);
  },
};

export class PortBus {
  private readonly names: string[] = [floating.name];
  private reads = new Float64Array(8);
  private writes = new Float64Array(8);
  private readonly unclaimed: Registration = { dev: floating, base: 0, end: 0x10000, widths: 7, counter: 0 };
  private readonly table: Registration[] = new Array<Registration>(0x10000).fill(this.unclaimed);

  /** Claims ports `base` .. `base + count - 1` for `dev`; overlapping an existing claim is an error. */
  register(base: number, count: number, dev: PortDevice): void {
    if (!Number.isInteger(base) || !Number.isInteger(count) || base < 0 || count <= 0 || base + count > 0x10000) {
      throw new Error(`bad port range 0x${base.toString(16)}+${count} for ${dev.name}`);
    }
    for (let p = base; p < base + count; p++) {
      const old = this.table[p];
      if (old !== this.unclaimed) throw new Error(`port 0x${p.toString(16)} for ${dev.name} already belongs to ${old.dev.name}`);
    }
    const reg: Registration = { dev, base, end: base + count, widths: (dev.widths ?? 1) | 1, counter: this.counterFor(dev.name) };
    for (let p = base; p < base + count; p++) this.table[p] = reg;
  }

  /** Releases every port `dev` holds. */
  unregister(dev: PortDevice): void {
    for (let p = 0; p < 0x10000; p++) if (this.table[p].dev === dev) this.table[p] = this.unclaimed;
  }

  /** The name of the device at `port`, or undefined. */
  owner(port: number): string | undefined {
    const r = this.table[port & 0xffff];
    return r === this.unclaimed ? undefined : r.dev.name;
  }

  /** Reads `size` bytes at `port`, zero-extended (a 32-bit read returns 0 .. 0xFFFFFFFF). */
  read(port: number, size: AccessSize): number {
    port &= 0xffff;
    const r = this.table[port];
    if ((r.widths & size) !== 0 && port + size <= r.end) {
      this.reads[r.counter]++;
      const v = r.dev.ioRead(port - r.base, size);
      return size === 4 ? v >>> 0 : v & MASK[size];
    }
    // Split into halves; each half finds its own owner (and splits again if need be).
    const half = (size >> 1) as AccessSize;
    const lo = this.read(port, half);
    const hi = this.read((port + half) & 0xffff, half);
    return (lo + hi * (half === 1 ? 0x100 : 0x10000)) >>> 0;
  }

  write(port: number, size: AccessSize, value: number): void {
    port &= 0xffff;
    const r = this.table[port];
    if ((r.widths & size) !== 0 && port + size <= r.end) {
      this.writes[r.counter]++;
      r.dev.ioWrite(port - r.base, size, size === 4 ? value >>> 0 : value & MASK[size]);
      return;
    }
    const half = (size >> 1) as AccessSize;
    this.write(port, half, value & MASK[half]);
    this.write((port + half) & 0xffff, half, (half === 1 ? value >>> 8 : value >>> 16) & MASK[half]);
  }

  /** Device calls made so far, per device name (split accesses count once per piece). */
  accessCounts(): PortAccessCount[] {
    return this.names.map((name, k) => ({ name, reads: this.reads[k], writes: this.writes[k] }));
  }

  resetAccessCounts(): void {
    this.reads.fill(0);
    this.writes.fill(0);
  }

  private counterFor(name: string): number {
    let k = this.names.indexOf(name);
    if (k >= 0) return k;
    k = this.names.length;
    this.names.push(name);
    if (k >= this.reads.length) {
      const r = new Float64Array(this.reads.length * 2);
      const w = new Float64Array(this.reads.length * 2);
      r.set(this.reads);
      w.set(this.writes);
      this.reads = r;
      this.writes = w;
    }
    return k;
  }
}
