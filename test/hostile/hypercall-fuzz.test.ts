/**
 * A hostile guest against the hypercall layer: fixed-seed random hypercalls (every number, random
 * sub-commands, arguments that are garbage, huge, or pointers into, across and past the caller's
 * memory, over memory full of random bytes) from one domain while another domain lives in the
 * same host. Nothing may throw, every result must be a Xen return value, and the other domain's
 * memory and event channels must be untouched.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { PhysicalMemory } from '../../src/memory/physical.js';
import { Cpu } from '../../src/cpu/cpu.js';
import { CR0_PE } from '../../src/cpu/arch.js';
import { XenDomain } from '../../src/xen/domain.js';
import { handleHypercall, type HypercallEnv } from '../../src/xen/hypercall/dispatch.js';
import { XenHost } from '../../src/machine/xen-host.js';


function xorshift(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13; x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5; x >>>= 0;
    return x;
  };
}

function makeDomain(host: XenHost, name: string) {
  const mem = new PhysicalMemory(4 << 20);
  const cpu = new Cpu(mem, { ioRead: () => 0xff, ioWrite: () => {}, acknowledgeInterrupt: () => -1 });
  cpu.cr0 |= CR0_PE;
  cpu.vmcallEnabled = true;
  let now = 1e9;
  const dom = new XenDomain({
    domid: host.allocDomid(), name, mem, vcpus: [cpu], systemTimeNs: () => (now += 1000), wallclockAtZeroNs: 1.7e18,
    tscHz: 1e9, timers: { schedule: () => () => {} }, directory: host, layoutBits: 32,
    onShutdown: () => {}, onKick: () => {}, debugOutput: () => {},
  });
  host.add(dom);
  return { mem, cpu, dom };
}

test('random hostile hypercalls never throw and never reach another domain', () => {

  const host = new XenHost();
  const attacker = makeDomain(host, 'attacker');
  const victim = makeDomain(host, 'victim');
  const env: HypercallEnv = { memoryMap: [{ addr: 0, size: 4 << 20, type: 1 }], grants: host };
  // The victim is a live guest: shared info mapped, an unbound port for dom0, a grant frame.
  victim.dom.mapSharedInfo(0x100);
  victim.dom.evtchn.allocUnbound(victim.dom.domid, 0);
  victim.dom.gnttab.setFrame(0, 0x200);
  victim.mem.u8.fill(0x5a, 0x300000, 0x310000);
  const victimBefore = createHash('sha256').update(victim.mem.u8).digest('hex');
  const victimPorts = JSON.stringify(victim.dom.evtchn.save());

  const rnd = xorshift(0x7e5e17);
  const ram = attacker.mem.u8;
  const implemented = [12, 15, 17, 18, 20, 21, 24, 29, 32, 34];
  const arg = (): number => {
    switch (rnd() % 8) {
      case 0: return rnd() % 64; // small numbers: commands, counts, ports, vCPU ids
      case 1: return rnd(); // garbage
      case 2: return 0x1000 + (rnd() % 0x3ff000); // a pointer into RAM
      case 3: return ((4 << 20) - 8 + (rnd() % 16)) >>> 0; // straddling the end of RAM
      case 4: return 0xfffff000 + (rnd() % 0x1000); // far past RAM
      case 5: return (rnd() % 0x400) * 4096 - 4 + (rnd() % 8); // across a page boundary
      case 6: return victim.dom.domid; // the other domain's id
      default: return 0x7ff0; // DOMID_SELF
    }
  };
  let calls = 0;
  for (let i = 0; i < 30000; i++) {
    if (i % 200 === 0) for (let k = 0; k < 4096; k++) ram[(rnd() % (4 << 18)) * 4 + (k & 3)] = rnd() & 0xff;
    // Random structures at the pointer targets.
    for (let k = 0; k < 64; k++) ram[0x1000 + (rnd() % 0x3ff000)] = rnd() & 0xff;
    const c = attacker.cpu;
    c.regs[0] = rnd() % 4 === 0 ? rnd() % 64 : implemented[rnd() % implemented.length];
    c.regs[3] = rnd() % 3 === 0 ? rnd() % 32 : arg();
    c.regs[1] = arg();
    c.regs[2] = arg();
    c.regs[6] = arg();
    c.regs[7] = arg();
    const nr = c.regs[0];
    assert.doesNotThrow(() => handleHypercall(attacker.dom, attacker.dom.vcpus[0], env), `hypercall ${nr} #${i}`);
    const r = c.regs[0];
    assert.ok(Number.isInteger(r) && r >= -4096 && r <= 0x7fffffff, `hypercall ${nr} returned ${r}`);
    calls++;
  }
  assert.equal(calls, 30000);
  assert.equal(createHash('sha256').update(victim.mem.u8).digest('hex'), victimBefore, "the victim's memory is untouched");
  assert.equal(JSON.stringify(victim.dom.evtchn.save()), victimPorts, "the victim's event channels are untouched");
  assert.equal(victim.dom.shutdownReason, -1, 'the victim is still running');

});
