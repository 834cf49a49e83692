/**
 * ACPI tables for our machines (ACPI specification 6.x, chapter 5 "ACPI Software Programming
 * Model"): RSDP (revision 2, with XSDT), RSDT, XSDT, FADT (revision 5), FACS, MADT and a DSDT
 * generated with our AML encoder. Pure functions: the caller gets bytes and the guest physical
 * addresses they were built for, copies them into guest memory, and reserves the tables' range as
 * ACPI data in the e820 map.
 *
 * Two profiles:
 * - 'pc': the emulated PC (8259A pair, I/O APIC, PIIX4-style PM block, 8042). MADT: one local
 *   APIC per vCPU, the I/O APIC at GSI 0, overrides ISA IRQ 0 -> GSI 2 and IRQ 9 (SCI) level /
 *   active high (plus any `levelIrqs`), LINT1 = NMI on every processor. FADT: PM1a event/control,
 *   PM timer (24-bit) and GPE0 in the PM block, SCI 9, no SMI_CMD (always in ACPI mode), reset
 *   register 0CF9h <- 06h with RESET_REG_SUP, flags WBINVD | PROC_C1 | SLP_BUTTON (no sleep
 *   button; the power button is fixed hardware), IA-PC boot flags LEGACY_DEVICES | 8042 (+ "VGA
 *   not present" unless a VGA is declared). DSDT: \_S0 and \_S5 (SLP_TYP values matching the PM
 *   block), \_SB.PCI0 (PNP0A03, bus 0-FF, config ports, I/O 0-CF7/D00-FFFF, the PCI memory hole)
 *   with the PIIX3's ISA devices as PnP objects (8042 keyboard/mouse, COM1, RTC, 8254, 8259A), and a
 *   processor device (ACPI0007) per vCPU. X_FIRMWARE_CTRL is 0 (the FACS is below 4 GiB).
 *   Not there yet: _PRT / PCI interrupt link devices (so Linux takes PCI IRQs from the Interrupt
 *   Line register), HPET, S1-S4, hot-plug.
 * - 'pvh': what Xen's toolstack (libxl with libacpi) gives a PVH domU: MADT with only local APICs
 *   (IDs 2 * vCPU by default, as Xen numbers them) and the PC/AT-compatible flag as Xen sets it,
 *   no I/O APIC or overrides; FADT revision 5 with Xen's event/control/GPE0 port numbers
 *   (B000h, B004h, AFE0h) and no PM timer, flags WBINVD | PROC_C1 | FIX_RTC | TMR_VAL_EXT |
 *   USE_PLATFORM_CLOCK | PWR_BUTTON | SLP_BUTTON (no fixed buttons), the reset register filled in
 *   but RESET_REG_SUP clear, IA-PC boot flags "VGA not present" | "CMOS RTC not present" (no 8042,
 *   no legacy devices); DSDT with processor devices only (Xen's also carries its vCPU hot-plug
 *   methods, which need hypervisor port emulation we do not have; no \_S5: a PVH guest powers off
 *   by hypercall). The guest finds the RSDP through hvm_start_info.rsdp_paddr.
 */
import { concat, device, eisaId, integer, name, pkg, resDWordMemory, resIo, resIrqNoFlags, resourceTemplate, resWordBusNumber, resWordIo, scope, string } from './aml.js';

export type AcpiProfile = 'pc' | 'pvh';

/** I/O ports of the ACPI fixed hardware. */
export interface AcpiPmPorts {
  pm1aEvt: number;
  pm1aCnt: number;
  /** Omitted: no PM timer. */
  pmTmr?: number;
  /** Omitted: no GPE0 block. */
  gpe0?: number;
  gpe0Len?: number;
}

