/**
 * The emulated PC for direct kernel boot: RAM, the CPU, and the platform of src/machine/pc-platform.ts
 * (8259A pair, 8254 PIT with port 0x61, MC146818 RTC/CMOS, 16550A COM1, 8042, port 0x92, local APIC,
 * I/O APIC, i440FX/PIIX3/PIIX4-PM on PCI configuration mechanism #1, the ACPI PM block) with ACPI
 * tables in the BIOS area. This is the composition root of the fully virtualized end of the
 * spectrum: the only place that knows the CPU, the platform and the loader together.
 *
 * `step()` runs the CPU for a slice, fires due timers, and reports whether the guest is running,
 * idle until a deadline, or finished (power-off, reset request, triple fault). A reset replaces
 * the whole device set with a fresh one (power-up state; the CMOS RAM survives) and loads the
 * kernel again.
 */
import { PhysicalMemory } from '../memory/physical.js';
import { Cpu, type CpuBus } from '../cpu/cpu.js';
import { CR0_ET, CR0_PE, CS, DS, ES, FS, GS, SS } from '../cpu/arch.js';
import { decodeDescriptor, loadCache } from '../cpu/segments.js';
import type { PortBus } from '../bus/port-bus.js';
import { TimerQueue } from '../bus/timer-queue.js';
import type { DualPic } from '../devices/pic/i8259.js';
import type { Pit } from '../devices/pit/i8254.js';
import type { Rtc } from '../devices/rtc/mc146818.js';
import type { Uart16550 } from '../devices/uart/ns16550a.js';
import type { I8042 } from '../devices/i8042/i8042.js';
import type { SystemControlPortA } from '../devices/sysctl/port92.js';
import type { LocalApic } from '../devices/lapic/lapic.js';
import type { IoApic } from '../devices/ioapic/ioapic.js';
import { MachineClock, type ClockMode } from './clock.js';
import { cpuHooks, stepPcPlatform, type PlatformRequests } from './pc-step.js';
import { PcPlatform } from './pc-platform.js';
import { guestDmaView } from './guest-dma.js';
import type { VirtualSwitch } from '../net/switch.js';
import { buildZeroPage, parseBzImage, pcE820, planBoot } from '../loader/bzimage.js';

export interface PcOptions {
  memoryMiB: number;
  kernel: Uint8Array;
  initrd?: Uint8Array;
  cmdline: string;
  clockMode: ClockMode;
  /** Monotonic host time in ns (performance.now() * 1e6). */
  hostNowNs: () => number;
  /** Host wall-clock time in ms (Date.now()) at start, for the RTC. */
  wallclockMs: number;
  /** Bytes the guest writes to COM1. */
  serialOutput: (byte: number) => void;
  /** Bytes written to the Bochs/QEMU debug port 0xE9. */
  debugOutput?: (byte: number) => void;
  /** An e1000 NIC at 00:03.0 on this switch (see PcPlatformOptions.nic). */
  nic?: { mac: Uint8Array; switch: VirtualSwitch };
}

export type { PcStatus } from './pc-step.js';
import type { PcStatus } from './pc-step.js';

const GDT_ADDR = 0x800;
/** Guest TSC frequency: 1 GHz, so TSC ticks are guest nanoseconds. */
export const TSC_HZ = 1_000_000_000;

export class PcMachine {
  readonly mem: PhysicalMemory;
  readonly cpu: Cpu;
  readonly clock: MachineClock;
  /** The timer queue of the current power-on (a reset starts a new one with the new devices). */
  timers = new TimerQueue();
  /** The devices of the current power-on. */
  platform: PcPlatform;
  /** Reboots so far (resets that restarted the guest). */
  boots = 0;
  private readonly rq: PlatformRequests = { crashReason: null, powerOffRequest: null, resetRequest: null };

  constructor(readonly opts: PcOptions) {
    if (!Number.isInteger(opts.memoryMiB) || opts.memoryMiB < 16 || opts.memoryMiB > 2000) {
      throw new Error(`memory must be between 16 and 2000 MiB, got ${opts.memoryMiB}`);
    }
    this.mem = new PhysicalMemory(opts.memoryMiB << 20);
    const bus: CpuBus = {
      ioRead: (port, size) => this.platform.ports.read(port, size),
      ioWrite: (port, size, value) => this.platform.ports.write(port, size, value),
      acknowledgeInterrupt: () => this.platform.acknowledge(),
    };
    this.cpu = new Cpu(this.mem, bus);
    this.clock = new MachineClock(opts.clockMode, opts.hostNowNs, () => this.cpu.icount);
    this.cpu.msr.tscSource = () => Math.floor((this.clock.now() * TSC_HZ) / 1e9);
    this.cpu.onShutdown = (why) => {
      this.rq.crashReason = why;
    };
    // The platform has a local APIC: CPUID.1:EDX.APIC, and IA32_APIC_BASE belongs to it.
    this.cpu.cpuidConfig.apic = true;
    this.cpu.apicId = 0;
    this.cpu.msr.extra.push({
      read: (index) => this.platform.apicBaseMsr.read(index),
      write: (index, lo, hi) => this.platform.apicBaseMsr.write(index, lo, hi),
    });
    this.platform = this.powerOnDevices(undefined);
    this.bootKernel();
  }

