/**
 * A PVH domain: a paravirtualized guest in an HVM container (xen-abi.md 0.1, 2). No emulated
 * platform: RAM, the vCPU with Xen's CPUID leaves and VMCALL as the hypercall, a local APIC, and
 * the Xen interface (shared info, event channels with the upcall through the callback vector,
 * grant tables, pvclock and single-shot timers, XenStore and the PV console on special pages).
 * Absent legacy ports read as all ones and ignore writes, as on Xen.
 *
 * The guest enters at the kernel's PHYS32_ENTRY in flat 32-bit protected mode, paging off, with
 * EBX pointing at hvm_start_info (xen-abi.md 2.3). It powers off by SCHEDOP_shutdown, or by
 * halting with interrupts disabled.
 *
 * `step()` has the same contract as the PC's: run a slice, fire due timers, report running /
 * idle / finished.
 */
import { PhysicalMemory } from '../memory/physical.js';
import { Cpu, type CpuBus } from '../cpu/cpu.js';
import { CR0_ET, CR0_PE, CS, DS, ES, Exit, FLAG_IF, FS, GS, SS } from '../cpu/arch.js';
import { decodeDescriptor, loadCache } from '../cpu/segments.js';
import { PortBus } from '../bus/port-bus.js';
import { TimerQueue } from '../bus/timer-queue.js';
import { LAPIC_DEFAULT_BASE, LocalApic } from '../devices/lapic/lapic.js';
import { MachineClock, type ClockMode } from './clock.js';
import { haltedWithNothingPending, runSlice } from './vcpu-slice.js';
import { parseElf } from '../loader/elf.js';
import { planPvh, type PvhLayout } from '../loader/pvh.js';
import { XenDomain } from '../xen/domain.js';
import { handleHypercall, type HypercallEnv } from '../xen/hypercall/dispatch.js';
import {
  HVM_PARAM_CONSOLE_EVTCHN, HVM_PARAM_CONSOLE_PFN, HVM_PARAM_STORE_EVTCHN, HVM_PARAM_STORE_PFN,
  SHUTDOWN_crash, SHUTDOWN_poweroff, SHUTDOWN_reboot,
} from '../xen/abi.js';
import { XsRing } from '../xen/xenstore/ring.js';
import { attachPvDevices, type PvDevices, type PvDisk, type PvVif } from '../pv/xenbus/index.js';
import type { VirtualSwitch } from '../net/switch.js';
import { enlightenCpu } from './xen-cpu.js';
import type { XenHost } from './xen-host.js';

export interface PvhOptions {
  host: XenHost;
  name: string;
  memoryMiB: number;
  /** The ELF vmlinux (a bzImage's payload already decompressed by the caller). */
  kernelElf: Uint8Array;
  initrd?: Uint8Array;
  cmdline: string;
  clockMode: ClockMode;
  hostNowNs: () => number;
  /** Host wall-clock time in ms at start (the guest's wallclock). */
  wallclockMs: number;
  /** Bytes the guest writes to its PV console (hvc0), and CONSOLEIO_write output. */
  consoleOutput: (bytes: Uint8Array) => void;
  /** PV disks (xen-blkfront) and network interfaces (xen-netfront). */
  disks?: PvDisk[];
  vifs?: PvVif[];
  /** The switch vifs without a switch of their own plug into. */
  switch?: VirtualSwitch;
}

export type PvhStatus =
  | { kind: 'running' }
  | { kind: 'idle'; waitNs: number }
  | { kind: 'poweroff'; reason: string }
  | { kind: 'reset'; reason: string }
  | { kind: 'crash'; reason: string };

/** Guest TSC frequency: 1 GHz, so TSC ticks are guest nanoseconds. */
export const PVH_TSC_HZ = 1_000_000_000;

const SHUTDOWN_NAMES = ['poweroff', 'reboot', 'suspend', 'crash', 'watchdog', 'soft_reset'];

export class PvhMachine {
  readonly mem: PhysicalMemory;
  readonly cpu: Cpu;
  readonly ports = new PortBus();
  readonly timers = new TimerQueue();
  readonly clock: MachineClock;
  readonly lapic: LocalApic;
  readonly domain: XenDomain;
  readonly domid: number;
  readonly layout: PvhLayout;
  private readonly env: HypercallEnv;
  readonly pv: PvDevices;
  private readonly xsRing: XsRing;
  private finished: PvhStatus | null = null;

