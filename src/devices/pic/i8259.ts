/**
 * The PC's pair of Intel 8259A programmable interrupt controllers (Intel 8259A datasheet), master
 * at 0x20/0x21 with the slave's INT wired to the master's IR2, slave at 0xA0/0xA1, plus the
 * PIIX-style Edge/Level Control Registers (ELCR) at 0x4D0/0x4D1.
 *
 * Modelled: ICW1-ICW4, OCW1-OCW3, IRR/ISR/IMR, edge and level triggering (ICW1 LTIM or ELCR),
 * fully nested priority with rotation (automatic and specific), non-specific and specific EOI,
 * automatic EOI, special mask mode, special fully nested mode on the master, poll mode, the
 * cascade through IR2, and spurious IR7/IR15 when a request vanishes before INTA.
 *
 * One deliberate deviation: on the chip an edge-triggered request must still be high at INTA or
 * the 8259A answers with IR7. Our devices signal edges as short pulses (the CPU takes the interrupt
 * later, at a block boundary), so an edge latched in IRR stays requested until acknowledged.
 */
import { logOnce } from '../../base/log.js';
import type { Snapshottable } from '../../base/snapshot.js';
import type { PortDevice } from '../../bus/port-bus.js';
import { IrqPin, type IrqLine, type IrqTarget } from '../../bus/irq.js';

/** The priority-ordered IR with a bit set in `bits`, given `lowest` (rotation), or -1. */
function highest(bits: number, lowest: number): number {
  if (bits === 0) return -1;
  for (let k = 1; k <= 8; k++) {
    const ir = (lowest + k) & 7;
    if (bits & (1 << ir)) return ir;
  }
  return -1;
}

/** One 8259A. Registers keep the datasheet's names. */
class Chip {
  irr = 0;
  isr = 0;
  imr = 0xff;
  /** Current input levels (edge detection, level-triggered requests). */
  pins = 0;
  elcr = 0;
  /** ICW1 */
  ltim = false;
  single = false;
  ic4 = false;
  /** ICW2: T7-T3 of the vector. */
  vectorBase = 0;
  /** ICW3: the master's slave bitmap, or the slave's ID. */
  icw3 = 0;
  /** ICW4 */
  upm = false;
  aeoi = false;
  sfnm = false;
  /** The IR with the lowest priority (7 after init: IR0 highest). */
  lowest = 7;
  /** Next ICW expected on the odd port (2-4), or 0 when initialised. */
  icwStep = 0;
  rotateInAeoi = false;
  specialMask = false;
  readIsr = false;
  poll = false;

  constructor(
    readonly name: string,
    /** ELCR bits this chip's PIIX lets software change. */
    readonly elcrWritable: number,
  ) {}

  levelMask(): number {
    return this.ltim ? 0xff : this.elcr;
  }

  setPin(ir: number, level: boolean): void {
    const m = 1 << ir;
    if (level && (this.pins & m) === 0 && (this.levelMask() & m) === 0) this.irr |= m; // rising edge
    this.pins = level ? this.pins | m : this.pins & ~m;
    this.syncLevelRequests();
  }

  /** Level-triggered IRR bits follow their inputs. */
  syncLevelRequests(): void {
    const lm = this.levelMask();
    this.irr = (this.irr & ~lm) | (this.pins & lm);
  }

  /** In-service bits that block lower priorities (special mask mode ignores masked ones). */
  private blocking(): number {
    return this.specialMask ? this.isr & ~this.imr : this.isr;
  }

  /** The IR this chip would present on INTA, or -1: the top unmasked request above all in service. */
  pending(): number {
    const req = highest(this.irr & ~this.imr, this.lowest);
    if (req < 0) return -1;
    const inService = highest(this.blocking(), this.lowest);
    if (inService < 0) return req;
    const pr = (req - this.lowest - 1) & 7;
    const ps = (inService - this.lowest - 1) & 7;
    if (pr < ps) return req;
    // Special fully nested mode: a cascaded slave may interrupt its own in-service level again.
    if (this.sfnm && pr === ps && !this.single && this.icw3 & (1 << req)) return req;
    return -1;
  }

  /** The acknowledge part of INTA (or a poll read) for `ir`. */
  ack(ir: number): void {
    const m = 1 << ir;
    if ((this.levelMask() & m) === 0) this.irr &= ~m;
    if (this.aeoi) {
      if (this.rotateInAeoi) this.lowest = ir;
    } else {
      this.isr |= m;
    }
  }

