/**
 * System control port A at 0x92 (IBM PS/2 technical reference; kept by every PC chipset since):
 * bit 1 gates A20 ("fast A20"), bit 0 written 0 -> 1 pulses the CPU reset ("fast reset"). The
 * other bits are stored and read back. The machine combines this A20 source with the 8042's
 * output port; this device only reports its own bit.
 */
import type { Snapshottable } from '../../base/snapshot.js';
import type { PortDevice } from '../../bus/port-bus.js';

const FAST_RESET = 0x01;
const A20 = 0x02;

export interface SystemControlOptions {
  /** Bit 1 changed. */
  onA20: (enabled: boolean) => void;
  /** Bit 0 went from 0 to 1. */
  onReset: () => void;
  /** A20 as firmware left it (default: enabled). */
  a20?: boolean;
}

export interface SystemControlState {
  version: 1;
  value: number;
}

export class SystemControlPortA implements Snapshottable<SystemControlState> {
  private value: number;

  constructor(private readonly opts: SystemControlOptions) {
    this.value = (opts.a20 ?? true) ? A20 : 0;
  }

  get a20(): boolean {
    return (this.value & A20) !== 0;
  }

  read(): number {
    return this.value;
  }

  write(v: number): void {
    const old = this.value;
    this.value = v & 0xff;
    if ((old ^ this.value) & A20) this.opts.onA20(this.a20);
    if (this.value & FAST_RESET && !(old & FAST_RESET)) this.opts.onReset();
  }

  /** Port device for 0x92 (offset 0). */
  port(): PortDevice {
    return { name: 'port92', ioRead: () => this.read(), ioWrite: (_o, _s, v) => this.write(v) };
  }

  save(): SystemControlState {
    return { version: 1, value: this.value };
  }

  restore(s: SystemControlState): void {
    if (s.version !== 1) throw new Error(`port 0x92 state version ${s.version} is not supported`);
    this.value = s.value;
  }
}
