/**
 * The devices of the emulated PC and their wiring, separate from the CPU and the boot loader so
 * that a reset can replace the whole set at once (a hard reset puts every device in its power-up
 * state; only the RTC's battery-backed CMOS RAM survives, handed to the next set) and so that the
 * wiring can be tested without a CPU.
 *
 * Interrupt topology (as on a PIIX3-based PC with an 82093AA I/O APIC):
 *
 *   ISA IRQ n ──┬── 8259A pair input n ── master INT ── LAPIC LINT0 (ExtINT, virtual wire) ── CPU INTR
 *               └── I/O APIC pin n (IRQ 0 -> pin 2, the MADT's override) ── APIC bus ── LAPIC IRR
 *
 * Every ISA line feeds both controllers, so the OS may pick either: in PIC mode (no APIC, or the
 * LAPIC left in virtual wire mode) the 8259A's INTR reaches the CPU through LINT0 programmed as
 * ExtINT (the CPU's INTA cycle goes to the 8259A); in APIC mode the OS masks the 8259A and
 * programs the I/O APIC's redirection entries. With the LAPIC hardware-disabled (IA32_APIC_BASE
 * global enable clear) LINT0 is the CPU's INTR pin directly. PCI interrupts leave through the
 * PIIX3's PIRQ routing onto ISA IRQs (wired-OR with the ISA devices), the SCI of the ACPI PM block
 * is ISA IRQ 9 (level, active high, as the MADT's override says).
 *
 * Ports: 8259A 20h/A0h + ELCR 4D0h, 8254 40h-43h + 61h, RTC 70h-71h, 8042 60h/64h, port 92h, COM1
 * 3F8h, POST 80h, debugcon E9h, PCI configuration mechanism #1 CF8h-CFFh (with the PIIX3's Reset
 * Control register at CF9h), the PIIX4 PM block at PMBA (600h, as "firmware" left it). MMIO: the
 * local APIC page (FEE00000h, movable through IA32_APIC_BASE) and the I/O APIC page (FEC00000h).
 * PCI 00:00.0 i440FX host bridge, 00:01.0 PIIX3 ISA bridge, 00:01.3 PIIX4 power management, and
 * with `ideDisks` 00:01.1 PIIX3 IDE (1F0h-1F7h/3F6h on IRQ 14, 170h-177h/376h on IRQ 15), and
 * with `nic` 00:03.0 an Intel 82540EM (e1000) on a virtual switch, as QEMU places it.
 */
import { log, logOnce } from '../base/log.js';
import type { IrqLine } from '../bus/irq.js';
import { PortBus, type PortDevice } from '../bus/port-bus.js';
import type { TimerQueue, VirtualClock } from '../bus/timer-queue.js';
import type { MsrHandler } from '../cpu/msr.js';
import { MSR_APIC_BASE } from '../cpu/msr.js';
import type { PhysicalMemory } from '../memory/physical.js';
import { DualPic } from '../devices/pic/i8259.js';
import { Pit } from '../devices/pit/i8254.js';
import { Rtc } from '../devices/rtc/mc146818.js';
import { Uart16550 } from '../devices/uart/ns16550a.js';
import { I8042 } from '../devices/i8042/i8042.js';
import { SystemControlPortA } from '../devices/sysctl/port92.js';
import { LocalApic, LAPIC_DEFAULT_BASE } from '../devices/lapic/lapic.js';
import { IoApic, IOAPIC_DEFAULT_BASE } from '../devices/ioapic/ioapic.js';
import { PciBus, barMapper } from '../devices/pci/pci-bus.js';
import { I440fxHostBridge, type I440fxOptions } from '../devices/pci/i440fx.js';
import { Piix3IsaBridge } from '../devices/pci/piix3.js';
import { Piix4PowerManagement, PIIX4_PM_IO_SIZE } from '../devices/pci/piix4-pm.js';
import { AcpiPm, DEFAULT_S5_SLP_TYP } from '../devices/acpi-pm/acpi-pm.js';
import { IDE_LEGACY, Piix3Ide } from '../devices/ide/piix3-ide.js';
import type { DmaMemory } from '../devices/ide/ide-channel.js';
import { XEN_IOPORT_BASE, XenPlatformPci, type UnplugRequest } from '../devices/xen-platform/xen-platform.js';
import type { BlockStore } from '../pv/block/block-store.js';
import { E1000 } from '../devices/e1000/e1000.js';
import type { VirtualSwitch } from '../net/switch.js';
import { pirqOf } from '../devices/pci/pci-bus.js';
import { PIIX3_PIRQRC } from '../devices/pci/piix3.js';
import { buildAcpiTables, DEFAULT_PC_PM_BASE, type AcpiTables } from '../loader/acpi/tables.js';

