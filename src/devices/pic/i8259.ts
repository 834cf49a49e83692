/**
 * The PC's pair of Intel 8259A programmable interrupt controllers (8259A datasheet), master at
 * 0x20/0x21 with the slave cascaded on its IR2 at 0xA0/0xA1, plus the PIIX edge/level control
 * registers (ELCR) at 0x4D0/0x4D1. Implements ICW1-4, OCW1-3, IRR/ISR/IMR, fully nested priority
 * with rotation, specific and non-specific EOI, automatic EOI, special mask mode, poll mode and
 * the spurious IRQ 7/15 behaviour.
 */
import type { PortDevice } from '../../bus/port-bus.js';
import type { Snapshottable } from '../../base/snapshot.js';

/** One 8259A. */
class Chip {
  irr = 0;
  isr = 0;
  imr = 0xff;
  /** Input pin levels, for edge detection. */
  pins = 0;
  /** Level-triggered inputs (ELCR). */
  elcr = 0;
  base = 0;
  /** Lowest-priority IR + 1, mod 8 (rotation state): priority order starts here. */
  priorityAdd = 0;
  initStep = 0;
  needIcw4 = false;
  single = false;
  autoEoi = false;
  rotateOnAutoEoi = false;
  specialMask = false;
  readIsr = false;
  poll = false;
  icw3 = 0;
  /** Bits of ELCR that are writable (the master's IRQ 0-2 and slave's IRQ 8 and 13 are always edge). */
  constructor(readonly elcrMask: number) {}

  setPin(n: number, level: boolean): void {
    const m = 1 << n;
    if (this.elcr & m) {
      if (level) this.irr |= m;
      else this.irr &= ~m;
    } else if (level && (this.pins & m) === 0) {
      this.irr |= m;
    }
    if (level) this.pins |= m;
    else this.pins &= ~m;
  }

  /** The highest-priority IR set in `mask`, or 8 for none. */
  private priority(mask: number): number {
    if (mask === 0) return 8;
    let p = 0;
    while ((mask & (1 << ((p + this.priorityAdd) & 7))) === 0) p++;
    return p;
  }

  /** The IR to request, or -1: a pending unmasked request above everything in service. */
  pending(): number {
    const req = this.irr & ~this.imr;
    const p = this.priority(req);
    if (p === 8) return -1;
    let inService = this.isr;
    if (this.specialMask) inService &= ~this.imr;
    // The master in special fully nested mode would let the slave's IR through again; PCs don't use it.
    const ps = this.priority(inService);
    return p < ps ? (p + this.priorityAdd) & 7 : -1;
  }

  /** INTA for IR `n`: move it to service (unless auto-EOI) and drop an edge request. */
  ack(n: number): void {
    const m = 1 << n;
    if (this.autoEoi) {
      if (this.rotateOnAutoEoi) this.priorityAdd = (n + 1) & 7;
    } else this.isr |= m;
    if (!(this.elcr & m)) this.irr &= ~m;
  }

  writeCommand(v: number): void {
    if (v & 0x10) {
      // ICW1: edge mode is implied by our ELCR; LTIM (bit 3) would set all inputs level.
      this.initStep = 2;
      this.needIcw4 = (v & 1) !== 0;
      this.single = (v & 2) !== 0;
      this.imr = 0;
      this.isr = 0;
      this.irr = 0;
      this.priorityAdd = 0;
      this.specialMask = false;
      this.readIsr = false;
      this.autoEoi = false;
      this.rotateOnAutoEoi = false;
      return;
    }
    if (v & 0x08) {
      // OCW3
      if (v & 0x04) this.poll = true;
      if (v & 0x02) this.readIsr = (v & 0x01) !== 0;
      if (v & 0x40) this.specialMask = (v & 0x20) !== 0;
      return;
    }
    // OCW2
    const cmd = v >> 5;
    switch (cmd) {
      case 0: this.rotateOnAutoEoi = false; break;
      case 4: this.rotateOnAutoEoi = true; break;
      case 1:
      case 5: {
        const p = this.priority(this.isr);
        if (p !== 8) {
          const n = (p + this.priorityAdd) & 7;
          this.isr &= ~(1 << n);
          if (cmd === 5) this.priorityAdd = (n + 1) & 7;
        }
        break;
      }
      case 3:
      case 7: {
        const n = v & 7;
        this.isr &= ~(1 << n);
        if (cmd === 7) this.priorityAdd = (n + 1) & 7;
        break;
      }
      case 6: this.priorityAdd = ((v & 7) + 1) & 7; break;
      default: break; // 2: no operation
    }
  }

