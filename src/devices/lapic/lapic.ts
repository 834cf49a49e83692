/**
 * Local APIC in xAPIC mode (Intel SDM vol. 3A, chapter 10 "Advanced Programmable Interrupt
 * Controller"), memory-mapped at IA32_APIC_BASE (0xFEE00000, one 4 KiB page).
 *
 * Modelled: ID, version (0x00050014: version 14h, six LVT entries), TPR/APR/PPR, EOI with the
 * EOI broadcast of level-triggered vectors to the I/O APIC, LDR/DFR (flat and cluster logical
 * destinations), SVR (software enable, spurious vector, focus bit stored), the 256-bit ISR/TMR/IRR,
 * ESR with its write-to-latch protocol, the ICR (fixed, lowest-priority, NMI, INIT, start-up and
 * ExtINT delivery; no/self/all/all-but-self shorthands), the LVT timer in one-shot and periodic
 * mode (TSC-deadline is not offered: CPUID must not advertise it), LVT LINT0/LINT1 (ExtINT from the
 * 8259A, NMI, fixed edge/level with remote IRR), LVT error, thermal and performance-counter LVTs
 * (stored only: nothing drives them), the timer's initial/current count and divide configuration.
 *
 * The timer runs on guest time: the current count is computed from the nanoseconds elapsed since
 * the count was loaded at a configurable bus (timer input) frequency, and expiries are scheduled
 * on the timer queue, so nothing ticks per count.
 *
 * IA32_APIC_BASE (MSR 1Bh) semantics (SDM 10.4.3/10.4.4): clearing the global enable bit puts the
 * APIC in the hardware-disabled state, where the processor behaves as one without an APIC: its
 * INTR and NMI pins are the LINT0 and LINT1 inputs directly, so the 8259A reaches the CPU with no
 * LVT programming (this is our "PIC mode"). Disabling resets the APIC's registers to their
 * power-up values; re-enabling starts from those values (as on hardware, where state is lost).
 * After power-up the APIC is hardware-enabled but software-disabled (SVR bit 8 clear), every LVT is
 * masked, and nothing from the 8259A gets through until firmware sets up virtual-wire mode (LINT0
 * = ExtINT, LINT1 = NMI). With no firmware in direct kernel boot, the machine calls
 * `firmwareVirtualWire()` to do what the BIOS would (MP specification, virtual wire mode).
 *
 * With one CPU, IPIs addressed to this APIC (including the self shorthand) are accepted here, and
 * every IPI that may target another APIC is handed to the injected `sendIpi` for a later SMP
 * machine.
 */
import { log, logOnce } from '../../base/log.js';
import type { Snapshottable } from '../../base/snapshot.js';
import { IrqPin, type IrqTarget } from '../../bus/irq.js';
import type { Timer, TimerQueue, VirtualClock } from '../../bus/timer-queue.js';

export const LAPIC_DEFAULT_BASE = 0xfee00000;
/** Version register: version 14h (integrated APIC), max LVT entry 5 (six LVTs), no EOI-broadcast suppression. */
export const LAPIC_VERSION = 0x00050014;
export const DEFAULT_APIC_BUS_HZ = 100_000_000;

/** Delivery modes, as encoded in the ICR, the LVTs and I/O APIC redirection entries. */
export const DM_FIXED = 0;
export const DM_LOWEST = 1;
export const DM_SMI = 2;
export const DM_NMI = 4;
export const DM_INIT = 5;
export const DM_STARTUP = 6;
export const DM_EXTINT = 7;

/** ICR destination shorthands (bits 19:18). */
export const SH_NONE = 0;
export const SH_SELF = 1;
export const SH_ALL = 2;
export const SH_ALL_BUT_SELF = 3;

/**
 * An interrupt message on the APIC bus (from an I/O APIC, an IPI, later an MSI). Devices that
 * produce messages define the same shape; the machine passes them to `receive` of each local APIC.
 */
export interface ApicMessage {
  vector: number;
  deliveryMode: number;
  /** Physical APIC ID, or a logical destination (flat/cluster), per `logical`. 0xFF broadcasts. */
  destination: number;
  logical: boolean;
  /** Level-triggered (sets TMR, EOI is broadcast) or edge. */
  levelTriggered: boolean;
  /** Assert (true) or de-assert (false: only meaningful for INIT level de-assert). */
  assert: boolean;
}

/** An IPI leaving this APIC for the others: the message plus the ICR shorthand and its source. */
export interface ApicIpi extends ApicMessage {
  shorthand: number;
  sourceId: number;
}

/** The 8259A as seen from LINT0 in ExtINT mode (INTA cycles go to it). */
export interface ExtIntSource {
  hasInterrupt(): boolean;
  acknowledge(): number;
}

