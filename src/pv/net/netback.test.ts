import { test } from 'node:test';
import assert from 'node:assert/strict';
import { NetBackend, NETTXF_MORE_DATA, NETTXF_EXTRA_INFO, NETIF_RSP_OKAY, NETIF_RSP_NULL, NETIF_RSP_ERROR, NETRXF_MORE_DATA } from './netback.js';
import { GrantTable, GTF_PERMIT_ACCESS } from '../../xen/grant/grant-table.js';
import { VirtualSwitch } from '../../net/switch.js';

function vif() {
  const pages = 64;
  const mem = { u8: new Uint8Array(pages * 4096), isRamGfn: (g: number) => g >= 0 && g < pages };
  const table = new GrantTable(1, mem);
  table.setFrame(0, 1);
  const grant = (ref: number, gfn: number) => {
    const a = 4096 + ref * 8;
    new DataView(mem.u8.buffer).setUint32(a + 4, gfn, true);
    mem.u8[a] = GTF_PERMIT_ACCESS;
  };
  const txPage = mem.u8.subarray(2 * 4096, 3 * 4096), rxPage = mem.u8.subarray(3 * 4096, 4 * 4096);
  const tdv = new DataView(txPage.buffer, txPage.byteOffset, 4096), rdv = new DataView(rxPage.buffer, rxPage.byteOffset, 4096);
  for (const dv of [tdv, rdv]) {
    dv.setUint32(4, 1, true);
    dv.setUint32(12, 1, true);
  }
  const sent: Uint8Array[] = [];
  let notifies = 0;
  const nb = new NetBackend(txPage, rxPage, {
    name: 'vif1.0', notify: () => notifies++, transmit: (f) => sent.push(f),
    grants: { acquire: (r, w) => table.acquire(r, 0, w), release: (a) => table.release(a) },
  });
  let txProd = 0, rxProd = 0;
  const txSlot = (gref: number, offset: number, flags: number, id: number, size: number) => {
    const o = 64 + (txProd % 256) * 12;
    tdv.setUint32(o, gref, true);
    tdv.setUint16(o + 4, offset, true);
    tdv.setUint16(o + 6, flags, true);
    tdv.setUint16(o + 8, id, true);
    tdv.setUint16(o + 10, size, true);
    txProd++;
  };
  const txExtra = (more: boolean) => {
    const o = 64 + (txProd % 256) * 12;
    txPage[o] = 1;
    txPage[o + 1] = more ? 1 : 0;
    txProd++;
  };
  const publishTx = () => tdv.setUint32(0, txProd, true);
  const txResponses = (n: number) => {
    const out: [number, number][] = [];
    for (let k = 0; k < n; k++) {
      const o = 64 + (k % 256) * 12;
      out.push([tdv.getUint16(o, true), tdv.getInt16(o + 2, true)]);
    }
    return out;
  };
  const postRx = (id: number, gref: number) => {
    const o = 64 + (rxProd % 256) * 8;
    rdv.setUint16(o, id, true);
    rdv.setUint32(o + 4, gref, true);
    rxProd++;
    rdv.setUint32(0, rxProd, true);
  };
  const rxResponse = (slot: number) => {
    const o = 64 + slot * 8;
    return { id: rdv.getUint16(o, true), offset: rdv.getUint16(o + 2, true), flags: rdv.getUint16(o + 4, true), status: rdv.getInt16(o + 6, true) };
  };
  return { mem, grant, nb, sent, txSlot, txExtra, publishTx, txResponses, postRx, rxResponse, tdv, notifies: () => notifies };
}

test('a packet spread over three slots with an extra-info slot is assembled and answered per slot', () => {
  const v = vif();
  v.grant(8, 10);
  v.grant(9, 11);
  v.mem.u8.fill(0xaa, 10 * 4096 + 100, 10 * 4096 + 100 + 60);
  v.mem.u8.fill(0xbb, 11 * 4096, 11 * 4096 + 40);
  v.txSlot(8, 100, NETTXF_MORE_DATA | NETTXF_EXTRA_INFO, 1, 100); // total 100 bytes
  v.txExtra(false);
  v.txSlot(9, 0, 0, 2, 40);
  v.publishTx();
  v.nb.processTx();
  assert.equal(v.sent.length, 1);
  assert.equal(v.sent[0].length, 100);
  assert.equal(v.sent[0][59], 0xaa);
  assert.equal(v.sent[0][60], 0xbb);
  assert.deepEqual(v.txResponses(3), [[1, NETIF_RSP_OKAY], [0, NETIF_RSP_NULL], [2, NETIF_RSP_OKAY]]);
  assert.equal(v.notifies(), 1);
});

test('an incomplete packet waits for its remaining slots', () => {
  const v = vif();
  v.grant(8, 10);
  v.txSlot(8, 0, NETTXF_MORE_DATA, 1, 80);
  v.publishTx();
  v.nb.processTx();
  assert.equal(v.sent.length, 0);
  v.txSlot(8, 2000, 0, 2, 20);
  v.publishTx();
  v.nb.processTx();
  assert.equal(v.sent.length, 1);
});

test('fragments leaving their page and ungranted refs are errors, not crashes', () => {
  const v = vif();
  v.grant(8, 10);
  v.txSlot(8, 4090, 0, 1, 60);
  v.txSlot(77, 0, 0, 2, 60);
  v.txSlot(8, 0, 0, 3, 5); // shorter than an Ethernet header
  v.publishTx();
  v.nb.processTx();
  assert.equal(v.sent.length, 0);
  assert.deepEqual(v.txResponses(3), [[1, NETIF_RSP_ERROR], [2, NETIF_RSP_ERROR], [3, NETIF_RSP_ERROR]]);
  assert.equal(v.nb.stats.txErrors, 3);
});

test('received frames are copied into posted buffers in the same slots, queued until buffers exist', () => {
  const v = vif();
  v.grant(20, 20);
  v.grant(21, 21);
  const frame = new Uint8Array(5000).map((_, k) => k & 0xff);
  v.nb.deliver(frame);
  assert.equal(v.nb.stats.rxPackets, 0, 'no buffers posted yet');
  v.postRx(7, 20);
  v.postRx(8, 21);
  v.nb.processRx();
  assert.deepEqual(v.rxResponse(0), { id: 7, offset: 0, flags: NETRXF_MORE_DATA, status: 4096 });
  assert.deepEqual(v.rxResponse(1), { id: 8, offset: 0, flags: 0, status: 5000 - 4096 });
  assert.equal(v.mem.u8[21 * 4096 + 3], (4096 + 3) & 0xff);
});

test('two vifs on the switch reach each other and learn addresses', () => {
  const sw = new VirtualSwitch();
  const a = vif(), b = vif();
  const pa = { name: 'a', deliver: (f: Uint8Array) => a.nb.deliver(f) };
  const pb = { name: 'b', deliver: (f: Uint8Array) => b.nb.deliver(f) };
  sw.attach(pa);
  sw.attach(pb);
  const frame = new Uint8Array(60);
  frame.set([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x00, 0x16, 0x3e, 0, 0, 1], 0);
  sw.input(pa, frame);
  assert.equal(b.nb['rxQueue'].length, 1, 'broadcast reaches the other port');
  assert.equal(a.nb['rxQueue'].length, 0, 'but not the sender');
  const reply = new Uint8Array(60);
  reply.set([0x00, 0x16, 0x3e, 0, 0, 1, 0x00, 0x16, 0x3e, 0, 0, 2], 0);
  sw.input(pb, reply);
  assert.equal(a.nb['rxQueue'].length, 1, 'unicast to a learned address');
});
