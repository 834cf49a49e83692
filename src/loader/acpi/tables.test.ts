import { test } from 'node:test';
import assert from 'node:assert/strict';
import { integer, name, pkg } from './aml.js';
import {
  buildAcpiTables, checksum, type AcpiConfig, type AcpiTables,
  BOOT_8042, BOOT_CMOS_RTC_NOT_PRESENT, BOOT_LEGACY_DEVICES, BOOT_VGA_NOT_PRESENT,
  FADT_PROC_C1, FADT_PWR_BUTTON, FADT_RESET_REG_SUP, FADT_SLP_BUTTON, FADT_TMR_VAL_EXT, FADT_WBINVD, FADT_HW_REDUCED_ACPI,
} from './tables.js';

const RSDP_AT = 0xe0000;
const TABLES_AT = 0x7fe0000;

function build(extra: Partial<AcpiConfig> = {}): AcpiTables {
  return buildAcpiTables({ rsdpAddress: RSDP_AT, tablesAddress: TABLES_AT, cpus: 2, ...extra });
}

/** A view of guest memory holding the tables, addressed physically. */
function memory(t: AcpiTables) {
  const at = (addr: number): { bytes: Uint8Array; view: DataView; off: number } => {
    if (addr >= t.rsdp.address && addr < t.rsdp.address + t.rsdp.bytes.length) {
      const b = t.rsdp.bytes;
      return { bytes: b, view: new DataView(b.buffer, b.byteOffset, b.length), off: addr - t.rsdp.address };
    }
    const b = t.tables.bytes;
    assert.ok(addr >= t.tables.address && addr < t.tables.address + b.length, `0x${addr.toString(16)} is outside the tables`);
    return { bytes: b, view: new DataView(b.buffer, b.byteOffset, b.length), off: addr - t.tables.address };
  };
  const sig = (addr: number, n = 4) => { const m = at(addr); return String.fromCharCode(...m.bytes.subarray(m.off, m.off + n)); };
  const u8 = (addr: number) => { const m = at(addr); return m.view.getUint8(m.off); };
  const u16 = (addr: number) => { const m = at(addr); return m.view.getUint16(m.off, true); };
  const u32 = (addr: number) => { const m = at(addr); return m.view.getUint32(m.off, true); };
  const u64 = (addr: number) => u32(addr) + u32(addr + 4) * 2 ** 32;
  /** A whole table (by its header length) with its checksum verified. */
  const table = (addr: number, signature: string): Uint8Array => {
    assert.equal(sig(addr), signature);
    const len = u32(addr + 4);
    const m = at(addr);
    const bytes = m.bytes.subarray(m.off, m.off + len);
    assert.equal(bytes.length, len, `${signature} is cut short`);
    assert.equal(checksum(bytes), 0, `${signature} checksum`);
    return bytes;
  };
  return { sig, u8, u16, u32, u64, table };
}

interface MadtEntry { type: number; bytes: number[] }
function parseMadt(madt: Uint8Array): { lapicAddress: number; flags: number; entries: MadtEntry[] } {
  const v = new DataView(madt.buffer, madt.byteOffset, madt.length);
  const entries: MadtEntry[] = [];
  for (let off = 44; off < madt.length;) {
    const len = madt[off + 1];
    assert.ok(len >= 2 && off + len <= madt.length, 'MADT entry runs past the table');
    entries.push({ type: madt[off], bytes: Array.from(madt.subarray(off, off + len)) });
    off += len;
  }
  return { lapicAddress: v.getUint32(36, true), flags: v.getUint32(40, true), entries };
}

const le32 = (b: number[], o: number) => (b[o] | (b[o + 1] << 8) | (b[o + 2] << 16) | (b[o + 3] << 24)) >>> 0;

function indexOf(hay: Uint8Array, needle: Uint8Array): number {
  outer: for (let i = 0; i + needle.length <= hay.length; i++) {
    for (let k = 0; k < needle.length; k++) if (hay[i + k] !== needle[k]) continue outer;
    return i;
  }
  return -1;
}

