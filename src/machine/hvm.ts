/**
 * The HVM machine: the emulated PC of src/machine/pc-platform.ts started the way hardware starts,
 * at the reset vector with a BIOS in ROM, instead of a direct kernel boot. The firmware (Debian's
 * SeaBIOS, bios-256k.bin) does what the direct-boot machine does in TypeScript: it programs the
 * local APIC, the PIIX4 PM block, the PIRQ routers, shadows itself into RAM through the i440FX's
 * PAM registers, and builds its own tables.
 *
 * Beyond the PC platform this machine has what a QEMU-targeted SeaBIOS looks for:
 * - the BIOS ROM at the top of 4 GiB and, PAM-controlled, at E0000h-FFFFFh (machine/hvm-firmware);
 * - the host bridge's QEMU subsystem IDs (1AF4h:1100h), which make SeaBIOS trust fw_cfg;
 * - fw_cfg at 510h (devices/fw-cfg) with RAM size, CPU counts, "etc/e820", "bootorder",
 *   "etc/boot-fail-wait";
 * - the QEMU debug console at 402h (reads back E9h, as SeaBIOS's probe expects), plus the Bochs
 *   port E9h, both into `debugOutput`.
 * - the PIIX3 IDE function at 00:01.1 (devices/ide) with `disks` as ATA hard disks, its bus
 *   master DMA reaching RAM through the same guest-memory view as fw_cfg's DMA.
 *
 * Why a machine of its own rather than a mode of PcMachine: the two share the platform but differ
 * in everything around it (ROM mapping and shadowing, fw_cfg, the CPU's start state, what a reset
 * reloads), and keeping PcMachine's direct-boot path untouched keeps the Linux boot tests as they
 * are. The run loop is the same (vcpu-slice).
 */
import { PhysicalMemory } from '../memory/physical.js';
import { Cpu, type CpuBus } from '../cpu/cpu.js';
import { TimerQueue } from '../bus/timer-queue.js';
import { MachineClock, type ClockMode } from './clock.js';
import { cpuHooks, memoryMapChanged, stepPcPlatform, type PcStatus, type PlatformRequests } from './pc-step.js';
import { PcPlatform } from './pc-platform.js';
import { BiosRom, BiosShadow } from './hvm-firmware.js';
import {
  e820File, FwCfg, FW_CFG_ACPI_TABLES, FW_CFG_BOOT_MENU, FW_CFG_E820_TABLE, FW_CFG_IRQ0_OVERRIDE,
  FW_CFG_MAX_CPUS, FW_CFG_NB_CPUS, FW_CFG_NOGRAPHIC, FW_CFG_NUMA, FW_CFG_PORT_SELECTOR, FW_CFG_RAM_SIZE,
  FW_CFG_SMBIOS_ENTRIES, FW_CFG_UUID,
} from '../devices/fw-cfg/fw-cfg.js';
import { TSC_HZ } from './pc.js';
import { guestDmaView, type GuestDmaView } from './guest-dma.js';
import type { BlockStore } from '../pv/block/block-store.js';
import type { VirtualSwitch } from '../net/switch.js';

export interface HvmOptions {
  memoryMiB: number;
  /** The BIOS image (a multiple of 64 KiB, 128 KiB to 16 MiB), e.g. SeaBIOS's bios-256k.bin. */
  bios: Uint8Array;
  clockMode: ClockMode;
  hostNowNs: () => number;
  wallclockMs: number;
  /** Bytes the guest writes to COM1. */
  serialOutput: (byte: number) => void;
  /** Bytes written to the QEMU debug console (402h) or the Bochs port (E9h). */
  debugOutput?: (byte: number) => void;
  /** fw_cfg "etc/boot-fail-wait": seconds SeaBIOS waits after "No bootable device" before rebooting (default 60). */
  bootFailWaitSeconds?: number;
  /** fw_cfg "bootorder" lines (default: none). */
  bootOrder?: string[];
  /** UUID bytes (16) for fw_cfg item 02h (default: zeros). */
  uuid?: Uint8Array;
  /**
   * IDE hard disks on the PIIX3's IDE function: primary master, primary slave, secondary master,
   * secondary slave (at most 4; undefined leaves a position empty). The IDE function is always
   * present, as on a PIIX3 board.
   */
  disks?: Array<BlockStore | undefined>;
  /** An e1000 NIC at 00:03.0 on this switch (SeaBIOS assigns its BARs). */
  nic?: { mac: Uint8Array; switch: VirtualSwitch };
}