export interface AcpiConfig {
  profile?: AcpiProfile;
  /** Where the 36-byte RSDP goes (pc: 16-byte aligned in E0000h-FFFFFh, where Linux scans). */
  rsdpAddress: number;
  /** Where the other tables go, packed upwards (16-byte aligned; the FACS 64-byte aligned). */
  tablesAddress: number;
  cpus?: number;
  /** Local APIC ID of each vCPU (pc default: the vCPU index; pvh default: 2 * index). */
  apicIds?: number[];
  lapicAddress?: number;
  /** pc only. The I/O APIC's ID must match what its IOAPICID register reports. */
  ioapic?: { id: number; address: number; gsiBase: number };
  /** pc: the PIIX4 PM block base (event at +0, control at +4, timer at +8, GPE0 at +0Ch). */
  pmBase?: number;
  /** Explicit fixed-hardware ports (overrides `pmBase`; the pvh default is Xen's). */
  pmPorts?: AcpiPmPorts;
  sciIrq?: number;
  /** ISA IRQs to declare level-triggered, active high (the SCI is always among them on pc). */
  levelIrqs?: number[];
  resetRegister?: { port: number; value: number };
  /** SLP_TYP for S5 (must match the PM block's). */
  s5SlpTyp?: number;
  /** PCI memory window for \_SB.PCI0._CRS (inclusive end). */
  pciHole?: { base: number; end: number };
  /** Whether a VGA device exists (else the FADT says not to probe for one). */
  vga?: boolean;
  /** FADT CENTURY: the CMOS index of the century byte, 0 = none. */
  rtcCentury?: number;
}

export interface AcpiBlob {
  address: number;
  bytes: Uint8Array;
}

export interface AcpiTables {
  rsdp: AcpiBlob;
  /** Every other table, contiguous from `tablesAddress`. */
  tables: AcpiBlob;
  /** Guest physical address of each table by signature. */
  addresses: Record<string, number>;
}

export const OEM_ID = 'TSXEN ';
const OEM_TABLE_ID = 'TSXENVM ';
const CREATOR_ID = 'TSXN';
export const DEFAULT_PC_PM_BASE = 0x600;
export const DEFAULT_PCI_HOLE = { base: 0xc0000000, end: 0xfebfffff };
export const XEN_PVH_PM_PORTS: AcpiPmPorts = { pm1aEvt: 0xb000, pm1aCnt: 0xb004, gpe0: 0xafe0, gpe0Len: 4 };

// FADT flags (5.2.9, table "Fixed ACPI Description Table Fixed Feature Flags").
export const FADT_WBINVD = 1 << 0;
export const FADT_PROC_C1 = 1 << 2;
export const FADT_PWR_BUTTON = 1 << 4;
export const FADT_SLP_BUTTON = 1 << 5;
export const FADT_FIX_RTC = 1 << 6;
export const FADT_TMR_VAL_EXT = 1 << 8;
export const FADT_RESET_REG_SUP = 1 << 10;
export const FADT_USE_PLATFORM_CLOCK = 1 << 15;
export const FADT_HW_REDUCED_ACPI = 1 << 20;
// IA-PC boot architecture flags (5.2.9.3).
export const BOOT_LEGACY_DEVICES = 1 << 0;
export const BOOT_8042 = 1 << 1;
export const BOOT_VGA_NOT_PRESENT = 1 << 2;
export const BOOT_CMOS_RTC_NOT_PRESENT = 1 << 5;

// MADT structure types (5.2.12).
export const MADT_LOCAL_APIC = 0;
export const MADT_IO_APIC = 1;
export const MADT_INTERRUPT_OVERRIDE = 2;
export const MADT_LOCAL_APIC_NMI = 4;
export const MADT_PCAT_COMPAT = 1;

const FADT_LENGTH = 268; // revision 5
const FADT_REVISION = 5;

