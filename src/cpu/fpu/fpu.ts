/**
 * x87 FPU state and the operations shared by its instructions (Intel SDM vol. 1, ch. 8): the
 * register stack, tags, status and control words, exception flags with masked responses, and the
 * instruction/data pointers. The instructions themselves are decoded in ops/x87.ts.
 *
 * Registers hold JavaScript doubles: see PRECISION.md for exactly where results differ from
 * 80-bit hardware.
 */
import { fromExtended, toExtended } from './float80.js';

export const FSW_IE = 1, FSW_DE = 2, FSW_ZE = 4, FSW_OE = 8, FSW_UE = 16, FSW_PE = 32, FSW_SF = 64, FSW_ES = 128;
export const FSW_C0 = 0x100, FSW_C1 = 0x200, FSW_C2 = 0x400, FSW_C3 = 0x4000, FSW_B = 0x8000;
export const FSW_CC = FSW_C0 | FSW_C1 | FSW_C2 | FSW_C3;

export interface FpuState {
  version: 1;
  fcw: number;
  fsw: number;
  top: number;
  empty: number[];
  /** Registers as 80-bit byte strings (hex), physical order. */
  regs: string[];
  fip: number;
  fcs: number;
  fop: number;
  fdp: number;
  fds: number;
}

export class Fpu {
  /** Physical registers R0..R7; ST(i) is R[(top + i) & 7]. */
  readonly r = new Float64Array(8);
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
  /** The machine connects FERR# (IRQ13) here for CR0.NE = 0 error reporting. */
  onFerr: (level: boolean) => void = () => {};

  reset(): void {
    this.fninit();
    this.r.fill(0);
  }

  /** FNINIT: control 0x37F, status 0, all registers empty, pointers cleared. */
  fninit(): void {
    this.fcw = 0x037f;
    this.fsw = 0;
    this.top = 0;
    this.empty.fill(1);
    this.fip = this.fcs = this.fop = this.fdp = this.fds = 0;
    this.onFerr(false);
  }

  /** The status word as software reads it (TOP included). */
  get status(): number {
    return (this.fsw & ~0x3800) | (this.top << 11);
  }

  set status(v: number) {
    this.fsw = v & ~0x3800;
    this.top = (v >> 11) & 7;
  }

  get rc(): number {
    return (this.fcw >> 10) & 3;
  }

  // ---- stack -----------------------------------------------------------------------------------
  phys(i: number): number {
    return (this.top + i) & 7;
  }
  isEmpty(i: number): boolean {
    return this.empty[(this.top + i) & 7] !== 0;
  }
  get(i: number): number {
    return this.r[(this.top + i) & 7];
  }
  set(i: number, v: number): void {
    const p = (this.top + i) & 7;
    this.r[p] = v;
    this.empty[p] = 0;
  }
  /** Pushes `v`; on a full stack records a stack overflow and pushes the indefinite NaN. */
  push(v: number): void {
    const p = (this.top - 1) & 7;
    if (!this.empty[p]) {
      this.fsw |= FSW_C1;
      if (!this.invalid(true)) return;
      v = NaN;
    } else {
      this.fsw &= ~FSW_C1;
    }
    this.top = p;
    this.r[p] = v;
    this.empty[p] = 0;
  }
  pop(): void {
    this.empty[this.top] = 1;
    this.top = (this.top + 1) & 7;
  }

  // ---- exceptions ------------------------------------------------------------------------------
  /**
   * Records exception flags. Returns true when every raised exception is masked (the masked
   * response should be produced); false when one is unmasked (the destination stays unchanged).
   */
  raise(flags: number): boolean {
    this.fsw |= flags;
    const unmasked = flags & ~this.fcw & 0x3f;
    if (unmasked) {
      this.fsw |= FSW_ES | FSW_B;
      this.onFerr(true);
      return false;
    }
    return true;
  }

  /** Invalid operation; `stack` marks a stack fault (SF, with C1 telling overflow from underflow). */
  invalid(stack = false): boolean {
    return this.raise(FSW_IE | (stack ? FSW_SF : 0));
  }

  /** A stack-underflow check for reading ST(i): true if it is usable. */
  checkRead(i: number): boolean {
    if (!this.isEmpty(i)) return true;
    this.fsw &= ~FSW_C1;
    this.invalid(true);
    return false;
  }

  /** An unmasked exception is pending: the next waiting instruction must report it. */
  get pendingError(): boolean {
    return (this.fsw & FSW_ES) !== 0;
  }

  /** Applies the exceptions a result implies (invalid for NaN from non-NaN, overflow, zero-divide). */
  checkResult(v: number, inputsNaN: boolean): boolean {
    if (Number.isNaN(v) && !inputsNaN) return this.invalid();
    return true;
  }

  // ---- tags ------------------------------------------------------------------------------------
  /** Full 16-bit tag word (FSTENV/FSAVE): 00 valid, 01 zero, 10 special, 11 empty, by physical reg. */
  get tagWord(): number {
    let t = 0;
    for (let p = 0; p < 8; p++) {
      let tag: number;
      if (this.empty[p]) tag = 3;
      else {
        const v = this.r[p];
        if (v === 0) tag = 1;
        else if (!Number.isFinite(v) || Math.abs(v) < 2 ** -16382) tag = 2;
        else tag = 0;
      }
      t |= tag << (p * 2);
    }
    return t;
  }

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

  // ---- saved state -----------------------------------------------------------------------------
  save(): FpuState {
    const regs: string[] = [];
    const b = new Uint8Array(10);
    for (let p = 0; p < 8; p++) {
      toExtended(this.r[p], b, 0);
      regs.push(Array.from(b, (x) => x.toString(16).padStart(2, '0')).join(''));
    }
    return {
      version: 1, fcw: this.fcw, fsw: this.fsw, top: this.top, empty: Array.from(this.empty), regs,
      fip: this.fip, fcs: this.fcs, fop: this.fop, fdp: this.fdp, fds: this.fds,
    };
  }

  restore(s: FpuState): void {
    if (s.version !== 1) throw new Error(`FPU state version ${s.version} is not supported`);
    this.fcw = s.fcw;
    this.fsw = s.fsw;
    this.top = s.top & 7;
    for (let p = 0; p < 8; p++) {
      this.empty[p] = s.empty[p] ? 1 : 0;
      const hex = s.regs[p];
      const b = new Uint8Array(10);
      for (let k = 0; k < 10; k++) b[k] = parseInt(hex.slice(k * 2, k * 2 + 2), 16);
      this.r[p] = fromExtended(b, 0);
    }
    this.fip = s.fip;
    this.fcs = s.fcs;
    this.fop = s.fop;
    this.fdp = s.fdp;
    this.fds = s.fds;
  }

  /** The FPU state as the differential harness compares it with the host's FXSAVE image. */
  snapshotForTest(): { fcw: number; fsw: number; ftw: number; st: Uint8Array } {
    const st = new Uint8Array(80);
    for (let i = 0; i < 8; i++) {
      if (this.isEmpty(i)) continue;
      toExtended(this.get(i), st, i * 10);
    }
    return { fcw: this.fcw, fsw: this.status, ftw: this.abridgedTag, st };
  }
}