/** ISA IRQ of the ACPI SCI (FADT SCI_INT, a level override in the MADT). */
export const PC_SCI_IRQ = 9;
/** The I/O APIC's ID: after the one local APIC (ID 0), as the MADT says. */
export const PC_IOAPIC_ID = 1;
/** RSDP in the BIOS area Linux scans (E0000h-FFFFFh), the other tables right after it. */
export const PC_RSDP_ADDR = 0xf0000;
export const PC_ACPI_TABLES_ADDR = 0xf0040;
/** The reset register of the FADT: the PIIX3's Reset Control, SRST | RCPU. */
export const PC_RESET_REGISTER = { port: 0xcf9, value: 0x06 } as const;

/** How the platform ended the guest's run. */
export type PowerOffVia = 'acpi-s5' | 'halt';

export interface PcPlatformOptions {
  mem: PhysicalMemory;
  clock: VirtualClock;
  timers: TimerQueue;
  /** Host wall-clock ms at guest time 0 (the RTC's time base). */
  wallclockMs: number;
  /** CMOS RAM (bytes 0Eh-7Fh) to keep from the previous power-on (battery-backed across resets). */
  cmos?: Uint8Array;
  /** The CPU's INTR pin. */
  intr: (level: boolean) => void;
  /** The CPU's NMI. */
  nmi: () => void;
  /** The combined A20 gate (8042 output port OR port 92h bit 1). */
  a20: (enabled: boolean) => void;
  /** A reset request (8042 pulse, port 92h, 0CF9h). */
  onReset: (why: string) => void;
  /** ACPI S5. */
  onPowerOff: (why: string) => void;
  /** Raises #GP on the CPU (a rejected IA32_APIC_BASE write). Never returns. */
  generalProtection: () => never;
  /** The local APIC page moved or was unmapped: cached translations of it must go. */
  mmioChanged?: () => void;
  serialOutput: (byte: number) => void;
  debugOutput?: (byte: number) => void;
  /**
   * Firmware runs on this machine (HVM with a BIOS): leave every device in its power-up state
   * instead of doing the BIOS's work (LAPIC virtual wire, PMBA), and skip the direct-boot ACPI
   * tables. Default false (direct kernel boot).
   */
  firmware?: boolean;
  /** Host bridge options (PAM/SMRAM hooks, subsystem IDs). */
  hostBridge?: I440fxOptions;
  /**
   * Attach the PIIX3's IDE function (00:01.1, legacy channels at 1F0h/3F6h IRQ 14 and 170h/376h
   * IRQ 15) with these disks: primary master, primary slave, secondary master, secondary slave
   * (undefined = no drive). Absent: no IDE function (the direct-boot PC).
   */
  ideDisks?: Array<BlockStore | undefined>;
  /** Guest memory for the IDE bus master (BAR 4, multiword DMA); absent: PIO only. */
  ideDma?: DmaMemory;
  /**
   * Attach the Xen platform PCI device (at 00:`device`.0, default 2, so it and the e1000 at 00:03.0 can coexist) and its unplug ports at
   * 10h-13h. An unplug request removes the IDE disks it names here; `unplug` (if given) hears
   * every request afterwards, for devices the platform does not own (emulated NICs).
   */
  xenPlatform?: { device?: number; unplug?: (req: UnplugRequest) => void };
  /** An e1000 at 00:03.0 with this MAC, a port of `switch`, DMA through `dma` (RAM only). */
  nic?: PcNicOptions;
}

export interface PcNicOptions {
  mac: Uint8Array;
  switch: VirtualSwitch;
  dma: DmaMemory;
}

