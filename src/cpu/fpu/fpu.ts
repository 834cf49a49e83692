/**
 * x87 FPU state (Intel SDM vol. 1, ch. 8): the eight 80-bit data registers with their tags, the
 * control, status and tag words, and the last instruction/data pointers and opcode. The
 * instructions are in ops/x87.ts, the arithmetic in arith.ts and its neighbours; this class holds
 * the state and the stack and exception bookkeeping they share.
 *
 * Registers are exact 80-bit values (float80.ts); PRECISION.md says where results can still differ
 * from hardware (the transcendental functions).
 *
 * Error reporting: the status word's ES (and B) bit is always "an exception flag is set whose mask
 * bit is clear", as on the processors the tests were measured on (loading FCW re-evaluates it).
 * With CR0.NE = 1 the next waiting x87 instruction raises #MF; with NE = 0 it asserts the FERR#
 * output instead and continues as if IGNNE# were asserted. `onFerr` is that output, for the
 * machine to route to IRQ 13 (PC style); it is called on each change of level and drops when ES
 * is cleared (FNCLEX, FNINIT, loading FCW or an environment with no unmasked exception pending).
 */
import { Ctx, F80, IE, kind, Kind, setIndefinite, tagOf } from './float80.js';
import { readExt, writeExt } from './convert.js';

export const FSW_IE = 1, FSW_DE = 2, FSW_ZE = 4, FSW_OE = 8, FSW_UE = 16, FSW_PE = 32, FSW_SF = 64, FSW_ES = 128;
export const FSW_C0 = 0x100, FSW_C1 = 0x200, FSW_C2 = 0x400, FSW_C3 = 0x4000, FSW_B = 0x8000;
export const FSW_CC = FSW_C0 | FSW_C1 | FSW_C2 | FSW_C3;

/** Saved state (see base/snapshot.ts). Registers are 80-bit images, physical order, as hex. */
export interface FpuState {
  version: 1;
  fcw: number;
  /** Status word without TOP. */
  fsw: number;
  top: number;
  /** 1 = empty, by physical register. */
  empty: number[];
  regs: string[];
  fip: number;
  fcs: number;
  fop: number;
  fdp: number;
  fds: number;
  /** FERR# output level (absent in older saves: false). */
  ferr?: boolean;
}

export class Fpu {
  /** Physical registers R0..R7; ST(i) is R[(top + i) & 7]. */
  readonly regs: F80[] = [];
  /** 1 = the register is empty (tag 11). */
  readonly empty = new Uint8Array(8).fill(1);
  fcw = 0x037f;
  /** Status word without TOP (kept in `top`). */
  fsw = 0;
  top = 0;
  fip = 0;
  fcs = 0;
  fop = 0;
  fdp = 0;
  fds = 0;
  /** The arithmetic context of the instruction being executed. */
  readonly ctx = new Ctx();
  /** The machine connects FERR# here (PC: IRQ 13) for CR0.NE = 0 error reporting. */
  onFerr: (level: boolean) => void = () => {};
  private ferr = false;

  constructor() {
    for (let p = 0; p < 8; p++) this.regs.push(new F80());
  }

  /** Power-on/RESET: as FNINIT, and the registers' contents cleared to +0. */
  reset(): void {
    this.fninit();
    for (const r of this.regs) r.sign = r.exp = r.hi = r.lo = 0;
  }

  /** FNINIT: control 0x37F, status 0, all registers empty, pointers and opcode cleared. */
  fninit(): void {
    this.fcw = 0x037f;
    this.fsw = 0;
    this.top = 0;
    this.empty.fill(1);
    this.fip = this.fcs = this.fop = this.fdp = this.fds = 0;
    this.setFerr(false);
  }

  /** FNCLEX: clears the exception flags, SF, ES and B. */
  fnclex(): void {
    this.fsw &= ~0x80ff;
    this.setFerr(false);
  }

  /** The status word as software reads it (TOP included). */
  get status(): number {
    return (this.fsw & ~0x3800) | (this.top << 11);
  }
  set status(v: number) {
    this.fsw = v & 0xc7ff;
    this.top = (v >> 11) & 7;
    this.updateEs();
  }

