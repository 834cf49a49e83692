/**
 * National Semiconductor PC16550D UART (PC16550D datasheet), the PC's serial port: eight registers
 * from the base (RBR/THR/DLL, IER/DLM, IIR/FCR, LCR, MCR, LSR, MSR, SCR), the divisor latch
 * behind LCR.DLAB, 16-byte receiver FIFO with its four trigger levels, and the interrupt sources
 * in the IIR's priority order: receiver line status, then received data available / character
 * timeout, then transmitter holding register empty, then modem status. Loopback (MCR bit 4) feeds
 * the transmitter into the receiver and the modem control outputs into the modem status inputs.
 * On the PC the interrupt reaches the PIC through a buffer enabled by OUT2, whose pin loopback
 * forces inactive.
 *
 * Transmission is instantaneous: a byte written to THR goes to the output sink at once, so THR and
 * the transmitter are always empty again by the next access and the transmitter FIFO never fills.
 * Received bytes are pushed by the host; what the receiver FIFO cannot take waits in a backlog and
 * moves in as the guest reads (back-pressure instead of overruns). Character time, for the
 * receiver timeout, follows the divisor and the LCR frame format.
 */
import { logOnce } from '../../base/log.js';
import type { Snapshottable } from '../../base/snapshot.js';
import type { PortDevice } from '../../bus/port-bus.js';
import { IrqPin, type IrqTarget } from '../../bus/irq.js';
import type { Timer, TimerQueue, VirtualClock } from '../../bus/timer-queue.js';
import { ByteFifo } from './byte-fifo.js';

export const IER_ERBFI = 0x01, IER_ETBEI = 0x02, IER_ELSI = 0x04, IER_EDSSI = 0x08;
const IIR_NONE = 0x01, IIR_RLS = 0x06, IIR_RDA = 0x04, IIR_CTI = 0x0c, IIR_THRE = 0x02, IIR_MS = 0x00, IIR_FIFOS = 0xc0;
const FCR_FIFO_ENABLE = 0x01, FCR_RCVR_RESET = 0x02;
const LCR_DLAB = 0x80;
const MCR_DTR = 0x01, MCR_RTS = 0x02, MCR_OUT1 = 0x04, MCR_OUT2 = 0x08, MCR_LOOP = 0x10;
export const LSR_DR = 0x01, LSR_OE = 0x02, LSR_THRE = 0x20, LSR_TEMT = 0x40;
const MSR_DCTS = 0x01, MSR_DDSR = 0x02, MSR_TERI = 0x04, MSR_DDCD = 0x08;
const MSR_CTS = 0x10, MSR_DSR = 0x20, MSR_RI = 0x40, MSR_DCD = 0x80;
const TRIGGER_LEVELS = [1, 4, 8, 14];
/** The PC's 1.8432 MHz crystal divided by 16. */
const BAUD_BASE = 115200;

export interface UartOptions {
  name: string;
  clock: VirtualClock;
  timers: TimerQueue;
  irq?: IrqTarget;
  /** Bytes the guest transmits. */
  output: (byte: number) => void;
  /** The PC gates the interrupt with OUT2 (default); other boards wire INTR straight through. */
  out2GatesIrq?: boolean;
}

export interface UartState {
  version: 1;
  ier: number; lcr: number; mcr: number; fcr: number; scr: number; dll: number; dlm: number;
  overrun: boolean; msrDelta: number; msrLevels: number; modemInputs: number;
  thrInterrupt: boolean; timeoutInterrupt: boolean; timeoutAt: number;
  rx: number[]; backlog: number[];
}

export class Uart16550 implements Snapshottable<UartState> {
  ier = 0;
  lcr = 0;
  mcr = 0;
  fcr = 0;
  scr = 0;
  /** 9600 baud until the guest programs the divisor. */
  dll = 12;
  dlm = 0;
  private overrun = false;
  /** MSR bits 3-0 (changes since MSR was last read) and 7-4 (the levels they were computed from). */
  private msrDelta = 0;
  private msrLevels = 0;
  /** The host side's CTS/DSR/RI/DCD, in MSR bit positions: a connected terminal by default. */
  private modemInputs = MSR_CTS | MSR_DSR | MSR_DCD;
  /** THRE interrupt latched: set when THR empties or ETBEI is enabled, cleared by IIR read or THR write. */
  private thrInterrupt = false;
  private timeoutInterrupt = false;
  private timeoutAt = -1;
  private readonly rx = new ByteFifo(16);
  private readonly backlog = new ByteFifo(64, true);
  private readonly pin: IrqPin;
  private readonly timeoutTimer: Timer;
  bytesOut = 0;
  bytesIn = 0;

  constructor(private readonly opts: UartOptions) {
    this.pin = new IrqPin(opts.irq);
    this.timeoutTimer = opts.timers.timer(() => this.onTimeout());
    this.msrLevels = this.modemInputs;
  }

  get fifoEnabled(): boolean {
    return (this.fcr & FCR_FIFO_ENABLE) !== 0;
  }

