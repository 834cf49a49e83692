/**
 * The part of every machine's step() that is the same: run the vCPU for a slice that ends at the
 * next timer deadline (so timers fire on time in guest time), then let the clock resynchronise.
 */
import type { Cpu } from '../cpu/cpu.js';
import { FLAG_IF, type Exit } from '../cpu/arch.js';
import type { TimerQueue } from '../bus/timer-queue.js';
import type { MachineClock } from './clock.js';

/** Instructions per slice at most: bounds how long a guest runs before the host looks around. */
export const MAX_SLICE = 50_000;

export function runSlice(cpu: Cpu, clock: MachineClock, timers: TimerQueue, left: number): { executed: number; exit: Exit } {
  let slice = Math.min(left, MAX_SLICE);
  const d = timers.nextDeadline();
  if (d !== Infinity) slice = Math.min(slice, clock.instructionsUntil(d));
  const before = cpu.icount;
  const exit = cpu.run(slice);
  clock.sync();
  return { executed: Math.max(1, cpu.icount - before), exit };
}

/** The vCPU is halted and nothing deliverable is pending: only a timer or the host can wake it. */
export function haltedWithNothingPending(cpu: Cpu): boolean {
  return cpu.halted && !(cpu.intrLine && cpu.flags & FLAG_IF) && !cpu.nmiPending;
}
