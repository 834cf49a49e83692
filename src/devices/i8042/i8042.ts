/**
 * The PC/AT keyboard controller, an Intel 8042 running IBM's firmware (IBM PC/AT and PS/2
 * technical references, "Keyboard Controller"): data port 0x60, status/command port 0x64.
 * Minimal: the status register, the command byte (controller RAM 0), self-test (0xAA -> 0x55),
 * interface tests, enable/disable of both ports, the output port (bit 0 = CPU reset, active low;
 * bit 1 = A20 gate) with read/write commands and the 0xF0-0xFF pulse commands (0xFE resets),
 * writes into the output buffer, and the aux port loopback. A keyboard (keyboard.ts) answers on
 * the first port; no mouse is attached, so aux device commands time out.
 *
 * One byte at a time sits in the output buffer (OBF); IRQ 1 (or IRQ 12 for aux data) is high
 * while a byte is there and its interrupt is enabled in the command byte, so every new byte is a
 * fresh rising edge. Further bytes wait in order behind it.
 */
import { logOnce } from '../../base/log.js';
import type { Snapshottable } from '../../base/snapshot.js';
import type { PortDevice } from '../../bus/port-bus.js';
import { IrqPin, type IrqTarget } from '../../bus/irq.js';
import { Ps2Keyboard, type KeyboardState } from './keyboard.js';

const ST_OBF = 0x01, ST_SYS = 0x04, ST_A2 = 0x08, ST_INH = 0x10, ST_AUXB = 0x20, ST_TIMEOUT = 0x40;
const CB_INT = 0x01, CB_INT2 = 0x02, CB_SYS = 0x04, CB_DISABLE_KBD = 0x10, CB_DISABLE_AUX = 0x20;
const OP_RESET = 0x01, OP_A20 = 0x02, OP_OBF_KBD = 0x10, OP_OBF_AUX = 0x20;

/** Where an output byte came from (bits 8-9 of a queue entry); bit 10 flags a timeout. */
const FROM_CONTROLLER = 0, FROM_KBD = 1, FROM_AUX = 2;
const TIMEOUT_FLAG = 0x400;

export interface I8042Options {
  /** IRQ 1: keyboard (and controller) data in the output buffer. */
  irq1?: IrqTarget;
  /** IRQ 12: aux data in the output buffer. */
  irq12?: IrqTarget;
  /** The output port's A20 gate bit changed. */
  onA20: (enabled: boolean) => void;
  /** The CPU reset line was pulsed. */
  onReset: () => void;
}

export interface I8042State {
  version: 1;
  /** Controller RAM; byte 0 is the command byte. */
  ram: number[];
  outputPort: number;
  /** The output buffer entry (byte | source << 8 | timeout flag), or -1 when empty. */
  outBuffer: number;
  queue: number[];
  pendingCommand: number;
  lastWasCommand: boolean;
  keyboard: KeyboardState;
}

export class I8042 implements Snapshottable<I8042State> {
  /** 32 bytes of controller RAM; RAM 0 is the command byte. */
  private readonly ram = new Uint8Array(32);
  /** As a BIOS leaves it: reset line high (running), A20 enabled. */
  private outputPort = OP_RESET | OP_A20;
  private outBuffer = -1;
  private queue: number[] = [];
  /** A command waiting for its data byte on port 0x60, or 0. */
  private pendingCommand = 0;
  private lastWasCommand = false;
  private readonly keyboard = new Ps2Keyboard();
  private readonly irq1: IrqPin;
  private readonly irq12: IrqPin;

  constructor(private readonly opts: I8042Options) {
    this.irq1 = new IrqPin(opts.irq1);
    this.irq12 = new IrqPin(opts.irq12);
    this.ram[0] = CB_INT | CB_SYS | 0x40; // keyboard interrupt, POST passed, scan code translation
  }

  get commandByte(): number {
    return this.ram[0];
  }

  /** Scan codes from the host keyboard (ignored while the keyboard has scanning disabled). */
  keyboardInput(bytes: ArrayLike<number>): void {
    if (!this.keyboard.scanning) return;
    for (let k = 0; k < bytes.length; k++) this.queue.push((bytes[k] & 0xff) | (FROM_KBD << 8));
    this.load();
  }

  /** Queues a byte for the output buffer. */
  private emit(byte: number, source: number, flags = 0): void {
    this.queue.push((byte & 0xff) | (source << 8) | flags);
    this.load();
  }

  /** Fills an empty output buffer with the first byte whose port is enabled, then drives the IRQs. */
  private load(): void {
    if (this.outBuffer < 0) {
      const cb = this.ram[0];
      for (let k = 0; k < this.queue.length; k++) {
        const src = (this.queue[k] >> 8) & 3;
        if ((src === FROM_KBD && cb & CB_DISABLE_KBD) || (src === FROM_AUX && cb & CB_DISABLE_AUX)) continue;
        this.outBuffer = this.queue[k];
        this.queue.splice(k, 1);
        break;
      }
    }
    this.updateIrqs();
  }

  private updateIrqs(): void {
    const full = this.outBuffer >= 0;
    const aux = full && ((this.outBuffer >> 8) & 3) === FROM_AUX;
    this.irq1.set(full && !aux && (this.ram[0] & CB_INT) !== 0);
    this.irq12.set(aux && (this.ram[0] & CB_INT2) !== 0);
  }

  /** Port 0x64 read. */
  readStatus(): number {
    let s = ST_INH | (this.ram[0] & CB_SYS ? ST_SYS : 0) | (this.lastWasCommand ? ST_A2 : 0);
    if (this.outBuffer >= 0) {
      s |= ST_OBF;
      if (((this.outBuffer >> 8) & 3) === FROM_AUX) s |= ST_AUXB;
      if (this.outBuffer & TIMEOUT_FLAG) s |= ST_TIMEOUT;
    }
    return s;
  }

