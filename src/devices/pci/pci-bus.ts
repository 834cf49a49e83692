/**
 * PCI bus 0 with configuration mechanism #1 (PCI Local Bus Specification 3.0, 3.2.2.3.2), as the
 * i440FX host bridge implements it: CONFIG_ADDRESS is the dword register at 0CF8h (enable bit 31,
 * bus 23:16, device 15:11, function 10:8, register 7:2), CONFIG_DATA the four bytes at 0CFCh-0CFFh,
 * accessed as bytes, words or the dword at any offset inside them.
 *
 * Only a full dword access to 0CF8h reaches CONFIG_ADDRESS; narrower accesses to 0CF8h-0CFBh are
 * ordinary I/O that the bridge passes on (the PIIX3's reset control register lives at 0CF9h), so
 * the address port forwards them to an optional delegate.
 *
 * Reads of absent functions, other buses (no PCI-PCI bridges here), or with the enable bit clear
 * end in a master abort and return all ones.
 *
 * INTx routing: the PIIX3 has four PIRQ inputs; function pin INTA-INTD of device d drives
 * PIRQ[(d + pin - 1) mod 4] (the rotation boards use so that single-function cards spread over
 * the lines; the same rule must appear in any routing table we publish). Lines are wired-OR: a
 * PIRQ is asserted while any function on it asserts its pin.
 */
import { logOnce } from '../../base/log.js';
import type { Snapshottable } from '../../base/snapshot.js';
import type { AccessSize, PortDevice } from '../../bus/port-bus.js';
import type { MmioHandler } from '../../memory/physical.js';
import type { PciBar, PciFunction, PciFunctionHost, PciFunctionState } from './pci-function.js';

export interface PciBusListener {
  /**
   * A BAR's decoded address changed: unmap it from `oldBase` (if defined) and map it at `newBase`
   * (if defined). `barMapper` builds this from a port bus and physical memory.
   */
  barChanged?(fn: PciFunction, bar: number, def: PciBar, oldBase: number | undefined, newBase: number | undefined): void;
  /** PIRQ line A-D (0-3) changed level (asserted = true). */
  pirqChanged?(pirq: number, level: boolean): void;
}

/** The PIRQ line that pin `pin` (1 = INTA#) of device `device` drives. */
export function pirqOf(device: number, pin: number): number {
  return (device + pin - 1) & 3;
}

export interface PciBusState {
  version: 1;
  address: number;
  /** Keyed "device.function" (hex device). */
  functions: Record<string, PciFunctionState>;
}

export class PciBus implements PciFunctionHost, Snapshottable<PciBusState> {
  private readonly slots: Array<PciFunction | undefined> = new Array(256).fill(undefined);
  private address = 0;
  /** Current level of each PIRQ line (derived from the functions' pins). */
  private pirqLevels = 0;
  private addressPort: PortDevice | undefined;
  private dataPort: PortDevice | undefined;

  constructor(private readonly listener: PciBusListener = {}) {}

  /** Places `f` at 00:device.fn and announces its BARs. */
  attach(device: number, fn: number, f: PciFunction): void {
    if (device < 0 || device > 31 || fn < 0 || fn > 7) throw new Error(`bad PCI address ${device}.${fn}`);
    const idx = (device << 3) | fn;
    if (this.slots[idx]) throw new Error(`PCI 00:${device.toString(16).padStart(2, '0')}.${fn} is taken by ${this.slots[idx]!.name}`);
    this.slots[idx] = f;
    f.attach(this, device, fn);
  }

  function(device: number, fn: number): PciFunction | undefined {
    return this.slots[((device & 31) << 3) | (fn & 7)];
  }

  /** Every attached function, in device/function order. */
  functions(): PciFunction[] {
    return this.slots.filter((f): f is PciFunction => f !== undefined);
  }

  // ---- configuration cycles --------------------------------------------------------------------

  configRead(bus: number, device: number, fn: number, offset: number, size: number): number {
    const f = bus === 0 ? this.function(device, fn) : undefined;
    if (!f) return size === 4 ? 0xffffffff : (1 << (size * 8)) - 1;
    return f.configRead(offset & 0xff, size);
  }

  configWrite(bus: number, device: number, fn: number, offset: number, size: number, value: number): void {
    const f = bus === 0 ? this.function(device, fn) : undefined;
    if (!f) return;
    f.configWrite(offset & 0xff, size, value);
  }

  /** CONFIG_ADDRESS as software sees it. */
  get configAddress(): number {
    return this.address >>> 0;
  }

  /**
   * Port device for 0CF8h-0CFBh (register it over 4 ports). `legacy` receives the narrower
   * accesses there (offsets relative to 0CF8h), e.g. the PIIX3 reset control register at 0CF9h.
   */
  addressPorts(legacy?: PortDevice): PortDevice {
    if (this.addressPort) return this.addressPort;
    this.addressPort = {
      name: 'pci-config-address',
      widths: 7,
      ioRead: (off, size) => {
        if (size === 4 && off === 0) return this.address >>> 0;
        return this.legacyRead(legacy, off, size);
      },
      ioWrite: (off, size, value) => {
        if (size === 4 && off === 0) {
          // Bits 30:24 are reserved and bits 1:0 read as zero.
          this.address = (value & 0x80fffffc) >>> 0;
          return;
        }
        this.legacyWrite(legacy, off, size, value);
      },
    };
    return this.addressPort;
  }

