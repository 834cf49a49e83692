import { test } from 'node:test';
import assert from 'node:assert/strict';
import { XenStore } from '../../xen/xenstore/engine.js';
import { XsClient } from '../../xen/xenstore/client.js';
import { PortState } from '../../xen/evtchn/event-channels.js';
import { attachPvDevices } from './index.js';
import { TestGuest } from './testing/guest.js';

test('the primary console: tree keys, guest output on send, host input with a notification', () => {
  const xenstore = new XenStore();
  const g = new TestGuest(xenstore, new Map(), 1);
  const out: number[] = [];
  const gfn = g.allocPage();
  const pv = attachPvDevices({ store: xenstore, guest: g.dom, name: 'c', console: { gfn, sink: (b) => out.push(...b) } });
  const c = pv.console!;
  const xs = new XsClient(xenstore, 0);
  assert.equal(xs.readString('/local/domain/1/console/ring-ref'), String(gfn));
  assert.equal(xs.readString('/local/domain/1/console/port'), String(c.port));
  assert.equal(xs.readString('/local/domain/0/backend/console/1/0/protocol'), 'vt100');
  assert.equal(g.evtchn.status(c.port)!.state, PortState.Attached);

  const ring = new DataView(g.mem.u8.buffer, gfn * 4096, 4096);
  const text = 'hello\r\n';
  for (let k = 0; k < text.length; k++) ring.setUint8(1024 + k, text.charCodeAt(k));
  ring.setUint32(3084, text.length, true); // out_prod
  assert.equal(g.evtchn.send(c.port), 0);
  assert.equal(String.fromCharCode(...out), text);
  assert.equal(ring.getUint32(3080, true), text.length, 'out_cons advanced');
  assert.equal(g.takePending(c.port), true);

  c.input(new Uint8Array([0x6c, 0x73]));
  assert.equal(ring.getUint32(3076, true), 2, 'in_prod');
  assert.equal(g.takePending(c.port), true);
  c.service();
  assert.equal(g.takePending(c.port), false, 'no news, no event');

  pv.close();
  assert.equal(g.evtchn.status(c.port)!.state, PortState.Unbound);
});

test('a console page outside guest RAM is a configuration error', () => {
  const xenstore = new XenStore();
  const g = new TestGuest(xenstore, new Map(), 1);
  assert.throws(() => attachPvDevices({ store: xenstore, guest: g.dom, name: 'c', console: { gfn: 0xfffff, sink: () => {} } }), /not guest RAM/);
});

test('a console sink that throws does not reach the guest', () => {
  const xenstore = new XenStore();
  const g = new TestGuest(xenstore, new Map(), 1);
  const gfn = g.allocPage();
  const pv = attachPvDevices({
    store: xenstore, guest: g.dom, name: 'c', console: {
      gfn, sink: () => {
        throw new Error('tty gone');
      },
    },
  });
  const ring = new DataView(g.mem.u8.buffer, gfn * 4096, 4096);
  ring.setUint32(3084, 1, true);
  assert.doesNotThrow(() => g.evtchn.send(pv.console!.port));
});
