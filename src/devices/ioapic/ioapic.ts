/**
 * Intel 82093AA I/O Advanced Programmable Interrupt Controller (82093AA datasheet, order number
 * 290566), memory-mapped at 0xFEC00000: IOREGSEL at offset 00h selects a register, IOWIN at 10h
 * reads or writes it.
 *
 * Registers: IOAPICID (00h), IOAPICVER (01h: version 11h, 24 redirection entries), IOAPICARB
 * (02h: the arbitration ID, loaded from the ID on an ID write), and the 24 64-bit redirection
 * table entries IOREDTBL0-23 (10h-3Fh). Each entry has a vector, a delivery mode (fixed,
 * lowest-priority, SMI, NMI, INIT, ExtINT), a destination mode (physical/logical), the delivery
 * status (always idle here: a message is delivered at once), the input pin polarity, Remote IRR,
 * the trigger mode and the mask.
 *
 * Inputs are electrical pin levels (`setIrq`). Polarity decides which level asserts: an
 * active-high pin asserts when high, an active-low one when low. The machine drives its lines
 * active-high, which is what the MADT we publish says. Edge-triggered pins send one message per
 * assertion (an edge while masked is lost, as on the chip); level-triggered pins send while
 * asserted, setting Remote IRR until the local APIC's EOI for that vector comes back (`eoi`), and
 * send again if the pin is still asserted then.
 *
 * Messages leave through the injected `deliver`, which the machine routes to the local APICs.
 */
import { logOnce } from '../../base/log.js';
import type { Snapshottable } from '../../base/snapshot.js';

export const IOAPIC_DEFAULT_BASE = 0xfec00000;
export const IOAPIC_PINS = 24;
export const IOAPIC_VERSION = 0x11;

/** An interrupt message for the local APICs (same shape as the local APIC's ApicMessage). */
export interface IoApicMessage {
  vector: number;
  /** 0 fixed, 1 lowest priority, 2 SMI, 4 NMI, 5 INIT, 7 ExtINT. */
  deliveryMode: number;
  destination: number;
  logical: boolean;
  levelTriggered: boolean;
  assert: boolean;
}

export interface IoApicOptions {
  /** Sends a message onto the APIC bus. */
  deliver: (msg: IoApicMessage) => void;
  /** Initial IOAPICID (bits 27:24 of register 00h). */
  id?: number;
}

const RTE_MASKED = 1 << 16;
const RTE_LEVEL = 1 << 15;
const RTE_REMOTE_IRR = 1 << 14;
const RTE_ACTIVE_LOW = 1 << 13;
/** Writable bits of an entry's low dword: delivery status (12) and Remote IRR (14) are read-only. */
const RTE_LO_WRITABLE = 0x0001afff;

export interface IoApicState {
  version: 1;
  id: number;
  arb: number;
  regsel: number;
  /** Low and high dwords of each redirection entry. */
  lo: number[];
  hi: number[];
  /** Electrical input levels, one bit per pin. */
  pins: number;
}

export class IoApic implements Snapshottable<IoApicState> {
  readonly name = 'ioapic';
  private id: number;
  private arb: number;
  private regsel = 0;
  private readonly lo = new Uint32Array(IOAPIC_PINS);
  private readonly hi = new Uint32Array(IOAPIC_PINS);
  private pins = 0;

  constructor(private readonly opts: IoApicOptions) {
    this.id = (opts.id ?? 0) & 0xf;
    this.arb = this.id;
    this.reset();
  }

  /** Power-up: every entry masked, the other entry fields cleared (undefined on the chip). */
  reset(): void {
    this.id = (this.opts.id ?? 0) & 0xf;
    this.arb = this.id;
    this.regsel = 0;
    this.lo.fill(RTE_MASKED);
    this.hi.fill(0);
  }

  // ---- input pins ------------------------------------------------------------------------------

  /** Drives input pin `n` (0-23) to an electrical level. */
  setIrq(n: number, level: boolean): void {
    if (n < 0 || n >= IOAPIC_PINS) return;
    const b = 1 << n;
    const old = (this.pins & b) !== 0;
    if (level) this.pins |= b;
    else this.pins &= ~b;
    if (old === level) {
      // No change: a level pin may still need servicing (e.g. after unmask), nothing for edge.
      return;
    }
    const lo = this.lo[n];
    const activeLow = (lo & RTE_ACTIVE_LOW) !== 0;
    const asserted = level !== activeLow;
    if (lo & RTE_LEVEL) {
      if (asserted) this.service(n);
    } else if (asserted && (lo & RTE_MASKED) === 0) {
      this.send(n);
    }
  }

  /** A line object for input pin `n`. */
  irqLine(n: number): { set(level: boolean): void } {
    return { set: (level) => this.setIrq(n, level) };
  }

  private asserted(n: number): boolean {
    return ((this.pins >> n) & 1) === 1 !== ((this.lo[n] & RTE_ACTIVE_LOW) !== 0);
  }

