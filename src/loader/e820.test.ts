import { test } from 'node:test';
import assert from 'node:assert/strict';
import { E820_ACPI, E820_NVS, E820_RAM, E820_RESERVED, e820Total, overlayE820, pcE820 } from './e820.js';
import { BootImageError } from './errors.js';

const MiB = 1048576;

test('the PC map for 64 MiB', () => {
  assert.deepEqual(pcE820(64 * MiB), [
    { addr: 0, size: 0x9fc00, type: E820_RAM },
    { addr: 0x9fc00, size: 0x400, type: E820_RESERVED },
    { addr: 0xf0000, size: 0x10000, type: E820_RESERVED },
    { addr: 0x100000, size: 63 * MiB, type: E820_RAM },
  ]);
});

test('RAM past the PCI hole continues at 4 GiB', () => {
  const m = pcE820(4096 * MiB);
  assert.deepEqual(m[3], { addr: 0x100000, size: 0xe0000000 - 0x100000, type: E820_RAM });
  assert.deepEqual(m[4], { addr: 0x100000000, size: 0x20000000, type: E820_RAM });
  assert.equal(e820Total(m), 4096 * MiB - (0x100000 - 0x9fc00), 'all RAM but the 640K-1M window is mapped');
  const h = pcE820(3072 * MiB, [], { pciHoleStart: 0x80000000 });
  assert.equal(h[3].addr + h[3].size, 0x80000000);
  assert.deepEqual(h[4], { addr: 0x100000000, size: 0x40000000, type: E820_RAM });
  assert.equal(pcE820(3584 * MiB).length, 4, 'exactly up to the hole: nothing above 4 GiB');
});

test('extra ranges are carved out of RAM', () => {
  const acpi = { addr: 64 * MiB - 0x20000, size: 0x10000, type: E820_ACPI };
  const nvs = { addr: 64 * MiB - 0x10000, size: 0x10000, type: E820_NVS };
  const ioapic = { addr: 0xfec00000, size: 0x1000, type: E820_RESERVED };
  const m = pcE820(64 * MiB, [ioapic, nvs, acpi]);
  assert.deepEqual(m.slice(3), [
    { addr: 0x100000, size: 63 * MiB - 0x20000, type: E820_RAM },
    acpi,
    nvs,
    ioapic,
  ]);
  const mid = pcE820(64 * MiB, [{ addr: 8 * MiB, size: MiB, type: E820_RESERVED }]);
  assert.deepEqual(mid.slice(3), [
    { addr: MiB, size: 7 * MiB, type: E820_RAM },
    { addr: 8 * MiB, size: MiB, type: E820_RESERVED },
    { addr: 9 * MiB, size: 55 * MiB, type: E820_RAM },
  ]);
  // A range over the BIOS area and into RAM replaces both parts; touching reserved entries merge.
  const bios = pcE820(64 * MiB, [{ addr: 0xe0000, size: 0x30000, type: E820_RESERVED }]);
  assert.deepEqual(bios.slice(2), [
    { addr: 0xe0000, size: 0x30000, type: E820_RESERVED },
    { addr: 0x110000, size: 63 * MiB - 0x10000, type: E820_RAM },
  ]);
});

test('bad sizes and ranges are refused', () => {
  const bad = (f: () => unknown, re: RegExp): void => {
    assert.throws(f, (e: unknown) => e instanceof BootImageError && re.test(e.message));
  };
  bad(() => pcE820(MiB), /too small/);
  bad(() => pcE820(64 * MiB + 1), /multiple of 4 KiB/);
  bad(() => pcE820(64 * MiB, [], { pciHoleStart: 0x1234 }), /PCI hole/);
  bad(() => pcE820(64 * MiB, [{ addr: 0x1000, size: 0, type: 2 }]), /not a valid range/);
  bad(() => pcE820(64 * MiB, [{ addr: -1, size: 10, type: 2 }]), /not a valid range/);
  bad(() => pcE820(64 * MiB, [{ addr: 0x1000, size: 10, type: 0 }]), /invalid e820 type/);
  bad(() => pcE820(64 * MiB, [{ addr: 0x1000, size: 0x1000, type: 2 }, { addr: 0x1800, size: 0x1000, type: 3 }]), /overlap/);
  bad(() => overlayE820([{ addr: 0, size: 10, type: 1 }, { addr: 5, size: 10, type: 2 }], []), /entries overlap/);
});
