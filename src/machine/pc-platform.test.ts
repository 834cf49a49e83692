/**
 * The PC's wiring without a CPU: interrupts through the 8259A and LINT0 (virtual wire) or through
 * the I/O APIC, the APIC globally disabled, PCI configuration cycles, the reset register, ACPI S5,
 * the tables in the BIOS area, and hostile accesses that must not throw.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PhysicalMemory } from '../memory/physical.js';
import { TimerQueue } from '../bus/timer-queue.js';
import { PcPlatform, PC_RSDP_ADDR } from './pc-platform.js';

class GpFault extends Error {}

function platform() {
  const mem = new PhysicalMemory(16 << 20);
  let now = 0;
  const clock = { now: () => now };
  const timers = new TimerQueue();
  const ev = { intr: false, nmi: 0, resets: [] as string[], powerOffs: [] as string[], a20: true };
  const p = new PcPlatform({
    mem, clock, timers, wallclockMs: Date.UTC(2024, 0, 1),
    intr: (l) => { ev.intr = l; },
    nmi: () => { ev.nmi++; },
    a20: (on) => { ev.a20 = on; },
    onReset: (why) => { ev.resets.push(why); },
    onPowerOff: (why) => { ev.powerOffs.push(why); },
    generalProtection: () => { throw new GpFault('#GP'); },
    serialOutput: () => {},
  });
  const advance = (ns: number) => { now += ns; timers.runDue(now); };
  return { p, mem, ev, advance };
}

/** ICW1-4 and OCW1 for the master 8259A at `base` vector, unmasking `mask`'s zero bits. */
function initPic(p: PcPlatform, vectorBase: number, mask: number): void {
  p.ports.write(0x20, 1, 0x11);
  p.ports.write(0x21, 1, vectorBase);
  p.ports.write(0x21, 1, 0x04);
  p.ports.write(0x21, 1, 0x01);
  p.ports.write(0x21, 1, mask);
}

test('PIC mode: IRQ 1 -> 8259A -> LINT0 in ExtINT (as firmware left it) -> INTR; INTA gets the 8259A vector', () => {
  const { p, ev } = platform();
  initPic(p, 0x20, 0xfd);
  assert.ok(!ev.intr);
  p.isaLine(1).set(true);
  assert.ok(ev.intr, 'virtual wire: the LAPIC passes the 8259A INT');
  assert.equal(p.acknowledge(), 0x21);
  assert.ok(!ev.intr);
  p.ports.write(0x20, 1, 0x20); // EOI
});

test('APIC mode: IRQ 0 enters I/O APIC pin 2; the LAPIC EOI ends it; the masked 8259A stays quiet', () => {
  const { p, mem, ev } = platform();
  initPic(p, 0x20, 0xff); // everything masked at the 8259A
  mem.write(0xfec00000, 4, 0x10 + 2 * 2);
  mem.write(0xfec00010, 4, 0x31); // pin 2: vector 31h, fixed, edge, physical destination
  mem.write(0xfec00000, 4, 0x10 + 2 * 2 + 1);
  mem.write(0xfec00010, 4, 0);
  mem.write(0xfec00000, 4, 0x10);
  mem.write(0xfec00010, 4, 0x30); // pin 0 unmasked too: IRQ 0 must not arrive there
  p.isaLine(0).set(true);
  assert.ok(ev.intr);
  assert.equal(p.acknowledge(), 0x31);
  assert.equal(mem.read(0xfee00110, 4) >>> 0, 1 << 17, 'ISR bit of vector 31h');
  mem.write(0xfee000b0, 4, 0);
  assert.equal(mem.read(0xfee00110, 4), 0);
  assert.ok(!ev.intr);
  // The I/O APIC reports its ID (1, as in the MADT) and 24 entries.
  mem.write(0xfec00000, 4, 0);
  assert.equal(mem.read(0xfec00010, 4) >>> 24, 1);
  mem.write(0xfec00000, 4, 1);
  assert.equal(mem.read(0xfec00010, 4), 0x170011);
});

test('the SCI is level-triggered on IRQ 9 and reaches the CPU through the I/O APIC', () => {
  const { p, mem, ev } = platform();
  mem.write(0xfec00000, 4, 0x10 + 18);
  mem.write(0xfec00010, 4, 0x8039);
  p.ports.write(0x602, 2, 0x0100); // PWRBTN_EN
  p.acpiPm.pressPowerButton();
  assert.ok(ev.intr);
  assert.equal(p.acknowledge(), 0x39);
  p.ports.write(0x600, 2, 0x0100); // clear PWRBTN_STS
  mem.write(0xfee000b0, 4, 0);
  assert.ok(!ev.intr);
});

