import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PhysicalMemory } from '../../memory/physical.js';
import { Cpu } from '../../cpu/cpu.js';
import { CR0_PE } from '../../cpu/arch.js';
import { XenDomain } from '../domain.js';
import { handleHypercall, type HypercallEnv } from './dispatch.js';
import { EFAULT, ENOSYS, EPERM, HYPERVISOR, SHUTDOWN_poweroff } from '../abi.js';
import { FEATURES_SUBMAP0 } from './version.js';

/** A ring-0 protected-mode vCPU with paging off, so guest linear = physical addresses. */
function setup() {
  const mem = new PhysicalMemory(4 << 20);
  const cpu = new Cpu(mem, { ioRead: () => 0, ioWrite: () => {}, acknowledgeInterrupt: () => -1 });
  cpu.cr0 |= CR0_PE;
  let now = 1_000_000;
  const timers: { at: number; cb: () => void; live: boolean }[] = [];
  const kicks: number[] = [];
  const shutdowns: number[] = [];
  const dom = new XenDomain({
    domid: 1, name: 'test', mem, vcpus: [cpu], systemTimeNs: () => now, wallclockAtZeroNs: 1.7e18, tscHz: 1e9,
    timers: { schedule: (at, cb) => { const t = { at, cb, live: true }; timers.push(t); return () => { t.live = false; }; } },
    directory: { lookup: () => null }, layoutBits: 32, onShutdown: (r) => shutdowns.push(r), onKick: (v) => kicks.push(v),
    debugOutput: () => {},
  });
  const env: HypercallEnv = { memoryMap: [{ addr: 0, size: 4 << 20, type: 1 }], grants: { domain: (d) => (d === 1 ? { table: dom.gnttab, mem: { u8: mem.u8, isRamGfn: (g) => dom.isRamGfn(g) } } : null) } };
  const dv = new DataView(mem.u8.buffer);
  const call = (nr: number, ...args: number[]) => {
    cpu.regs[0] = nr;
    [3, 1, 2, 6, 7].forEach((r, k) => (cpu.regs[r] = args[k] ?? 0));
    handleHypercall(dom, dom.vcpus[0], env);
    return cpu.regs[0];
  };
  const advance = (ns: number) => {
    now += ns;
    for (const t of timers) if (t.live && t.at <= now) { t.live = false; t.cb(); }
  };
  return { mem, cpu, dom, dv, call, kicks, shutdowns, advance };
}

const ARG = 0x1000;

test('feature query reports auto-translated physmap, callback vector and safe pvclock', () => {
  const t = setup();
  t.dv.setUint32(ARG, 0, true);
  assert.equal(t.call(HYPERVISOR.xen_version, 6, ARG), 0);
  assert.equal(t.dv.getUint32(ARG + 4, true), FEATURES_SUBMAP0);
  assert.equal(t.call(HYPERVISOR.xen_version, 0), (4 << 16) | 17);
});

test('mapping shared_info publishes pvclock scale and wallclock at once', () => {
  const t = setup();
  t.dv.setUint16(ARG, 0x7ff0, true);
  t.dv.setUint32(ARG + 4, 0, true); // shared_info
  t.dv.setUint32(ARG + 8, 0, true);
  t.dv.setUint32(ARG + 12, 0x100, true); // gpfn
  assert.equal(t.call(HYPERVISOR.memory_op, 7, ARG), 0);
  const base = 0x100 * 4096;
  assert.equal(t.dv.getUint32(base + 32 + 24, true), 0x80000000, 'tsc_to_system_mul for a 1 GHz TSC');
  assert.equal(t.dv.getInt8(base + 32 + 28), 1, 'tsc_shift');
  assert.equal(t.dv.getUint32(base + 32, true) % 2, 0, 'version is even after the update');
  assert.equal(t.dv.getUint32(base + 2308, true), Math.floor(1.7e9), 'wc_sec');
  t.dv.setUint32(ARG + 12, 0x7fffff, true);
  assert.ok(t.call(HYPERVISOR.memory_op, 7, ARG) < 0, 'a frame outside RAM is refused');
});

