import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PhysicalMemory } from '../memory/physical.js';
import { Cpu } from './cpu.js';
import { CR0_PE, CR0_PG, CS, DS, ES, Exit, FS, GS, SS } from './arch.js';
import { decodeDescriptor, loadCache } from './segments.js';

/** A flat 32-bit ring-0 CPU; with `paged`, linear 0x400000.. maps to physical 0x20000.. (4 pages). */
function flatCpu(paged: boolean) {
  const mem = new PhysicalMemory(1 << 20);
  const cpu = new Cpu(mem, { ioRead: () => 0, ioWrite: () => {}, acknowledgeInterrupt: () => -1 });
  cpu.cr0 |= CR0_PE;
  loadCache(cpu, CS, 0x08, decodeDescriptor(0x0000ffff, 0x00cf9b00, 0));
  for (const s of [SS, DS, ES, FS, GS]) loadCache(cpu, s, 0x10, decodeDescriptor(0x0000ffff, 0x00cf9300, 0));
  cpu.setCpl(0);
  if (paged) {
    mem.write(0x1000 + 1 * 4, 4, 0x2000 | 7);
    for (let k = 0; k < 4; k++) mem.write(0x2000 + k * 4, 4, (0x20000 + k * 0x1000) | 0x67);
    cpu.cr3 = 0x1000;
    cpu.cr0 |= CR0_PG;
  }
  return { mem, cpu };
}

/** `mov eax, imm32; hlt` placed so that the MOV straddles a page boundary (3 bytes + 2 bytes). */
function placeStraddler(mem: PhysicalMemory, firstPagePhys: number, secondPagePhys: number, imm: number): void {
  const b = [0xb8, imm & 0xff, (imm >>> 8) & 0xff, (imm >>> 16) & 0xff, imm >>> 24, 0xf4];
  for (let k = 0; k < 3; k++) mem.write(firstPagePhys + 0xffd + k, 1, b[k]);
  for (let k = 3; k < b.length; k++) mem.write(secondPagePhys + k - 3, 1, b[k]);
}

/** Runs the straddling block `times` times from `eip` and returns EAX. */
function runAt(cpu: Cpu, eip: number, times: number): number {
  for (let n = 0; n < times; n++) {
    cpu.eip = eip;
    cpu.halted = false;
    assert.equal(cpu.run(100), Exit.Halt);
  }
  return cpu.regs[0];
}

test('a block whose instruction straddles a page is cached, and a write to the next page drops it', () => {
  const { mem, cpu } = flatCpu(false);
  placeStraddler(mem, 0x10000, 0x11000, 0x44332211);
  assert.equal(runAt(cpu, 0x10ffd, 3), 0x44332211);
  const decoded = cpu.blocks.decoded;
  // Enough runs to compile the block as well: it must come from the cache, not be decoded again.
  assert.equal(runAt(cpu, 0x10ffd, 100), 0x44332211);
  assert.equal(cpu.blocks.decoded, decoded, 'the straddling block is reused, not decoded each time');
  // A guest write to the first bytes of the next page (the immediate's top byte) is seen.
  cpu.write8(DS, 0x11001, 0x55);
  assert.equal(runAt(cpu, 0x10ffd, 1), 0x55332211);
  // And so is a write to the first page (the immediate's low byte).
  cpu.write8(DS, 0x10ffe, 0x66);
  assert.equal(runAt(cpu, 0x10ffd, 1), 0x55332266);
  // Writes to the next page that miss the block leave it cached.
  const d2 = cpu.blocks.decoded;
  cpu.write8(DS, 0x11800, 1);
  assert.equal(runAt(cpu, 0x10ffd, 2), 0x55332266);
  assert.equal(cpu.blocks.decoded, d2);
});

test('a straddling block follows a remap of its second linear page', () => {
  const { mem, cpu } = flatCpu(true);
  // Linear 0x400ffd: first page -> 0x20000, second page -> 0x21000 (then 0x22000).
  placeStraddler(mem, 0x20000, 0x21000, 0x11111111);
  for (const [k, v] of [0x22, 0x22, 0xf4].entries()) mem.write(0x22000 + k, 1, v);
  assert.equal(runAt(cpu, 0x400ffd, 80), 0x11111111);
  mem.write(0x2000 + 1 * 4, 4, 0x22000 | 0x67);
  cpu.flushTlbPage(0x401000);
  assert.equal(runAt(cpu, 0x400ffd, 1), 0x22221111, 'the new second page supplies the top bytes');
});

test('bytes written from outside the CPU (DMA, a backend) drop the blocks decoded from them, on both pages of a straddler', () => {
  const { mem, cpu } = flatCpu(false);
  placeStraddler(mem, 0x6000, 0x7000, 0x1111);
  cpu.eip = 0x6ffd;
  assert.equal(cpu.run(10), Exit.Halt);
  assert.equal(cpu.regs[0], 0x1111);
  // A DMA write of the immediate's last two bytes, which sit on the second page.
  cpu.writePhysBytes(0x7000, Uint8Array.from([0x22, 0x22]));
  cpu.halted = false;
  cpu.eip = 0x6ffd;
  cpu.run(10);
  assert.equal(cpu.regs[0] >>> 0, 0x22221111, 'the new bytes ran, not the stale block');
});