test('RSDP: revision 2 with both checksums, pointing at RSDT and XSDT', () => {
  const t = build();
  const m = memory(t);
  assert.equal(t.rsdp.address, RSDP_AT);
  assert.equal(t.rsdp.bytes.length, 36);
  assert.equal(m.sig(RSDP_AT, 8), 'RSD PTR ');
  assert.equal(checksum(t.rsdp.bytes, 0, 20), 0, 'ACPI 1.0 checksum over the first 20 bytes');
  assert.equal(checksum(t.rsdp.bytes), 0, 'extended checksum');
  assert.equal(m.u8(RSDP_AT + 15), 2);
  assert.equal(m.u32(RSDP_AT + 20), 36);
  m.table(m.u32(RSDP_AT + 16), 'RSDT');
  m.table(m.u64(RSDP_AT + 24), 'XSDT');
});

test('RSDT and XSDT list the FADT and MADT; every table is aligned and checksummed', () => {
  const t = build();
  const m = memory(t);
  const rsdt = m.u32(RSDP_AT + 16);
  const xsdt = m.u64(RSDP_AT + 24);
  const rEntries = (m.u32(rsdt + 4) - 36) / 4;
  const xEntries = (m.u32(xsdt + 4) - 36) / 8;
  assert.equal(rEntries, 2);
  assert.equal(xEntries, 2);
  const rs = Array.from({ length: rEntries }, (_, k) => m.u32(rsdt + 36 + 4 * k));
  const xs = Array.from({ length: xEntries }, (_, k) => m.u64(xsdt + 36 + 8 * k));
  assert.deepEqual(rs, xs);
  assert.deepEqual(rs.map((a) => m.sig(a)), ['FACP', 'APIC']);
  for (const [sig, addr] of Object.entries(t.addresses)) {
    assert.equal(addr % (sig === 'FACS' ? 64 : 16), 0, `${sig} alignment`);
    if (sig !== 'FACS' && sig !== 'RSD PTR ') m.table(addr, sig);
  }
  assert.equal(m.sig(t.addresses.FACS), 'FACS');
  assert.equal(m.u32(t.addresses.FACS + 4), 64);
});

test('FADT (pc): PM block ports, SCI 9, 24-bit timer, reset register 0CF9h <- 6, flags and boot flags', () => {
  const t = build({ pmBase: 0xb000 });
  const m = memory(t);
  const f = t.addresses.FACP;
  const fadt = m.table(f, 'FACP');
  assert.equal(fadt.length, 268);
  assert.equal(m.u8(f + 8), 5, 'revision 5');
  assert.equal(m.u32(f + 36), t.addresses.FACS);
  assert.equal(m.u32(f + 40), t.addresses.DSDT);
  assert.equal(m.u64(f + 132), 0, 'X_FIRMWARE_CTRL: only for a FACS above 4 GiB');
  assert.equal(m.u64(f + 140), t.addresses.DSDT);
  m.table(t.addresses.DSDT, 'DSDT');
  assert.equal(m.u16(f + 46), 9);
  assert.equal(m.u32(f + 48), 0, 'no SMI_CMD');
  assert.equal(m.u32(f + 56), 0xb000);
  assert.equal(m.u32(f + 64), 0xb004);
  assert.equal(m.u32(f + 76), 0xb008);
  assert.equal(m.u32(f + 80), 0xb00c);
  assert.deepEqual([m.u8(f + 88), m.u8(f + 89), m.u8(f + 91), m.u8(f + 92)], [4, 2, 4, 4]);
  const flags = m.u32(f + 112);
  assert.equal(flags, FADT_WBINVD | FADT_PROC_C1 | FADT_SLP_BUTTON | FADT_RESET_REG_SUP);
  assert.equal(flags & FADT_TMR_VAL_EXT, 0, '24-bit PM timer');
  assert.equal(flags & FADT_PWR_BUTTON, 0, 'fixed power button present');
  assert.equal(flags & FADT_HW_REDUCED_ACPI, 0);
  assert.equal(m.u16(f + 109), BOOT_LEGACY_DEVICES | BOOT_8042 | BOOT_VGA_NOT_PRESENT);
  assert.deepEqual([m.u8(f + 116), m.u8(f + 117), m.u8(f + 119)], [1, 8, 1], 'reset register: system I/O, 8 bits, byte access');
  assert.equal(m.u64(f + 120), 0xcf9);
  assert.equal(m.u8(f + 128), 6);
  // Extended blocks agree with the legacy ones.
  assert.deepEqual([m.u8(f + 148), m.u8(f + 149), m.u64(f + 152)], [1, 32, 0xb000]);
  assert.deepEqual([m.u8(f + 172), m.u8(f + 173), m.u64(f + 176)], [1, 16, 0xb004]);
  assert.deepEqual([m.u8(f + 208), m.u8(f + 209), m.u64(f + 212)], [1, 32, 0xb008]);
  assert.deepEqual([m.u8(f + 220), m.u8(f + 221), m.u64(f + 224)], [1, 32, 0xb00c]);
});