export interface LapicOptions {
  clock: VirtualClock;
  timers: TimerQueue;
  /** Initial APIC ID (also the CPUID.1:EBX[31:24] value the CPU reports). */
  apicId?: number;
  /** Bootstrap processor flag in IA32_APIC_BASE (bit 8). Default true. */
  bsp?: boolean;
  /** Frequency of the timer's input clock (the bus clock before the divider), in Hz. */
  busHz?: number;
  /** The CPU's INTR input: high while `hasInterrupt()` is true. */
  onIntr?: IrqTarget;
  /** Raises an NMI on the CPU (LINT1 in NMI mode, NMI IPIs, NMI messages). */
  onNmi?: () => void;
  /** EOI of a level-triggered vector: broadcast to the I/O APICs so they clear Remote IRR. */
  onEoi?: (vector: number) => void;
  /** IPIs that may be for other APICs (all but the self shorthand and physical self destination). */
  sendIpi?: (ipi: ApicIpi) => void;
  /** INIT and start-up messages received (the SMP machine resets / starts the vCPU). */
  onInit?: () => void;
  onStartup?: (vector: number) => void;
  /** The 8259A's interrupt-acknowledge path, used for ExtINT delivery. */
  pic?: ExtIntSource;
  /** IA32_APIC_BASE changed base or global enable: the machine moves or unmaps the MMIO page. */
  onBaseChange?: (base: number, enabled: boolean) => void;
}

// Register offsets (SDM table 10-1).
const REG_ID = 0x020, REG_VERSION = 0x030, REG_TPR = 0x080, REG_APR = 0x090, REG_PPR = 0x0a0;
const REG_EOI = 0x0b0, REG_RRD = 0x0c0, REG_LDR = 0x0d0, REG_DFR = 0x0e0, REG_SVR = 0x0f0;
const REG_ISR = 0x100, REG_TMR = 0x180, REG_IRR = 0x200, REG_ESR = 0x280, REG_CMCI = 0x2f0;
const REG_ICR_LO = 0x300, REG_ICR_HI = 0x310, REG_LVT_TIMER = 0x320, REG_LVT_ERROR = 0x370;
const REG_TIMER_ICR = 0x380, REG_TIMER_CCR = 0x390, REG_TIMER_DCR = 0x3e0;

/** LVT indices: timer, thermal, performance counter, LINT0, LINT1, error (register order). */
export const LVT_TIMER = 0, LVT_THERMAL = 1, LVT_PERF = 2, LVT_LINT0 = 3, LVT_LINT1 = 4, LVT_ERROR = 5;
const LVT_MASKED = 1 << 16;
const LVT_LEVEL = 1 << 15;
const LVT_REMOTE_IRR = 1 << 14;
const LVT_TIMER_PERIODIC = 1 << 17;
/** Writable bits per LVT: delivery status and remote IRR are read-only; TSC-deadline mode (bit 18) is not offered. */
const LVT_WRITABLE = [0x000300ff, 0x000107ff, 0x000107ff, 0x0001a7ff, 0x0001a7ff, 0x000100ff];

const SVR_ENABLE = 1 << 8;
/** ICR low: vector, delivery mode, destination mode, level, trigger, shorthand (delivery status is read-only). */
const ICR_LO_WRITABLE = 0x000ccfff;

// ESR bits (SDM 10.5.3).
export const ESR_SEND_ILLEGAL_VECTOR = 1 << 5;
export const ESR_RECEIVE_ILLEGAL_VECTOR = 1 << 6;
export const ESR_ILLEGAL_REGISTER = 1 << 7;

const APIC_BASE_BSP = 1 << 8;
const APIC_BASE_ENABLE = 1 << 11;

/** Index of the highest set bit in a 256-bit vector set, or -1. */
function highestBit(v: Uint32Array): number {
  for (let w = 7; w >= 0; w--) {
    const x = v[w];
    if (x !== 0) return w * 32 + 31 - Math.clz32(x);
  }
  return -1;
}
const testBit = (v: Uint32Array, n: number): boolean => (v[n >>> 5] & (1 << (n & 31))) !== 0;
const setBit = (v: Uint32Array, n: number): void => { v[n >>> 5] |= 1 << (n & 31); };
const clearBit = (v: Uint32Array, n: number): void => { v[n >>> 5] &= ~(1 << (n & 31)); };

export interface LapicState {
  version: 1;
  apicBase: number;
  hwEnabled: boolean;
  id: number;
  tpr: number;
  ldr: number;
  dfr: number;
  svr: number;
  isr: number[];
  tmr: number[];
  irr: number[];
  esr: number;
  esrPending: number;
  icrLo: number;
  icrHi: number;
  lvt: number[];
  timerInitial: number;
  timerDivide: number;
  /** Guest ns at which the current count run started, the count it started from, running or stopped. */
  timerStartNs: number;
  timerStartCount: number;
  timerRunning: boolean;
  /** Index of the next expiry to signal (0 = the end of the first run). */
  timerNextExpiry: number;
  lint0: boolean;
  lint1: boolean;
  extIntPending: boolean;
}