  /** Host input (keyboard, pipe). Bytes beyond the receiver FIFO wait, in order. */
  receive(bytes: ArrayLike<number>): void {
    for (let k = 0; k < bytes.length; k++) this.backlog.push(bytes[k] & 0xff);
    this.fill();
    this.update();
  }

  /** Bytes waiting beyond the receiver FIFO. */
  get pendingInput(): number {
    return this.backlog.length;
  }

  /** The host's modem status inputs (what a terminal or modem would drive). */
  setModemInputs(lines: { cts?: boolean; dsr?: boolean; ri?: boolean; dcd?: boolean }): void {
    const bit = (on: boolean | undefined, mask: number) => (on === undefined ? this.modemInputs & mask : on ? mask : 0);
    this.modemInputs = bit(lines.cts, MSR_CTS) | bit(lines.dsr, MSR_DSR) | bit(lines.ri, MSR_RI) | bit(lines.dcd, MSR_DCD);
    this.modemChanged();
    this.update();
  }

  private rxCapacity(): number {
    return this.fifoEnabled ? 16 : 1;
  }

  /** Moves backlog bytes into the receiver while there is room (the serial input is cut in loopback). */
  private fill(): void {
    if (this.mcr & MCR_LOOP) return;
    let moved = false;
    const cap = this.rxCapacity();
    while (this.backlog.length > 0 && this.rx.length < cap) {
      this.rx.push(this.backlog.shift());
      this.bytesIn++;
      moved = true;
    }
    if (moved) this.restartTimeout();
  }

  /** Time for one character at the current divisor and frame (start, data, parity, stop bits). */
  private charNs(): number {
    let divisor = (this.dlm << 8) | this.dll;
    if (divisor === 0) {
      logOnce('warn', 'uart', `${this.opts.name}-div0`, `${this.opts.name}: divisor 0 is undefined; using 1`);
      divisor = 1;
    }
    const data = 5 + (this.lcr & 3);
    const stop = this.lcr & 4 ? (data === 5 ? 1.5 : 2) : 1;
    const bits = 1 + data + (this.lcr & 8 ? 1 : 0) + stop;
    return (bits * 1e9 * divisor) / BAUD_BASE;
  }

  /**
   * The character timeout: with the FIFO on and data in it, no byte in or out for 4 character
   * times. Every byte moved restarts the count; the indication itself is only cleared by reading.
   */
  private restartTimeout(): void {
    if (!this.fifoEnabled || this.rx.length === 0) {
      this.timeoutAt = -1;
      this.timeoutTimer.cancel();
      return;
    }
    this.timeoutAt = this.opts.clock.now() + 4 * this.charNs();
    this.timeoutTimer.arm(this.timeoutAt);
  }

  private onTimeout(): void {
    this.timeoutAt = -1;
    if (this.fifoEnabled && this.rx.length > 0) this.timeoutInterrupt = true;
    this.update();
  }

  /** The IIR for the highest-priority pending source. */
  private iir(): number {
    const fifo = this.fifoEnabled ? IIR_FIFOS : 0;
    const ier = this.ier;
    if (ier & IER_ELSI && this.overrun) return fifo | IIR_RLS;
    if (ier & IER_ERBFI) {
      const trigger = this.fifoEnabled ? TRIGGER_LEVELS[this.fcr >> 6] : 1;
      if (this.rx.length >= trigger) return fifo | IIR_RDA;
      if (this.timeoutInterrupt) return fifo | IIR_CTI;
    }
    if (ier & IER_ETBEI && this.thrInterrupt) return fifo | IIR_THRE;
    if (ier & IER_EDSSI && this.msrDelta) return fifo | IIR_MS;
    return fifo | IIR_NONE;
  }

  /** INTR, through the PC's OUT2 gate (whose pin loopback forces inactive). */
  private irqLevel(): boolean {
    const pending = (this.iir() & IIR_NONE) === 0;
    const gated = this.opts.out2GatesIrq ?? true;
    return pending && (!gated || (this.mcr & (MCR_OUT2 | MCR_LOOP)) === MCR_OUT2);
  }

  private update(): void {
    this.pin.set(this.irqLevel());
  }

  /** The modem status inputs the chip sees: the host's, or in loopback its own MCR outputs. */
  private modemChanged(): void {
    const m = this.mcr;
    const levels = m & MCR_LOOP
      ? (m & MCR_RTS ? MSR_CTS : 0) | (m & MCR_DTR ? MSR_DSR : 0) | (m & MCR_OUT1 ? MSR_RI : 0) | (m & MCR_OUT2 ? MSR_DCD : 0)
      : this.modemInputs;
    const changed = levels ^ this.msrLevels;
    if (changed & MSR_CTS) this.msrDelta |= MSR_DCTS;
    if (changed & MSR_DSR) this.msrDelta |= MSR_DDSR;
    if (changed & MSR_DCD) this.msrDelta |= MSR_DDCD;
    if (this.msrLevels & MSR_RI && !(levels & MSR_RI)) this.msrDelta |= MSR_TERI; // trailing edge of RI
    this.msrLevels = levels;
  }

