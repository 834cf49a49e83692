/**
 * Guest time. Devices never read the wall clock: they ask a GuestClock for the current guest time
 * in nanoseconds and schedule work on a timer queue in that time base.
 *
 * Two sources:
 * - host-following (default): guest time tracks a monotonic host clock, so a guest's sense of
 *   seconds matches the user's; runs are not reproducible.
 * - deterministic: guest time advances with retired instructions (a fixed ns per instruction)
 *   and jumps straight to the next deadline when the CPU idles, so a run can be replayed exactly.
 */
export interface GuestClock {
  /** Guest time in nanoseconds since the machine started. */
  now(): number;
}

export type ClockMode = 'host' | 'deterministic';

export class MachineClock implements GuestClock {
  private idleSkipNs = 0;
  private readonly start: number;

  constructor(
    readonly mode: ClockMode,
    /** Monotonic host time in ns (injected: performance.now() * 1e6 under Node or a browser). */
    private readonly hostNowNs: () => number,
    /** Instructions retired so far (for deterministic mode). */
    private readonly retired: () => number,
    /** Guest ns per instruction in deterministic mode (default: a 1 GHz-ish one-IPC machine). */
    private readonly nsPerInstruction = 1,
  ) {
    this.start = mode === 'host' ? hostNowNs() : 0;
  }

  now(): number {
    if (this.mode === 'host') return this.hostNowNs() - this.start;
    return this.retired() * this.nsPerInstruction + this.idleSkipNs;
  }

  /**
   * The CPU is idle until `deadline` (guest ns). Deterministic time jumps there at once; host time
   * cannot jump, so the caller must wait `waitNs` real nanoseconds instead.
   */
  idleUntil(deadline: number): { waitNs: number } {
    const now = this.now();
    if (deadline <= now) return { waitNs: 0 };
    if (this.mode === 'deterministic') {
      this.idleSkipNs += deadline - now;
      return { waitNs: 0 };
    }
    return { waitNs: deadline - now };
  }

  save(): { version: 1; idleSkipNs: number } {
    return { version: 1, idleSkipNs: this.idleSkipNs };
  }

  restore(s: { version: number; idleSkipNs: number }): void {
    if (s.version !== 1) throw new Error(`clock state version ${s.version} is not supported`);
    this.idleSkipNs = s.idleSkipNs;
  }
}