/** A little-endian byte writer for one table. */
class Writer {
  readonly bytes: Uint8Array;
  constructor(length: number) {
    this.bytes = new Uint8Array(length);
  }
  u8(off: number, v: number): void { this.bytes[off] = v & 0xff; }
  u16(off: number, v: number): void { this.u8(off, v); this.u8(off + 1, v >> 8); }
  u32(off: number, v: number): void { for (let k = 0; k < 4; k++) this.u8(off + k, v >>> (8 * k)); }
  u64(off: number, v: number): void {
    this.u32(off, v % 0x100000000);
    this.u32(off + 4, Math.floor(v / 0x100000000));
  }
  ascii(off: number, s: string): void { for (let k = 0; k < s.length; k++) this.u8(off + k, s.charCodeAt(k)); }
  /** Generic Address Structure (5.2.3.2): space, bit width, bit offset, access size, address. */
  gas(off: number, space: number, bitWidth: number, accessSize: number, address: number): void {
    this.u8(off, space);
    this.u8(off + 1, bitWidth);
    this.u8(off + 2, 0);
    this.u8(off + 3, accessSize);
    this.u64(off + 4, address);
  }
}

/** The byte that makes `bytes[0..length)` sum to zero. */
export function checksum(bytes: Uint8Array, start = 0, length = bytes.length - start): number {
  let s = 0;
  for (let k = start; k < start + length; k++) s = (s + bytes[k]) & 0xff;
  return s;
}

function fixChecksum(bytes: Uint8Array, at: number, start = 0, length = bytes.length - start): void {
  bytes[at] = 0;
  bytes[at] = (0x100 - checksum(bytes, start, length)) & 0xff;
}

/** Standard description header (5.2.6) over a table whose body is already in place. */
function header(w: Writer, signature: string, revision: number): Uint8Array {
  w.ascii(0, signature);
  w.u32(4, w.bytes.length);
  w.u8(8, revision);
  w.ascii(10, OEM_ID);
  w.ascii(16, OEM_TABLE_ID);
  w.u32(24, 1);
  w.ascii(28, CREATOR_ID);
  w.u32(32, 1);
  fixChecksum(w.bytes, 9);
  return w.bytes;
}

/** A table from a body already encoded (DSDT). */
function tableFromBody(signature: string, revision: number, body: Uint8Array): Uint8Array {
  const w = new Writer(36 + body.length);
  w.bytes.set(body, 36);
  return header(w, signature, revision);
}

// ---- individual tables -----------------------------------------------------------------------------

function facs(): Uint8Array {
  const w = new Writer(64);
  w.ascii(0, 'FACS');
  w.u32(4, 64);
  w.u32(8, 0); // hardware signature
  w.u8(32, 2); // version (ACPI 2.0+ layout with X_Firmware_Waking_Vector)
  return w.bytes;
}

interface Resolved {
  profile: AcpiProfile;
  cpus: number;
  apicIds: number[];
  lapicAddress: number;
  ioapic?: { id: number; address: number; gsiBase: number };
  pm: AcpiPmPorts;
  sciIrq: number;
  levelIrqs: number[];
  reset: { port: number; value: number };
  s5: number;
  pciHole: { base: number; end: number };
  vga: boolean;
  century: number;
}

function resolve(c: AcpiConfig): Resolved {
  const profile = c.profile ?? 'pc';
  const cpus = c.cpus ?? 1;
  if (!Number.isInteger(cpus) || cpus < 1 || cpus > 255) throw new Error(`ACPI tables for ${cpus} CPUs`);
  const apicIds = c.apicIds ?? Array.from({ length: cpus }, (_, i) => (profile === 'pvh' ? 2 * i : i));
  if (apicIds.length !== cpus) throw new Error(`${apicIds.length} APIC IDs for ${cpus} CPUs`);
  const pmBase = c.pmBase ?? DEFAULT_PC_PM_BASE;
  const pm = c.pmPorts ?? (profile === 'pvh' ? XEN_PVH_PM_PORTS : { pm1aEvt: pmBase, pm1aCnt: pmBase + 4, pmTmr: pmBase + 8, gpe0: pmBase + 0xc, gpe0Len: 4 });
  const sciIrq = c.sciIrq ?? 9;
  return {
    profile,
    cpus,
    apicIds,
    lapicAddress: c.lapicAddress ?? 0xfee00000,
    ioapic: profile === 'pc' ? (c.ioapic ?? { id: cpus, address: 0xfec00000, gsiBase: 0 }) : undefined,
    pm,
    sciIrq,
    levelIrqs: [...new Set([...(profile === 'pc' ? [sciIrq] : []), ...(c.levelIrqs ?? [])])].sort((a, b) => a - b),
    reset: c.resetRegister ?? { port: 0xcf9, value: 0x06 },
    s5: c.s5SlpTyp ?? 0,
    pciHole: c.pciHole ?? DEFAULT_PCI_HOLE,
    vga: c.vga ?? false,
    century: c.rtcCentury ?? 0,
  };
}

