import { test } from 'node:test';
import assert from 'node:assert/strict';
import { XenStore } from '../../xen/xenstore/engine.js';
import { XsClient } from '../../xen/xenstore/client.js';
import { PortState } from '../../xen/evtchn/event-channels.js';
import { GTF_READING, GTF_WRITING } from '../../xen/grant/grant-table.js';
import { MemoryBlockStore, type BlockStore } from '../block/block-store.js';
import { BLKIF_OP_DISCARD, BLKIF_OP_FLUSH_DISKCACHE, BLKIF_OP_READ, BLKIF_OP_WRITE, BLKIF_RSP_ERROR, BLKIF_RSP_OKAY } from '../block/blkback.js';
import { setLogSink } from '../../base/log.js';
import { attachPvDevices, type PvDisk } from './index.js';
import { TestGuest, type Directory } from './testing/guest.js';
import { TestBlkfront, type BlkfrontTalk } from './testing/blkfront.js';
import { XenbusState } from './xs-util.js';

const XVDA = 51712;

function setup(o: { domid?: number; abi?: 'x86_32-abi' | 'x86_64-abi'; bits?: 32 | 64; disk?: Partial<PvDisk>; store?: BlockStore; talk?: BlkfrontTalk; schedule?: (f: () => void) => void } = {}) {
  const xenstore = new XenStore();
  const dir: Directory = new Map();
  const domid = o.domid ?? 1;
  const g = new TestGuest(xenstore, dir, domid, o.bits ?? 32);
  const disk = new MemoryBlockStore(1 << 20);
  const pv = attachPvDevices({
    store: xenstore, guest: g.dom, name: `vm${domid}`, memKiB: 4096,
    disks: [{ vdev: 'xvda', store: o.store ?? disk, ...o.disk }], schedule: o.schedule,
  });
  const fe = new TestBlkfront(g, XVDA, o.abi ?? 'x86_32-abi', o.talk);
  const dom0 = new XsClient(xenstore, 0);
  const be = pv.tree.disks[0].backend;
  const bstate = () => Number(dom0.readString(`${be}/state`));
  return { xenstore, dir, g, disk, pv, fe, dom0, be, bstate, handle: pv.disks[0] };
}

/** Grants a data page to dom0 and returns [ref, gfn]. */
function dataPage(g: TestGuest, fill?: number, readOnly = false): [number, number] {
  const gfn = g.allocPage();
  if (fill !== undefined) g.page(gfn).fill(fill);
  return [g.grant(gfn, 0, readOnly), gfn];
}

test('the backend waits in InitWait with its features before the frontend starts', () => {
  const t = setup();
  assert.equal(t.bstate(), XenbusState.InitWait);
  assert.equal(t.dom0.readString(`${t.be}/max-ring-page-order`), '0');
  assert.equal(t.dom0.readString(`${t.be}/sectors`), null, 'size is published at connect');
  assert.equal(t.handle.stats.state, XenbusState.InitWait);
});

for (const [abi, bits] of [['x86_32-abi', 32], ['x86_64-abi', 64]] as const) {
  test(`${abi}: blkfront handshake, then a write and a read through the ring reach the disk`, () => {
    const t = setup({ abi, bits });
    t.fe.start();
    assert.equal(t.fe.state, XenbusState.Connected);
    assert.equal(t.bstate(), XenbusState.Connected);
    assert.deepEqual(t.fe.seen.slice(0, 2), [XenbusState.InitWait, XenbusState.Connected]);
    assert.deepEqual(t.fe.disk, { sectors: 2048, info: 0, sectorSize: 512, physicalSectorSize: 512, flush: true, discard: false });
    assert.equal(t.dom0.readString(`${t.be}/feature-persistent`), '0');
    assert.equal(t.dom0.readString(`${t.be}/feature-barrier`), '0');
    assert.equal(t.g.takePending(t.fe.port), false, 'no event without news (Linux lateeoi counts spurious ones)');

    const flags = t.g.grantFlags(t.fe.ringRef);
    assert.equal(flags & (GTF_READING | GTF_WRITING), GTF_READING | GTF_WRITING, 'the ring grant is held while connected');

    const [wref] = dataPage(t.g, 0xa5, true);
    const [rref, rgfn] = dataPage(t.g);
    t.fe.queue(BLKIF_OP_WRITE, 1001, 8, [[wref, 0, 7]]);
    assert.equal(t.fe.push(), 0, 'the first request notifies');
    assert.deepEqual(t.fe.responses(), [[1001, BLKIF_OP_WRITE, BLKIF_RSP_OKAY]]);
    assert.ok(t.disk.data.subarray(8 * 512, 16 * 512).every((b) => b === 0xa5));
    assert.equal(t.disk.data[16 * 512], 0);
    assert.equal(t.g.takePending(t.fe.port), true, 'the backend raised the frontend port');

    t.fe.queue(BLKIF_OP_READ, 1002, 9, [[rref, 1, 2]]);
    t.fe.queue(BLKIF_OP_FLUSH_DISKCACHE, 1003, 0, []);
    t.fe.push();
    assert.deepEqual(t.fe.responses(), [[1002, BLKIF_OP_READ, BLKIF_RSP_OKAY], [1003, BLKIF_OP_FLUSH_DISKCACHE, BLKIF_RSP_OKAY]]);
    const page = t.g.page(rgfn);
    assert.ok(page.subarray(512, 1536).every((b) => b === 0xa5));
    assert.equal(page[0], 0);
    assert.equal(page[1536], 0);
    assert.equal(t.disk.flushes, 1);
    const io = t.handle.stats.io as { reads: number; writes: number; flushes: number };
    assert.deepEqual([io.reads, io.writes, io.flushes], [1, 1, 1]);
  });
}

