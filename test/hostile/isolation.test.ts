/**
 * A hostile domain dies alone. Two PVH domains in one host: a well-behaved one that writes to its
 * console with CONSOLEIO_write and powers off by SCHEDOP_shutdown, and a hostile one that issues
 * malformed hypercalls, fills its XenStore and console rings with garbage indices and notifies
 * them, and then triple-faults. The hostile domain ends as a crash; the other runs to its clean
 * power-off, and the host (XenStore, event channels) keeps serving it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PvhMachine, type PvhStatus } from '../../src/machine/pvh.js';
import { XenHost } from '../../src/machine/xen-host.js';
import { HVM_PARAM_CONSOLE_EVTCHN, HVM_PARAM_STORE_EVTCHN } from '../../src/xen/abi.js';
import { CLI, HLT, TINY_BASE, VMCALL, decMem, le32, lidt, movEax, movEbx, movEcx, movEdx, tinyPvhElf } from './tiny-pvh.js';

const DATA = TINY_BASE + 0x800;

/** Prints "tick\n" `n` times through console_io, then SCHEDOP_shutdown(poweroff). */
function politeKernel(n: number): Uint8Array {
  const msg = DATA, counter = DATA + 8, reason = DATA + 12;
  const loop = [...movEax(18), ...movEbx(0), ...movEcx(5), ...movEdx(msg), ...VMCALL, ...decMem(counter)];
  const code = [...loop, 0x75, (-(loop.length + 2)) & 0xff, ...movEax(29), ...movEbx(2), ...movEcx(reason), ...VMCALL, ...CLI, ...HLT];
  const image = new Array<number>(0x810).fill(0);
  image.splice(0, code.length, ...code);
  image.splice(0x800, 16, ...[0x74, 0x69, 0x63, 0x6b, 0x0a, 0, 0, 0], ...le32(n), ...le32(0));
  return tinyPvhElf(image.slice(0, 0x810));
}

/** Malformed hypercalls, then LIDT with a zero limit and INT3: a triple fault. */
function hostileKernel(): Uint8Array {
  const idtr = DATA;
  const code = [
    ...movEax(12), ...movEbx(7), ...movEcx(0xfffffff0), ...VMCALL, // add_to_physmap from an unmapped pointer
    ...movEax(99), ...VMCALL, // no such hypercall
    ...movEax(32), ...movEbx(4), ...movEcx(0x7fffffff), ...VMCALL, // EVTCHNOP_send, pointer past RAM
    ...movEax(20), ...movEbx(0), ...movEcx(DATA + 0x10), ...movEdx(0xffffffff), ...VMCALL, // map_grant_ref x 4G
    ...movEax(29), ...movEbx(0x4000), ...VMCALL, // bad sched_op
    ...lidt(idtr), 0xcc, // the IDT has limit 0: INT3 -> #GP -> #DF -> shutdown
    ...HLT,
  ];
  const image = new Array<number>(0x820).fill(0);
  image.splice(0, code.length, ...code);
  return tinyPvhElf(image);
}

test('a hostile domain crashes alone; the other domain and the host keep working', async () => {
  const host = new XenHost();
  const outs = ['', ''];
  const mk = (name: string, elf: Uint8Array, k: number) => new PvhMachine({
    host, name, memoryMiB: 32, kernelElf: elf, cmdline: '', clockMode: 'deterministic',
    hostNowNs: () => 0, wallclockMs: 0, consoleOutput: (b) => { outs[k] += new TextDecoder().decode(b); },
  });
  const polite = mk('polite', politeKernel(2000), 0);
  const hostile = mk('hostile', hostileKernel(), 1);

  // The hostile guest's rings: garbage indices in its XenStore and console pages, then notify.
  const page = (gfn: number) => hostile.mem.u8.subarray(gfn * 4096, gfn * 4096 + 4096);
  const xs = new DataView(page(hostile.layout.xenstoreGfn).buffer, hostile.layout.xenstoreGfn * 4096, 4096);
  xs.setUint32(2052, 0x7fffffff, true); // req_prod far ahead of req_cons
  page(hostile.layout.xenstoreGfn).fill(0xee, 0, 1024);
  const con = new DataView(hostile.mem.u8.buffer, hostile.layout.consoleGfn * 4096, 4096);
  con.setUint32(3084, 0xfffffff0, true); // out_prod
  con.setUint32(3080, 5, true); // out_cons
  for (const param of [HVM_PARAM_STORE_EVTCHN, HVM_PARAM_CONSOLE_EVTCHN]) {
    assert.doesNotThrow(() => hostile.domain.evtchn.send(hostile.domain.getParam(param)[0]));
  }

  const done: (PvhStatus | null)[] = [null, null];
  const ms = [polite, hostile];
  for (let rounds = 0; rounds < 10_000 && done.some((d) => d === null); rounds++) {
    for (let k = 0; k < 2; k++) {
      if (done[k]) continue;
      const s = ms[k].step(20_000);
      if (s.kind !== 'running' && s.kind !== 'idle') {
        done[k] = s;
        ms[k].destroy();
      }
    }
  }
  assert.equal(done[1]?.kind, 'crash', JSON.stringify(done[1]));
  assert.match((done[1] as { reason: string }).reason, /triple fault/);
  assert.equal(host.get(hostile.domid), undefined, 'the hostile domain is gone from the host');
  assert.equal(done[0]?.kind, 'poweroff', JSON.stringify(done[0]));
  assert.equal(outs[0], 'tick\n'.repeat(2000), 'every console write of the polite domain arrived');
  // The hostile guest's hypercalls all failed cleanly.
  assert.ok((hostile.domain.stats.hypercalls.get(99) ?? 0) === 1);
});
