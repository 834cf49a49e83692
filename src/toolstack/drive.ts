/**
 * The host loop shared by every machine type: gives the machine slices of work, yields to Node's
 * event loop between them (so console input and host timers keep flowing), and sleeps for real
 * while the guest idles until its next deadline.
 */
/** What every machine's step() reports (each machine may add fields). */
export type MachineStatus =
  | { kind: 'running' }
  | { kind: 'idle'; waitNs: number }
  | { kind: 'poweroff' | 'reset' | 'crash'; reason: string };

export interface Steppable<S extends MachineStatus> {
  step(maxInstructions: number): S;
  /** Guest time in ns. */
  readonly clock: { now(): number };
}

export type DriveResult<S> = Exclude<S, { kind: 'running' } | { kind: 'idle' }> | { kind: 'detached' } | { kind: 'timeout' };

export interface DriveOptions {
  /** Stop after this much guest time in ms (0 = never). */
  timeoutMs?: number;
  /** Polled between slices: true once the user detached. */
  detached?: () => boolean;
  /** Instructions per slice between yields to the event loop. */
  sliceInstructions?: number;
}

/** Runs `m` until it finishes (power-off, reset, crash), the user detaches, or the timeout. */
export async function drive<S extends MachineStatus>(m: Steppable<S>, o: DriveOptions = {}): Promise<DriveResult<S>> {
  const slice = o.sliceInstructions ?? 2_000_000;
  for (;;) {
    if (o.detached?.()) return { kind: 'detached' };
    if (o.timeoutMs && m.clock.now() > o.timeoutMs * 1e6) return { kind: 'timeout' };
    const s = m.step(slice);
    switch (s.kind) {
      case 'running':
        await new Promise((r) => setImmediate(r));
        break;
      case 'idle':
        await new Promise((r) => setTimeout(r, Math.max(0, Math.min(50, s.waitNs / 1e6))));
        break;
      default:
        return s as DriveResult<S>;
    }
  }
}
