/**
 * The emulated PC for direct kernel boot: RAM, the CPU, and the legacy platform (8259A pair,
 * 8254 PIT with port 0x61, MC146818 RTC/CMOS, 16550A COM1, 8042, port 0x92), wired on one port bus
 * with a virtual-time timer queue. This is the composition root of the fully virtualized end of
 * the spectrum: the only place that knows every device.
 *
 * `step()` runs the CPU for a slice, fires due timers, and reports whether the guest is running,
 * idle until a deadline, or finished (power-off, reset request, triple fault).
 */
import { PhysicalMemory } from '../memory/physical.js';
import { Cpu, type CpuBus } from '../cpu/cpu.js';
import { CR0_ET, CR0_PE, CS, DS, ES, Exit, FLAG_IF, FS, GS, SS } from '../cpu/arch.js';
import { decodeDescriptor, loadCache } from '../cpu/segments.js';
import { PortBus, type PortDevice } from '../bus/port-bus.js';
import { TimerQueue } from '../bus/timer-queue.js';
import { DualPic } from '../devices/pic/i8259.js';
import { Pit } from '../devices/pit/i8254.js';
import { Rtc } from '../devices/rtc/mc146818.js';
import { Uart16550 } from '../devices/uart/ns16550a.js';
import { I8042 } from '../devices/i8042/i8042.js';
import { SystemControlPortA } from '../devices/sysctl/port92.js';
import { MachineClock, type ClockMode } from './clock.js';
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
}

export type PcStatus =
  | { kind: 'running' }
  | { kind: 'idle'; waitNs: number }
  | { kind: 'poweroff'; reason: string }
  | { kind: 'reset'; reason: string }
  | { kind: 'crash'; reason: string };

const GDT_ADDR = 0x800;
/** Guest TSC frequency: 1 GHz, so TSC ticks are guest nanoseconds. */
export const TSC_HZ = 1_000_000_000;

export class PcMachine {
  readonly mem: PhysicalMemory;
  readonly cpu: Cpu;
  readonly ports = new PortBus();
  readonly timers = new TimerQueue();
  readonly clock: MachineClock;
  readonly pic: DualPic;
  readonly pit: Pit;
  readonly rtc: Rtc;
  readonly com1: Uart16550;
  readonly kbc: I8042;
  readonly port92: SystemControlPortA;
  private resetRequest: string | null = null;
  private crashReason: string | null = null;

  constructor(readonly opts: PcOptions) {
    if (!Number.isInteger(opts.memoryMiB) || opts.memoryMiB < 16 || opts.memoryMiB > 2000) {
      throw new Error(`memory must be between 16 and 2000 MiB, got ${opts.memoryMiB}`);
    }
    this.mem = new PhysicalMemory(opts.memoryMiB << 20);
    const bus: CpuBus = {
      ioRead: (port, size) => this.ports.read(port, size),
      ioWrite: (port, size, value) => this.ports.write(port, size, value),
      acknowledgeInterrupt: () => this.pic.acknowledge(),
    };
    this.cpu = new Cpu(this.mem, bus);
    this.clock = new MachineClock(opts.clockMode, opts.hostNowNs, () => this.cpu.icount);
    this.cpu.msr.tscSource = () => Math.floor((this.clock.now() * TSC_HZ) / 1e9);
    this.cpu.onShutdown = (why) => {
      this.crashReason = why;
    };
    this.pic = new DualPic((level) => this.cpu.setIntr(level));
    this.pit = new Pit({ clock: this.clock, timers: this.timers, irq0: this.pic.irqLine(0) });
    this.rtc = new Rtc({
      clock: this.clock, timers: this.timers, irq: (l) => this.pic.setIrq(8, l), wallclockAtZeroMs: opts.wallclockMs,
    });
    this.com1 = new Uart16550({
      name: 'com1', clock: this.clock, timers: this.timers, irq: (l) => this.pic.setIrq(4, l), output: opts.serialOutput,
    });
    const reset = (why: string) => () => {
      this.resetRequest = why;
      this.cpu.requestStop();
    };
    // A PC ORs the two A20 gates: the line is open if either the 8042 or port 0x92 opens it.
    const a20 = () => this.cpu.setA20(this.kbc.a20 || this.port92.a20);
    this.kbc = new I8042({ irq1: (l) => this.pic.setIrq(1, l), onA20: a20, onReset: reset('keyboard controller reset') });
    this.port92 = new SystemControlPortA({ onA20: a20, onReset: reset('port 0x92 reset') });
    this.wire();
    this.setCmosMemory();
    this.bootKernel();
  }

