import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PhysicalMemory } from '../memory/physical.js';
import { Cpu } from '../cpu/cpu.js';
import { CR0_PE, CS, DS, ES, SS, Exit } from '../cpu/arch.js';
import { decodeDescriptor, loadCache } from '../cpu/segments.js';
import { XenDomain } from './domain.js';

test('a frame written by a backend drops the code the vCPU decoded from it', () => {
  const mem = new PhysicalMemory(1 << 20);
  const cpu = new Cpu(mem, { ioRead: () => 0, ioWrite: () => {}, acknowledgeInterrupt: () => -1 });
  cpu.cr0 |= CR0_PE;
  loadCache(cpu, CS, 8, decodeDescriptor(0x0000ffff, 0x00cf9b00, 0));
  for (const s of [DS, ES, SS]) loadCache(cpu, s, 16, decodeDescriptor(0x0000ffff, 0x00cf9300, 0));
  const dom = new XenDomain({
    domid: 1, name: 't', mem, vcpus: [cpu], systemTimeNs: () => 0, wallclockAtZeroNs: 0, tscHz: 1e9,
    timers: { schedule: () => () => {} }, directory: { lookup: () => null }, layoutBits: 32,
    onShutdown: () => {}, onKick: () => {}, debugOutput: () => {},
  });
  // mov eax, 1; hlt at 0x5000, run it once so the block is cached.
  mem.u8.set([0xb8, 1, 0, 0, 0, 0xf4], 0x5000);
  cpu.eip = 0x5000;
  assert.equal(cpu.run(10), Exit.Halt);
  assert.equal(cpu.regs[0], 1);
  // A backend (say blkback filling a page-cache page) rewrites the page behind the CPU.
  mem.u8.set([0xb8, 2, 0, 0, 0, 0xf4], 0x5000);
  dom.wroteFrame(5);
  cpu.halted = false;
  cpu.eip = 0x5000;
  cpu.run(10);
  assert.equal(cpu.regs[0], 2, 'the new code ran, not the stale decoded block');
});