  writeData(v: number): void {
    switch (this.initStep) {
      case 2:
        this.base = v & 0xf8;
        this.initStep = this.single ? (this.needIcw4 ? 4 : 0) : 3;
        return;
      case 3:
        this.icw3 = v;
        this.initStep = this.needIcw4 ? 4 : 0;
        return;
      case 4:
        this.autoEoi = (v & 0x02) !== 0;
        this.initStep = 0;
        return;
      default:
        this.imr = v;
    }
  }

  readCommand(): number {
    return this.readIsr ? this.isr : this.irr;
  }
}

export interface PicState {
  version: 1;
  chips: {
    irr: number; isr: number; imr: number; pins: number; elcr: number; base: number; priorityAdd: number; initStep: number;
    needIcw4: boolean; single: boolean; autoEoi: boolean; rotateOnAutoEoi: boolean; specialMask: boolean; readIsr: boolean;
    poll: boolean; icw3: number;
  }[];
}

export class DualPic implements Snapshottable<PicState> {
  readonly master = new Chip(0xf8);
  readonly slave = new Chip(0xde);
  private lastOutput = false;
  /** Interrupt acknowledges and spurious interrupts, for statistics. */
  acks = 0;
  spurious = 0;

  /** `onIntr` follows the master's INT output (to the CPU's INTR pin or the LAPIC's LINT0). */
  constructor(private readonly onIntr: (level: boolean) => void = () => {}) {}

  /** Drives input IRQ `n` (0-15). */
  setIrq(n: number, level: boolean): void {
    if (n < 8) this.master.setPin(n, level);
    else this.slave.setPin(n - 8, level);
    this.update();
  }

  /** Recomputes the cascade and the master's output. */
  private update(): void {
    this.master.setPin(2, this.slave.pending() >= 0);
    const out = this.master.pending() >= 0;
    if (out !== this.lastOutput) {
      this.lastOutput = out;
      this.onIntr(out);
    }
  }

  hasInterrupt(): boolean {
    return this.master.pending() >= 0;
  }

  /** INTA cycle: the vector of the highest request, or the spurious vector (IR7 / IR15). */
  acknowledge(): number {
    this.acks++;
    const m = this.master.pending();
    let vector: number;
    if (m < 0) {
      this.spurious++;
      vector = this.master.base | 7;
    } else if (m === 2) {
      this.master.ack(2);
      const s = this.slave.pending();
      if (s < 0) {
        this.spurious++;
        vector = this.slave.base | 7;
      } else {
        this.slave.ack(s);
        vector = this.slave.base | s;
      }
    } else {
      this.master.ack(m);
      vector = this.master.base | m;
    }
    this.update();
    return vector;
  }

  /** Poll-mode read: acknowledges like INTA and returns 0x80 | IR, or 0 when nothing is pending. */
  private pollRead(chip: Chip): number {
    chip.poll = false;
    const n = chip.pending();
    if (n < 0) return 0;
    chip.ack(n);
    this.update();
    return 0x80 | n;
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
        v &= 0xff;
        if (off === 0) chip.writeCommand(v);
        else chip.writeData(v);
        this.update();
      },
    };
  }

  /** Port device for the ELCR pair at 0x4D0/0x4D1. */
  elcrPorts(): PortDevice {
    return {
      name: 'elcr',
      ioRead: (off) => (off === 0 ? this.master.elcr : this.slave.elcr),
      ioWrite: (off, _size, v) => {
        const chip = off === 0 ? this.master : this.slave;
        chip.elcr = v & chip.elcrMask;
        this.update();
      },
    };
  }

  save(): PicState {
    return {
      version: 1,
      chips: [this.master, this.slave].map((c) => ({
        irr: c.irr, isr: c.isr, imr: c.imr, pins: c.pins, elcr: c.elcr, base: c.base, priorityAdd: c.priorityAdd,
        initStep: c.initStep, needIcw4: c.needIcw4, single: c.single, autoEoi: c.autoEoi,
        rotateOnAutoEoi: c.rotateOnAutoEoi, specialMask: c.specialMask, readIsr: c.readIsr, poll: c.poll, icw3: c.icw3,
      })),
    };
  }

  restore(s: PicState): void {
    if (s.version !== 1) throw new Error(`PIC state version ${s.version} is not supported`);
    [this.master, this.slave].forEach((c, k) => Object.assign(c, s.chips[k]));
    this.lastOutput = this.master.pending() >= 0;
  }
}