export class LocalApic implements Snapshottable<LapicState> {
  readonly name = 'lapic';
  private readonly clock: VirtualClock;
  private readonly busHz: number;
  private readonly intr: IrqPin;
  private readonly timer: Timer;
  private readonly bsp: boolean;
  private readonly initialId: number;

  private apicBase: number;
  private hwEnabled = true;
  private id = 0;
  private tpr = 0;
  private ldr = 0;
  private dfr = 0xffffffff;
  private svr = 0xff;
  private readonly isr = new Uint32Array(8);
  private readonly tmr = new Uint32Array(8);
  private readonly irr = new Uint32Array(8);
  private esr = 0;
  /** Errors detected since the last ESR write (the ESR shows them only after the next write). */
  private esrPending = 0;
  private icrLo = 0;
  private icrHi = 0;
  private readonly lvt = new Uint32Array(6);
  private timerInitial = 0;
  private timerDivide = 0;
  private timerStartNs = 0;
  private timerStartCount = 0;
  private timerRunning = false;
  private timerNextExpiry = 0;
  private lint0 = false;
  private lint1 = false;
  /** An ExtINT message (from the I/O APIC) waiting for its INTA cycle on the 8259A. */
  private extIntPending = false;

  constructor(private readonly opts: LapicOptions) {
    this.clock = opts.clock;
    this.busHz = opts.busHz ?? DEFAULT_APIC_BUS_HZ;
    this.bsp = opts.bsp ?? true;
    this.initialId = (opts.apicId ?? 0) & 0xff;
    this.apicBase = LAPIC_DEFAULT_BASE | APIC_BASE_ENABLE | (this.bsp ? APIC_BASE_BSP : 0);
    this.intr = new IrqPin(opts.onIntr);
    this.timer = opts.timers.timer((deadline) => this.timerExpired(deadline));
    this.resetRegisters();
  }

  // ---- power-up, INIT, firmware ---------------------------------------------------------------

  /** Power-up/INIT values of every register but the APIC ID (SDM 10.4.7.1). */
  private resetRegisters(): void {
    this.id = this.initialId << 24;
    this.tpr = 0;
    this.ldr = 0;
    this.dfr = 0xffffffff;
    this.svr = 0xff;
    this.isr.fill(0);
    this.tmr.fill(0);
    this.irr.fill(0);
    this.esr = this.esrPending = 0;
    this.icrLo = this.icrHi = 0;
    this.lvt.fill(LVT_MASKED);
    this.timerInitial = this.timerDivide = 0;
    this.timerRunning = false;
    this.timerNextExpiry = 0;
    this.timer.cancel();
    this.extIntPending = false;
  }

  /** A full processor reset: IA32_APIC_BASE back to its default too. */
  reset(): void {
    this.apicBase = LAPIC_DEFAULT_BASE | APIC_BASE_ENABLE | (this.bsp ? APIC_BASE_BSP : 0);
    this.hwEnabled = true;
    this.resetRegisters();
    this.update();
  }

  /** INIT: registers to power-up values; the APIC ID and IA32_APIC_BASE are kept. */
  init(): void {
    const id = this.id;
    this.resetRegisters();
    this.id = id;
    this.update();
  }

  /**
   * What a BIOS does before handing over to an OS (MP specification 3.6.2.2, virtual wire mode):
   * software-enable the APIC with spurious vector FFh, LINT0 as ExtINT from the 8259A, LINT1 as NMI.
   */
  firmwareVirtualWire(): void {
    this.svr = SVR_ENABLE | 0xff;
    this.lvt[LVT_LINT0] = DM_EXTINT << 8;
    this.lvt[LVT_LINT1] = DM_NMI << 8;
    this.update();
  }

  // ---- IA32_APIC_BASE ---------------------------------------------------------------------------

  /** IA32_APIC_BASE as RDMSR returns it (low and high dwords). */
  readApicBase(): [number, number] {
    return [this.apicBase | 0, 0];
  }