  private transmit(b: number): void {
    this.bytesOut++;
    if (this.mcr & MCR_LOOP) {
      if (this.rx.length >= this.rxCapacity()) {
        this.overrun = true;
        // Without FIFOs the new character overwrites RBR; with them it is lost in the shift register.
        if (this.fifoEnabled) return;
        this.rx.clear();
      }
      this.rx.push(b);
      this.restartTimeout();
    } else {
      this.opts.output(b);
    }
  }

  readRegister(off: number): number {
    const dlab = (this.lcr & LCR_DLAB) !== 0;
    let v: number;
    switch (off & 7) {
      case 0:
        if (dlab) return this.dll;
        v = this.rx.length > 0 ? this.rx.shift() : 0;
        this.timeoutInterrupt = false;
        this.fill();
        this.restartTimeout();
        break;
      case 1:
        return dlab ? this.dlm : this.ier;
      case 2:
        v = this.iir();
        // Reading IIR while THRE is the reported source clears it.
        if ((v & 0x0f) === IIR_THRE) this.thrInterrupt = false;
        break;
      case 3:
        return this.lcr;
      case 4:
        return this.mcr;
      case 5:
        v = (this.rx.length > 0 ? LSR_DR : 0) | (this.overrun ? LSR_OE : 0) | LSR_THRE | LSR_TEMT;
        this.overrun = false;
        break;
      case 6:
        v = this.msrLevels | this.msrDelta;
        this.msrDelta = 0;
        break;
      default:
        return this.scr;
    }
    this.update();
    return v;
  }

  writeRegister(off: number, v: number): void {
    v &= 0xff;
    const dlab = (this.lcr & LCR_DLAB) !== 0;
    switch (off & 7) {
      case 0:
        if (dlab) {
          this.dll = v;
          return;
        }
        this.thrInterrupt = false;
        this.transmit(v);
        this.thrInterrupt = true; // THR is empty again at once
        break;
      case 1:
        if (dlab) {
          this.dlm = v;
          return;
        }
        // Enabling ETBEI while THR is empty raises the THRE interrupt straight away.
        if (v & IER_ETBEI && !(this.ier & IER_ETBEI)) this.thrInterrupt = true;
        this.ier = v & 0x0f;
        break;
      case 2:
        this.writeFcr(v);
        break;
      case 3:
        this.lcr = v;
        return;
      case 4: {
        const wasLoop = this.mcr & MCR_LOOP;
        this.mcr = v & 0x1f;
        this.modemChanged();
        if (wasLoop && !(this.mcr & MCR_LOOP)) this.fill();
        break;
      }
      case 7:
        this.scr = v;
        return;
      default:
        return; // LSR and MSR writes are factory test only
    }
    this.update();
  }

  private writeFcr(v: number): void {
    const enable = (v & FCR_FIFO_ENABLE) !== 0;
    // Changing FCR0 clears both FIFOs; the other bits are only programmed while FCR0 is 1.
    if (enable !== this.fifoEnabled || (enable && v & FCR_RCVR_RESET)) {
      this.rx.clear();
      this.timeoutInterrupt = false;
    }
    this.fcr = enable ? v & 0xc9 : 0;
    this.fill();
    this.restartTimeout();
  }

  /** Port device for the eight registers. */
  ports(): PortDevice {
    return {
      name: this.opts.name,
      ioRead: (off) => this.readRegister(off),
      ioWrite: (off, _size, v) => this.writeRegister(off, v),
    };
  }

  save(): UartState {
    return {
      version: 1, ier: this.ier, lcr: this.lcr, mcr: this.mcr, fcr: this.fcr, scr: this.scr, dll: this.dll, dlm: this.dlm,
      overrun: this.overrun, msrDelta: this.msrDelta, msrLevels: this.msrLevels, modemInputs: this.modemInputs,
      thrInterrupt: this.thrInterrupt, timeoutInterrupt: this.timeoutInterrupt, timeoutAt: this.timeoutAt,
      rx: this.rx.toArray(), backlog: this.backlog.toArray(),
    };
  }

  restore(s: UartState): void {
    if (s.version !== 1) throw new Error(`UART state version ${s.version} is not supported`);
    this.ier = s.ier; this.lcr = s.lcr; this.mcr = s.mcr; this.fcr = s.fcr; this.scr = s.scr;
    this.dll = s.dll; this.dlm = s.dlm;
    this.overrun = s.overrun; this.msrDelta = s.msrDelta; this.msrLevels = s.msrLevels; this.modemInputs = s.modemInputs;
    this.thrInterrupt = s.thrInterrupt; this.timeoutInterrupt = s.timeoutInterrupt; this.timeoutAt = s.timeoutAt;
    this.rx.clear();
    for (const b of s.rx) this.rx.push(b);
    this.backlog.clear();
    for (const b of s.backlog) this.backlog.push(b);
    if (this.timeoutAt >= 0) this.timeoutTimer.arm(this.timeoutAt);
    else this.timeoutTimer.cancel();
    this.pin.restoreLevel(this.irqLevel());
  }
}
