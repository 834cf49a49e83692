/**
 * Guest time. Devices never read the wall clock: they ask a GuestClock for the current guest time
 * in nanoseconds and schedule work on a timer queue in that time base.
 *
 * Guest time is always a linear function of retired instructions between synchronisation points,
 * so it advances smoothly while the guest computes (a guest timing a loop with the TSC against
 * the PIT sees consistent rates, whatever the host's event loop does), and it jumps to the next
 * deadline when the CPU idles. The two modes differ only in the rate:
 * - host-following (default): the ns-per-instruction rate is adjusted at every `sync()` so guest
 *   time tracks the host's monotonic clock; when idle, the host really waits until it catches up;
 * - deterministic: a fixed rate, and idle time is skipped at once, so a run can be replayed exactly.
 */
export interface GuestClock {
  /** Guest time in nanoseconds since the machine started. */
  now(): number;
}

export type ClockMode = 'host' | 'deterministic';

/** Bounds on the host-following rate (ns of guest time per instruction). */
const MIN_RATE = 0.05, MAX_RATE = 100;
/** The controller closes a lag over about this much host time. */
const CATCH_UP_NS = 20e6;

export class MachineClock implements GuestClock {
  private baseNs = 0;
  private baseInstr = 0;
  private rate: number;
  private readonly start: number;
  private lastSyncHost = 0;
  private lastSyncInstr = 0;

  constructor(
    readonly mode: ClockMode,
    /** Monotonic host time in ns (injected: performance.now() * 1e6 under Node or a browser). */
    private readonly hostNowNs: () => number,
    /** Instructions retired so far. */
    private readonly retired: () => number,
    /** Guest ns per instruction in deterministic mode, and the starting guess in host mode. */
    nsPerInstruction = mode === 'deterministic' ? 1 : 20,
  ) {
    this.rate = nsPerInstruction;
    this.start = hostNowNs();
  }

  now(): number {
    return this.baseNs + (this.retired() - this.baseInstr) * this.rate;
  }

  /** Instructions the CPU may retire before guest time reaches `deadline` (at least 1). */
  instructionsUntil(deadline: number): number {
    return Math.max(1, Math.ceil((deadline - this.now()) / this.rate));
  }

  private rebase(at: number): void {
    this.baseNs = at;
    this.baseInstr = this.retired();
  }

  private hostElapsed(): number {
    return this.hostNowNs() - this.start;
  }

  /**
   * Called between CPU slices: in host mode, re-estimates the rate so that guest time converges
   * on host time. Guest time never goes backwards.
   */
  sync(): void {
    if (this.mode !== 'host') return;
    const host = this.hostElapsed();
    const instr = this.retired();
    const dInstr = instr - this.lastSyncInstr;
    const dHost = host - this.lastSyncHost;
    if (dInstr < 1000) return; // too little work to measure
    this.rebase(this.now());
    const measured = dHost / dInstr; // host ns per instruction at the current speed
    const lag = host - this.baseNs; // > 0: guest behind the host
    const instrPerCatchUp = CATCH_UP_NS / Math.max(measured, 1e-3);
    const rate = measured + lag / instrPerCatchUp;
    this.rate = Math.min(MAX_RATE, Math.max(MIN_RATE, rate));
    this.lastSyncHost = host;
    this.lastSyncInstr = instr;
  }

  /**
   * The CPU is idle until `deadline` (guest ns): guest time jumps there. In host mode the caller
   * must then wait `waitNs` of real time, until the host clock has caught up with the guest.
   */
  idleUntil(deadline: number): { waitNs: number } {
    const now = this.now();
    if (deadline > now) this.rebase(deadline);
    if (this.mode === 'deterministic') return { waitNs: 0 };
    const host = this.hostElapsed();
    this.lastSyncHost = host;
    this.lastSyncInstr = this.retired();
    return { waitNs: Math.max(0, this.baseNs - host) };
  }

  save(): { version: 2; now: number; rate: number } {
    return { version: 2, now: this.now(), rate: this.rate };
  }

  restore(s: { version: number; now: number; rate: number }): void {
    if (s.version !== 2) throw new Error(`clock state version ${s.version} is not supported`);
    this.rebase(s.now);
    this.rate = s.rate;
  }
}
