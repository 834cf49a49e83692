import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buffer, device, eisaId, integer, name, nameString, pkg, pkgLength, resDWordMemory, resIo, resIrqNoFlags, resWordBusNumber, resWordIo, scope, string } from './aml.js';

const hex = (b: Uint8Array) => Array.from(b, (x) => x.toString(16).padStart(2, '0')).join(' ');

test('PkgLength counts its own bytes: one byte up to 63, then 2-4 bytes with the low nibble first', () => {
  assert.deepEqual(pkgLength(0), [1]);
  assert.deepEqual(pkgLength(62), [63]);
  assert.deepEqual(pkgLength(63), [0x40 | (65 & 0xf), 65 >> 4]);
  assert.deepEqual(pkgLength(0x1000), [0x80 | (0x1003 & 0xf), (0x1003 >> 4) & 0xff, 0x1003 >> 12]);
  assert.equal(pkgLength(0x100000).length, 4);
});

test('name strings: root, parent prefixes, dual and multi segment paths, padding', () => {
  assert.equal(hex(nameString('\\_SB')), '5c 5f 53 42 5f');
  assert.equal(hex(nameString('_HID')), '5f 48 49 44');
  assert.equal(hex(nameString('^CP0')), '5e 43 50 30 5f');
  assert.equal(hex(nameString('\\_SB.PCI0')), '5c 2e 5f 53 42 5f 50 43 49 30');
  assert.equal(hex(nameString('\\_SB.PCI0.ISA')), '5c 2f 03 5f 53 42 5f 50 43 49 30 49 53 41 5f');
  assert.throws(() => nameString('pci0'));
});

test('integers use the shortest constant encoding', () => {
  assert.equal(hex(integer(0)), '00');
  assert.equal(hex(integer(1)), '01');
  assert.equal(hex(integer(5)), '0a 05');
  assert.equal(hex(integer(0x1234)), '0b 34 12');
  assert.equal(hex(integer(0xfec00000)), '0c 00 00 c0 fe');
  assert.equal(hex(integer(0x100000000n)), '0e 00 00 00 00 01 00 00 00');
});

test('EisaId packs PNP0A03 as the well-known 0x030AD041', () => {
  assert.equal(eisaId('PNP0A03'), 0x030ad041);
  assert.equal(eisaId('PNP0C0F'), 0x0f0cd041);
});

test('Name, Package, Scope, Device and strings encode with their opcodes and lengths', () => {
  assert.equal(hex(name('\\_S5', pkg(integer(5), integer(5), integer(0), integer(0)))),
    '08 5c 5f 53 35 5f 12 08 04 0a 05 0a 05 00 00');
  assert.equal(hex(string('AB')), '0d 41 42 00');
  assert.equal(hex(device('DEV', name('_UID', integer(0)))), '5b 82 0b 44 45 56 5f 08 5f 55 49 44 00');
  assert.equal(hex(scope('\\_SB')), '10 06 5c 5f 53 42 5f');
  assert.equal(hex(buffer(Uint8Array.of(0x79, 0))), '11 05 0a 02 79 00');
});

test('resource descriptors have the spec lengths and fields', () => {
  assert.equal(hex(resIo(0xcf8, 0xcf8, 1, 8)), '47 01 f8 0c f8 0c 01 08');
  const bus = resWordBusNumber(0, 0xff);
  assert.equal(bus.length, 16);
  assert.equal(bus[3], 2, 'bus number range type');
  assert.equal(bus[14] | (bus[15] << 8), 0x100);
  const io = resWordIo(0xd00, 0xffff);
  assert.equal(io[3], 1);
  assert.equal(io[5], 3, 'entire range');
  assert.equal(io[14] | (io[15] << 8), 0xf300);
  const mem = resDWordMemory(0xc0000000, 0xfebfffff, false);
  assert.equal(mem.length, 26);
  assert.equal(mem[0], 0x87);
  assert.equal(mem[1] | (mem[2] << 8), 23);
  const view = new DataView(mem.buffer);
  assert.equal(view.getUint32(10, true), 0xc0000000);
  assert.equal(view.getUint32(14, true), 0xfebfffff);
  assert.equal(view.getUint32(22, true), 0x3ec00000);
});

test('IRQNoFlags: the two-byte form of the small IRQ descriptor with the IRQ bit mask', () => {
  assert.equal(hex(resIrqNoFlags(4)), '22 10 00');
  assert.equal(hex(resIrqNoFlags(1, 12)), '22 02 10');
  assert.throws(() => resIrqNoFlags(16));
});
