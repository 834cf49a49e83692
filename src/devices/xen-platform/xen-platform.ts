/**
 * The Xen platform PCI device, as Xen's device model presents it to HVM guests (facts from QEMU's
 * hw/i386/xen/xen_platform.c and Linux's drivers/xen/platform-pci.c, no code taken): vendor
 * 5853h (XenSource), device 0001h, subsystem 5853h:0001h, revision 1, class FF8000h ("other"
 * base class FFh, subclass 80h), INTA#. BAR 0 is 256 bytes of I/O, BAR 1 16 MiB of prefetchable
 * memory. Linux's platform-pci driver binds to it, takes the MMIO BAR as room for the frames it
 * maps with XENMEM_add_to_physmap (grant table), and may route the event callback through the
 * INTx line (HVM_PARAM_CALLBACK_IRQ as a PCI INTx) when it has no vector callback.
 *
 * The BARs themselves carry no registers here: BAR 0's ports read all ones and ignore writes, BAR
 * 1 is a hole whose pages the hypervisor fills (reads 0, writes lost until then).
 *
 * The ISA "unplug" ports (Xen docs/misc/hvm-emulated-unplug.pandoc, Linux's
 * arch/x86/xen/platform-pci-unplug.c) are a separate `PortDevice` at 10h-13h:
 * - 10h, 16-bit read: magic 49D2h; 16-bit write: the unplug mask (bit 0 all IDE disks, bit 1 all
 *   emulated NICs, bit 2 auxiliary IDE disks = every IDE disk but the primary master, bit 3 NVMe;
 *   other bits are ignored); 32-bit write: the driver build number (logged); 8-bit read/write:
 *   the platform flags byte (bit 0 "ROM lock", stored).
 * - 12h, 8-bit read: protocol version 1; 16-bit write: the product number (logged; no product
 *   is blacklisted, so the magic stays readable); 8-bit write: a byte of the guest's log line.
 * Anything else reads all ones and is ignored. The unplug is carried out by an injected callback
 * so the machine removes what the mask names.
 */
import type { PortDevice } from '../../bus/port-bus.js';
import type { MmioHandler } from '../../memory/physical.js';
import { log } from '../../base/log.js';
import { PciFunction } from '../pci/pci-function.js';

export const XEN_PLATFORM_VENDOR = 0x5853;
export const XEN_PLATFORM_DEVICE = 0x0001;
export const XEN_PLATFORM_REVISION = 1;
export const XEN_PLATFORM_CLASS = 0xff8000;
export const XEN_PLATFORM_IO_SIZE = 0x100;
export const XEN_PLATFORM_MMIO_SIZE = 0x1000000;

export const XEN_IOPORT_BASE = 0x10;
export const XEN_UNPLUG_MAGIC = 0x49d2;
export const XEN_UNPLUG_PROTOCOL = 1;
export const UNPLUG_ALL_IDE_DISKS = 1;
export const UNPLUG_ALL_NICS = 2;
export const UNPLUG_AUX_IDE_DISKS = 4;
export const UNPLUG_NVME_DISKS = 8;
export const UNPLUG_KNOWN = 0xf;

/** What an unplug request asks the machine to remove. */
export interface UnplugRequest {
  /** Every emulated IDE disk (CD-ROMs stay). */
  allIdeDisks: boolean;
  /** Every IDE disk except the primary master. */
  auxIdeDisks: boolean;
  nics: boolean;
  nvme: boolean;
  /** The raw mask the guest wrote. */
  mask: number;
}

export interface XenPlatformOptions {
  /** Called once per unplug write with a non-zero known mask. */
  unplug?: (req: UnplugRequest) => void;
}

export class XenPlatformPci extends PciFunction {
  /** Platform flags byte (port 10h, 8-bit). */
  flags = 0;
  productNumber: number | undefined;
  buildNumber: number | undefined;
  /** The OR of every unplug mask carried out so far. */
  unplugged = 0;
  private logLine = '';
  private ioPort: PortDevice | undefined;
  private mmio: MmioHandler | undefined;

  constructor(private readonly opts: XenPlatformOptions = {}) {
    super('xen-platform', {
      vendorId: XEN_PLATFORM_VENDOR, deviceId: XEN_PLATFORM_DEVICE, revision: XEN_PLATFORM_REVISION,
      classCode: XEN_PLATFORM_CLASS,
      subsystemVendorId: XEN_PLATFORM_VENDOR, subsystemId: XEN_PLATFORM_DEVICE,
      interruptPin: 1,
      bars: [
        { kind: 'io', size: XEN_PLATFORM_IO_SIZE },
        { kind: 'mmio', size: XEN_PLATFORM_MMIO_SIZE, prefetchable: true },
      ],
    });
  }

  override ioBar(bar: number): PortDevice | undefined {
    if (bar !== 0) return undefined;
    this.ioPort ??= { name: 'xen-platform-io', widths: 7, ioRead: () => 0xffffffff, ioWrite: () => {} };
    return this.ioPort;
  }

  override mmioBar(bar: number): MmioHandler | undefined {
    if (bar !== 1) return undefined;
    this.mmio ??= { name: 'xen-platform-mmio', mmioRead: () => 0, mmioWrite: () => {} };
    return this.mmio;
  }

  /** The unplug protocol's ports, to register at XEN_IOPORT_BASE (4 ports). */
  readonly unplugPorts: PortDevice = {
    name: 'xen-unplug',
    widths: 7,
    ioRead: (off, size) => this.unplugRead(off, size),
    ioWrite: (off, size, value) => this.unplugWrite(off, size, value),
  };

  private unplugRead(off: number, size: number): number {
    if (off === 0 && size === 2) return XEN_UNPLUG_MAGIC;
    if (off === 0 && size === 1) return this.flags;
    if (off === 2 && size === 1) return XEN_UNPLUG_PROTOCOL;
    return size === 4 ? 0xffffffff : size === 2 ? 0xffff : 0xff;
  }

  private unplugWrite(off: number, size: number, value: number): void {
    if (off === 0 && size === 2) { this.doUnplug(value & 0xffff); return; }
    if (off === 0 && size === 4) { this.buildNumber = value >>> 0; log('info', 'xen-platform', `guest driver build ${this.buildNumber}`); return; }
    if (off === 0 && size === 1) { this.flags = value & 1; return; }
    if (off === 2 && size === 2) { this.productNumber = value & 0xffff; log('info', 'xen-platform', `guest product number ${this.productNumber}`); return; }
    if (off === 2 && size === 1) {
      const c = value & 0xff;
      if (c === 0x0a || this.logLine.length >= 160) {
        log('info', 'xen-platform', `guest: ${this.logLine}`);
        this.logLine = '';
      }
      if (c !== 0x0a && c >= 0x20 && c < 0x7f) this.logLine += String.fromCharCode(c);
    }
  }

  private doUnplug(mask: number): void {
    const known = mask & UNPLUG_KNOWN;
    log('info', 'xen-platform', `unplug mask ${mask.toString(16)}h`);
    if (known === 0) return;
    this.unplugged |= known;
    this.opts.unplug?.({
      allIdeDisks: (known & UNPLUG_ALL_IDE_DISKS) !== 0,
      auxIdeDisks: (known & UNPLUG_AUX_IDE_DISKS) !== 0,
      nics: (known & UNPLUG_ALL_NICS) !== 0,
      nvme: (known & UNPLUG_NVME_DISKS) !== 0,
      mask,
    });
  }
}