test('a frontend that writes no protocol gets the native ABI (x86_64 by default)', () => {
  const t = setup({ abi: 'x86_64-abi', bits: 64, talk: { protocol: null } });
  t.fe.start();
  assert.equal(t.bstate(), XenbusState.Connected);
  const [ref] = dataPage(t.g, 7);
  t.fe.queue(BLKIF_OP_WRITE, 5, 0, [[ref, 0, 0]]);
  t.fe.push();
  assert.deepEqual(t.fe.responses(), [[5, BLKIF_OP_WRITE, BLKIF_RSP_OKAY]]);
});

test('read-only and discard disks publish their info bits and keys', () => {
  const ro = setup({ disk: { readOnly: true } });
  ro.fe.start();
  assert.equal(ro.fe.disk?.info, 4);
  const [ref] = dataPage(ro.g, 1);
  ro.fe.queue(BLKIF_OP_WRITE, 1, 0, [[ref, 0, 0]]);
  ro.fe.push();
  assert.deepEqual(ro.fe.responses(), [[1, BLKIF_OP_WRITE, BLKIF_RSP_ERROR]]);
  assert.equal(ro.disk.data[0], 0);

  const d = setup({ disk: { discard: true } });
  d.fe.start();
  assert.equal(d.fe.disk?.discard, true);
  assert.equal(d.dom0.readString(`${d.be}/discard-granularity`), '512');
  d.disk.data.fill(9, 0, 4096);
  d.fe.queue(BLKIF_OP_DISCARD, 2, 0, []);
  d.fe.pokeRing(64 + 20, 4); // nr_sectors (x86_32 layout, first slot)
  d.fe.push();
  assert.deepEqual(d.fe.responses(), [[2, BLKIF_OP_DISCARD, BLKIF_RSP_OKAY]]);
  assert.equal(d.disk.data[0], 0);
  assert.equal(d.disk.data[2048], 9);
});

test('a frontend closing mid-connection: Closing, Closed, grant and port released', () => {
  const t = setup();
  t.fe.start();
  const ringRef = t.fe.ringRef, port = t.fe.port;
  // The guest shuts down (xenbus_dev_shutdown): Closing; the backend follows; the frontend closes.
  t.fe.shutdown();
  assert.deepEqual(t.fe.seen.slice(-2), [XenbusState.Closing, XenbusState.Closed]);
  assert.equal(t.bstate(), XenbusState.Closed);
  assert.equal(t.g.dom.gnttab.heldRefs, 0);
  assert.equal(t.g.grantFlags(ringRef) & (GTF_READING | GTF_WRITING), 0);
  assert.equal(t.g.evtchn.status(port)!.state, PortState.Free, 'the frontend closed its port');
});

test('a frontend that just writes Closing gets its port back unbound, and later sends do nothing', () => {
  const t = setup();
  t.fe.start();
  const port = t.fe.port;
  t.fe.deaf();
  t.g.xs.write(`${t.fe.dir}/state`, '5');
  assert.equal(t.bstate(), XenbusState.Closing);
  const st = t.g.evtchn.status(port)!;
  assert.deepEqual([st.state, st.remoteDom], [PortState.Unbound, 0]);
  const [ref] = dataPage(t.g, 3);
  t.fe.queue(BLKIF_OP_WRITE, 1, 0, [[ref, 0, 0]]);
  assert.equal(t.g.evtchn.send(port), 0);
  assert.deepEqual(t.fe.responses(), []);
  assert.equal(t.disk.data[0], 0);
});