test('MADT (pc) parses back: a LAPIC per vCPU, the I/O APIC, IRQ0->GSI2, IRQ9 level/high, NMI on LINT1', () => {
  const t = build({ ioapic: { id: 2, address: 0xfec00000, gsiBase: 0 }, levelIrqs: [10, 11] });
  const m = memory(t);
  const madt = parseMadt(m.table(t.addresses.APIC, 'APIC'));
  assert.equal(madt.lapicAddress, 0xfee00000);
  assert.equal(madt.flags, 1, 'PC/AT-compatible dual 8259 present');
  const byType = (ty: number) => madt.entries.filter((e) => e.type === ty).map((e) => e.bytes);
  assert.deepEqual(byType(0), [[0, 8, 0, 0, 1, 0, 0, 0], [0, 8, 1, 1, 1, 0, 0, 0]]);
  const io = byType(1);
  assert.equal(io.length, 1);
  assert.equal(io[0][2], 2);
  assert.equal(le32(io[0], 4), 0xfec00000);
  assert.equal(le32(io[0], 8), 0);
  const iso = byType(2).map((b) => ({ bus: b[2], irq: b[3], gsi: le32(b, 4), flags: b[8] | (b[9] << 8) }));
  assert.deepEqual(iso, [
    { bus: 0, irq: 0, gsi: 2, flags: 0 },
    { bus: 0, irq: 9, gsi: 9, flags: 0x0d },
    { bus: 0, irq: 10, gsi: 10, flags: 0x0d },
    { bus: 0, irq: 11, gsi: 11, flags: 0x0d },
  ]);
  assert.deepEqual(byType(4), [[4, 6, 0xff, 0, 0, 1]]);
});

test('DSDT: \\_S5 names the PM block S5 sleep type; PCI0 is a PNP0A03 root bridge; one processor device per vCPU', () => {
  const t = build({ s5SlpTyp: 5, cpus: 3 });
  const m = memory(t);
  const dsdt = m.table(t.addresses.DSDT, 'DSDT');
  assert.equal(dsdt[8], 2, 'revision 2: 64-bit integers');
  assert.ok(indexOf(dsdt, name('\\_S5', pkg(integer(5), integer(5), integer(0), integer(0)))) > 0);
  assert.ok(indexOf(dsdt, Uint8Array.of(0x0c, 0x41, 0xd0, 0x0a, 0x03)) > 0, 'EisaId PNP0A03');
  assert.ok(indexOf(dsdt, new TextEncoder().encode('PCI0')) > 0);
  for (const n of ['CP00', 'CP01', 'CP02']) assert.ok(indexOf(dsdt, new TextEncoder().encode(n)) > 0, n);
  assert.equal(indexOf(dsdt, new TextEncoder().encode('CP03')), -1);
  // The ISA devices behind the PIIX3, e.g. COM1: PNP0501 at 3F8h-3FFh on IRQ 4.
  assert.ok(indexOf(dsdt, Uint8Array.of(0x0c, 0x41, 0xd0, 0x05, 0x01)) > 0, 'EisaId PNP0501');
  assert.ok(indexOf(dsdt, Uint8Array.of(0x47, 0x01, 0xf8, 0x03, 0xf8, 0x03, 0x08, 0x08, 0x22, 0x10, 0x00)) > 0, 'COM1 _CRS');
  assert.ok(indexOf(dsdt, Uint8Array.of(0x0b, 0x41, 0xd0)) > 0, 'EisaId PNP0000 (a WordConst)');
  for (const id of [0x0303, 0x0f13, 0x0b00, 0x0100]) {
    assert.ok(indexOf(dsdt, Uint8Array.of(0x0c, 0x41, 0xd0, id >> 8, id & 0xff)) > 0, `EisaId PNP${id.toString(16).padStart(4, '0')}`);
  }
  // Top-level terms: two Names then one Scope whose PkgLength ends exactly at the table's end.
  let off = 36;
  for (let k = 0; k < 2; k++) {
    assert.equal(dsdt[off], 0x08, 'NameOp');
    off += 1 + 5 + 1; // NameOp, \XXXX, PackageOp
    const lead = dsdt[off];
    const len = (lead >> 6) === 0 ? lead & 0x3f : -1;
    assert.ok(len > 0);
    off += len;
  }
  assert.equal(dsdt[off], 0x10, 'ScopeOp');
  const lead = dsdt[off + 1];
  const extra = lead >> 6;
  let len = lead & 0x0f;
  for (let k = 0; k < extra; k++) len |= dsdt[off + 2 + k] << (4 + 8 * k);
  if (extra === 0) len = lead & 0x3f;
  assert.equal(off + 1 + len, dsdt.length, 'the \\_SB scope ends at the end of the table');
  const other = build({ s5SlpTyp: 0 });
  assert.ok(indexOf(memory(other).table(other.addresses.DSDT, 'DSDT'), name('\\_S5', pkg(integer(0), integer(0), integer(0), integer(0)))) > 0);
});