  /** A level-triggered pin sends when asserted, unmasked and not awaiting EOI. */
  private service(n: number): void {
    const lo = this.lo[n];
    if ((lo & RTE_LEVEL) === 0 || (lo & (RTE_MASKED | RTE_REMOTE_IRR)) !== 0 || !this.asserted(n)) return;
    // Remote IRR is set when the local APIC accepts the level interrupt; delivery is immediate here.
    this.lo[n] = lo | RTE_REMOTE_IRR;
    this.send(n);
  }

  private send(n: number): void {
    const lo = this.lo[n];
    const mode = (lo >> 8) & 7;
    if (mode === 3 || mode === 6) {
      logOnce('info', 'ioapic', `rsvd-dm-${n}`, `I/O APIC pin ${n} has reserved delivery mode ${mode}: dropped`);
      return;
    }
    this.opts.deliver({
      vector: lo & 0xff,
      deliveryMode: mode,
      destination: this.hi[n] >>> 24,
      logical: (lo & (1 << 11)) !== 0,
      levelTriggered: (lo & RTE_LEVEL) !== 0,
      assert: true,
    });
  }

  /**
   * EOI broadcast from a local APIC for a level-triggered `vector`: clears Remote IRR of every
   * level entry with that vector, and re-sends if its pin is still asserted.
   */
  eoi(vector: number): void {
    for (let n = 0; n < IOAPIC_PINS; n++) {
      const lo = this.lo[n];
      if ((lo & RTE_REMOTE_IRR) === 0 || (lo & 0xff) !== (vector & 0xff)) continue;
      this.lo[n] = lo & ~RTE_REMOTE_IRR;
      this.service(n);
    }
  }

  // ---- registers -------------------------------------------------------------------------------

  private readRegister(index: number): number {
    switch (index) {
      case 0x00: return this.id << 24;
      case 0x01: return ((IOAPIC_PINS - 1) << 16) | IOAPIC_VERSION;
      case 0x02: return this.arb << 24;
    }
    if (index >= 0x10 && index < 0x10 + 2 * IOAPIC_PINS) {
      const n = (index - 0x10) >> 1;
      return (index & 1 ? this.hi[n] : this.lo[n]) | 0;
    }
    logOnce('debug', 'ioapic', `rd${index}`, `read of undefined I/O APIC register 0x${index.toString(16)}`);
    return 0;
  }

  private writeRegister(index: number, v: number): void {
    v >>>= 0;
    if (index === 0x00) {
      this.id = (v >>> 24) & 0xf;
      // The arbitration ID is loaded from the APIC ID (datasheet 3.2.3).
      this.arb = this.id;
      return;
    }
    if (index >= 0x10 && index < 0x10 + 2 * IOAPIC_PINS) {
      const n = (index - 0x10) >> 1;
      if (index & 1) {
        this.hi[n] = v & 0xff000000;
        return;
      }
      let lo = (this.lo[n] & ~RTE_LO_WRITABLE) | (v & RTE_LO_WRITABLE);
      // Remote IRR is meaningless for edge-triggered entries.
      if ((lo & RTE_LEVEL) === 0) lo &= ~RTE_REMOTE_IRR;
      this.lo[n] = lo >>> 0;
      // Unmasking (or switching to level) with the pin asserted requests at once.
      this.service(n);
      return;
    }
    if (index !== 0x01 && index !== 0x02) {
      logOnce('debug', 'ioapic', `wr${index}`, `write of undefined I/O APIC register 0x${index.toString(16)}`);
    }
  }

  // ---- MMIO ------------------------------------------------------------------------------------

  mmioRead(offset: number, size: number): number {
    const mask = size === 4 ? 0xffffffff : (1 << (size * 8)) - 1;
    if (offset < 4) return ((this.regsel >>> (offset * 8)) & mask) | 0;
    if (offset >= 0x10 && offset < 0x14) {
      const v = this.readRegister(this.regsel);
      return size === 4 ? v : (v >>> ((offset - 0x10) * 8)) & mask;
    }
    return 0;
  }

  mmioWrite(offset: number, size: number, value: number): void {
    if (offset === 0) {
      // IOREGSEL: bits 7:0 select the register; the rest is reserved.
      this.regsel = value & 0xff;
      return;
    }
    if (offset >= 0x10 && offset < 0x14) {
      let v = value;
      if (size < 4) {
        // A narrow IOWIN write replaces only the addressed bytes of the register.
        const sh = (offset - 0x10) * 8;
        const m = (((1 << (size * 8)) - 1) << sh) >>> 0;
        v = (this.readRegister(this.regsel) & ~m) | ((value << sh) & m);
      }
      this.writeRegister(this.regsel, v);
    }
  }

  // ---- saved state -----------------------------------------------------------------------------

  save(): IoApicState {
    return {
      version: 1,
      id: this.id,
      arb: this.arb,
      regsel: this.regsel,
      lo: Array.from(this.lo),
      hi: Array.from(this.hi),
      pins: this.pins >>> 0,
    };
  }

  restore(s: IoApicState): void {
    if (s.version !== 1) throw new Error(`I/O APIC state version ${s.version} is not supported`);
    this.id = s.id;
    this.arb = s.arb;
    this.regsel = s.regsel;
    this.lo.set(s.lo);
    this.hi.set(s.hi);
    this.pins = s.pins | 0;
  }
}