test('reconnect after close (driver reload / kexec reset): Initialising brings InitWait, then a new ring works', () => {
  const t = setup();
  t.fe.start();
  t.fe.shutdown();
  assert.equal(t.bstate(), XenbusState.Closed);
  t.fe.reinitialise();
  assert.equal(t.fe.state, XenbusState.Connected);
  assert.equal(t.bstate(), XenbusState.Connected);
  assert.equal(t.handle.stats.connections, 2);
  const [ref] = dataPage(t.g, 0x42);
  t.fe.queue(BLKIF_OP_WRITE, 77, 100, [[ref, 0, 0]]);
  t.fe.push();
  assert.deepEqual(t.fe.responses(), [[77, BLKIF_OP_WRITE, BLKIF_RSP_OKAY]]);
  assert.equal(t.disk.data[100 * 512], 0x42);
});

test('a frontend going back to Initialising while connected is disconnected and offered the device again', () => {
  const t = setup();
  t.fe.start();
  const oldRing = t.fe.ringRef;
  t.fe.reinitialise();
  assert.equal(t.bstate(), XenbusState.Connected);
  assert.notEqual(t.fe.ringRef, oldRing);
  assert.equal(t.g.grantFlags(oldRing) & (GTF_READING | GTF_WRITING), 0, 'the old ring was let go');
  assert.equal(t.g.dom.gnttab.heldRefs, 1);
});

const hostile: [string, BlkfrontTalk, RegExp][] = [
  ['a non-numeric ring-ref', { keys: { 'ring-ref': 'abc' } }, /^22 reading ring-ref$/],
  ['a negative ring-ref', { keys: { 'ring-ref': '-8' } }, /^22 reading ring-ref$/],
  ['a ring-ref it never granted', { keys: { 'ring-ref': '400' } }, /^13 mapping ring-ref 400: not a usable grant$/],
  ['a ring-ref outside its grant table', { keys: { 'ring-ref': '999999' } }, /^13 mapping ring-ref 999999: bad grant reference$/],
  ['a ring granted to another domain', { grantTo: 7 }, /^13 mapping ring-ref \d+: permission denied$/],
  ['a missing event-channel', { keys: { 'event-channel': null } }, /^2 reading event-channel$/],
  ['an event channel it did not allocate', { port: 40 }, /^22 binding event-channel 40: not an unbound port of dom1 for dom0$/],
  ['an unknown protocol', { protocol: 'x86_16-abi' }, /^95 unknown fe protocol "x86_16-abi"$/],
  ['a multi-page ring', { keys: { 'ring-page-order': '2' } }, /^22 ring-page-order 2 requested/],
  ['several queues', { keys: { 'multi-queue-num-queues': '4' } }, /^22 multi-queue-num-queues 4/],
];
for (const [what, talk, error] of hostile) {
  test(`hostile frontend: ${what} closes that device with an error node`, () => {
    const t = setup({ talk });
    t.fe.start();
    assert.equal(t.fe.state, XenbusState.Closed, 'the frontend saw Closing and closed');
    assert.equal(t.bstate(), XenbusState.Closed);
    assert.ok(t.fe.seen.includes(XenbusState.Closing));
    const err = t.dom0.readString(`${t.be}/error`);
    assert.match(err ?? '', error);
    assert.equal(t.dom0.readString(`/local/domain/0/error/backend/vbd/1/${XVDA}/error`), err, "Linux's error path too");
    assert.equal(t.g.xs.readString(`${t.be}/error`), err, 'the guest can read why');
    assert.equal(t.g.dom.gnttab.heldRefs, 0, 'nothing stays mapped');
    assert.equal(t.handle.stats.failures, 1);
    // The guest fixes itself: reload with sane keys.
    const stale = Object.fromEntries(Object.keys(talk.keys ?? {}).filter((k) => k !== 'ring-ref' && k !== 'event-channel').map((k) => [k, null]));
    t.fe.reinitialise({ keys: stale });
    assert.equal(t.bstate(), XenbusState.Connected);
    assert.equal(t.dom0.readString(`${t.be}/error`), null, 'the error is cleared on reconnect');
  });
}

test('an event channel that belongs to another domain is refused', () => {
  const t = setup();
  const other = new TestGuest(t.xenstore, t.dir, 2);
  other.allocUnbound(0);
  other.allocUnbound(0);
  const foreign = other.allocUnbound(0); // port 3 of dom2, unbound for dom0; dom1's port 3 is free
  t.fe.talk = { port: foreign };
  t.fe.start();
  assert.equal(t.bstate(), XenbusState.Closed);
  assert.match(t.dom0.readString(`${t.be}/error`) ?? '', /^22 binding event-channel 3/);
  assert.equal(other.evtchn.status(foreign)!.state, PortState.Unbound, "dom2's port is untouched");
});

