import { test } from 'node:test';
import assert from 'node:assert/strict';
import { XenStore } from '../../xen/xenstore/engine.js';
import { XsClient } from '../../xen/xenstore/client.js';
import { VirtualSwitch } from '../../net/switch.js';
import { NETIF_RSP_OKAY } from '../net/netback.js';
import { attachPvDevices } from './index.js';
import { TestGuest, type Directory } from './testing/guest.js';
import { TestNetfront, type NetfrontTalk } from './testing/netfront.js';
import { XenbusState } from './xs-util.js';

const MAC1 = '00:16:3e:00:00:01', MAC2 = '00:16:3e:00:00:02';

function twoGuests(talk1: NetfrontTalk = {}) {
  const xenstore = new XenStore();
  const dir: Directory = new Map();
  const sw = new VirtualSwitch();
  const g1 = new TestGuest(xenstore, dir, 1), g2 = new TestGuest(xenstore, dir, 2, 64);
  const pv1 = attachPvDevices({ store: xenstore, guest: g1.dom, name: 'a', vifs: [{ mac: MAC1 }], switch: sw });
  const pv2 = attachPvDevices({ store: xenstore, guest: g2.dom, name: 'b', vifs: [{ mac: MAC2 }], switch: sw });
  const f1 = new TestNetfront(g1, 0, talk1), f2 = new TestNetfront(g2, 0);
  const dom0 = new XsClient(xenstore, 0);
  const bstate = (pv: typeof pv1) => Number(dom0.readString(`${pv.tree.vifs[0].backend}/state`));
  return { xenstore, sw, g1, g2, pv1, pv2, f1, f2, dom0, bstate };
}

function frame(dst: string, src: string, len: number, fill: number): Uint8Array {
  const f = new Uint8Array(len).fill(fill);
  const mac = (s: string) => s.split(':').map((h) => parseInt(h, 16));
  f.set(mac(dst), 0);
  f.set(mac(src), 6);
  f[12] = 0x88;
  f[13] = 0xb5; // local experimental ethertype: no checksum completion applies
  return f;
}

test('the vif backend offers exactly what NetBackend does', () => {
  const t = twoGuests();
  const be = t.pv1.tree.vifs[0].backend;
  const r = (k: string) => t.dom0.readString(`${be}/${k}`);
  assert.equal(t.bstate(t.pv1), XenbusState.InitWait);
  assert.deepEqual(
    ['feature-rx-copy', 'feature-rx-flip', 'feature-sg', 'feature-gso-tcpv4', 'feature-gso-tcpv6', 'feature-ipv6-csum-offload', 'feature-split-event-channels'].map(r),
    ['1', '0', '1', '0', '0', '0', '0'],
  );
  assert.equal(r('multi-queue-max-queues'), null);
  assert.equal(t.dom0.readString(`${t.pv1.tree.vifs[0].frontend}/mac`), MAC1);
});

test('two netfronts connect, and a frame sent on one TX ring arrives on the other RX ring', () => {
  const t = twoGuests();
  t.f1.start();
  t.f2.start();
  for (const [f, pv] of [[t.f1, t.pv1], [t.f2, t.pv2]] as const) {
    assert.equal(f.backendConnected, true);
    assert.equal(t.bstate(pv), XenbusState.Connected);
    assert.deepEqual(f.seen.slice(0, 2), [XenbusState.InitWait, XenbusState.Connected]);
  }
  const bcast = frame('ff:ff:ff:ff:ff:ff', MAC1, 60, 0x11);
  assert.equal(t.f1.transmit(bcast, 42), 0);
  assert.deepEqual(t.f1.txResponses(), [[42, NETIF_RSP_OKAY]]);
  assert.equal(t.g1.takePending(t.f1.port), true, 'TX completion notified guest 1');
  const got = t.f2.received();
  assert.equal(got.length, 1);
  assert.equal(got[0].status, 60);
  assert.deepEqual(got[0].data, bcast);
  assert.equal(t.g2.takePending(t.f2.port), true, 'guest 2 was notified of the frame');
  assert.deepEqual(t.f1.received(), [], 'not reflected to the sender');

  // The switch learned MAC1; a unicast reply reaches guest 1 only.
  const reply = frame(MAC1, MAC2, 1514, 0x22);
  t.f2.transmit(reply, 7);
  assert.deepEqual(t.f2.txResponses(), [[7, NETIF_RSP_OKAY]]);
  const back = t.f1.received();
  assert.equal(back.length, 1);
  assert.deepEqual(back[0].data, reply);
  const s1 = t.pv1.vifs[0].stats.io as { txPackets: number; rxPackets: number };
  assert.deepEqual([s1.txPackets, s1.rxPackets], [1, 1]);
});

