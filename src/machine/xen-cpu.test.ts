import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Flat32Machine } from './flat32.js';
import { Exit } from '../cpu/arch.js';
import { cpuid } from '../cpu/cpuid.js';
import { enlightenCpu, XEN_CPUID_BASE } from './xen-cpu.js';

test('a Xen vCPU reports the hypervisor leaves and the hypervisor bit', () => {
  const m = new Flat32Machine({ ramBytes: 1 << 20 });
  enlightenCpu(m.cpu, 3);
  const [max, b, c, d] = cpuid(m.cpu, XEN_CPUID_BASE, 0);
  assert.ok(max >= XEN_CPUID_BASE + 2);
  const sig = [b, c, d].map((w) => String.fromCharCode(w & 0xff, (w >> 8) & 0xff, (w >> 16) & 0xff, (w >>> 24) & 0xff)).join('');
  assert.equal(sig, 'XenVMMXenVMM');
  assert.equal(cpuid(m.cpu, XEN_CPUID_BASE + 2, 0)[1], 0x40000000, 'the hypercall MSR');
  assert.equal(cpuid(m.cpu, XEN_CPUID_BASE + 4, 0)[1], 3, 'the vCPU id');
  assert.ok(cpuid(m.cpu, 1, 0)[2] & (1 << 31), 'CPUID.1:ECX.hypervisor');
});

test('the hypercall page installed through the MSR turns call page+32*N into a hypercall N', () => {
  const m = new Flat32Machine({ ramBytes: 1 << 20 });
  enlightenCpu(m.cpu, 0);
  const page = 0x5000, at = 0x10000;
  const callTarget = page + 17 * 32;
  const code = [
    0xb9, 0x00, 0x00, 0x00, 0x40, // mov ecx, 0x40000000
    0xb8, ...[page & 0xff, (page >> 8) & 0xff, 0, 0], // mov eax, page
    0x31, 0xd2, // xor edx, edx
    0x0f, 0x30, // wrmsr
    0xe8, 0, 0, 0, 0, // call callTarget (patched below)
    0xf4, // hlt
  ];
  const rel = callTarget - (at + 19);
  code.splice(15, 4, rel & 0xff, (rel >> 8) & 0xff, (rel >> 16) & 0xff, (rel >>> 24) & 0xff);
  m.load(Uint8Array.from(code), at);
  m.cpu.regs[4] = 0x9000;
  assert.equal(m.cpu.run(1000), Exit.Vmcall);
  assert.equal(m.cpu.regs[0], 17, 'EAX = the slot number');
  m.cpu.regs[0] = -38; // the hypervisor's answer
  assert.equal(m.cpu.run(1000), Exit.Halt, 'the slot returns to the caller');
  assert.equal(m.cpu.regs[0], -38);
  assert.equal(m.cpu.eip, at + 20);
});

test('a hypercall-page MSR write with a page index other than 0 raises #GP', () => {
  const m = new Flat32Machine({ ramBytes: 1 << 20 });
  enlightenCpu(m.cpu, 0);
  m.load(Uint8Array.from([0xb9, 0, 0, 0, 0x40, 0xb8, 0x01, 0x50, 0, 0, 0x31, 0xd2, 0x0f, 0x30, 0xf4]), 0x10000);
  m.cpu.interceptExceptions = true;
  assert.equal(m.cpu.run(100), Exit.Exception);
  assert.equal(m.cpu.excVector, 13);
});
