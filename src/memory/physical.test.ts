import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PhysicalMemory, type MmioHandler } from './physical.js';

const dev = (name: string, value: number): MmioHandler => ({ name, mmioRead: () => value, mmioWrite: () => {} });

test('mapping and unmapping in a loop (a guest toggling BIOS shadowing) reuses region slots', () => {
  const mem = new PhysicalMemory(1 << 20);
  const a = dev('a', 0x11), b = dev('b', 0x22);
  mem.mapMmio(0xfee00000, 4096, b);
  for (let k = 0; k < 100_000; k++) {
    mem.mapMmio(0xf0000, 0x10000, a);
    mem.unmapMmio(a);
  }
  mem.mapMmio(0xf0000, 0x10000, a);
  assert.equal(mem.read(0xf0010, 1), 0x11, 'the region still routes to its handler');
  assert.equal(mem.read(0xfee00000, 1), 0x22, 'the other region is unaffected');
  mem.unmapMmio(a);
  mem.u8[0xf0010] = 0x33;
  assert.equal(mem.read(0xf0010, 1), 0x33, 'unmapped: plain RAM again');
});

test('readBytes copies RAM pages and reads MMIO pages through their handler, across page boundaries', () => {
  const mem = new PhysicalMemory(64 << 10);
  for (let k = 0; k < 0x3000; k++) mem.u8[k] = k & 0xff;
  mem.mapMmio(0x1000, 4096, dev('m', 0xab));
  const got = mem.readBytes(0xff0, 0x1020);
  assert.equal(got.length, 0x1020);
  assert.deepEqual([...got.subarray(0, 16)], [...mem.u8.subarray(0xff0, 0x1000)], 'the RAM page before');
  assert.ok(got.subarray(16, 16 + 4096).every((b) => b === 0xab), 'the MMIO page, through its handler');
  assert.deepEqual([...got.subarray(16 + 4096)], [...mem.u8.subarray(0x2000, 0x2010)], 'the RAM page after');
});