  /**
   * WRMSR IA32_APIC_BASE. Returns false if the value must raise #GP: reserved bits, x2APIC enable
   * (not offered), a base above 4 GiB (our physical addresses are 32-bit).
   */
  writeApicBase(lo: number, hi: number): boolean {
    lo >>>= 0;
    if (hi !== 0 || (lo & 0x6ff) !== 0 || (lo & (1 << 10)) !== 0) return false;
    const wasEnabled = this.hwEnabled;
    const oldBase = this.base;
    // BSP is read-only.
    this.apicBase = (lo & ~APIC_BASE_BSP) | (this.bsp ? APIC_BASE_BSP : 0);
    this.hwEnabled = (lo & APIC_BASE_ENABLE) !== 0;
    if (wasEnabled && !this.hwEnabled) {
      // Hardware disable loses the APIC's state (SDM 10.4.3).
      this.resetRegisters();
      log('info', 'lapic', 'local APIC globally disabled: the 8259A drives INTR directly');
    }
    if (oldBase !== this.base || wasEnabled !== this.hwEnabled) this.opts.onBaseChange?.(this.base, this.hwEnabled);
    this.update();
    return true;
  }

  /** Physical base of the register page. */
  get base(): number {
    return (this.apicBase & 0xfffff000) >>> 0;
  }

  get enabled(): boolean {
    return this.hwEnabled;
  }

  get softwareEnabled(): boolean {
    return (this.svr & SVR_ENABLE) !== 0;
  }

  get apicId(): number {
    return this.id >>> 24;
  }

  // ---- CPU-side interface -----------------------------------------------------------------------

  /** Whether LINT0 passes the 8259A's INTR (ExtINT, unmasked). */
  private extIntThroughLint0(): boolean {
    const l = this.lvt[LVT_LINT0];
    return (l & LVT_MASKED) === 0 && ((l >> 8) & 7) === DM_EXTINT && this.lint0 && (this.opts.pic?.hasInterrupt() ?? false);
  }

  /** True when the CPU should take an interrupt: ExtINT, or the highest IRR vector's class above PPR. */
  hasInterrupt(): boolean {
    if (!this.hwEnabled) return this.lint0 && (this.opts.pic?.hasInterrupt() ?? false);
    if (this.extIntPending || this.extIntThroughLint0()) return true;
    const v = highestBit(this.irr);
    return v >= 0 && (v & 0xf0) > (this.ppr() & 0xf0);
  }

  /**
   * The INTA cycle: the 8259A's vector for ExtINT, else the highest deliverable IRR vector moves
   * to ISR. If nothing is deliverable any more (TPR raised since INTR was seen), the spurious
   * vector is returned and no ISR bit is set (SDM 10.9).
   */
  acknowledge(): number {
    const pic = this.opts.pic;
    if (!this.hwEnabled || this.extIntPending || this.extIntThroughLint0()) {
      this.extIntPending = false;
      const v = pic ? pic.acknowledge() : this.svr & 0xff;
      this.update();
      return v;
    }
    const v = highestBit(this.irr);
    if (v < 0 || (v & 0xf0) <= (this.ppr() & 0xf0)) {
      this.update();
      return this.svr & 0xff;
    }
    clearBit(this.irr, v);
    setBit(this.isr, v);
    this.update();
    return v;
  }

  /**
   * Accepts a fixed interrupt (I/O APIC, MSI, the LVTs): sets IRR, and TMR for level-triggered
   * vectors so their EOI is broadcast. Vectors 0-15 are illegal and only set an ESR bit.
   */
  acceptInterrupt(vector: number, levelTriggered: boolean): void {
    vector &= 0xff;
    if (vector < 16) {
      this.error(ESR_RECEIVE_ILLEGAL_VECTOR);
      return;
    }
    setBit(this.irr, vector);
    if (levelTriggered) setBit(this.tmr, vector);
    else clearBit(this.tmr, vector);
    this.update();
  }

  /** Whether a message's destination selects this APIC (physical ID, flat or cluster logical, broadcast). */
  matchesDestination(destination: number, logical: boolean): boolean {
    const dest = destination & 0xff;
    if (!logical) return dest === 0xff || dest === this.apicId;
    if (dest === 0xff) return true;
    const ldr = this.ldr >>> 24;
    if ((this.dfr >>> 28) === 0xf) return (ldr & dest) !== 0; // flat model
    // Cluster model: high nibble is the cluster (0xF broadcasts to all clusters), low nibble a bitmap.
    const cluster = dest >> 4;
    return (cluster === 0xf || cluster === ldr >> 4) && (dest & ldr & 0xf) !== 0;
  }

  /**
   * A message from the APIC bus (I/O APIC, another APIC's IPI, MSI). Returns whether this APIC
   * was a destination. Lowest-priority arbitration among several APICs is the machine's job; one
   * APIC that matches simply accepts.
   */
  receive(msg: ApicMessage): boolean {
    if (!this.hwEnabled) return false;
    if (!this.matchesDestination(msg.destination, msg.logical)) return false;
    this.deliverLocally(msg.deliveryMode, msg.vector, msg.levelTriggered, msg.assert);
    return true;
  }