  constructor(readonly opts: PvhOptions) {
    if (!Number.isInteger(opts.memoryMiB) || opts.memoryMiB < 32 || opts.memoryMiB > 2000) {
      throw new Error(`memory must be between 32 and 2000 MiB, got ${opts.memoryMiB}`);
    }
    const host = opts.host;
    this.mem = new PhysicalMemory(opts.memoryMiB << 20);
    const bus: CpuBus = {
      ioRead: (port, size) => this.ports.read(port, size),
      ioWrite: (port, size, value) => this.ports.write(port, size, value),
      acknowledgeInterrupt: () => this.acknowledge(),
    };
    this.cpu = new Cpu(this.mem, bus);
    this.clock = new MachineClock(opts.clockMode, opts.hostNowNs, () => this.cpu.icount);
    this.cpu.msr.tscSource = () => Math.floor((this.clock.now() * PVH_TSC_HZ) / 1e9);
    this.cpu.onShutdown = (why) => this.finish({ kind: 'crash', reason: why });
    this.lapic = new LocalApic({ clock: this.clock, timers: this.timers, onIntr: () => this.updateIntr() });
    this.mem.mapMmio(LAPIC_DEFAULT_BASE, 4096, {
      name: 'lapic',
      mmioRead: (o, s) => this.lapic.mmioRead(o, s),
      mmioWrite: (o, s, v) => this.lapic.mmioWrite(o, s, v),
    });
    this.cpu.cpuidConfig.apic = true;
    this.cpu.msr.extra.push({
      read: (i) => (i >>> 0 === 0x1b ? this.lapic.readApicBase() : null),
      write: (i, lo, hi) => (i >>> 0 === 0x1b ? this.lapic.writeApicBase(lo, hi) : false),
    });
    enlightenCpu(this.cpu, 0);

    this.domid = host.allocDomid();
    this.domain = new XenDomain({
      domid: this.domid, name: opts.name, mem: this.mem, vcpus: [this.cpu],
      systemTimeNs: () => this.clock.now(),
      wallclockAtZeroNs: opts.wallclockMs * 1e6,
      tscHz: PVH_TSC_HZ,
      timers: {
        schedule: (at, cb) => {
          const t = this.timers.timer(() => cb());
          t.arm(at);
          return () => t.cancel();
        },
      },
      directory: host,
      layoutBits: 32,
      onShutdown: (reason) => this.onXenShutdown(reason),
      onKick: () => this.updateIntr(),
      debugOutput: (b) => opts.consoleOutput(b),
    });
    host.add(this.domain);

    const elf = parseElf(opts.kernelElf);
    if (elf.bits !== 32) throw new Error('64-bit PVH guests need the x86-64 CPU, which tsxen does not have yet');
    this.layout = planPvh({ elf, ramBytes: this.mem.ramSize, initrd: opts.initrd, cmdline: opts.cmdline, vcpus: 1 });
    this.env = { memoryMap: this.layout.e820, grants: host };

    // The special pages: the XenStore ring and the console ring, each with its event channel;
    // then the domain's XenStore tree and its PV devices, whose backends wait for the frontends.
    const evt = this.domain.evtchn;
    const page = (gfn: number) => this.mem.u8.subarray(gfn * 4096, gfn * 4096 + 4096);
    const storePort = evt.attach(null, 0, () => this.xsRing.kick());
    this.xsRing = new XsRing({ store: host.store, domid: this.domid, page: page(this.layout.xenstoreGfn), notify: () => evt.setPending(storePort) });
    this.pv = attachPvDevices({
      store: host.store, guest: this.domain, name: opts.name, memKiB: this.mem.ramSize >> 10, vcpus: 1,
      xenstore: { port: storePort, gfn: this.layout.xenstoreGfn },
      console: { gfn: this.layout.consoleGfn, sink: opts.consoleOutput },
      disks: opts.disks, vifs: opts.vifs, switch: opts.switch,
      nativeAbi: 'x86_32-abi',
    });
    this.domain.setParam(HVM_PARAM_CONSOLE_PFN, this.layout.consoleGfn, 0);
    this.domain.setParam(HVM_PARAM_CONSOLE_EVTCHN, this.pv.console!.port, 0);
    this.domain.setParam(HVM_PARAM_STORE_PFN, this.layout.xenstoreGfn, 0);
    this.domain.setParam(HVM_PARAM_STORE_EVTCHN, storePort, 0);
    this.boot();
  }