  private wire(): void {
    const p = this.ports;
    p.register(0x20, 2, this.pic.ports('master'));
    p.register(0xa0, 2, this.pic.ports('slave'));
    p.register(0x4d0, 2, this.pic.elcrPorts());
    p.register(0x40, 4, this.pit.ports());
    p.register(0x61, 1, this.pit.port61Device());
    p.register(0x70, 2, this.rtc.ports());
    p.register(0x3f8, 8, this.com1.ports());
    p.register(0x60, 1, this.kbc.dataPort());
    p.register(0x64, 1, this.kbc.commandPort());
    p.register(0x92, 1, this.port92.port());
    // Port 0x80 is the POST-code port that Linux writes for I/O delays: accept silently.
    p.register(0x80, 1, sink('post'));
    const dbg = this.opts.debugOutput;
    p.register(0xe9, 1, { name: 'debugcon', ioRead: () => 0xe9, ioWrite: (_o, _s, v) => dbg?.(v & 0xff) });
  }

  /** Memory sizes in CMOS (with the AT checksum), as a BIOS would leave them. */
  private setCmosMemory(): void {
    this.rtc.setMemorySize(this.mem.ramSize);
  }

  /** Loads the kernel, initrd, command line and zero page, and enters the 32-bit boot protocol. */
  private bootKernel(): void {
    const { kernel, initrd, cmdline } = this.opts;
    const bz = parseBzImage(kernel);
    const layout = planBoot(bz, this.mem.ramSize, initrd?.length ?? 0, cmdline);
    this.mem.u8.fill(0);
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
    const cpu = this.cpu;
    let left = maxInstructions;
    while (left > 0) {
      this.timers.runDue(this.clock.now());
      if (this.crashReason !== null) return { kind: 'crash', reason: this.crashReason };
      if (this.resetRequest !== null) {
        const why = this.resetRequest;
        this.resetRequest = null;
        return { kind: 'reset', reason: why };
      }
      if (cpu.halted && !(cpu.intrLine && cpu.flags & FLAG_IF) && !cpu.nmiPending) {
        const deadline = this.timers.nextDeadline();
        if (!(cpu.flags & FLAG_IF) || deadline === Infinity) {
          // HLT with interrupts off (or nothing that could ever wake it): the guest has stopped.
          // Linux ends `poweroff` this way on a machine without ACPI power-off.
          return { kind: 'poweroff', reason: 'guest halted with interrupts disabled' };
        }
        const { waitNs } = this.clock.idleUntil(deadline);
        if (waitNs > 0) return { kind: 'idle', waitNs };
        continue;
      }
      // A slice stops at the next timer deadline, so timers fire on time in guest time.
      let slice = Math.min(left, 50_000);
      const d = this.timers.nextDeadline();
      if (d !== Infinity) slice = Math.min(slice, this.clock.instructionsUntil(d));
      const before = cpu.icount;
      const exit = cpu.run(slice);
      left -= Math.max(1, cpu.icount - before);
      this.clock.sync();
      if (exit === Exit.Shutdown) return { kind: 'crash', reason: this.crashReason ?? 'triple fault' };
    }
    return { kind: 'running' };
  }

  /** Host keyboard input for the serial console. */
  input(bytes: Uint8Array): void {
    this.com1.receive(bytes);
  }

  /** Restarts the guest from scratch (a reboot): devices keep their wiring, the kernel is reloaded. */
  reboot(): void {
    this.crashReason = null;
    this.resetRequest = null;
    this.bootKernel();
  }
}

function sink(name: string): PortDevice {
  return { name, ioRead: () => 0xff, ioWrite: () => {} };
}