  private deliverLocally(mode: number, vector: number, levelTriggered: boolean, assert: boolean): void {
    switch (mode) {
      case DM_FIXED:
      case DM_LOWEST:
        // A software-disabled APIC does not accept fixed interrupts (only NMI, INIT, start-up...).
        if (!this.softwareEnabled) {
          logOnce('debug', 'lapic', 'sw-disabled-fixed', `fixed interrupt ${vector} dropped: APIC software-disabled`);
          return;
        }
        this.acceptInterrupt(vector, levelTriggered);
        return;
      case DM_NMI:
        this.opts.onNmi?.();
        return;
      case DM_INIT:
        // INIT level de-assert (assert = 0, level trigger) is a no-op on Pentium 4 and later.
        if (!assert && levelTriggered) return;
        if (this.opts.onInit) this.opts.onInit();
        else logOnce('info', 'lapic', 'init', 'INIT delivered to the local APIC with no handler: ignored');
        return;
      case DM_STARTUP:
        if (this.opts.onStartup) this.opts.onStartup(vector & 0xff);
        else logOnce('info', 'lapic', 'sipi', 'start-up IPI delivered with no handler: ignored');
        return;
      case DM_EXTINT:
        this.extIntPending = true;
        this.update();
        return;
      default:
        logOnce('info', 'lapic', `dm${mode}`, `delivery mode ${mode} (SMI or reserved) not supported: dropped`);
    }
  }

  /** Level of the LINT0 input (the 8259A's INT output in a PC). */
  setLint0(level: boolean): void {
    const old = this.lint0;
    this.lint0 = level;
    this.lintChanged(LVT_LINT0, old, level);
  }

  /** Level of the LINT1 input (NMI sources in a PC). */
  setLint1(level: boolean): void {
    const old = this.lint1;
    this.lint1 = level;
    if (!this.hwEnabled) {
      // Hardware-disabled: LINT1 is the processor's NMI pin.
      if (level && !old) this.opts.onNmi?.();
      return;
    }
    this.lintChanged(LVT_LINT1, old, level);
  }

  private lintChanged(index: number, old: boolean, level: boolean): void {
    const l = this.lvt[index];
    const mode = (l >> 8) & 7;
    if (this.hwEnabled && (l & LVT_MASKED) === 0) {
      if (mode === DM_FIXED) {
        // Polarity (bit 13) inverts the input; level-triggered inputs use the LVT's remote IRR.
        const activeLow = (l & (1 << 13)) !== 0;
        const was = old !== activeLow, now = level !== activeLow;
        if (l & LVT_LEVEL) {
          if (now && (l & LVT_REMOTE_IRR) === 0) {
            this.lvt[index] |= LVT_REMOTE_IRR;
            this.acceptInterrupt(l & 0xff, true);
          }
        } else if (now && !was) {
          this.acceptInterrupt(l & 0xff, false);
        }
      } else if (mode === DM_NMI) {
        if (level && !old) this.opts.onNmi?.();
      } else if (mode !== DM_EXTINT) {
        if (level && !old) this.deliverLocally(mode, l & 0xff, false, true);
      }
    }
    this.update();
  }

  // ---- priorities ------------------------------------------------------------------------------

  /** Processor priority: TPR, or the in-service class when that is higher (SDM 10.8.3.1). */
  private ppr(): number {
    const isrv = highestBit(this.isr);
    const isrClass = isrv < 0 ? 0 : isrv & 0xf0;
    return (this.tpr & 0xf0) >= isrClass ? this.tpr & 0xff : isrClass;
  }

  /** Arbitration priority (SDM 10.6.2.4, used for lowest-priority delivery). */
  private apr(): number {
    const isrv = Math.max(highestBit(this.isr), 0) & 0xf0;
    const irrv = Math.max(highestBit(this.irr), 0) & 0xf0;
    const tprClass = this.tpr & 0xf0;
    if (tprClass >= irrv && tprClass > isrv) return this.tpr & 0xff;
    return Math.max(tprClass, isrv, irrv);
  }

  /** Recomputes the CPU's INTR line. */
  private update(): void {
    this.intr.set(this.hasInterrupt());
  }

  // ---- errors ----------------------------------------------------------------------------------

  /** Records an error; signals the LVT error vector when unmasked (SDM 10.5.3). */
  private error(bit: number): void {
    this.esrPending |= bit;
    const l = this.lvt[LVT_ERROR];
    if ((l & LVT_MASKED) === 0 && (l & 0xff) >= 16) this.acceptInterrupt(l & 0xff, false);
  }

  // ---- EOI -------------------------------------------------------------------------------------