function fadt(r: Resolved, facsAddr: number, dsdtAddr: number): Uint8Array {
  const w = new Writer(FADT_LENGTH);
  const pvh = r.profile === 'pvh';
  w.u32(36, facsAddr);
  w.u32(40, dsdtAddr);
  w.u8(45, 0); // preferred PM profile: unspecified
  w.u16(46, r.sciIrq);
  w.u32(48, 0); // SMI_CMD: none, the platform is always in ACPI mode
  w.u32(56, r.pm.pm1aEvt);
  w.u32(64, r.pm.pm1aCnt);
  w.u32(76, r.pm.pmTmr ?? 0);
  w.u32(80, r.pm.gpe0 ?? 0);
  w.u8(88, 4); // PM1_EVT_LEN
  w.u8(89, 2); // PM1_CNT_LEN
  w.u8(91, r.pm.pmTmr !== undefined ? 4 : 0);
  w.u8(92, r.pm.gpe0 !== undefined ? (r.pm.gpe0Len ?? 4) : 0);
  w.u16(96, 101); // P_LVL2_LAT > 100: C2 not supported
  w.u16(98, 1001); // P_LVL3_LAT > 1000: C3 not supported
  w.u8(108, r.century);
  let boot: number;
  let flags: number;
  if (pvh) {
    boot = BOOT_VGA_NOT_PRESENT | BOOT_CMOS_RTC_NOT_PRESENT;
    flags = FADT_WBINVD | FADT_PROC_C1 | FADT_FIX_RTC | FADT_TMR_VAL_EXT | FADT_USE_PLATFORM_CLOCK | FADT_PWR_BUTTON | FADT_SLP_BUTTON;
  } else {
    boot = BOOT_LEGACY_DEVICES | BOOT_8042 | (r.vga ? 0 : BOOT_VGA_NOT_PRESENT);
    flags = FADT_WBINVD | FADT_PROC_C1 | FADT_SLP_BUTTON | FADT_RESET_REG_SUP;
  }
  w.u16(109, boot);
  w.u32(112, flags);
  w.gas(116, 1, 8, 1, r.reset.port); // RESET_REG: system I/O, one byte
  w.u8(128, r.reset.value);
  w.u8(131, 0); // FADT minor version
  // X_FIRMWARE_CTRL: the 64-bit FACS pointer is for a FACS above 4 GiB. On pc it stays 0, as PC
  // firmware leaves it (an OS that honours both lists the FACS twice); the pvh profile keeps both.
  w.u64(132, pvh ? facsAddr : 0);
  w.u64(140, dsdtAddr); // X_DSDT
  w.gas(148, 1, 32, 0, r.pm.pm1aEvt);
  w.gas(172, 1, 16, 0, r.pm.pm1aCnt);
  if (r.pm.pmTmr !== undefined) w.gas(208, 1, 32, 0, r.pm.pmTmr);
  if (r.pm.gpe0 !== undefined) w.gas(220, 1, 8 * (r.pm.gpe0Len ?? 4), 0, r.pm.gpe0);
  return header(w, 'FACP', FADT_REVISION);
}