test('PVH profile: Xen-style LAPIC-only MADT with IDs 2*n, FADT without PM timer or legacy devices', () => {
  const t = build({ profile: 'pvh', cpus: 3 });
  const m = memory(t);
  const madt = parseMadt(m.table(t.addresses.APIC, 'APIC'));
  assert.deepEqual(madt.entries.map((e) => e.type), [0, 0, 0]);
  assert.deepEqual(madt.entries.map((e) => e.bytes[3]), [0, 2, 4]);
  assert.deepEqual(madt.entries.map((e) => e.bytes[2]), [0, 1, 2], 'processor UIDs');
  const f = t.addresses.FACP;
  m.table(f, 'FACP');
  assert.equal(m.u32(f + 76), 0, 'no PM timer');
  assert.equal(m.u8(f + 91), 0);
  assert.equal(m.u32(f + 56), 0xb000);
  assert.equal(m.u32(f + 80), 0xafe0);
  assert.equal(m.u16(f + 109), BOOT_VGA_NOT_PRESENT | BOOT_CMOS_RTC_NOT_PRESENT);
  const flags = m.u32(f + 112);
  assert.equal(flags & (FADT_PWR_BUTTON | FADT_SLP_BUTTON), FADT_PWR_BUTTON | FADT_SLP_BUTTON, 'no fixed buttons');
  assert.equal(flags & FADT_RESET_REG_SUP, 0);
  assert.equal(flags & FADT_HW_REDUCED_ACPI, 0, 'Xen does not declare hardware-reduced ACPI');
  const dsdt = m.table(t.addresses.DSDT, 'DSDT');
  assert.equal(indexOf(dsdt, new TextEncoder().encode('_S5_')), -1, 'a PVH guest powers off by hypercall');
  assert.equal(indexOf(dsdt, new TextEncoder().encode('PCI0')), -1);
});

test('configuration errors are refused', () => {
  assert.throws(() => buildAcpiTables({ rsdpAddress: 0xe0008, tablesAddress: TABLES_AT }), /aligned/);
  assert.throws(() => buildAcpiTables({ rsdpAddress: TABLES_AT, tablesAddress: TABLES_AT }), /overlaps/);
  assert.throws(() => buildAcpiTables({ rsdpAddress: RSDP_AT, tablesAddress: TABLES_AT, cpus: 2, apicIds: [0] }), /APIC IDs/);
  assert.throws(() => buildAcpiTables({ rsdpAddress: RSDP_AT, tablesAddress: TABLES_AT, cpus: 0 }));
});