  private eoi(): void {
    const v = highestBit(this.isr);
    if (v < 0) return;
    clearBit(this.isr, v);
    if (testBit(this.tmr, v)) {
      clearBit(this.tmr, v);
      // Level-triggered LINT inputs keep their remote IRR in the LVT; the EOI clears it.
      for (const i of [LVT_LINT0, LVT_LINT1]) {
        const l = this.lvt[i];
        if ((l & LVT_REMOTE_IRR) && (l & 0xff) === v) {
          this.lvt[i] = l & ~LVT_REMOTE_IRR;
          const level = i === LVT_LINT0 ? this.lint0 : this.lint1;
          // Still asserted: the input requests again.
          if (level !== ((l & (1 << 13)) !== 0) && (l & LVT_MASKED) === 0) {
            this.lvt[i] |= LVT_REMOTE_IRR;
            setBit(this.irr, v);
            setBit(this.tmr, v);
          }
        }
      }
      this.opts.onEoi?.(v);
    }
    this.update();
  }

  // ---- ICR: sending IPIs -----------------------------------------------------------------------

  private sendIcr(): void {
    const lo = this.icrLo;
    const vector = lo & 0xff;
    const mode = (lo >> 8) & 7;
    const logical = (lo & (1 << 11)) !== 0;
    const assert = (lo & (1 << 14)) !== 0;
    const levelTriggered = (lo & (1 << 15)) !== 0;
    const shorthand = (lo >> 18) & 3;
    const destination = this.icrHi >>> 24;
    if ((mode === DM_FIXED || mode === DM_LOWEST) && vector < 16) {
      this.error(ESR_SEND_ILLEGAL_VECTOR);
      return;
    }
    let self: boolean;
    switch (shorthand) {
      case SH_SELF: self = true; break;
      case SH_ALL: self = true; break;
      case SH_ALL_BUT_SELF: self = false; break;
      default: self = this.matchesDestination(destination, logical);
    }
    // Everything that may reach another APIC goes out; the machine delivers it to the other
    // APICs that match (never back to `sourceId`: this APIC takes its own copy below).
    const onlySelf = shorthand === SH_SELF || (shorthand === SH_NONE && !logical && destination === this.apicId);
    if (!onlySelf) {
      this.opts.sendIpi?.({ vector, deliveryMode: mode, destination, logical, levelTriggered, assert, shorthand, sourceId: this.apicId });
    }
    if (self) {
      // INIT/start-up to oneself are not meaningful for a running CPU (the BSP never gets them).
      if (mode === DM_INIT || mode === DM_STARTUP) {
        logOnce('debug', 'lapic', 'self-init', 'INIT/start-up IPI to self ignored');
        return;
      }
      this.deliverLocally(mode, vector, levelTriggered, assert);
    }
  }

  // ---- the timer -------------------------------------------------------------------------------

  /** Divide value from DCR bits 3,1,0 (SDM figure 10-10): 2, 4, ... 128, or 1 for 111b. */
  private divisor(): number {
    const d = ((this.timerDivide >> 1) & 4) | (this.timerDivide & 3);
    return d === 7 ? 1 : 2 << d;
  }

  private nsPerTick(): number {
    return (this.divisor() * 1e9) / this.busHz;
  }

  private ticksSinceStart(now: number): number {
    return Math.floor((now - this.timerStartNs) / this.nsPerTick() + 1e-9);
  }

  private periodic(): boolean {
    return (this.lvt[LVT_TIMER] & LVT_TIMER_PERIODIC) !== 0;
  }

  /** Current count register value at guest time `now`. */
  private currentCount(now: number): number {
    if (!this.timerRunning) return 0;
    const t = this.ticksSinceStart(now);
    if (t < this.timerStartCount) return this.timerStartCount - t;
    if (!this.periodic() || this.timerInitial === 0) return 0;
    return this.timerInitial - ((t - this.timerStartCount) % this.timerInitial);
  }

  /** Guest ns of expiry number `k` (0 = end of the first run). */
  private expiryNs(k: number): number {
    return this.timerStartNs + (this.timerStartCount + k * this.timerInitial) * this.nsPerTick();
  }

  /** (Re)starts counting down from `count` at the current time. */
  private startTimer(count: number, now: number): void {
    this.timerStartNs = now;
    this.timerStartCount = count;
    this.timerNextExpiry = 0;
    this.timerRunning = count > 0;
    this.armTimer();
  }

  private armTimer(): void {
    if (!this.timerRunning) {
      this.timer.cancel();
      return;
    }
    this.timer.arm(this.expiryNs(this.timerNextExpiry));
  }