function madt(r: Resolved): Uint8Array {
  const entries: number[][] = [];
  const le32 = (v: number) => [v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, (v >>> 24) & 0xff];
  r.apicIds.forEach((id, uid) => entries.push([MADT_LOCAL_APIC, 8, uid, id, ...le32(1)]));
  if (r.ioapic) {
    const io = r.ioapic;
    entries.push([MADT_IO_APIC, 12, io.id, 0, ...le32(io.address), ...le32(io.gsiBase)]);
    // ISA IRQ 0 (PIT) is wired to I/O APIC pin 2, as on every PC since the 8259A's cascade took IR2.
    entries.push([MADT_INTERRUPT_OVERRIDE, 10, 0, 0, ...le32(io.gsiBase + 2), 0, 0]);
    for (const irq of r.levelIrqs) {
      // Polarity 01b = active high, trigger 11b = level.
      entries.push([MADT_INTERRUPT_OVERRIDE, 10, 0, irq, ...le32(io.gsiBase + irq), 0x0d, 0]);
    }
    // LINT1 is the NMI input of every processor (UID FFh = all); flags 0 = bus defaults.
    entries.push([MADT_LOCAL_APIC_NMI, 6, 0xff, 0, 0, 1]);
  }
  const body = entries.flat();
  const w = new Writer(44 + body.length);
  w.u32(36, r.lapicAddress);
  w.u32(40, MADT_PCAT_COMPAT);
  w.bytes.set(body, 44);
  return header(w, 'APIC', 3);
}

/** The DSDT's AML (the table body after the header). */
export function dsdtAml(r: Pick<Resolved, 'profile' | 'cpus' | 's5' | 'pciHole'>): Uint8Array {
  const parts: Uint8Array[] = [];
  if (r.profile === 'pc') {
    // Sleep type packages: {PM1a SLP_TYP, PM1b SLP_TYP, reserved, reserved}.
    parts.push(name('\\_S0', pkg(integer(0), integer(0), integer(0), integer(0))));
    parts.push(name('\\_S5', pkg(integer(r.s5), integer(r.s5), integer(0), integer(0))));
  }
  const sb: Uint8Array[] = [];
  if (r.profile === 'pc') {
    const hole = r.pciHole;
    sb.push(device('PCI0',
      // A device has _HID or _ADR, not both: the root bridge is identified by its _HID.
      name('_HID', integer(eisaId('PNP0A03'))),
      name('_UID', integer(0)),
      name('_CRS', resourceTemplate(
        resWordBusNumber(0x00, 0xff),
        resIo(0xcf8, 0xcf8, 1, 8),
        resWordIo(0x0000, 0x0cf7),
        resWordIo(0x0d00, 0xffff),
        resDWordMemory(0xa0000, 0xbffff, true),
        resDWordMemory(hole.base, hole.end, false),
      )),
      isaBridge(),
    ));
  }
  for (let i = 0; i < r.cpus; i++) {
    const n = `CP${i.toString(16).toUpperCase().padStart(2, '0')}`;
    sb.push(device(n, name('_HID', string('ACPI0007')), name('_UID', integer(i))));
  }
  parts.push(scope('\\_SB', ...sb));
  return concat(...parts);
}

/**
 * The PIIX3 at 00:01.0 and the legacy devices behind it, so the OS finds them as ACPI PnP
 * devices (IDs of the PnP ISA specification's device ID list) instead of probing: the 8042 with
 * its keyboard and mouse, COM1, the RTC, the 8254 and the 8259A pair (with its ELCR).
 */