  /** FLDCW and the control-word part of environment loads (bit 6 reads as 1, 13-15 as 0). */
  setControl(v: number): void {
    this.fcw = (v & 0x1f3f) | 0x40;
    this.updateEs();
  }

  /** ES and B follow the unmasked exception flags. */
  updateEs(): void {
    if (this.fsw & ~this.fcw & 0x3f) {
      this.fsw |= FSW_ES | FSW_B;
    } else {
      this.fsw &= ~(FSW_ES | FSW_B);
      this.setFerr(false);
    }
  }

  /** An unmasked exception is pending: the next waiting instruction must report it. */
  get pendingError(): boolean {
    return (this.fsw & FSW_ES) !== 0;
  }

  /** Drives FERR# (called by the CPU side when NE = 0 and a waiting instruction finds ES set). */
  setFerr(level: boolean): void {
    if (level === this.ferr) return;
    this.ferr = level;
    this.onFerr(level);
  }

  // ---- stack -------------------------------------------------------------------------------------
  /** ST(i) as the register object itself (its value may be read or overwritten). */
  st(i: number): F80 {
    return this.regs[(this.top + i) & 7];
  }
  isEmpty(i: number): boolean {
    return this.empty[(this.top + i) & 7] !== 0;
  }
  /** Marks ST(i) as holding a value. */
  fill(i: number): void {
    this.empty[(this.top + i) & 7] = 0;
  }
  /** Makes ST(i) empty (FFREE). */
  free(i: number): void {
    this.empty[(this.top + i) & 7] = 1;
  }
  pop(): void {
    this.empty[this.top] = 1;
    this.top = (this.top + 1) & 7;
  }
  /** Decrements TOP and returns the new ST(0), marked valid; the caller writes its value. */
  push(): F80 {
    this.top = (this.top - 1) & 7;
    this.empty[this.top] = 0;
    return this.regs[this.top];
  }

  // ---- exceptions ----------------------------------------------------------------------------------
  /** Begins an instruction's arithmetic: loads PC/RC/masks into the context, clears its outputs. */
  begin(): Ctx {
    this.ctx.begin(this.fcw);
    return this.ctx;
  }

  /**
   * Ends an instruction: merges the context's exception flags into the status word (ES and B when
   * one is unmasked) and applies its C1. Nothing in FSW changes before this, so an instruction
   * that faults on memory leaves the status word as it was.
   */
  commit(): void {
    const ctx = this.ctx;
    const fl = ctx.flags;
    if (fl !== 0) {
      this.fsw |= fl;
      if (fl & ~this.fcw & 0x3f) this.fsw |= FSW_ES | FSW_B;
    }
    if (ctx.c1 >= 0) this.fsw = ctx.c1 ? this.fsw | FSW_C1 : this.fsw & ~FSW_C1;
  }

  /** Sets C3 C2 C0 (FSW_C* positions in `cc`), leaving C1 to the context. */
  setC320(cc: number): void {
    this.fsw = (this.fsw & ~(FSW_C0 | FSW_C2 | FSW_C3)) | cc;
  }

  /**
   * Stack underflow (reading an empty register): IE and SF with C1 = 0. True when masked: the
   * caller then delivers the QNaN indefinite as the result.
   */
  underflow(): boolean {
    this.ctx.c1 = 0;
    return this.ctx.raise(IE | FSW_SF);
  }

  /** Stack overflow (pushing onto a full stack): IE and SF with C1 = 1. True when masked. */
  overflow(): boolean {
    this.ctx.c1 = 1;
    return this.ctx.raise(IE | FSW_SF);
  }

  /**
   * Checks that `n` pushes fit (ST(7) .. ST(8-n) empty). On overflow with the exception masked,
   * returns 1 (the caller pushes the indefinite); unmasked, returns 2 (nothing changes); else 0.
   */
  checkPush(n: number): number {
    for (let k = 1; k <= n; k++) {
      if (!this.empty[(this.top - k) & 7]) return this.overflow() ? 1 : 2;
    }
    return 0;
  }