test('IA32_APIC_BASE: global disable unmaps the LAPIC and the 8259A drives INTR directly; bad values #GP', () => {
  const { p, mem, ev } = platform();
  assert.deepEqual(p.apicBaseMsr.read(0x1b), [0xfee00900 | 0, 0]);
  assert.equal(p.apicBaseMsr.read(0x10), null, 'other MSRs are not the platform\'s');
  assert.throws(() => p.apicBaseMsr.write(0x1b, 0xfee00900 | (1 << 10), 0), GpFault, 'x2APIC enable');
  p.apicBaseMsr.write(0x1b, 0xfee00000, 0);
  assert.equal(mem.read(0xfee00030, 4), -1, 'no APIC page while disabled');
  initPic(p, 0x40, 0xef);
  p.isaLine(4).set(true);
  assert.ok(ev.intr);
  assert.equal(p.acknowledge(), 0x44);
  // Re-enable at another base: the page moves.
  p.apicBaseMsr.write(0x1b, 0xfed00800, 0);
  assert.equal(mem.read(0xfed00030, 4), 0x00050014);
  assert.equal(mem.read(0xfee00030, 4), -1);
});

test('PCI mechanism #1: i440FX at 00:00.0, PIIX3 at 00:01.0, PIIX4 PM at 00:01.3, absent functions all ones', () => {
  const { p } = platform();
  const cfg = (dev: number, fn: number, reg: number) => {
    p.ports.write(0xcf8, 4, (0x80000000 | (dev << 11) | (fn << 8) | reg) >>> 0);
    return p.ports.read(0xcfc, 4) >>> 0;
  };
  assert.equal(cfg(0, 0, 0), 0x12378086);
  assert.equal(cfg(1, 0, 0), 0x70008086);
  assert.equal(cfg(1, 3, 0), 0x71138086);
  assert.equal(cfg(1, 3, 0x40), 0x601, 'PMBA as firmware left it');
  assert.equal(cfg(2, 0, 0), 0xffffffff);
  assert.equal(p.pmBase, 0x600);
});

test('reset control 0CF9h and the 8042 pulse request a reset; SLP_EN with S5 powers off', () => {
  const { p, ev } = platform();
  p.ports.write(0xcf9, 1, 0x02);
  assert.equal(ev.resets.length, 0, 'SRST alone does not reset');
  p.ports.write(0xcf9, 1, 0x06);
  assert.equal(ev.resets.length, 1);
  p.ports.write(0x64, 1, 0xfe);
  assert.equal(ev.resets.length, 2);
  p.ports.write(0x604, 2, (1 << 10) | (1 << 13)); // PIIX4 SUS_TYP 1 (suspend to RAM): not implemented, ignored
  p.ports.write(0x604, 2, (5 << 10) | (1 << 13)); // SUS_TYP 5 is "working" on a PIIX4
  assert.equal(ev.powerOffs.length, 0);
  p.ports.write(0x604, 2, (0 << 10) | (1 << 13) | 1); // SUS_TYP 0: soft off, what \_S5 names
  assert.deepEqual(ev.powerOffs, ['ACPI S5 (PM1a_CNT SLP_EN)']);
});

test('the PM timer runs on guest time at 3.579545 MHz', () => {
  const { p, advance } = platform();
  const t0 = p.ports.read(0x608, 4);
  advance(1e9);
  const t1 = p.ports.read(0x608, 4);
  assert.ok(Math.abs(((t1 - t0) & 0xffffff) - 3579545) <= 1);
});

test('the ACPI tables land in the BIOS area: RSDP with valid checksums pointing at the RSDT', () => {
  const { p, mem } = platform();
  const t = p.loadAcpiTables();
  const sig = String.fromCharCode(...mem.u8.subarray(PC_RSDP_ADDR, PC_RSDP_ADDR + 8));
  assert.equal(sig, 'RSD PTR ');
  let sum = 0;
  for (let k = 0; k < 20; k++) sum += mem.u8[PC_RSDP_ADDR + k];
  assert.equal(sum & 0xff, 0);
  assert.equal(mem.read(PC_RSDP_ADDR + 16, 4), t.addresses.RSDT);
  assert.ok(t.tables.address + t.tables.bytes.length <= 0x100000);
  assert.equal(String.fromCharCode(...mem.u8.subarray(t.addresses.APIC, t.addresses.APIC + 4)), 'APIC');
});

test('hostile accesses do not throw: odd MMIO sizes and offsets, a PM block moved over the PIT, narrow config-address accesses', () => {
  const { p, mem } = platform();
  for (const size of [1, 2, 4] as const) {
    for (const off of [0, 1, 3, 0x13, 0x3ff, 0xffd, 0xfff]) {
      mem.read(0xfee00000 + off, size);
      mem.write(0xfee00000 + off, size, 0xffffffff);
      mem.read(0xfec00000 + off, size);
      mem.write(0xfec00000 + off, size, 0xffffffff);
    }
  }
  for (const port of [0xcf8, 0xcf9, 0xcfa, 0xcfb, 0xcfc, 0xcfd, 0xcfe, 0xcff, 0x600, 0x603, 0x63f]) {
    for (const size of [1, 2, 4] as const) {
      p.ports.read(port, size);
      if (port !== 0xcf9 && port !== 0xcf8 && port !== 0x604) p.ports.write(port, size, 0xffffffff);
    }
  }
  // PMBA onto 40h (the PIT's ports): refused with a log line, the PIT keeps its ports.
  p.ports.write(0xcf8, 4, 0x80000b40);
  p.ports.write(0xcfc, 4, 0x41);
  assert.equal(p.pmBase, undefined);
  assert.equal(p.ports.owner(0x40), 'pit');
});