/** Where "firmware" (the direct boot) places the e1000: QEMU's usual BARs, PIRQ -> IRQ 11. */
export const PC_NIC_DEVICE = 3;
export const PC_NIC_MMIO_BASE = 0xfebc0000;
export const PC_NIC_IO_BASE = 0xc000;
export const PC_NIC_IRQ = 11;

/** Sources that drive an ISA IRQ line, wired-OR. */
const SRC_DEVICE = 1, SRC_PIRQ = 2;

export class PcPlatform {
  readonly ports = new PortBus();
  readonly pic: DualPic;
  readonly pit: Pit;
  readonly rtc: Rtc;
  readonly com1: Uart16550;
  readonly kbc: I8042;
  readonly port92: SystemControlPortA;
  readonly lapic: LocalApic;
  readonly ioapic: IoApic;
  readonly pci: PciBus;
  readonly hostBridge: I440fxHostBridge;
  readonly isaBridge: Piix3IsaBridge;
  readonly pmFunction: Piix4PowerManagement;
  readonly acpiPm: AcpiPm;
  /** The PIIX3 IDE function, when `ideDisks` was given. */
  readonly ide: Piix3Ide | undefined;
  /** The Xen platform device, when `xenPlatform` was given. */
  readonly xenPlatform: XenPlatformPci | undefined;
  /** The e1000, when `nic` was given. */
  readonly nic: E1000 | undefined;
  /** IA32_APIC_BASE, for the CPU's MSR file. */
  readonly apicBaseMsr: MsrHandler;
  /** Per ISA IRQ, the set of sources driving it high. */
  private readonly isaSources = new Uint8Array(16);
  private pmPortsAt: number | undefined;
  private lapicMappedAt: number | undefined;
  private detached = false;

  constructor(private readonly o: PcPlatformOptions) {
    const { clock, timers } = o;
    this.lapic = new LocalApic({
      clock,
      timers,
      apicId: 0,
      onIntr: (l) => o.intr(l),
      onNmi: () => o.nmi(),
      onEoi: (v) => this.ioapic.eoi(v),
      pic: { hasInterrupt: () => this.pic.hasInterrupt(), acknowledge: () => this.pic.acknowledge() },
      onBaseChange: (base, enabled) => this.mapLapic(enabled ? base : undefined),
      // One CPU: IPIs for others have nowhere to go.
      sendIpi: (ipi) => logOnce('debug', 'pc', `ipi-${ipi.deliveryMode}`, `IPI (mode ${ipi.deliveryMode}) to APIC ${ipi.destination}: no other CPU`),
    });
    this.ioapic = new IoApic({ id: PC_IOAPIC_ID, deliver: (msg) => { this.lapic.receive(msg); } });
    // The 8259A's INT output is LINT0 of the local APIC.
    this.pic = new DualPic((l) => this.lapic.setLint0(l));
    this.pit = new Pit({ clock, timers, irq0: this.isaLine(0) });
    this.rtc = new Rtc({ clock, timers, irq: this.isaLine(8), wallclockAtZeroMs: o.wallclockMs });
    if (o.cmos) for (let i = 0x0e; i < 0x80; i++) this.rtc.setByte(i, o.cmos[i]);
    this.rtc.setMemorySize(o.mem.ramSize);
    this.com1 = new Uart16550({ name: 'com1', clock, timers, irq: this.isaLine(4), output: o.serialOutput });
    const a20 = () => o.a20(this.kbc.a20 || this.port92.a20);
    this.kbc = new I8042({ irq1: this.isaLine(1), irq12: this.isaLine(12), onA20: a20, onReset: () => o.onReset('keyboard controller reset') });
    this.port92 = new SystemControlPortA({ onA20: a20, onReset: () => o.onReset('port 0x92 reset') });
    this.acpiPm = new AcpiPm({
      clock, timers, sci: this.isaLine(PC_SCI_IRQ), s5SlpTyp: DEFAULT_S5_SLP_TYP,
      onPowerOff: () => o.onPowerOff('ACPI S5 (PM1a_CNT SLP_EN)'),
    });

    this.hostBridge = new I440fxHostBridge(o.hostBridge);
    this.isaBridge = new Piix3IsaBridge({
      isaIrq: (irq, level) => this.driveIsa(irq, SRC_PIRQ, level),
      onReset: (hard) => o.onReset(`reset control register 0xcf9 (${hard ? 'hard' : 'soft'} reset)`),
    });
    this.pmFunction = new Piix4PowerManagement({ onPmIoChange: (base) => this.movePmBlock(base) });
    this.pci = new PciBus({
      barChanged: barMapper(this.ports, o.mem),
      pirqChanged: (p, level) => this.isaBridge.setPirq(p, level),
    });
    this.pci.attach(0, 0, this.hostBridge);
    this.pci.attach(1, 0, this.isaBridge);
    this.pci.attach(1, 3, this.pmFunction);
    if (o.ideDisks) {
      this.ide = new Piix3Ide({
        disks: o.ideDisks, dma: o.ideDma,
        irqs: [this.isaLine(IDE_LEGACY[0].irq), this.isaLine(IDE_LEGACY[1].irq)],
      });
      this.pci.attach(1, 1, this.ide);
    }
    if (o.xenPlatform) {
      const hook = o.xenPlatform.unplug;
      this.xenPlatform = new XenPlatformPci({
        unplug: (req) => {
          if (req.allIdeDisks || req.auxIdeDisks) this.ide?.unplugDisks(req.allIdeDisks);
          hook?.(req);
        },
      });
      this.pci.attach(o.xenPlatform.device ?? 2, 0, this.xenPlatform);
    }
    if (o.nic) {
      const nic = new E1000({ mac: o.nic.mac, dma: o.nic.dma });
      const sw = o.nic.switch;
      nic.setOutput((f) => sw.input(nic, f));
      this.nic = nic;
      this.pci.attach(PC_NIC_DEVICE, 0, nic);
      sw.attach(nic);
    }

    this.apicBaseMsr = {
      read: (index) => (index === MSR_APIC_BASE ? this.lapic.readApicBase() : null),
      write: (index, lo, hi) => {
        if (index !== MSR_APIC_BASE) return false;
        if (!this.lapic.writeApicBase(lo, hi)) o.generalProtection();
        return true;
      },
    };

    this.wirePorts();
    this.mapLapic(LAPIC_DEFAULT_BASE);
    o.mem.mapMmio(IOAPIC_DEFAULT_BASE, 0x1000, this.ioapic);
    if (!o.firmware) this.firmwareInit();
  }