function isaBridge(): Uint8Array {
  const pnp = (n: string, id: string, ...crs: Uint8Array[]) =>
    device(n, name('_HID', integer(eisaId(id))), name('_CRS', resourceTemplate(...crs)));
  return device('ISA',
    name('_ADR', integer(0x00010000)),
    pnp('KBD', 'PNP0303', resIo(0x60, 0x60, 1, 1), resIo(0x64, 0x64, 1, 1), resIrqNoFlags(1)),
    pnp('MOU', 'PNP0F13', resIrqNoFlags(12)),
    device('COM1',
      name('_HID', integer(eisaId('PNP0501'))),
      name('_UID', integer(1)),
      name('_CRS', resourceTemplate(resIo(0x3f8, 0x3f8, 8, 8), resIrqNoFlags(4)))),
    pnp('RTC', 'PNP0B00', resIo(0x70, 0x70, 1, 2), resIrqNoFlags(8)),
    pnp('TMR', 'PNP0100', resIo(0x40, 0x40, 1, 4), resIrqNoFlags(0)),
    pnp('PIC', 'PNP0000', resIo(0x20, 0x20, 1, 2), resIo(0xa0, 0xa0, 1, 2), resIo(0x4d0, 0x4d0, 1, 2), resIrqNoFlags(2)),
  );
}

function xsdt(entries: number[]): Uint8Array {
  const w = new Writer(36 + 8 * entries.length);
  entries.forEach((a, k) => w.u64(36 + 8 * k, a));
  return header(w, 'XSDT', 1);
}

function rsdt(entries: number[]): Uint8Array {
  const w = new Writer(36 + 4 * entries.length);
  entries.forEach((a, k) => w.u32(36 + 4 * k, a));
  return header(w, 'RSDT', 1);
}

/** Root System Description Pointer, revision 2 (5.2.5.3). */
function rsdp(rsdtAddr: number, xsdtAddr: number): Uint8Array {
  const w = new Writer(36);
  w.ascii(0, 'RSD PTR ');
  w.ascii(9, OEM_ID);
  w.u8(15, 2);
  w.u32(16, rsdtAddr);
  w.u32(20, 36);
  w.u64(24, xsdtAddr);
  fixChecksum(w.bytes, 8, 0, 20);
  fixChecksum(w.bytes, 32, 0, 36);
  return w.bytes;
}

/** Builds every table for `config`; see the header comment for what each profile contains. */
export function buildAcpiTables(config: AcpiConfig): AcpiTables {
  const r = resolve(config);
  if (config.tablesAddress % 16 !== 0 || config.rsdpAddress % 16 !== 0) throw new Error('ACPI tables and RSDP must be 16-byte aligned');
  if (config.tablesAddress < 0 || config.tablesAddress + 0x10000 > 0x100000000) throw new Error('ACPI tables must sit below 4 GiB');
  const blobs: Array<{ sig: string; bytes: Uint8Array; offset: number }> = [];
  let cursor = 0;
  const place = (sig: string, bytes: Uint8Array, align: number): number => {
    const base = config.tablesAddress;
    cursor = Math.ceil((base + cursor) / align) * align - base;
    blobs.push({ sig, bytes, offset: cursor });
    const addr = base + cursor;
    cursor += bytes.length;
    return addr;
  };
  // FACS first: it needs 64-byte alignment.
  const facsAddr = place('FACS', facs(), 64);
  const dsdtAddr = place('DSDT', tableFromBody('DSDT', 2, dsdtAml(r)), 16);
  const fadtAddr = place('FACP', fadt(r, facsAddr, dsdtAddr), 16);
  const madtAddr = place('APIC', madt(r), 16);
  const entries = [fadtAddr, madtAddr];
  const xsdtAddr = place('XSDT', xsdt(entries), 16);
  const rsdtAddr = place('RSDT', rsdt(entries), 16);
  const all = new Uint8Array(cursor);
  const addresses: Record<string, number> = {};
  for (const b of blobs) {
    all.set(b.bytes, b.offset);
    addresses[b.sig] = config.tablesAddress + b.offset;
  }
  addresses['RSD PTR '] = config.rsdpAddress;
  if (config.rsdpAddress + 36 > config.tablesAddress && config.rsdpAddress < config.tablesAddress + all.length) {
    throw new Error('the RSDP overlaps the ACPI tables');
  }
  return {
    rsdp: { address: config.rsdpAddress, bytes: rsdp(rsdtAddr, xsdtAddr) },
    tables: { address: config.tablesAddress, bytes: all },
    addresses,
  };
}