  private timerExpired(deadline: number): void {
    if (!this.timerRunning) return;
    const l = this.lvt[LVT_TIMER];
    if ((l & LVT_MASKED) === 0) {
      if ((l & 0xff) < 16) this.error(ESR_RECEIVE_ILLEGAL_VECTOR);
      else this.acceptInterrupt(l & 0xff, false);
    }
    if (!this.periodic()) {
      this.timerRunning = false;
      return;
    }
    // Periods that elapsed while the machine ran late coalesce into the one IRR bit, as a late
    // INTA would on hardware; continue with the first expiry after now.
    const now = Math.max(this.clock.now(), deadline);
    let k = this.timerNextExpiry + 1;
    const perNs = this.timerInitial * this.nsPerTick();
    if (this.expiryNs(k) <= now) k = Math.max(k, Math.floor((now - this.expiryNs(0)) / perNs) + 1);
    this.timerNextExpiry = k;
    this.armTimer();
  }

  // ---- register access -------------------------------------------------------------------------

  private readRegister(reg: number): number {
    switch (reg) {
      case REG_ID: return this.id;
      case REG_VERSION: return LAPIC_VERSION;
      case REG_TPR: return this.tpr;
      case REG_APR: return this.apr();
      case REG_PPR: return this.ppr();
      case REG_EOI: return 0;
      case REG_RRD: return 0;
      case REG_LDR: return this.ldr;
      case REG_DFR: return this.dfr;
      case REG_SVR: return this.svr;
      case REG_ESR: return this.esr;
      case REG_ICR_LO: return this.icrLo; // delivery status (bit 12) always idle: IPIs deliver at once
      case REG_ICR_HI: return this.icrHi;
      case REG_TIMER_ICR: return this.timerInitial;
      case REG_TIMER_CCR: return this.currentCount(this.clock.now());
      case REG_TIMER_DCR: return this.timerDivide;
    }
    if (reg >= REG_ISR && reg < REG_ISR + 0x80) return this.isr[(reg - REG_ISR) >> 4] | 0;
    if (reg >= REG_TMR && reg < REG_TMR + 0x80) return this.tmr[(reg - REG_TMR) >> 4] | 0;
    if (reg >= REG_IRR && reg < REG_IRR + 0x80) return this.irr[(reg - REG_IRR) >> 4] | 0;
    if (reg >= REG_LVT_TIMER && reg <= REG_LVT_ERROR) return this.lvt[(reg - REG_LVT_TIMER) >> 4] | 0;
    this.error(ESR_ILLEGAL_REGISTER);
    return 0;
  }

  private writeRegister(reg: number, v: number): void {
    v >>>= 0;
    switch (reg) {
      case REG_ID: this.id = v & 0xff000000; return;
      case REG_TPR: this.tpr = v & 0xff; this.update(); return;
      case REG_EOI: this.eoi(); return;
      case REG_LDR: this.ldr = v & 0xff000000; return;
      case REG_DFR: this.dfr = (v | 0x0fffffff) >>> 0; return;
      case REG_SVR: {
        // Vector, APIC software enable, focus processor checking; EOI-broadcast suppression is not offered.
        this.svr = v & 0x3ff;
        // Software disable masks every LVT (SDM 10.4.7.2).
        if (!this.softwareEnabled) for (let i = 0; i < 6; i++) this.lvt[i] |= LVT_MASKED;
        this.update();
        return;
      }
      case REG_ESR:
        // A write latches the errors seen since the previous write and clears the internal ones.
        this.esr = this.esrPending;
        this.esrPending = 0;
        return;
      case REG_ICR_LO:
        this.icrLo = v & ICR_LO_WRITABLE;
        this.sendIcr();
        return;
      case REG_ICR_HI: this.icrHi = v & 0xff000000; return;
      case REG_TIMER_ICR: {
        this.timerInitial = v;
        this.startTimer(v, this.clock.now());
        return;
      }
      case REG_TIMER_DCR: {
        // Keep counting from the current value at the new rate.
        const now = this.clock.now();
        const running = this.timerRunning;
        const cur = this.currentCount(now);
        this.timerDivide = v & 0xb;
        if (running) this.startTimer(cur, now);
        return;
      }
      case REG_VERSION: case REG_APR: case REG_PPR: case REG_RRD: case REG_TIMER_CCR:
        return; // read-only
    }
    if (reg >= REG_ISR && reg < REG_IRR + 0x80) return; // ISR/TMR/IRR are read-only
    if (reg >= REG_LVT_TIMER && reg <= REG_LVT_ERROR) {
      const i = (reg - REG_LVT_TIMER) >> 4;
      const old = this.lvt[i];
      let nv = (old & ~LVT_WRITABLE[i]) | (v & LVT_WRITABLE[i]);
      // While software-disabled the mask bits cannot be cleared.
      if (!this.softwareEnabled) nv |= LVT_MASKED;
      // Edge trigger has no remote IRR.
      if (i === LVT_LINT0 || i === LVT_LINT1) {
        if ((nv & LVT_LEVEL) === 0) nv &= ~LVT_REMOTE_IRR;
      }
      if (i === LVT_TIMER && ((old ^ nv) & LVT_TIMER_PERIODIC) && this.timerRunning) {
        // Mode change while counting: continue from the current count (read under the old mode).
        const now = this.clock.now();
        const cur = this.currentCount(now);
        this.lvt[i] = nv;
        if (cur > 0) this.startTimer(cur, now);
        else this.startTimer(0, now);
      }
      this.lvt[i] = nv;
      if ((i === LVT_LINT0 || i === LVT_LINT1) && (old & LVT_MASKED) && !(nv & LVT_MASKED)) {
        // Unmasking a level input that is already asserted requests at once.
        const level = i === LVT_LINT0 ? this.lint0 : this.lint1;
        if (((nv >> 8) & 7) === DM_FIXED && (nv & LVT_LEVEL)) this.lintChanged(i, false, level);
      }
      this.update();
      return;
    }
    if (reg === REG_CMCI) return;
    this.error(ESR_ILLEGAL_REGISTER);
  }