test('a VIRQ_TIMER single-shot fires into the registered vcpu_info and kicks the vCPU', () => {
  const t = setup();
  t.dv.setUint16(ARG, 0x7ff0, true);
  t.dv.setUint32(ARG + 12, 0x100, true);
  t.call(HYPERVISOR.memory_op, 7, ARG);
  // register_vcpu_info at gfn 0x101 offset 0x40
  t.dv.setUint32(ARG, 0x101, true);
  t.dv.setUint32(ARG + 4, 0, true);
  t.dv.setUint32(ARG + 8, 0x40, true);
  assert.equal(t.call(HYPERVISOR.vcpu_op, 10, 0, ARG), 0);
  assert.deepEqual(t.kicks, [0], 'registration raises a deliberate upcall');
  const vi = 0x101 * 4096 + 0x40;
  t.mem.u8[vi] = 0;
  t.dv.setUint32(vi + 4, 0, true);
  // bind_virq(VIRQ_TIMER, vcpu 0)
  t.dv.setUint32(ARG, 0, true);
  t.dv.setUint32(ARG + 4, 0, true);
  assert.equal(t.call(HYPERVISOR.event_channel_op, 1, ARG), 0);
  const port = t.dv.getUint32(ARG + 8, true);
  assert.equal(port, 1);
  // set_singleshot_timer(now + 5 ms)
  t.dv.setUint32(ARG, 1_000_000 + 5_000_000, true);
  t.dv.setUint32(ARG + 4, 0, true);
  t.dv.setUint32(ARG + 8, 0, true);
  assert.equal(t.call(HYPERVISOR.vcpu_op, 8, 0, ARG), 0);
  t.advance(4_000_000);
  assert.equal(t.mem.u8[vi], 0, 'not yet');
  t.advance(2_000_000);
  assert.equal(t.mem.u8[vi], 1, 'evtchn_upcall_pending');
  assert.equal(t.mem.u8[0x100 * 4096 + 2048] & 2, 2, 'port 1 pending in shared_info');
  assert.equal(t.dom.upcallPending(0), true);
  assert.deepEqual(t.kicks, [0, 0]);
});

test('the callback vector parameter is accepted and readable', () => {
  const t = setup();
  t.dv.setUint16(ARG, 0x7ff0, true);
  t.dv.setUint32(ARG + 4, 0, true);
  t.dv.setUint32(ARG + 8, 0xf3, true);
  t.dv.setUint32(ARG + 12, 0x02000000, true);
  assert.equal(t.call(HYPERVISOR.hvm_op, 0, ARG), 0);
  assert.equal(t.dom.callbackVector, 0xf3);
  t.dv.setUint32(ARG + 4, 1, true); // STORE_PFN may be read, not set
  assert.equal(t.call(HYPERVISOR.hvm_op, 0, ARG), -EPERM);
  assert.equal(t.call(HYPERVISOR.hvm_op, 1, ARG), 0);
});

test('decrease_reservation reports every extent done (Linux BUGs otherwise)', () => {
  const t = setup();
  t.dv.setUint32(ARG + 4, 32, true);
  t.dv.setUint16(ARG + 16, 0x7ff0, true);
  assert.equal(t.call(HYPERVISOR.memory_op, 1, ARG), 32);
});

test('shutdown reaches the toolstack with its reason', () => {
  const t = setup();
  t.dv.setUint32(ARG, SHUTDOWN_poweroff, true);
  assert.equal(t.call(HYPERVISOR.sched_op, 2, ARG), 0);
  assert.deepEqual(t.shutdowns, [SHUTDOWN_poweroff]);
});

test('hostile calls: ring 3, bad pointers, unknown numbers and huge counts are refused', () => {
  const t = setup();
  assert.equal(t.call(HYPERVISOR.xen_version, 6, 0x7ffff000), -EFAULT);
  assert.equal(t.call(HYPERVISOR.event_channel_op, 4, 0xfffffffc), -EFAULT);
  assert.equal(t.call(99), -ENOSYS);
  assert.ok(t.call(HYPERVISOR.grant_table_op, 6, ARG, 100000) < 0);
  t.cpu.setCpl(3);
  assert.equal(t.call(HYPERVISOR.xen_version, 0), -EPERM);
});
