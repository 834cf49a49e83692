/**
 * The step() of the machines built on the PC platform (direct boot and HVM): fire due timers,
 * report what the platform asked for (ACPI power-off, a reset, a crash), idle a halted vCPU until
 * its next deadline, otherwise run a slice. A reset requested earlier in a block wins over a fault
 * later in it (firmware writes 0xCF9 and then executes INT3 as a fallback).
 */
import type { Cpu } from '../cpu/cpu.js';
import { Exit, FLAG_IF } from '../cpu/arch.js';
import type { TimerQueue } from '../bus/timer-queue.js';
import type { MachineClock } from './clock.js';
import type { PcPlatformOptions, PowerOffVia } from './pc-platform.js';
import { VEC_GP } from '../cpu/arch.js';
import { haltedWithNothingPending, runSlice } from './vcpu-slice.js';

export type PcStatus =
  | { kind: 'running' }
  | { kind: 'idle'; waitNs: number }
  /** `via`: ACPI S5 (PM1a_CNT SLP_EN), or HLT with interrupts disabled (how Linux ends without ACPI). */
  | { kind: 'poweroff'; reason: string; via: PowerOffVia }
  | { kind: 'reset'; reason: string }
  | { kind: 'crash'; reason: string };

/** What the platform and the CPU asked for since the last step; the machine's own record. */
export interface PlatformRequests {
  crashReason: string | null;
  powerOffRequest: string | null;
  resetRequest: string | null;
}

export function stepPcPlatform(cpu: Cpu, clock: MachineClock, timers: TimerQueue, rq: PlatformRequests, maxInstructions: number): PcStatus {
  let left = maxInstructions;
  while (left > 0) {
    timers.runDue(clock.now());
    if (rq.crashReason !== null) return { kind: 'crash', reason: rq.crashReason };
    if (rq.powerOffRequest !== null) return { kind: 'poweroff', reason: rq.powerOffRequest, via: 'acpi-s5' };
    if (rq.resetRequest !== null) {
      const why = rq.resetRequest;
      rq.resetRequest = null;
      return { kind: 'reset', reason: why };
    }
    if (haltedWithNothingPending(cpu)) {
      const deadline = timers.nextDeadline();
      if (!(cpu.flags & FLAG_IF) || deadline === Infinity) {
        // HLT with interrupts off (or nothing that could ever wake it): the guest has stopped.
        // Linux ends `poweroff` this way on a machine without ACPI power-off.
        return { kind: 'poweroff', reason: 'guest halted with interrupts disabled', via: 'halt' };
      }
      const { waitNs } = clock.idleUntil(deadline);
      if (waitNs > 0) return { kind: 'idle', waitNs };
      continue;
    }
    const { executed, exit } = runSlice(cpu, clock, timers, left);
    left -= executed;
    if (exit === Exit.Shutdown && rq.resetRequest === null) return { kind: 'crash', reason: rq.crashReason ?? 'triple fault' };
  }
  return { kind: 'running' };
}

/**
 * How every machine on the PC platform connects the platform to its CPU and request record:
 * interrupt lines, A20, reset and power-off requests (the first one wins, the run loop stops at
 * once), #GP for bad accesses, and a changed memory map (the CPU's TLB and decoded blocks go:
 * the same physical address may now hold other bytes).
 */
export function cpuHooks(cpu: Cpu, rq: PlatformRequests): Pick<PcPlatformOptions,
  'intr' | 'nmi' | 'a20' | 'onReset' | 'onPowerOff' | 'generalProtection' | 'mmioChanged'> {
  return {
    intr: (l) => cpu.setIntr(l),
    nmi: () => cpu.raiseNmi(),
    a20: (on) => cpu.setA20(on),
    onReset: (why) => {
      rq.resetRequest ??= why;
      cpu.requestStop();
    },
    onPowerOff: (why) => {
      rq.powerOffRequest ??= why;
      cpu.requestStop();
    },
    generalProtection: () => cpu.fault(VEC_GP, 0),
    mmioChanged: () => memoryMapChanged(cpu),
  };
}

/** The physical memory map under `cpu` changed: cached translations and decoded code must go. */
export function memoryMapChanged(cpu: Cpu): void {
  cpu.flushTlb(true);
  cpu.blocks.clear();
}