  writeCommand(v: number): void {
    if (v & 0x10) return this.icw1(v);
    if (v & 0x08) {
      // OCW3: ESMM/SMM, P, RR/RIS.
      if (v & 0x40) this.specialMask = (v & 0x20) !== 0;
      if (v & 0x04) this.poll = true;
      if (v & 0x02) this.readIsr = (v & 0x01) !== 0;
      return;
    }
    this.ocw2(v);
  }

  private icw1(v: number): void {
    // "The edge sense circuit is reset": a high input must go low and high again to request.
    this.ic4 = (v & 0x01) !== 0;
    this.single = (v & 0x02) !== 0;
    this.ltim = (v & 0x08) !== 0;
    this.imr = 0;
    this.isr = 0;
    this.irr = 0;
    this.syncLevelRequests();
    this.lowest = 7;
    this.specialMask = false;
    this.readIsr = false;
    this.poll = false;
    this.rotateInAeoi = false;
    // Without IC4 every ICW4 function is cleared.
    this.upm = false;
    this.aeoi = false;
    this.sfnm = false;
    this.icwStep = 2;
  }

  private ocw2(v: number): void {
    const level = v & 7;
    switch (v >> 5) {
      case 0b001: // non-specific EOI
      case 0b101: { // rotate on non-specific EOI
        const ir = highest(this.blocking(), this.lowest);
        if (ir < 0) return;
        this.isr &= ~(1 << ir);
        if (v & 0x80) this.lowest = ir;
        return;
      }
      case 0b011: // specific EOI
        this.isr &= ~(1 << level);
        return;
      case 0b111: // rotate on specific EOI
        this.isr &= ~(1 << level);
        this.lowest = level;
        return;
      case 0b100:
        this.rotateInAeoi = true;
        return;
      case 0b000:
        this.rotateInAeoi = false;
        return;
      case 0b110: // set priority: `level` becomes the lowest
        this.lowest = level;
        return;
      default: // 0b010: no operation
        return;
    }
  }

  writeData(v: number): void {
    switch (this.icwStep) {
      case 2:
        this.vectorBase = v & 0xf8;
        this.icwStep = this.single ? (this.ic4 ? 4 : 0) : 3;
        break;
      case 3:
        this.icw3 = v;
        this.icwStep = this.ic4 ? 4 : 0;
        break;
      case 4:
        this.upm = (v & 0x01) !== 0;
        this.aeoi = (v & 0x02) !== 0;
        this.sfnm = (v & 0x10) !== 0;
        this.icwStep = 0;
        break;
      default:
        this.imr = v; // OCW1
        return;
    }
    if (this.icwStep === 0 && !this.upm) {
      logOnce('warn', 'pic', `${this.name}-mcs80`, `${this.name} 8259A initialised for MCS-80/85 mode; vectors are delivered as in 8086 mode`);
    }
  }

  /** What a read of the even port returns (outside poll mode). */
  readCommand(): number {
    return this.readIsr ? this.isr : this.irr;
  }
}

export interface PicChipState {
  irr: number; isr: number; imr: number; pins: number; elcr: number;
  ltim: boolean; single: boolean; ic4: boolean; vectorBase: number; icw3: number;
  upm: boolean; aeoi: boolean; sfnm: boolean; lowest: number; icwStep: number;
  rotateInAeoi: boolean; specialMask: boolean; readIsr: boolean; poll: boolean;
}

export interface PicState {
  version: 1;
  master: PicChipState;
  slave: PicChipState;
}

const CHIP_FIELDS: (keyof PicChipState)[] = [
  'irr', 'isr', 'imr', 'pins', 'elcr', 'ltim', 'single', 'ic4', 'vectorBase', 'icw3', 'upm', 'aeoi', 'sfnm',
  'lowest', 'icwStep', 'rotateInAeoi', 'specialMask', 'readIsr', 'poll',
];

export class DualPic implements Snapshottable<PicState> {
  /** The PIIX fixes IRQ 0, 1, 2 (master) and 8, 13 (slave) as edge-triggered. */
  readonly master = new Chip('master', 0xf8);
  readonly slave = new Chip('slave', 0xde);
  private readonly intr: IrqPin;
  /** INTA cycles and the spurious vectors among them, for statistics. */
  acks = 0;
  spurious = 0;