  /** Port 0x60 read: takes the output buffer; the next waiting byte follows as a new interrupt. */
  readData(): number {
    if (this.outBuffer < 0) return 0;
    const v = this.outBuffer & 0xff;
    this.outBuffer = -1;
    this.updateIrqs(); // the line drops, so the next byte is a fresh edge
    this.load();
    return v;
  }

  /** Port 0x64 write. */
  writeCommand(c: number): void {
    this.lastWasCommand = true;
    this.pendingCommand = 0;
    if (c >= 0x20 && c <= 0x3f) return this.emit(this.ram[c & 0x1f], FROM_CONTROLLER);
    if ((c >= 0x60 && c <= 0x7f) || (c >= 0xd1 && c <= 0xd4)) {
      this.pendingCommand = c;
      return;
    }
    if (c >= 0xf0) {
      // Pulse output port bits 3-0 that are 0 in the command; bit 0 is the CPU reset line.
      if ((c & 1) === 0) this.opts.onReset();
      return;
    }
    switch (c) {
      case 0xa7: this.ram[0] |= CB_DISABLE_AUX; break;
      case 0xa8: this.ram[0] &= ~CB_DISABLE_AUX; break;
      case 0xa9: this.emit(0x00, FROM_CONTROLLER); break; // aux interface test: no error
      case 0xaa: this.emit(0x55, FROM_CONTROLLER); break; // self-test passed
      case 0xab: this.emit(0x00, FROM_CONTROLLER); break; // keyboard interface test: no error
      case 0xad: this.ram[0] |= CB_DISABLE_KBD; break;
      case 0xae: this.ram[0] &= ~CB_DISABLE_KBD; break;
      case 0xc0: this.emit(0x80, FROM_CONTROLLER); break; // input port: keyboard not inhibited
      case 0xd0: this.emit(this.readOutputPort(), FROM_CONTROLLER); break;
      case 0xdd: this.setOutputPort(this.outputPort & ~OP_A20); break; // A20 off (many chipsets)
      case 0xdf: this.setOutputPort(this.outputPort | OP_A20); break; // A20 on
      default:
        logOnce('debug', 'i8042', `cmd${c}`, `unimplemented 8042 command 0x${c.toString(16)}`);
    }
    this.load(); // enabling a port may release waiting bytes
  }

  /** Port 0x60 write: the data byte of a pending command, or a byte for the keyboard. */
  writeData(v: number): void {
    this.lastWasCommand = false;
    const c = this.pendingCommand;
    this.pendingCommand = 0;
    if (c >= 0x60 && c <= 0x7f) {
      this.ram[c & 0x1f] = v;
      this.load();
      return;
    }
    switch (c) {
      case 0xd1: this.setOutputPort(v); return;
      case 0xd2: this.emit(v, FROM_KBD); return; // as if the keyboard had sent it
      case 0xd3: this.emit(v, FROM_AUX); return; // aux loopback
      case 0xd4: this.emit(0xfe, FROM_AUX, TIMEOUT_FLAG); return; // no aux device answers
      default:
        this.keyboard.command(v, (b) => this.emit(b, FROM_KBD));
    }
  }

  private readOutputPort(): number {
    let v = this.outputPort & ~(OP_OBF_KBD | OP_OBF_AUX);
    if (this.outBuffer >= 0) v |= ((this.outBuffer >> 8) & 3) === FROM_AUX ? OP_OBF_AUX : OP_OBF_KBD;
    return v;
  }

  private setOutputPort(v: number): void {
    const old = this.outputPort;
    this.outputPort = v | OP_RESET; // the reset line is a pulse: the chip comes back up high
    if ((old ^ v) & OP_A20) this.opts.onA20((v & OP_A20) !== 0);
    if ((v & OP_RESET) === 0) this.opts.onReset();
  }

  /** Whether the output port currently enables A20. */
  get a20(): boolean {
    return (this.outputPort & OP_A20) !== 0;
  }

  /** Port device for 0x60 (offset 0). */
  dataPort(): PortDevice {
    return { name: 'i8042', ioRead: () => this.readData(), ioWrite: (_o, _s, v) => this.writeData(v) };
  }

  /** Port device for 0x64 (offset 0). */
  commandPort(): PortDevice {
    return { name: 'i8042', ioRead: () => this.readStatus(), ioWrite: (_o, _s, v) => this.writeCommand(v) };
  }

  save(): I8042State {
    return {
      version: 1, ram: Array.from(this.ram), outputPort: this.outputPort, outBuffer: this.outBuffer,
      queue: [...this.queue], pendingCommand: this.pendingCommand, lastWasCommand: this.lastWasCommand,
      keyboard: this.keyboard.save(),
    };
  }

  restore(s: I8042State): void {
    if (s.version !== 1) throw new Error(`i8042 state version ${s.version} is not supported`);
    this.ram.set(s.ram);
    this.outputPort = s.outputPort;
    this.outBuffer = s.outBuffer;
    this.queue = [...s.queue];
    this.pendingCommand = s.pendingCommand;
    this.lastWasCommand = s.lastWasCommand;
    this.keyboard.restore(s.keyboard);
    const full = this.outBuffer >= 0;
    const aux = full && ((this.outBuffer >> 8) & 3) === FROM_AUX;
    this.irq1.restoreLevel(full && !aux && (this.ram[0] & CB_INT) !== 0);
    this.irq12.restoreLevel(aux && (this.ram[0] & CB_INT2) !== 0);
  }
}