  private legacyRead(legacy: PortDevice | undefined, off: number, size: AccessSize): number {
    let v = 0;
    for (let k = size - 1; k >= 0; k--) v = (v << 8) | (legacy ? legacy.ioRead(off + k, 1) & 0xff : 0xff);
    return v >>> 0;
  }

  private legacyWrite(legacy: PortDevice | undefined, off: number, size: AccessSize, value: number): void {
    for (let k = 0; k < size; k++) {
      if (legacy) legacy.ioWrite(off + k, 1, (value >>> (8 * k)) & 0xff);
      else logOnce('debug', 'pci', `legacy-cf8-${off + k}`, `non-dword write to port 0x${(0xcf8 + off + k).toString(16)} ignored`);
    }
  }

  /** Port device for CONFIG_DATA at 0CFCh-0CFFh (register it over 4 ports). */
  dataPorts(): PortDevice {
    if (this.dataPort) return this.dataPort;
    this.dataPort = {
      name: 'pci-config-data',
      widths: 7,
      ioRead: (off, size) => {
        const a = this.address;
        if ((a & 0x80000000) === 0) return size === 4 ? 0xffffffff : (1 << (size * 8)) - 1;
        return this.configRead((a >>> 16) & 0xff, (a >>> 11) & 31, (a >>> 8) & 7, (a & 0xfc) + off, size);
      },
      ioWrite: (off, size, value) => {
        const a = this.address;
        if ((a & 0x80000000) === 0) return;
        this.configWrite((a >>> 16) & 0xff, (a >>> 11) & 31, (a >>> 8) & 7, (a & 0xfc) + off, size, value);
      },
    };
    return this.dataPort;
  }

  // ---- PciFunctionHost -------------------------------------------------------------------------

  barChanged(fn: PciFunction, bar: number, def: PciBar, oldBase: number | undefined, newBase: number | undefined): void {
    this.listener.barChanged?.(fn, bar, def, oldBase, newBase);
  }

  intxChanged(_fn: PciFunction): void {
    this.recomputePirqs(true);
  }

  private computePirqs(): number {
    let levels = 0;
    for (const f of this.slots) {
      if (f && f.intxAsserted) levels |= 1 << pirqOf(f.device, f.config[0x3d]);
    }
    return levels;
  }

  private recomputePirqs(notify: boolean): void {
    const levels = this.computePirqs();
    const changed = levels ^ this.pirqLevels;
    this.pirqLevels = levels;
    if (!notify) return;
    for (let p = 0; p < 4; p++) if (changed & (1 << p)) this.listener.pirqChanged?.(p, (levels & (1 << p)) !== 0);
  }

  /** Current level of PIRQ line `p`. */
  pirqLevel(p: number): boolean {
    return (this.pirqLevels & (1 << p)) !== 0;
  }

  // ---- state -----------------------------------------------------------------------------------

  save(): PciBusState {
    const functions: Record<string, PciFunctionState> = {};
    for (const f of this.functions()) functions[`${f.device.toString(16)}.${f.fn}`] = f.save();
    return { version: 1, address: this.address >>> 0, functions };
  }

  /**
   * Restores CONFIG_ADDRESS and every attached function that has saved state (the same functions
   * must be attached). PIRQ levels are derived; the interrupt controllers saved their own inputs.
   */
  restore(s: PciBusState): void {
    if (s.version !== 1) throw new Error(`PCI bus state version ${s.version} is not supported`);
    this.address = s.address >>> 0;
    for (const f of this.functions()) {
      const st = s.functions[`${f.device.toString(16)}.${f.fn}`];
      if (!st) throw new Error(`saved PCI state has no entry for ${f.name} at ${f.device}.${f.fn}`);
      f.restore(st);
    }
    this.recomputePirqs(false);
  }
}

/** The port bus and physical memory operations `barMapper` needs (structurally PortBus / PhysicalMemory). */
export interface BarPortSpace {
  register(base: number, count: number, dev: PortDevice): void;
  unregister(dev: PortDevice): void;
}
export interface BarMemorySpace {
  mapMmio(base: number, size: number, handler: MmioHandler): void;
  unmapMmio(handler: MmioHandler): void;
}

/**
 * A `barChanged` implementation that moves each BAR's handler (`fn.ioBar(i)` / `fn.mmioBar(i)`)
 * on the port bus or in physical memory. A BAR placed over something already there is left
 * unmapped with a log line (software assigning overlapping resources is the guest's bug).
 */
export function barMapper(ports: BarPortSpace, memory: BarMemorySpace): NonNullable<PciBusListener['barChanged']> {
  return (fn, bar, def, oldBase, newBase) => {
    if (def.kind === 'io') {
      const dev = fn.ioBar(bar);
      if (!dev) return;
      if (oldBase !== undefined) ports.unregister(dev);
      if (newBase === undefined) return;
      try {
        ports.register(newBase, def.size, dev);
      } catch (e) {
        logOnce('warn', 'pci', `io-overlap-${fn.name}-${bar}-${newBase}`, `${fn.name} BAR ${bar} at I/O 0x${newBase.toString(16)}: ${(e as Error).message}`);
      }
      return;
    }
    const h = fn.mmioBar(bar);
    if (!h) return;
    if (oldBase !== undefined) memory.unmapMmio(h);
    if (newBase !== undefined) memory.mapMmio(newBase, def.size, h);
  };
}