export type HvmStatus = PcStatus;

/** QEMU's i440FX subsystem IDs (Red Hat, "Qemu virtual machine"). */
export const QEMU_SUBSYSTEM = { vendorId: 0x1af4, id: 0x1100 } as const;
/** The QEMU debug console port, and what it reads back when present. */
export const QEMU_DEBUGCON_PORT = 0x402;
export const QEMU_DEBUGCON_READBACK = 0xe9;
/** PIIX4 PM Device Activity B (APMC_EN is bit 25). */
const PIIX4_DEVACTB = 0x58;

export class HvmMachine {
  readonly mem: PhysicalMemory;
  readonly cpu: Cpu;
  readonly clock: MachineClock;
  readonly rom: BiosRom;
  readonly fwCfg: FwCfg;
  timers = new TimerQueue();
  platform: PcPlatform;
  shadow: BiosShadow;
  /** Resets so far. */
  boots = 0;
  private readonly rq: PlatformRequests = { crashReason: null, powerOffRequest: null, resetRequest: null };

  constructor(readonly opts: HvmOptions) {
    if ((opts.disks?.length ?? 0) > 4) throw new Error(`at most 4 IDE disks, got ${opts.disks!.length}`);
    if (!Number.isInteger(opts.memoryMiB) || opts.memoryMiB < 16 || opts.memoryMiB > 2000) {
      throw new Error(`memory must be between 16 and 2000 MiB, got ${opts.memoryMiB}`);
    }
    this.rom = new BiosRom(opts.bios);
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
      // A reset requested earlier in the same block wins: the reset line would have pulled the CPU
      // before it got to the fault (SeaBIOS writes 0CF9h and then executes INT3 as a fallback).
      if (this.rq.resetRequest === null) this.rq.crashReason = why;
    };
    this.cpu.cpuidConfig.apic = true;
    this.cpu.apicId = 0;
    this.cpu.msr.extra.push({
      read: (index) => this.platform.apicBaseMsr.read(index),
      write: (index, lo, hi) => this.platform.apicBaseMsr.write(index, lo, hi),
    });
    this.mem.mapMmio(this.rom.base, opts.bios.length, this.rom);
    this.fwCfg = this.buildFwCfg();
    this.shadow = new BiosShadow(this.mem, this.rom, () => memoryMapChanged(this.cpu));
    this.platform = this.powerOnDevices(undefined);
    this.cpu.reset();
  }

  /** Guest memory as a DMA master sees it (RAM below the top of RAM only; PAM applies below 1 MiB). */
  /** Guest RAM as the bus masters (fw_cfg DMA, IDE, e1000) see it. */
  private guestMemory(): GuestDmaView {
    return guestDmaView(this.mem, this.cpu);
  }

  private buildFwCfg(): FwCfg {
    const o = this.opts;
    const f = new FwCfg(this.guestMemory());
    const ram = this.mem.ramSize;
    f.setItem(FW_CFG_UUID, o.uuid && o.uuid.length === 16 ? o.uuid.slice() : new Uint8Array(16));
    f.setU64(FW_CFG_RAM_SIZE, BigInt(ram));
    f.setU16(FW_CFG_NOGRAPHIC, 1);
    f.setU16(FW_CFG_NB_CPUS, 1);
    f.setU16(FW_CFG_MAX_CPUS, 1);
    // NUMA: a node count of 0, then one (zero) node number per possible CPU.
    f.setItem(FW_CFG_NUMA, new Uint8Array(8 * (1 + 1)));
    f.setU16(FW_CFG_BOOT_MENU, 0);
    // IRQ 0 reaches I/O APIC pin 2 (the MADT's override).
    f.setU32(FW_CFG_IRQ0_OVERRIDE, 1);
    // Legacy tables SeaBIOS probes: no reservations, no ACPI tables, no SMBIOS entries.
    f.setU32(FW_CFG_E820_TABLE, 0);
    f.setU16(FW_CFG_ACPI_TABLES, 0);
    f.setU16(FW_CFG_SMBIOS_ENTRIES, 0);
    f.addFile('etc/e820', e820File([{ base: 0, length: ram, type: 1 }]));
    const order = (o.bootOrder ?? []).join('\n');
    f.addFile('bootorder', new Uint8Array([...order].map((c) => c.charCodeAt(0) & 0xff).concat(order ? [0] : [])));
    const wait = new Uint8Array(4);
    new DataView(wait.buffer).setUint32(0, Math.max(0, Math.round((o.bootFailWaitSeconds ?? 60) * 1000)), true);
    f.addFile('etc/boot-fail-wait', wait);
    return f;
  }


  private powerOnDevices(cmos: Uint8Array | undefined): PcPlatform {
    const p = new PcPlatform({
      mem: this.mem,
      clock: this.clock,
      timers: this.timers,
      wallclockMs: this.opts.wallclockMs,
      cmos,
      ...cpuHooks(this.cpu, this.rq),
      serialOutput: this.opts.serialOutput,
      debugOutput: this.opts.debugOutput,
      firmware: true,
      ideDisks: this.opts.disks ?? [],
      ideDma: this.guestMemory(),
      nic: this.opts.nic && { ...this.opts.nic, dma: this.guestMemory() },
      hostBridge: {
        subsystem: QEMU_SUBSYSTEM,
        onPamChange: (index, value) => this.shadow.pamChanged(index, value),
      },
    });
    // The CPU has no System Management Mode: mark the PIIX4's SMM set-up as done (DEVACTB bit 25,
    // APMC_EN, at 5Bh bit 1), as QEMU does for a machine without SMM, so firmware does not raise an
    // SMI through APMC (0B2h) and wait forever for a handler that cannot run.
    p.pmFunction.configWrite(PIIX4_DEVACTB + 3, 1, p.pmFunction.configRead(PIIX4_DEVACTB + 3, 1) | 0x02);
    p.ports.register(FW_CFG_PORT_SELECTOR, 12, this.fwCfg.ports());
    const dbg = this.opts.debugOutput;
    p.ports.register(QEMU_DEBUGCON_PORT, 1, {
      name: 'debugcon',
      ioRead: () => QEMU_DEBUGCON_READBACK,
      ioWrite: (_o, _s, v) => dbg?.(v & 0xff),
    });
    return p;
  }

  step(maxInstructions: number): HvmStatus {
    return stepPcPlatform(this.cpu, this.clock, this.timers, this.rq, maxInstructions);
  }

  /** Host keyboard input for the serial console. */
  input(bytes: Uint8Array): void {
    this.platform.com1.receive(bytes);
  }

  /**
   * A hard reset: fresh devices on a new timer queue (CMOS RAM kept), PAM back to power-up (the
   * BIOS area reads ROM again), the CPU at the reset vector. RAM keeps its contents, as on a PC.
   */
  reboot(): void {
    const cmos = this.platform.rtc.cmos.slice();
    this.platform.detach();
    this.shadow.detach();
    this.timers = new TimerQueue();
    this.rq.crashReason = null;
    this.rq.resetRequest = null;
    this.rq.powerOffRequest = null;
    this.shadow = new BiosShadow(this.mem, this.rom, () => memoryMapChanged(this.cpu));
    this.platform = this.powerOnDevices(cmos);
    this.boots++;
    this.cpu.reset();
  }
}
