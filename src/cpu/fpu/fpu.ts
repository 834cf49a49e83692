/**
 * x87 FPU state. (The instruction set lives in ops/x87.ts.)
 */
export class Fpu {
  /** Control, status and tag words as the architecture defines them. */
  fcw = 0x037f;
  fsw = 0;
  ftw = 0xffff;
  reset(): void {
    this.fcw = 0x037f;
    this.fsw = 0;
    this.ftw = 0xffff;
  }
}