  /** Loads the kernel, initrd and start info, and sets the PVH entry state. */
  private boot(): void {
    for (const w of this.layout.writes) this.mem.load(w.addr, w.bytes);
    const c = this.cpu;
    c.reset();
    c.cr0 = CR0_PE | CR0_ET;
    // Flat 32-bit code and data (Xen's access rights 0xC9B / 0xC93); selectors are unspecified.
    loadCache(c, CS, 0x10, decodeDescriptor(0x0000ffff, 0x00cf9b00, 0));
    for (const s of [DS, ES, SS, FS, GS]) loadCache(c, s, 0x18, decodeDescriptor(0x0000ffff, 0x00cf9300, 0));
    c.setCpl(0);
    c.regs[3] = this.layout.startInfo; // EBX -> hvm_start_info
    c.eip = this.layout.entry;
  }

  private finish(s: PvhStatus): void {
    if (this.finished === null) this.finished = s;
    this.cpu.requestStop();
  }

  private onXenShutdown(reason: number): void {
    const name = SHUTDOWN_NAMES[reason] ?? `reason ${reason}`;
    if (reason === SHUTDOWN_poweroff) this.finish({ kind: 'poweroff', reason: 'SCHEDOP_shutdown(poweroff)' });
    else if (reason === SHUTDOWN_reboot) this.finish({ kind: 'reset', reason: 'SCHEDOP_shutdown(reboot)' });
    else if (reason === SHUTDOWN_crash) this.finish({ kind: 'crash', reason: 'the guest reported a crash (SCHEDOP_shutdown(crash))' });
    else this.finish({ kind: 'crash', reason: `SCHEDOP_shutdown(${name}) is not supported` });
  }

  /** The event callback is pending: a vector is registered and vCPU 0 has an upcall waiting. */
  private callbackPending(): boolean {
    return this.domain.callbackVector !== 0 && this.domain.upcallPending(0);
  }

  private updateIntr(): void {
    this.cpu.setIntr(this.callbackPending() || this.lapic.hasInterrupt());
  }

  /**
   * Interrupt acknowledge. The callback vector comes first and bypasses the local APIC (no IRR,
   * ISR or EOI): Xen injects it directly while evtchn_upcall_pending is set, and Linux's handler
   * clears that flag (xen-abi.md 4.5).
   */
  private acknowledge(): number {
    if (this.callbackPending()) return this.domain.callbackVector;
    const v = this.lapic.hasInterrupt() ? this.lapic.acknowledge() : -1;
    this.updateIntr();
    return v;
  }

  step(maxInstructions: number): PvhStatus {
    const cpu = this.cpu;
    let left = maxInstructions;
    while (left > 0) {
      this.timers.runDue(this.clock.now());
      if (this.finished !== null) return this.finished;
      this.updateIntr();
      if (haltedWithNothingPending(cpu)) {
        if (!(cpu.flags & FLAG_IF)) {
          this.finish({ kind: 'poweroff', reason: 'every vCPU halted with interrupts disabled' });
          return this.finished!;
        }
        const deadline = this.timers.nextDeadline();
        // Nothing scheduled: only host input (console, a backend) can wake the guest.
        if (deadline === Infinity) return { kind: 'idle', waitNs: 10e6 };
        const { waitNs } = this.clock.idleUntil(deadline);
        if (waitNs > 0) return { kind: 'idle', waitNs };
        continue;
      }
      const { executed, exit } = runSlice(cpu, this.clock, this.timers, left);
      left -= executed;
      if (exit === Exit.Vmcall) handleHypercall(this.domain, this.domain.vcpus[0], this.env);
      // The console backend also runs when the guest notifies; this catches a guest that spins
      // on SCHEDOP_yield waiting for ring space, and host input that arrived meanwhile.
      this.pv.console?.service();
      if (exit === Exit.Shutdown) this.finish({ kind: 'crash', reason: 'triple fault' });
    }
    return this.finished ?? { kind: 'running' };
  }

  /** Host keyboard input for the PV console. */
  input(bytes: Uint8Array): void {
    this.pv.console?.input(bytes);
  }

  /** Tears the domain down: it disappears from the host's tables and XenStore. */
  destroy(): void {
    this.pv.close();
    this.xsRing.close();
    for (const vc of this.domain.vcpus) this.domain.stopTimer(vc);
    this.opts.host.remove(this.domid);
  }
}