  get ports(): PortBus { return this.platform.ports; }
  get pic(): DualPic { return this.platform.pic; }
  get pit(): Pit { return this.platform.pit; }
  get rtc(): Rtc { return this.platform.rtc; }
  get com1(): Uart16550 { return this.platform.com1; }
  get kbc(): I8042 { return this.platform.kbc; }
  get port92(): SystemControlPortA { return this.platform.port92; }
  get lapic(): LocalApic { return this.platform.lapic; }
  get ioapic(): IoApic { return this.platform.ioapic; }

  /** A fresh device set in its power-up state (`cmos`: the battery-backed RAM to keep). */
  private powerOnDevices(cmos: Uint8Array | undefined): PcPlatform {
    return new PcPlatform({
      mem: this.mem,
      clock: this.clock,
      timers: this.timers,
      wallclockMs: this.opts.wallclockMs,
      cmos,
      ...cpuHooks(this.cpu, this.rq),
      serialOutput: this.opts.serialOutput,
      debugOutput: this.opts.debugOutput,
      nic: this.opts.nic && { ...this.opts.nic, dma: guestDmaView(this.mem, this.cpu) },
    });
  }

  /** Loads the kernel, initrd, command line and zero page, and enters the 32-bit boot protocol. */
  private bootKernel(): void {
    const { kernel, initrd, cmdline } = this.opts;
    const bz = parseBzImage(kernel);
    const layout = planBoot(bz, this.mem.ramSize, initrd?.length ?? 0, cmdline);
    this.mem.u8.fill(0);
    // The ACPI tables live in the BIOS area (0xF0000-0xFFFFF, reserved in the e820 map).
    this.platform.loadAcpiTables();
    this.mem.load(layout.kernel, bz.kernel);
    if (initrd) this.mem.load(layout.initrd, initrd);
    const cl = new Uint8Array(cmdline.length + 1);
    for (let k = 0; k < cmdline.length; k++) cl[k] = cmdline.charCodeAt(k) & 0xff;
    this.mem.load(layout.cmdline, cl);
    this.mem.load(layout.zeroPage, buildZeroPage(bz, layout, initrd?.length ?? 0, pcE820(this.mem.ramSize)));
    // The boot protocol's flat segments: __BOOT_CS = 0x10, __BOOT_DS = 0x18, in a GDT of our own.
    const gdt = new Uint8Array(32);
    const g = new DataView(gdt.buffer);
    g.setUint32(16, 0x0000ffff, true);
    g.setUint32(20, 0x00cf9b00, true);
    g.setUint32(24, 0x0000ffff, true);
    g.setUint32(28, 0x00cf9300, true);
    this.mem.load(GDT_ADDR, gdt);
    const c = this.cpu;
    c.reset();
    c.gdtBase = GDT_ADDR;
    c.gdtLimit = 31;
    c.cr0 = CR0_PE | CR0_ET;
    loadCache(c, CS, 0x10, decodeDescriptor(0x0000ffff, 0x00cf9b00, GDT_ADDR + 16));
    for (const s of [DS, ES, SS, FS, GS]) loadCache(c, s, 0x18, decodeDescriptor(0x0000ffff, 0x00cf9300, GDT_ADDR + 24));
    c.setCpl(0);
    c.regs[6] = layout.zeroPage; // ESI -> boot_params
    c.regs[4] = layout.zeroPage; // a usable stack below the zero page
    c.eip = bz.code32Start || layout.kernel;
  }

  /**
   * Runs up to `maxInstructions` (in slices between timer deadlines) and returns the machine's
   * state: still running, idle (the caller should wait `waitNs` of real time, host clock only),
   * or finished.
   */
  step(maxInstructions: number): PcStatus {
    return stepPcPlatform(this.cpu, this.clock, this.timers, this.rq, maxInstructions);
  }

  /** Host keyboard input for the serial console. */
  input(bytes: Uint8Array): void {
    this.com1.receive(bytes);
  }

  /**
   * Restarts the guest from scratch (a hard reset): every device is replaced by one in its
   * power-up state on a new timer queue (only the CMOS RAM is kept, as its battery would), the
   * CPU is reset and the kernel is loaded again. Guest time goes on.
   */
  reboot(): void {
    const cmos = this.platform.rtc.cmos.slice();
    this.platform.detach();
    this.timers = new TimerQueue();
    this.rq.crashReason = null;
    this.rq.resetRequest = null;
    this.rq.powerOffRequest = null;
    this.platform = this.powerOnDevices(cmos);
    this.boots++;
    this.bootKernel();
  }
}
