import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PhysicalMemory } from '../memory/physical.js';
import { Cpu } from '../cpu/cpu.js';
import { guestDmaView } from './guest-dma.js';

test('guest DMA view: RAM only; out-of-range, negative and fractional addresses are refused, nothing written', () => {
  const mem = new PhysicalMemory(64 << 10);
  const dma = guestDmaView(mem, new Cpu(mem, { ioRead: () => 0, ioWrite: () => {}, acknowledgeInterrupt: () => -1 }));
  assert.ok(dma.write(0x100, Uint8Array.of(1, 2, 3)));
  assert.deepEqual([...dma.read(0x100, 3)!], [1, 2, 3]);
  assert.equal(dma.read((64 << 10) - 2, 3), null, 'past the end of RAM');
  assert.equal(dma.read(-1, 1), null);
  assert.equal(dma.read(0.5, 1), null);
  assert.equal(dma.write((64 << 10) - 1, Uint8Array.of(9, 9)), false);
  assert.equal(mem.u8[(64 << 10) - 1], 0, 'a refused write leaves RAM alone');
  assert.equal(dma.write(0xffff_f000, Uint8Array.of(1)), false, 'the PCI hole is not RAM');
});
