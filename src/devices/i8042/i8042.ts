/**
 * The PC keyboard controller (Intel 8042 as used in PC/AT, ports 0x60/0x64), minimal: status and
 * command byte, controller self-test (0xAA -> 0x55), interface tests, enable/disable of the
 * keyboard and aux ports, read/write of the output port (A20 and the reset line), and the pulse
 * command 0xFE that resets the machine. No keyboard is attached: reads of data return what the
 * controller itself queued, and IRQ 1 signals it.
 */
import type { PortDevice } from '../../bus/port-bus.js';
import type { Snapshottable } from '../../base/snapshot.js';

const ST_OBF = 0x01, ST_SYS = 0x04, ST_CMD = 0x08;

export interface I8042Options {
  irq1: (level: boolean) => void;
  /** The output port's A20 bit changed. */
  onA20: (enabled: boolean) => void;
  /** The CPU reset line was pulsed. */
  onReset: () => void;
}

export interface I8042State {
  version: 1;
  out: number[];
  commandByte: number;
  outputPort: number;
  pending: number;
  lastWasCommand: boolean;
}

export class I8042 implements Snapshottable<I8042State> {
  private out: number[] = [];
  commandByte = 0x45; // keyboard interrupt enabled, system flag, translation
  outputPort = 0x03; // A20 enabled, reset line inactive
  /** A command waiting for its data byte on port 0x60, or 0. */
  private pending = 0;
  private lastWasCommand = false;

  constructor(private readonly opts: I8042Options) {}

  private push(b: number): void {
    this.out.push(b & 0xff);
    this.opts.irq1((this.commandByte & 1) !== 0);
  }

  private command(c: number): void {
    switch (c) {
      case 0x20: this.push(this.commandByte); break;
      case 0x60: case 0xd1: case 0xd2: case 0xd3: case 0xd4: this.pending = c; break;
      case 0xa7: this.commandByte |= 0x20; break; // disable aux
      case 0xa8: this.commandByte &= ~0x20; break;
      case 0xa9: this.push(0x00); break; // aux interface test: OK
      case 0xaa: this.push(0x55); break; // self-test passed
      case 0xab: this.push(0x00); break; // keyboard interface test: OK
      case 0xad: this.commandByte |= 0x10; break;
      case 0xae: this.commandByte &= ~0x10; break;
      case 0xd0: this.push(this.outputPort); break;
      case 0xdd: this.setOutput(this.outputPort & ~2); break; // A20 off (some chipsets)
      case 0xdf: this.setOutput(this.outputPort | 2); break;
      default:
        // 0xF0-0xFF pulse output lines low for 6 us: bit 0 is the CPU reset.
        if (c >= 0xf0 && (c & 1) === 0) this.opts.onReset();
    }
  }

  private setOutput(v: number): void {
    const old = this.outputPort;
    this.outputPort = v | 1;
    if ((old ^ v) & 2) this.opts.onA20((v & 2) !== 0);
    if ((v & 1) === 0) this.opts.onReset();
  }

  private data(v: number): void {
    const p = this.pending;
    this.pending = 0;
    switch (p) {
      case 0x60: this.commandByte = v; break;
      case 0xd1: this.setOutput(v); break;
      case 0xd2: this.push(v); break; // echo as keyboard input
      case 0xd3: break; // aux input echo: no aux device
      case 0xd4: this.push(0xfe); break; // aux device absent: resend
      default: this.push(0xfa); // a keyboard command: ACK
    }
  }

  ports(): PortDevice {
    return {
      name: 'i8042',
      ioRead: (off) => {
        if (off === 4) {
          return (this.out.length > 0 ? ST_OBF : 0) | ST_SYS | (this.lastWasCommand ? ST_CMD : 0);
        }
        const v = this.out.length > 0 ? this.out.shift()! : 0;
        if (this.out.length === 0) this.opts.irq1(false);
        return v;
      },
      ioWrite: (off, _s, v) => {
        v &= 0xff;
        this.lastWasCommand = off === 4;
        if (off === 4) this.command(v);
        else this.data(v);
      },
    };
  }

  save(): I8042State {
    return { version: 1, out: [...this.out], commandByte: this.commandByte, outputPort: this.outputPort, pending: this.pending, lastWasCommand: this.lastWasCommand };
  }

  restore(s: I8042State): void {
    if (s.version !== 1) throw new Error(`i8042 state version ${s.version} is not supported`);
    this.out = [...s.out];
    this.commandByte = s.commandByte;
    this.outputPort = s.outputPort;
    this.pending = s.pending;
    this.lastWasCommand = s.lastWasCommand;
  }
}

/** Port 0x92, "system control port A": fast A20 (bit 1) and fast reset (bit 0). */
export function systemControlPortA(opts: { onA20: (on: boolean) => void; onReset: () => void }): PortDevice {
  let value = 0x02;
  return {
    name: 'port92',
    ioRead: () => value,
    ioWrite: (_o, _s, v) => {
      const old = value;
      value = v & 0x03;
      if ((old ^ value) & 2) opts.onA20((value & 2) !== 0);
      if (value & 1 && !(old & 1)) opts.onReset();
    },
  };
}