test('a port the frontend allocated for a different backend domain is refused', () => {
  const t = setup();
  const p = t.g.allocUnbound(5);
  t.fe.talk = { port: p };
  t.fe.start();
  assert.match(t.dom0.readString(`${t.be}/error`) ?? '', /^22 binding event-channel/);
});

test('garbage and unexpected frontend states fail the device; Unknown (removed) closes it', () => {
  for (const bad of ['banana', '9', '7', ' 4', '']) {
    const t = setup();
    t.fe.start();
    t.fe.deaf();
    t.g.xs.write(`${t.fe.dir}/state`, bad);
    assert.equal(t.bstate(), XenbusState.Closing, JSON.stringify(bad));
    assert.equal(t.g.dom.gnttab.heldRefs, 0);
    assert.match(t.dom0.readString(`${t.be}/error`) ?? '', /^22 /);
  }
  const t = setup();
  t.fe.start();
  t.g.xs.rm(t.fe.dir);
  assert.equal(t.bstate(), XenbusState.Closed);
  assert.equal(t.g.dom.gnttab.heldRefs, 0);
});

test('a ring with impossible indices fails the device; nothing escapes the guest hypercall', () => {
  const t = setup();
  t.fe.start();
  t.fe.pokeRing(0, 5000); // req_prod far beyond the 32 slots
  assert.equal(t.g.evtchn.send(t.fe.port), 0);
  assert.equal(t.fe.state, XenbusState.Closed);
  assert.match(t.dom0.readString(`${t.be}/error`) ?? '', /ring indices are impossible/);
});

test('a store that throws fails the device instead of the guest', () => {
  const inner = new MemoryBlockStore(1 << 20);
  const store: BlockStore = {
    size: inner.size, readOnly: false, flush: () => {}, write: (o, d) => inner.write(o, d),
    read: () => {
      throw new Error('EIO from the host');
    },
  };
  const t = setup({ store });
  t.fe.start();
  const [ref] = dataPage(t.g);
  t.fe.queue(BLKIF_OP_READ, 1, 0, [[ref, 0, 0]]);
  assert.doesNotThrow(() => t.fe.push());
  assert.equal(t.bstate(), XenbusState.Closed);
  assert.match(t.dom0.readString(`${t.be}/error`) ?? '', /EIO from the host/);
  assert.equal(t.g.dom.gnttab.heldRefs, 0, 'the data page access was released too');
});

test('failures are logged once per device', () => {
  const lines: string[] = [];
  setLogSink((_l, _t, m) => lines.push(m));
  try {
    const t = setup({ domid: 9, talk: { keys: { 'ring-ref': 'x' } } });
    t.fe.start();
    t.fe.reinitialise({ keys: { 'ring-ref': 'y' } });
    t.fe.reinitialise({ keys: { 'event-channel': 'z' } });
    assert.equal(t.handle.stats.failures, 3);
    assert.equal(lines.filter((l) => l.includes('/backend/vbd/9/')).length, 1);
  } finally {
    setLogSink(() => {});
  }
});

test('with a scheduler, ring work runs from the event loop, not inside the guest hypercall', () => {
  const jobs: (() => void)[] = [];
  const t = setup({ schedule: (f) => jobs.push(f) });
  t.fe.start();
  assert.equal(jobs.length, 0, 'connecting queues nothing');
  const [ref] = dataPage(t.g, 1);
  t.fe.queue(BLKIF_OP_WRITE, 1, 0, [[ref, 0, 0]]);
  t.fe.push();
  t.g.evtchn.send(t.fe.port);
  assert.equal(jobs.length, 1, 'two sends, one queued run');
  assert.deepEqual(t.fe.responses(), []);
  jobs.shift()!();
  assert.deepEqual(t.fe.responses(), [[1, BLKIF_OP_WRITE, BLKIF_RSP_OKAY]]);
});

test('close() disconnects, releases everything and removes the tree; later guest writes are harmless', () => {
  const t = setup();
  t.fe.start();
  const port = t.fe.port;
  t.pv.close();
  assert.equal(t.g.dom.gnttab.heldRefs, 0);
  assert.equal(t.g.evtchn.status(port)!.state, PortState.Unbound);
  assert.equal(t.dom0.readString('/local/domain/1'), null);
  assert.equal(t.dom0.readString(t.be), null);
  assert.doesNotThrow(() => t.g.evtchn.send(port));
  t.pv.close();
  assert.equal(t.xenstore.check(), null);
});

test('the toolstack removing the backend dir leaves the device disconnected, not recreated', () => {
  const t = setup();
  t.fe.start();
  t.dom0.rm(t.be);
  t.g.xs.write(`${t.fe.dir}/state`, '6');
  assert.equal(t.dom0.readString(t.be), null);
  assert.equal(t.g.dom.gnttab.heldRefs, 0);
});