  /** `onIntr` follows the master's INT output (the CPU's INTR pin). */
  constructor(onIntr?: IrqTarget) {
    this.intr = new IrqPin(onIntr);
  }

  /** Drives input IRQ `n` (0-15). */
  setIrq(n: number, level: boolean): void {
    if (n < 8) this.master.setPin(n, level);
    else this.slave.setPin(n & 7, level);
    this.update();
  }

  /** A line object for input IRQ `n`, for wiring devices. */
  irqLine(n: number): IrqLine {
    return { set: (level) => this.setIrq(n, level) };
  }

  /** The master's INT output. */
  get intrLevel(): boolean {
    return this.intr.level;
  }

  hasInterrupt(): boolean {
    return this.master.pending() >= 0;
  }

  /** A full INTA sequence: returns the vector (IR7/IR15's for a vanished request). */
  acknowledge(): number {
    this.acks++;
    const m = this.master;
    const ir = m.pending();
    let vector: number;
    if (ir < 0) {
      // Nothing left to serve: the master answers with IR7 and sets no ISR bit.
      this.spurious++;
      vector = m.vectorBase | 7;
    } else if (this.isCascade(ir)) {
      m.ack(ir);
      // The slave supplies the vector; the master's IR2 is in service either way.
      const s = this.slave.pending();
      if (s < 0) {
        this.spurious++;
        vector = this.slave.vectorBase | 7;
      } else {
        this.slave.ack(s);
        vector = this.slave.vectorBase | s;
      }
    } else {
      m.ack(ir);
      vector = m.vectorBase | ir;
    }
    this.update();
    return vector;
  }

  /** The master forwards INTA on IR2 to the slave when ICW3 says a slave hangs there. */
  private isCascade(ir: number): boolean {
    return ir === 2 && !this.master.single && (this.master.icw3 & 0x04) !== 0;
  }

  /** Recomputes the slave's INT (the master's IR2 input) and the master's INT. */
  private update(): void {
    const slaveInt = this.slave.pending() >= 0;
    if (slaveInt !== ((this.master.pins & 4) !== 0)) this.master.setPin(2, slaveInt);
    this.intr.set(this.master.pending() >= 0);
  }

  /** Poll command: the read acts as INTA and returns I (bit 7) and the level, or 0. */
  private pollRead(chip: Chip): number {
    chip.poll = false;
    const ir = chip.pending();
    if (ir < 0) return 0;
    chip.ack(ir);
    this.update();
    return 0x80 | ir;
  }

  /** Port device for 0x20/0x21 (master) or 0xA0/0xA1 (slave). */
  ports(which: 'master' | 'slave'): PortDevice {
    const chip = which === 'master' ? this.master : this.slave;
    return {
      name: `pic-${which}`,
      ioRead: (off) => {
        if (chip.poll) return this.pollRead(chip);
        return off === 0 ? chip.readCommand() : chip.imr;
      },
      ioWrite: (off, _size, v) => {
        if (off === 0) chip.writeCommand(v);
        else chip.writeData(v);
        this.update();
      },
    };
  }

  /** Port device for the ELCR pair at 0x4D0 (IRQ 0-7) / 0x4D1 (IRQ 8-15). */
  elcrPorts(): PortDevice {
    return {
      name: 'elcr',
      ioRead: (off) => (off === 0 ? this.master.elcr : this.slave.elcr),
      ioWrite: (off, _size, v) => {
        const chip = off === 0 ? this.master : this.slave;
        chip.elcr = v & chip.elcrWritable;
        chip.syncLevelRequests();
        this.update();
      },
    };
  }

  save(): PicState {
    const one = (c: Chip): PicChipState => {
      const o: Record<string, number | boolean> = {};
      for (const f of CHIP_FIELDS) o[f] = c[f];
      return o as unknown as PicChipState;
    };
    return { version: 1, master: one(this.master), slave: one(this.slave) };
  }

  restore(s: PicState): void {
    if (s.version !== 1) throw new Error(`PIC state version ${s.version} is not supported`);
    for (const [c, cs] of [[this.master, s.master], [this.slave, s.slave]] as const) {
      for (const f of CHIP_FIELDS) (c as unknown as Record<string, unknown>)[f] = cs[f];
    }
    this.intr.restoreLevel(this.master.pending() >= 0);
  }
}
