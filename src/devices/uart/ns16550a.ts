/**
 * National Semiconductor 16550A UART (PC16550D datasheet): the PC serial port. Eight registers
 * with the divisor latch (DLAB), 16-byte receive and transmit FIFOs with the receive trigger
 * levels, the four interrupt sources with their IIR priority (line status > received data /
 * character timeout > transmitter empty > modem status), loopback, and the PC's OUT2 gate on the
 * interrupt line.
 *
 * Transmission is instantaneous: a byte written to THR goes to the output sink at once. Received
 * bytes are pushed by the host; what does not fit in the FIFO waits in a backlog (back-pressure
 * instead of overrun), so pasted input is never lost.
 */
import type { PortDevice } from '../../bus/port-bus.js';
import type { Snapshottable } from '../../base/snapshot.js';
import type { TimerHandle, TimerQueue } from '../../bus/timer-queue.js';
import type { GuestClock } from '../../machine/clock.js';

const IER_RDA = 1, IER_THRE = 2, IER_RLS = 4, IER_MS = 8;
const LSR_DR = 1, LSR_OE = 2, LSR_THRE = 0x20, LSR_TEMT = 0x40;
const MCR_OUT2 = 8, MCR_LOOP = 0x10;
const TRIGGER = [1, 4, 8, 14];

export interface UartOptions {
  name: string;
  clock: GuestClock;
  timers: TimerQueue;
  irq: (level: boolean) => void;
  /** Bytes the guest transmits. */
  output: (byte: number) => void;
}

export interface UartState {
  version: 1;
  ier: number; lcr: number; mcr: number; lsr: number; msr: number; scr: number; fcr: number; dll: number; dlm: number;
  rx: number[]; backlog: number[]; thriPending: boolean; timeoutPending: boolean;
}

export class Uart16550 implements Snapshottable<UartState> {
  ier = 0;
  lcr = 0;
  mcr = 0;
  lsr = LSR_THRE | LSR_TEMT;
  msr = 0xb0; // CTS, DSR, DCD asserted: a connected terminal
  scr = 0;
  fcr = 0;
  dll = 12; // 9600 baud until the guest programs it
  dlm = 0;
  private rx: number[] = [];
  private backlog: number[] = [];
  /** THR-empty interrupt armed (cleared by reading IIR when it is the source, or writing THR). */
  private thriPending = true;
  private timeoutPending = false;
  private timeoutTimer: TimerHandle | null = null;
  private lastIrq = false;
  bytesOut = 0;
  bytesIn = 0;

  constructor(private readonly opts: UartOptions) {}

  get fifoEnabled(): boolean {
    return (this.fcr & 1) !== 0;
  }

  /** Host input (keyboard, pipe): queued, delivered as the FIFO drains. */
  receive(bytes: Uint8Array): void {
    for (const b of bytes) this.backlog.push(b);
    this.fill();
  }

  /** Bytes waiting beyond the FIFO. */
  get pendingInput(): number {
    return this.backlog.length;
  }

  private fill(): void {
    const cap = this.fifoEnabled ? 16 : 1;
    let moved = false;
    while (this.backlog.length > 0 && this.rx.length < cap) {
      this.rx.push(this.backlog.shift()!);
      moved = true;
    }
    if (this.rx.length > 0) this.lsr |= LSR_DR;
    if (moved) {
      this.bytesIn++;
      this.armTimeout();
    }
    this.update();
  }

  /** Character time at the programmed baud rate (10 bits per character). */
  private charNs(): number {
    const div = (this.dlm << 8) | this.dll || 1;
    return (10 * 1e9 * div) / 115200;
  }

  private armTimeout(): void {
    this.timeoutTimer?.cancel();
    this.timeoutPending = false;
    if (!this.fifoEnabled || this.rx.length === 0) return;
    this.timeoutTimer = this.opts.timers.schedule(this.opts.clock.now() + 4 * this.charNs(), () => {
      this.timeoutTimer = null;
      if (this.rx.length > 0) {
        this.timeoutPending = true;
        this.update();
      }
    });
  }

  /** The IIR value for the highest-priority pending source (bit 0 set = none). */
  private iir(): number {
    const fifo = this.fifoEnabled ? 0xc0 : 0;
    if (this.ier & IER_RLS && this.lsr & LSR_OE) return fifo | 0x06;
    if (this.ier & IER_RDA) {
      const trig = this.fifoEnabled ? TRIGGER[this.fcr >> 6] : 1;
      if (this.rx.length >= trig) return fifo | 0x04;
      if (this.timeoutPending && this.rx.length > 0) return fifo | 0x0c;
    }
    if (this.ier & IER_THRE && this.thriPending && this.lsr & LSR_THRE) return fifo | 0x02;
    if (this.ier & IER_MS && this.msr & 0x0f) return fifo | 0x00;
    return fifo | 0x01;
  }