  /** Pushes the real indefinite (masked stack-overflow response). */
  pushIndefinite(): void {
    setIndefinite(this.push());
  }

  // ---- tags --------------------------------------------------------------------------------------
  /** Full 16-bit tag word (FSTENV/FSAVE), computed from the contents, by physical register. */
  get tagWord(): number {
    let t = 0;
    for (let p = 0; p < 8; p++) t |= (this.empty[p] ? 3 : tagOf(this.regs[p])) << (p * 2);
    return t;
  }
  /** Loading a tag word: only "empty" is taken; the other classes follow from the contents. */
  set tagWord(t: number) {
    for (let p = 0; p < 8; p++) this.empty[p] = ((t >> (p * 2)) & 3) === 3 ? 1 : 0;
  }

  /** Abridged tag (FXSAVE): bit p set when physical register p is not empty. */
  get abridgedTag(): number {
    let t = 0;
    for (let p = 0; p < 8; p++) if (!this.empty[p]) t |= 1 << p;
    return t;
  }
  set abridgedTag(t: number) {
    for (let p = 0; p < 8; p++) this.empty[p] = (t >> p) & 1 ? 0 : 1;
  }

  /** FXAM's class of ST(0) as C3 C2 C0 bits, with C1 the sign. */
  examine(): number {
    const x = this.st(0);
    const c1 = x.sign ? FSW_C1 : 0;
    if (this.isEmpty(0)) return FSW_C3 | FSW_C0 | c1;
    switch (kind(x)) {
      case Kind.Unsupported: return c1;
      case Kind.QNaN: case Kind.SNaN: return FSW_C0 | c1;
      case Kind.Normal: return FSW_C2 | c1;
      case Kind.Inf: return FSW_C2 | FSW_C0 | c1;
      case Kind.Zero: return FSW_C3 | c1;
      default: return FSW_C3 | FSW_C2 | c1;
    }
  }

  // ---- saved state ---------------------------------------------------------------------------------
  save(): FpuState {
    const b = new Uint8Array(10);
    const regs: string[] = [];
    for (let p = 0; p < 8; p++) {
      writeExt(this.regs[p], b, 0);
      regs.push(Array.from(b, (x) => x.toString(16).padStart(2, '0')).join(''));
    }
    return {
      version: 1, fcw: this.fcw, fsw: this.fsw, top: this.top, empty: Array.from(this.empty), regs,
      fip: this.fip, fcs: this.fcs, fop: this.fop, fdp: this.fdp, fds: this.fds, ferr: this.ferr,
    };
  }

  restore(s: FpuState): void {
    if (s.version !== 1) throw new Error(`FPU state version ${s.version} is not supported`);
    if (s.regs.length !== 8 || s.empty.length !== 8) throw new Error('FPU state is malformed');
    const b = new Uint8Array(10);
    for (let p = 0; p < 8; p++) {
      const hex = s.regs[p];
      if (!/^[0-9a-f]{20}$/i.test(hex)) throw new Error('FPU state register is malformed');
      for (let k = 0; k < 10; k++) b[k] = parseInt(hex.slice(k * 2, k * 2 + 2), 16);
      readExt(b, 0, this.regs[p]);
      this.empty[p] = s.empty[p] ? 1 : 0;
    }
    this.fcw = s.fcw & 0xffff;
    this.fsw = s.fsw & 0xc7ff;
    this.top = s.top & 7;
    this.fip = s.fip | 0;
    this.fcs = s.fcs & 0xffff;
    this.fop = s.fop & 0x7ff;
    this.fdp = s.fdp | 0;
    this.fds = s.fds & 0xffff;
    this.ferr = false;
    this.setFerr(s.ferr === true);
  }

  /** The state the differential harness compares with the host's FXSAVE image. */
  snapshotForTest(): { fcw: number; fsw: number; ftw: number; st: Uint8Array } {
    const st = new Uint8Array(80);
    for (let i = 0; i < 8; i++) writeExt(this.st(i), st, i * 10);
    return { fcw: this.fcw, fsw: this.status, ftw: this.abridgedTag, st };
  }
}