  // ---- MMIO ------------------------------------------------------------------------------------

  /**
   * Registers sit on 16-byte boundaries and are accessed as aligned dwords (SDM 10.4.1). Narrower
   * reads return the addressed bytes of the register; writes that are not aligned dwords have an
   * undefined effect on hardware and are dropped here.
   */
  mmioRead(offset: number, size: number): number {
    if (!this.hwEnabled) return size === 4 ? -1 : (1 << (size * 8)) - 1;
    const within = offset & 0xf;
    if (within + size > 4) return 0;
    const v = this.readRegister(offset & 0xff0);
    if (size === 4) return v | 0;
    return (v >>> (within * 8)) & ((1 << (size * 8)) - 1);
  }

  mmioWrite(offset: number, size: number, value: number): void {
    if (!this.hwEnabled) return;
    if (size !== 4 || (offset & 0xf) !== 0) {
      logOnce('info', 'lapic', `narrow-write-${offset}`, `local APIC write of size ${size} at offset 0x${offset.toString(16)} ignored`);
      return;
    }
    this.writeRegister(offset & 0xff0, value);
  }

  // ---- saved state -----------------------------------------------------------------------------

  save(): LapicState {
    return {
      version: 1,
      apicBase: this.apicBase >>> 0,
      hwEnabled: this.hwEnabled,
      id: this.id >>> 0,
      tpr: this.tpr,
      ldr: this.ldr >>> 0,
      dfr: this.dfr >>> 0,
      svr: this.svr,
      isr: Array.from(this.isr),
      tmr: Array.from(this.tmr),
      irr: Array.from(this.irr),
      esr: this.esr,
      esrPending: this.esrPending,
      icrLo: this.icrLo >>> 0,
      icrHi: this.icrHi >>> 0,
      lvt: Array.from(this.lvt),
      timerInitial: this.timerInitial >>> 0,
      timerDivide: this.timerDivide,
      timerStartNs: this.timerStartNs,
      timerStartCount: this.timerStartCount,
      timerRunning: this.timerRunning,
      timerNextExpiry: this.timerNextExpiry,
      lint0: this.lint0,
      lint1: this.lint1,
      extIntPending: this.extIntPending,
    };
  }

  restore(s: LapicState): void {
    if (s.version !== 1) throw new Error(`local APIC state version ${s.version} is not supported`);
    this.apicBase = s.apicBase >>> 0;
    this.hwEnabled = s.hwEnabled;
    this.id = s.id >>> 0;
    this.tpr = s.tpr;
    this.ldr = s.ldr >>> 0;
    this.dfr = s.dfr >>> 0;
    this.svr = s.svr;
    this.isr.set(s.isr);
    this.tmr.set(s.tmr);
    this.irr.set(s.irr);
    this.esr = s.esr;
    this.esrPending = s.esrPending;
    this.icrLo = s.icrLo >>> 0;
    this.icrHi = s.icrHi >>> 0;
    this.lvt.set(s.lvt);
    this.timerInitial = s.timerInitial >>> 0;
    this.timerDivide = s.timerDivide;
    this.timerStartNs = s.timerStartNs;
    this.timerStartCount = s.timerStartCount;
    this.timerRunning = s.timerRunning;
    this.timerNextExpiry = s.timerNextExpiry;
    this.lint0 = s.lint0;
    this.lint1 = s.lint1;
    this.extIntPending = s.extIntPending;
    // Derived: the timer queue entry and the INTR level (the CPU's own state holds what it saw).
    this.armTimer();
    this.intr.restoreLevel(this.hasInterrupt());
  }
}
