import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PhysicalMemory } from '../memory/physical.js';
import { Cpu } from './cpu.js';
import { CR0_PE, CR0_PG } from './arch.js';
import { copyFromGuest, copyToGuest, linearToPhys } from './guest-access.js';

function pagedCpu() {
  const mem = new PhysicalMemory(1 << 20);
  const cpu = new Cpu(mem, { ioRead: () => 0, ioWrite: () => {}, acknowledgeInterrupt: () => -1 });
  // Page directory at 0x1000; linear 0x400000-0x401fff -> physical 0x20000-0x21fff (writable).
  mem.write(0x1000 + 1 * 4, 4, 0x2000 | 7);
  mem.write(0x2000 + 0 * 4, 4, 0x20000 | 7);
  mem.write(0x2000 + 1 * 4, 4, 0x21000 | 7);
  cpu.cr3 = 0x1000;
  cpu.cr0 |= CR0_PE | CR0_PG;
  return { mem, cpu };
}

test('hypervisor copies follow the guest page tables across a page boundary', () => {
  const { mem, cpu } = pagedCpu();
  assert.equal(copyToGuest(cpu, 0x400ffe, Uint8Array.from([1, 2, 3, 4])), true);
  assert.deepEqual(Array.from(mem.u8.subarray(0x20ffe, 0x21000)), [1, 2]);
  assert.deepEqual(Array.from(mem.u8.subarray(0x21000, 0x21002)), [3, 4]);
  assert.deepEqual(Array.from(copyFromGuest(cpu, 0x400ffe, 4)!), [1, 2, 3, 4]);
  assert.equal(linearToPhys(cpu, 0x401010, false), 0x21010);
});

test('an unmapped guest pointer fails without a fault or a partial write', () => {
  const { mem, cpu } = pagedCpu();
  cpu.cr2 = 0x1234;
  assert.equal(copyToGuest(cpu, 0x401ffe, Uint8Array.from([9, 9, 9, 9])), false);
  assert.equal(mem.u8[0x21ffe], 0, 'nothing written before the unmapped page');
  assert.equal(copyFromGuest(cpu, 0x800000, 4), null);
  assert.equal(cpu.cr2, 0x1234, 'CR2 untouched');
});