  /** What a BIOS leaves behind before an OS starts: APIC virtual wire mode, the PM block at 600h. */
  private firmwareInit(): void {
    this.lapic.firmwareVirtualWire();
    this.pmFunction.firmwareInit(DEFAULT_PC_PM_BASE);
    if (this.nic) {
      // As SeaBIOS would: BARs assigned, decoding and bus mastering on, INTA routed and named.
      const p = pirqOf(PC_NIC_DEVICE, 1);
      this.isaBridge.configWrite(PIIX3_PIRQRC + p, 1, PC_NIC_IRQ);
      this.nic.configWrite(0x10, 4, PC_NIC_MMIO_BASE);
      this.nic.configWrite(0x14, 4, PC_NIC_IO_BASE);
      this.nic.configWrite(0x3c, 1, PC_NIC_IRQ);
      this.nic.configWrite(0x04, 2, 0x0007);
    }
  }

  private wirePorts(): void {
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
    p.register(0xcf8, 4, this.pci.addressPorts(this.isaBridge.resetControlPort()));
    p.register(0xcfc, 4, this.pci.dataPorts());
    // Port 0x80 is the POST-code port that Linux writes for I/O delays: accept silently.
    p.register(0x80, 1, sink('post'));
    if (this.ide) {
      this.ide.channels.forEach((ch, c) => {
        p.register(IDE_LEGACY[c].command, 8, ch.commandBlock());
        p.register(IDE_LEGACY[c].control, 1, ch.controlBlock());
      });
    }
    if (this.xenPlatform) p.register(XEN_IOPORT_BASE, 4, this.xenPlatform.unplugPorts);
    const dbg = this.o.debugOutput;
    p.register(0xe9, 1, { name: 'debugcon', ioRead: () => 0xe9, ioWrite: (_o, _s, v) => dbg?.(v & 0xff) });
  }