test('frames wait for receive buffers the guest posts later', () => {
  const t = twoGuests({ noRxBuffers: true });
  t.f1.start();
  t.f2.start();
  t.f2.transmit(frame('ff:ff:ff:ff:ff:ff', MAC2, 64, 3));
  assert.deepEqual(t.f1.received(), []);
  t.f1.postRxBuffers(4);
  assert.equal(t.f1.received().length, 1);
});

const hostile: [string, NetfrontTalk, RegExp][] = [
  ['no request-rx-copy', { keys: { 'request-rx-copy': null } }, /^95 frontend does not request rx-copy$/],
  ['request-rx-copy = 0', { keys: { 'request-rx-copy': '0' } }, /^95 /],
  ['split event channels', { keys: { 'event-channel': null, 'event-channel-tx': '5', 'event-channel-rx': '6' } }, /^95 split event channels/],
  ['a garbage rx-ring-ref', { keys: { 'rx-ring-ref': '0x10' } }, /^22 reading rx-ring-ref$/],
  ['the same ring for tx and rx', { keys: { 'rx-ring-ref': '8' } }, /^22 tx-ring-ref and rx-ring-ref are both 8$/],
  ['an ungranted tx ring', { keys: { 'tx-ring-ref': '300' } }, /^13 mapping tx-ring-ref 300/],
  ['a port it did not allocate', { keys: { 'event-channel': '77' } }, /^22 binding event-channel 77/],
  ['several queues', { keys: { 'multi-queue-num-queues': '2' } }, /^22 guest requested 2 queues/],
];
for (const [what, talk, error] of hostile) {
  test(`hostile netfront: ${what} fails that vif only`, () => {
    const t = twoGuests(talk);
    t.f1.start();
    t.f2.start();
    assert.equal(t.bstate(t.pv1), XenbusState.Closed, 'the frontend followed Closing to Closed');
    assert.match(t.dom0.readString(`${t.pv1.tree.vifs[0].backend}/error`) ?? '', error);
    assert.equal(t.g1.dom.gnttab.heldRefs, 0);
    assert.equal(t.bstate(t.pv2), XenbusState.Connected, 'the other guest is unaffected');
    t.f2.transmit(frame('ff:ff:ff:ff:ff:ff', MAC2, 60, 1));
    assert.deepEqual(t.f2.txResponses().map((r) => r[1]), [NETIF_RSP_OKAY]);
  });
}

test('a vif whose frontend closes is unplugged from the switch; the peer keeps transmitting', () => {
  const t = twoGuests();
  t.f1.start();
  t.f2.start();
  t.g1.xs.write(`${t.f1.dir}/state`, '5');
  assert.equal(t.bstate(t.pv1), XenbusState.Closed);
  assert.equal(t.g1.dom.gnttab.heldRefs, 0);
  t.f2.transmit(frame('ff:ff:ff:ff:ff:ff', MAC2, 60, 5));
  assert.deepEqual(t.f2.txResponses().map((r) => r[1]), [NETIF_RSP_OKAY]);
  assert.deepEqual(t.f1.received(), [], 'nothing delivered into a closed vif');
  // Reconnect: netfront probe again.
  t.f1.state = XenbusState.Initialising;
  t.g1.xs.write(`${t.f1.dir}/state`, '1');
  assert.equal(t.bstate(t.pv1), XenbusState.Connected);
  t.f2.transmit(frame('ff:ff:ff:ff:ff:ff', MAC2, 60, 6));
  assert.equal(t.f1.received().length, 1);
  assert.equal(t.pv1.vifs[0].stats.connections, 2);
});

test('a broken TX ring index fails the vif', () => {
  const t = twoGuests();
  t.f1.start();
  new DataView(t.g1.mem.u8.buffer, t.f1.txGfn * 4096, 4096).setUint32(0, 100000, true);
  assert.doesNotThrow(() => t.g1.evtchn.send(t.f1.port));
  assert.equal(t.bstate(t.pv1), XenbusState.Closed);
  assert.match(t.dom0.readString(`${t.pv1.tree.vifs[0].backend}/error`) ?? '', /impossible/);
});

test('attachPvDevices refuses a vif without a switch', () => {
  const xenstore = new XenStore();
  const g = new TestGuest(xenstore, new Map(), 1);
  assert.throws(() => attachPvDevices({ store: xenstore, guest: g.dom, name: 'x', vifs: [{ mac: MAC1 }] }), /no switch/);
  assert.equal(new XsClient(xenstore, 0).readString('/local/domain/1'), null);
});