  private update(): void {
    const pending = (this.iir() & 1) === 0;
    // On a PC the UART's interrupt reaches the PIC only through OUT2.
    const level = pending && (this.mcr & MCR_OUT2) !== 0;
    if (level !== this.lastIrq) {
      this.lastIrq = level;
      this.opts.irq(level);
    }
  }

  private transmit(b: number): void {
    this.bytesOut++;
    if (this.mcr & MCR_LOOP) {
      this.backlog.push(b);
      this.fill();
    } else {
      this.opts.output(b);
    }
    // Sent at once: THR is empty again and the THRE interrupt re-arms.
    this.thriPending = true;
  }

  readReg(off: number): number {
    const dlab = (this.lcr & 0x80) !== 0;
    switch (off) {
      case 0: {
        if (dlab) return this.dll;
        const v = this.rx.length > 0 ? this.rx.shift()! : 0;
        if (this.rx.length === 0) this.lsr &= ~LSR_DR;
        this.timeoutPending = false;
        this.fill();
        this.armTimeout();
        this.update();
        return v;
      }
      case 1: return dlab ? this.dlm : this.ier;
      case 2: {
        const v = this.iir();
        if ((v & 0x0e) === 0x02) {
          this.thriPending = false;
          this.update();
        }
        return v;
      }
      case 3: return this.lcr;
      case 4: return this.mcr;
      case 5: {
        const v = this.lsr;
        this.lsr &= ~LSR_OE;
        this.update();
        return v;
      }
      case 6: {
        let v = this.msr;
        if (this.mcr & MCR_LOOP) {
          // Loopback: RTS->CTS, DTR->DSR, OUT1->RI, OUT2->DCD.
          v = ((this.mcr & 2) << 3) | ((this.mcr & 1) << 5) | ((this.mcr & 4) << 4) | ((this.mcr & 8) << 4);
        }
        this.msr &= 0xf0;
        this.update();
        return v;
      }
      default: return this.scr;
    }
  }

  writeReg(off: number, v: number): void {
    v &= 0xff;
    const dlab = (this.lcr & 0x80) !== 0;
    switch (off) {
      case 0:
        if (dlab) this.dll = v;
        else this.transmit(v);
        break;
      case 1:
        if (dlab) this.dlm = v;
        else {
          const newlyThre = (v & IER_THRE) && !(this.ier & IER_THRE);
          this.ier = v & 0x0f;
          // Enabling the THRE interrupt while THR is empty raises it at once (drivers rely on it).
          if (newlyThre) this.thriPending = true;
        }
        break;
      case 2: {
        const wasEnabled = this.fifoEnabled;
        this.fcr = v & 0xc9;
        if (v & 2 || this.fifoEnabled !== wasEnabled) {
          this.rx.length = 0;
          this.lsr &= ~LSR_DR;
        }
        this.fill();
        break;
      }
      case 3: this.lcr = v; break;
      case 4: this.mcr = v & 0x1f; break;
      case 5: break; // LSR is read-only (factory test writes ignored)
      case 6: break;
      default: this.scr = v;
    }
    this.update();
  }

  ports(): PortDevice {
    return {
      name: this.opts.name,
      ioRead: (off, size) => {
        let v = 0;
        for (let k = 0; k < size; k++) v |= this.readReg(off + k) << (8 * k);
        return v;
      },
      ioWrite: (off, size, value) => {
        for (let k = 0; k < size; k++) this.writeReg(off + k, (value >> (8 * k)) & 0xff);
      },
    };
  }

  save(): UartState {
    return {
      version: 1, ier: this.ier, lcr: this.lcr, mcr: this.mcr, lsr: this.lsr, msr: this.msr, scr: this.scr, fcr: this.fcr,
      dll: this.dll, dlm: this.dlm, rx: [...this.rx], backlog: [...this.backlog], thriPending: this.thriPending,
      timeoutPending: this.timeoutPending,
    };
  }

  restore(s: UartState): void {
    if (s.version !== 1) throw new Error(`UART state version ${s.version} is not supported`);
    Object.assign(this, {
      ier: s.ier, lcr: s.lcr, mcr: s.mcr, lsr: s.lsr, msr: s.msr, scr: s.scr, fcr: s.fcr, dll: s.dll, dlm: s.dlm,
      thriPending: s.thriPending, timeoutPending: s.timeoutPending,
    });
    this.rx = [...s.rx];
    this.backlog = [...s.backlog];
    this.lastIrq = !this.lastIrq;
    this.update();
  }
}

export { IER_RDA, IER_THRE, LSR_DR, LSR_THRE };
