/**
 * The Xen platform PCI device: its identity and BARs through configuration mechanism #1, the ISA
 * unplug protocol as Linux drives it (magic, protocol version, product/build numbers, mask), odd
 * widths and unknown bits, and the machine-side effect: unplugged IDE disks read as absent.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PhysicalMemory } from '../../memory/physical.js';
import { TimerQueue } from '../../bus/timer-queue.js';
import { PcPlatform } from '../../machine/pc-platform.js';
import { MemoryBlockStore } from '../../pv/block/block-store.js';
import {
  UNPLUG_ALL_IDE_DISKS, UNPLUG_ALL_NICS, UNPLUG_AUX_IDE_DISKS, XEN_UNPLUG_MAGIC, XenPlatformPci, type UnplugRequest,
} from './xen-platform.js';

function platform(unplug?: (r: UnplugRequest) => void, disks = 2) {
  return new PcPlatform({
    mem: new PhysicalMemory(32 << 20), clock: { now: () => 0 }, timers: new TimerQueue(), wallclockMs: 0,
    intr: () => {}, nmi: () => {}, a20: () => {}, onReset: () => {}, onPowerOff: () => {},
    generalProtection: () => { throw new Error('#GP'); }, serialOutput: () => {}, firmware: true,
    ideDisks: Array.from({ length: disks }, () => new MemoryBlockStore(64 * 512)),
    xenPlatform: { unplug },
  });
}

const cfgAddr = (dev: number, reg: number) => 0x80000000 | (dev << 11) | reg;

test('Xen platform device: PCI identity, class, subsystem, INTA, BAR sizes and types', () => {
  const p = platform();
  const rd = (reg: number) => { p.ports.write(0xcf8, 4, cfgAddr(2, reg)); return p.ports.read(0xcfc, 4); };
  const wr = (reg: number, v: number) => { p.ports.write(0xcf8, 4, cfgAddr(2, reg)); p.ports.write(0xcfc, 4, v); };
  assert.equal(rd(0x00), 0x00015853);
  assert.equal(rd(0x08), 0xff800001); // class FF80h, prog-if 0, revision 1
  assert.equal(rd(0x2c), 0x00015853);
  assert.equal((rd(0x3c) >> 8) & 0xff, 1); // INTA#
  wr(0x10, 0xffffffff);
  assert.equal(rd(0x10), 0xffffff01); // 256 bytes of I/O
  wr(0x14, 0xffffffff);
  assert.equal(rd(0x14), 0xff000008); // 16 MiB, 32-bit, prefetchable
  // Place and enable both; BAR 0 decodes (reads all ones), BAR 1 is mapped.
  wr(0x10, 0xc100);
  wr(0x14, 0xf0000000);
  wr(0x04, 3);
  assert.equal(p.ports.owner(0xc100), 'xen-platform-io');
  assert.equal(p.ports.read(0xc100, 4), 0xffffffff);
  const xp = p.xenPlatform!;
  assert.equal(xp.barBase(1), 0xf0000000);
  assert.ok(xp.mmioBar(1));
  assert.equal(xp.mmioBar(0), undefined);
  assert.equal(xp.ioBar(1), undefined);
});

test('unplug protocol: magic, version, product and build numbers, then the mask reaches the machine', () => {
  const reqs: UnplugRequest[] = [];
  const p = platform((r) => reqs.push(r), 4);
  assert.equal(p.ports.read(0x10, 2), XEN_UNPLUG_MAGIC);
  assert.equal(p.ports.read(0x12, 1), 1);
  p.ports.write(0x12, 2, 0x0003); // Linux's product number
  p.ports.write(0x10, 4, 1); // driver build
  assert.equal(p.xenPlatform!.productNumber, 3);
  assert.equal(p.xenPlatform!.buildNumber, 1);
  assert.equal(p.ports.read(0x10, 2), XEN_UNPLUG_MAGIC, 'not blacklisted');
  // Auxiliary disks first: every disk but the primary master goes.
  p.ports.write(0x10, 2, UNPLUG_AUX_IDE_DISKS);
  const ide = p.ide!;
  assert.ok(ide.channels[0].drives[0]);
  assert.equal(ide.channels[0].drives[1], undefined);
  assert.equal(ide.channels[1].drives[0], undefined);
  assert.equal(ide.channels[1].drives[1], undefined);
  // Then all disks and NICs.
  p.ports.write(0x10, 2, UNPLUG_ALL_IDE_DISKS | UNPLUG_ALL_NICS);
  assert.equal(ide.channels[0].drives[0], undefined);
  assert.equal(reqs.length, 2);
  assert.deepEqual(reqs[1], { allIdeDisks: true, auxIdeDisks: false, nics: true, nvme: false, mask: 3 });
  assert.equal(p.xenPlatform!.unplugged, 7);
});

test('unplugged IDE channel reports no device (status 00h) on the legacy ports', () => {
  const p = platform();
  // Enable decode of the PIIX3 IDE function (00:01.1) as firmware would.
  p.ports.write(0xcf8, 4, 0x80000000 | (1 << 11) | (1 << 8) | 0x04);
  p.ports.write(0xcfc, 2, 1);
  p.ports.write(0xcf8, 4, 0x80000000 | (1 << 11) | (1 << 8) | 0x40);
  p.ports.write(0xcfc, 4, 0x80008000);
  p.ports.write(0x1f6, 1, 0xa0);
  assert.notEqual(p.ports.read(0x1f7, 1), 0);
  p.ports.write(0x10, 2, UNPLUG_ALL_IDE_DISKS);
  p.ports.write(0x1f6, 1, 0xa0);
  assert.equal(p.ports.read(0x1f7, 1), 0);
  p.ports.write(0x1f6, 1, 0xb0);
  assert.equal(p.ports.read(0x1f7, 1), 0);
});

test('unplug ports: unknown bits, zero masks, odd widths and offsets are harmless', () => {
  const reqs: UnplugRequest[] = [];
  const xp = new XenPlatformPci({ unplug: (r) => reqs.push(r) });
  const u = xp.unplugPorts;
  u.ioWrite(0, 2, 0);
  u.ioWrite(0, 2, 0xfff0); // only unknown bits
  assert.equal(reqs.length, 0);
  u.ioWrite(0, 2, 0xff02);
  assert.equal(reqs.length, 1);
  assert.equal(reqs[0].nics, true);
  assert.equal(reqs[0].allIdeDisks, false);
  // Platform flags byte: bit 0 only.
  u.ioWrite(0, 1, 0xff);
  assert.equal(u.ioRead(0, 1), 1);
  // Undefined registers read all ones, writes are ignored.
  assert.equal(u.ioRead(1, 1), 0xff);
  assert.equal(u.ioRead(3, 1), 0xff);
  assert.equal(u.ioRead(2, 2), 0xffff);
  assert.equal(u.ioRead(0, 4), 0xffffffff);
  u.ioWrite(1, 1, 0x55);
  u.ioWrite(3, 2, 0x55);
  u.ioWrite(2, 4, 0x55);
  // Log bytes, including a line longer than the buffer and non-printables.
  for (let i = 0; i < 400; i++) u.ioWrite(2, 1, i & 0xff);
  u.ioWrite(2, 1, 0x0a);
  assert.equal(reqs.length, 1);
});

test('no xenPlatform option: no device, ports 10h-13h unclaimed', () => {
  const p = new PcPlatform({
    mem: new PhysicalMemory(16 << 20), clock: { now: () => 0 }, timers: new TimerQueue(), wallclockMs: 0,
    intr: () => {}, nmi: () => {}, a20: () => {}, onReset: () => {}, onPowerOff: () => {},
    generalProtection: () => { throw new Error('#GP'); }, serialOutput: () => {},
  });
  assert.equal(p.xenPlatform, undefined);
  assert.equal(p.ports.owner(0x10), undefined);
});

test('unplug during a PIO read drops the transfer and the interrupt', () => {
  const p = platform();
  p.ports.write(0xcf8, 4, 0x80000000 | (1 << 11) | (1 << 8) | 0x04);
  p.ports.write(0xcfc, 2, 1);
  p.ports.write(0xcf8, 4, 0x80000000 | (1 << 11) | (1 << 8) | 0x40);
  p.ports.write(0xcfc, 4, 0x80008000);
  p.ports.write(0x1f6, 1, 0xe0);
  p.ports.write(0x1f2, 1, 1);
  p.ports.write(0x1f3, 1, 0);
  p.ports.write(0x1f4, 1, 0);
  p.ports.write(0x1f5, 1, 0);
  p.ports.write(0x1f7, 1, 0x20); // READ SECTORS
  assert.ok(p.ide!.channels[0].irqLevel);
  p.ports.write(0x10, 2, UNPLUG_ALL_IDE_DISKS);
  assert.equal(p.ide!.channels[0].irqLevel, false);
  assert.equal(p.ports.read(0x1f7, 1), 0);
  assert.equal(p.ports.read(0x1f0, 2), 0);
});