  /** The line of ISA IRQ `n` for a device: both interrupt controllers see it. */
  isaLine(n: number): IrqLine {
    return { set: (level) => this.driveIsa(n, SRC_DEVICE, level) };
  }

  private driveIsa(n: number, source: number, level: boolean): void {
    if (n < 0 || n > 15) return;
    const before = this.isaSources[n] !== 0;
    if (level) this.isaSources[n] |= source;
    else this.isaSources[n] &= ~source;
    const now = this.isaSources[n] !== 0;
    if (now === before) return;
    this.pic.setIrq(n, now);
    // The PIT's IRQ 0 is wired to I/O APIC pin 2 (pin 0 would be the 8259A's INTR, unused here).
    this.ioapic.setIrq(n === 0 ? 2 : n, now);
  }

  private mapLapic(base: number | undefined): void {
    if (this.detached) return;
    if (this.lapicMappedAt !== undefined) this.o.mem.unmapMmio(this.lapic);
    this.lapicMappedAt = undefined;
    if (base !== undefined) {
      if (base === IOAPIC_DEFAULT_BASE) {
        logOnce('warn', 'pc', 'lapic-on-ioapic', 'local APIC base moved onto the I/O APIC page: not mapped');
      } else {
        this.o.mem.mapMmio(base, 0x1000, this.lapic);
        this.lapicMappedAt = base;
      }
    }
    this.o.mmioChanged?.();
  }

  private movePmBlock(base: number | undefined): void {
    const dev: PortDevice = this.acpiPm.ports();
    if (this.pmPortsAt !== undefined) this.ports.unregister(dev);
    this.pmPortsAt = undefined;
    if (base === undefined) return;
    try {
      this.ports.register(base, PIIX4_PM_IO_SIZE, dev);
      this.pmPortsAt = base;
    } catch (e) {
      log('warn', 'pc', `ACPI PM block at 0x${base.toString(16)} overlaps other ports, not decoded: ${(e as Error).message}`);
    }
  }

  /** Where the PM block answers now (undefined: not decoded). */
  get pmBase(): number | undefined {
    return this.pmPortsAt;
  }

  /** INTA: the local APIC answers (it runs the 8259A's cycle for ExtINT). */
  acknowledge(): number {
    return this.lapic.acknowledge();
  }

  /** The ACPI tables for this platform (RSDP, RSDT/XSDT, FADT, FACS, MADT, DSDT). */
  acpiTables(): AcpiTables {
    return buildAcpiTables({
      profile: 'pc',
      rsdpAddress: PC_RSDP_ADDR,
      tablesAddress: PC_ACPI_TABLES_ADDR,
      cpus: 1,
      apicIds: [0],
      lapicAddress: LAPIC_DEFAULT_BASE,
      ioapic: { id: PC_IOAPIC_ID, address: IOAPIC_DEFAULT_BASE, gsiBase: 0 },
      pmBase: DEFAULT_PC_PM_BASE,
      sciIrq: PC_SCI_IRQ,
      resetRegister: PC_RESET_REGISTER,
      s5SlpTyp: DEFAULT_S5_SLP_TYP,
      vga: false,
    });
  }

  /** Copies the ACPI tables into guest RAM (after the loader cleared it). */
  loadAcpiTables(): AcpiTables {
    const t = this.acpiTables();
    this.o.mem.load(t.rsdp.address, t.rsdp.bytes);
    this.o.mem.load(t.tables.address, t.tables.bytes);
    return t;
  }

  /** Withdraws this platform's MMIO pages (before a reset builds the next one). */
  detach(): void {
    if (this.lapicMappedAt !== undefined) this.o.mem.unmapMmio(this.lapic);
    this.lapicMappedAt = undefined;
    this.o.mem.unmapMmio(this.ioapic);
    if (this.nic) {
      this.o.nic?.switch.detach(this.nic);
      const m = this.nic.mmioBar(0);
      if (m) this.o.mem.unmapMmio(m);
    }
    this.detached = true;
    this.o.mmioChanged?.();
  }
}

function sink(name: string): PortDevice {
  return { name, ioRead: () => 0xff, ioWrite: () => {} };
}
