import { test } from 'node:test';
import assert from 'node:assert/strict';
import { XenStore } from './engine.js';
import { XsClient } from './client.js';
import {
  XsRing, RING_CONNECTION, RING_ERROR, RING_REQ_CONS, RING_REQ_PROD, RING_RSP_CONS, RING_RSP_PROD, RING_SERVER_FEATURES,
  XENSTORE_ERROR_PROTO, XENSTORE_ERROR_RINGIDX,
} from './ring.js';
import { XsParser, XsType, encodeMsg, type XsMsg } from './wire.js';
import { joinFields, latin1Encode, splitFields } from './bytes.js';

/** The guest side of a ring page, written the way Linux's xenbus_comms does it. */
class FakeGuest {
  readonly page = new Uint8Array(4096);
  readonly dv = new DataView(this.page.buffer);
  private readonly parser = new XsParser();
  private reqId = 0;

  constructor(start = 0) {
    for (const o of [RING_REQ_CONS, RING_REQ_PROD, RING_RSP_CONS, RING_RSP_PROD]) this.dv.setUint32(o, start, true);
  }

  u32(o: number): number {
    return this.dv.getUint32(o, true);
  }

  /** Copies as much of `bytes` into req[] as fits; returns how many. */
  put(bytes: Uint8Array): number {
    const prod = this.u32(RING_REQ_PROD);
    const space = 1024 - ((prod - this.u32(RING_REQ_CONS)) >>> 0);
    const n = Math.min(space, bytes.length);
    for (let i = 0; i < n; i++) this.page[(prod + i) & 1023] = bytes[i];
    this.dv.setUint32(RING_REQ_PROD, (prod + n) >>> 0, true);
    return n;
  }

  request(type: number, fields: string[] | Uint8Array, txId = 0): Uint8Array {
    const payload = fields instanceof Uint8Array ? fields : joinFields(fields);
    return encodeMsg({ type, reqId: ++this.reqId, txId, payload });
  }

  /** Consumes everything in rsp[] and returns the whole messages completed so far. */
  take(): XsMsg[] {
    const cons = this.u32(RING_RSP_CONS);
    const prod = this.u32(RING_RSP_PROD);
    const n = (prod - cons) >>> 0;
    if (n > 1024) {
      // Indexes scribbled on (fuzz test): resynchronise, as Linux does.
      this.dv.setUint32(RING_RSP_CONS, prod, true);
      return [];
    }
    const bytes = new Uint8Array(n);
    for (let i = 0; i < n; i++) bytes[i] = this.page[1024 + ((cons + i) & 1023)];
    this.dv.setUint32(RING_RSP_CONS, prod, true);
    const out: XsMsg[] = [];
    for (let i = 0; i < n; ) {
      const k = this.parser.feed(bytes, i);
      i += k;
      const m = this.parser.take();
      if (m) out.push(m);
      else if (k === 0) break; // garbage (the fuzz test scribbles on indexes)
    }
    const m = this.parser.take();
    if (m) out.push(m);
    return out;
  }
}

function setup(domid = 0, start = 0) {
  const store = new XenStore();
  const guest = new FakeGuest(start);
  let notified = 0;
  const ring = new XsRing({ store, domid, page: guest.page, notify: () => notified++ });
  return { store, guest, ring, notified: () => notified };
}

const f = (m: XsMsg) => splitFields(m.payload).fields;

test('the server advertises reconnection and the error field before anything moves', () => {
  const { guest } = setup();
  assert.equal(guest.u32(RING_SERVER_FEATURES) & 3, 3);
});

test('a request in req[] is consumed and answered in rsp[], with a notification', () => {
  const { guest, ring, notified } = setup();
  guest.put(guest.request(XsType.Write, new Uint8Array([...latin1Encode('/k'), 0, ...latin1Encode('v')])));
  guest.put(guest.request(XsType.Read, ['/k']));
  ring.kick();
  assert.equal(guest.u32(RING_REQ_CONS), guest.u32(RING_REQ_PROD));
  const r = guest.take();
  assert.equal(r.length, 2);
  assert.deepEqual(f(r[0]), ['OK']);
  assert.equal(r[0].reqId, 1);
  assert.deepEqual(Array.from(r[1].payload), [0x76]);
  assert.ok(notified() >= 1);
});

test('free-running indexes wrap past 2^32 and messages straddle the end of the 1 KiB rings', () => {
  const { guest, ring } = setup(0, 0xffffff00);
  let answered = 0;
  for (let i = 0; i < 200; i++) {
    const value = 'x'.repeat(i % 97);
    guest.put(guest.request(XsType.Write, new Uint8Array([...latin1Encode(`/w/n${i}`), 0, ...latin1Encode(value)])));
    guest.put(guest.request(XsType.Read, [`/w/n${i}`]));
    ring.kick();
    const r = guest.take();
    assert.equal(r.length, 2);
    assert.equal(r[1].payload.length, value.length);
    answered += 2;
  }
  assert.equal(answered, 400);
  assert.ok(guest.u32(RING_REQ_PROD) < 0x10000, 'the request index wrapped');
  assert.ok(guest.u32(RING_RSP_PROD) < 0x10000, 'the response index wrapped');
});

test('a request larger than the ring arrives in pieces as the server consumes', () => {
  const { guest, ring } = setup();
  const value = new Uint8Array(3000).fill(0x61);
  const msg = guest.request(XsType.Write, new Uint8Array([...latin1Encode('/big'), 0, ...value]));
  let sent = 0;
  while (sent < msg.length) {
    sent += guest.put(msg.subarray(sent));
    ring.kick();
  }
  assert.deepEqual(f(guest.take()[0]), ['OK']);
});

test('backpressure: a reply larger than rsp[] waits, and later requests wait behind it', () => {
  const { store, guest, ring, notified } = setup();
  new XsClient(store, 0).write('/big', new Uint8Array(3000).fill(0x62));
  guest.put(guest.request(XsType.Read, ['/big']));
  const second = guest.request(XsType.Read, ['/big']);
  guest.put(second);
  ring.kick();
  assert.equal(guest.u32(RING_RSP_PROD) - guest.u32(RING_RSP_CONS), 1024, 'rsp[] is full');
  assert.ok(ring.pendingBytes > 0);
  assert.equal(guest.u32(RING_REQ_PROD) - guest.u32(RING_REQ_CONS), second.length, 'the second request is not consumed yet');
  const before = notified();
  const got: XsMsg[] = [];
  for (let i = 0; i < 20 && got.length < 2; i++) {
    got.push(...guest.take());
    ring.kick();
  }
  assert.equal(got.length, 2);
  assert.equal(got[0].payload.length, 3000);
  assert.equal(got[1].payload.length, 3000);
  assert.ok(notified() > before);
  assert.equal(ring.pendingBytes, 0);
});

test('watch events from other connections reach the guest ring with a notification', () => {
  const { store, guest, ring, notified } = setup(2);
  const dom0 = new XsClient(store, 0);
  dom0.mkdir('/local/domain/2');
  dom0.setPerms('/local/domain/2', ['n2']);
  guest.put(guest.request(XsType.Watch, ['device', 'tok']));
  ring.kick();
  const first = guest.take();
  assert.deepEqual(first.map((m) => m.type), [XsType.Watch, XsType.WatchEvent]);
  assert.deepEqual(f(first[1]), ['device', 'tok']);
  const n = notified();
  dom0.write('/local/domain/2/device/vbd/768/state', '1');
  assert.equal(notified(), n + 1, 'notified without a kick');
  const ev = guest.take();
  assert.deepEqual(f(ev[0]), ['device/vbd/768/state', 'tok']);
  assert.equal(ev[0].reqId, 0);
});

test('hostile request indexes break the connection: logged, error 2, no more service, no throw', () => {
  const { guest, ring } = setup();
  guest.dv.setUint32(RING_REQ_PROD, 5000, true);
  ring.kick();
  assert.equal(ring.errorCode, XENSTORE_ERROR_RINGIDX);
  assert.equal(guest.u32(RING_ERROR), XENSTORE_ERROR_RINGIDX);
  guest.dv.setUint32(RING_REQ_PROD, 0, true);
  guest.put(guest.request(XsType.Read, ['/']));
  ring.kick();
  assert.equal(guest.take().length, 0, 'a broken ring is not serviced');
});

test('hostile response consumer index breaks the connection too', () => {
  const { guest, ring } = setup();
  guest.dv.setUint32(RING_RSP_CONS, 0x80000000, true);
  guest.put(guest.request(XsType.Read, ['/']));
  ring.kick();
  assert.equal(ring.errorCode, XENSTORE_ERROR_RINGIDX);
});

test('an oversize message length is a protocol error (3)', () => {
  const { guest, ring } = setup();
  const h = guest.request(XsType.Read, ['/']);
  h[13] = 0x10; // len = 0x1000 + ...
  guest.put(h.subarray(0, 16));
  ring.kick();
  assert.equal(ring.errorCode, XENSTORE_ERROR_PROTO);
  assert.equal(guest.u32(RING_ERROR), XENSTORE_ERROR_PROTO);
});

test('reconnection empties the rings, drops watches and transactions, clears the error and resumes', () => {
  const { store, guest, ring, notified } = setup(0);
  guest.put(guest.request(XsType.Watch, ['/w', 't']));
  guest.put(guest.request(XsType.TransactionStart, ['']));
  ring.kick();
  const tx = Number(f(guest.take()[2])[0]);
  guest.put(guest.request(XsType.Read, ['/']).subarray(0, 10)); // a partial packet
  guest.dv.setUint32(RING_REQ_PROD, 99999, true); // and broken indexes
  ring.kick();
  assert.equal(ring.errorCode, XENSTORE_ERROR_RINGIDX);
  guest.dv.setUint32(RING_CONNECTION, 1, true);
  const n = notified();
  ring.kick();
  assert.equal(guest.u32(RING_CONNECTION), 0);
  assert.equal(guest.u32(RING_ERROR), 0);
  assert.equal(ring.errorCode, 0);
  assert.ok(notified() > n);
  assert.equal(guest.u32(RING_REQ_CONS), guest.u32(RING_REQ_PROD));
  assert.equal(guest.u32(RING_RSP_CONS), guest.u32(RING_RSP_PROD));
  new XsClient(store, 0).write('/w', 'changed');
  assert.equal(guest.take().length, 0, 'the watch is gone');
  guest.put(guest.request(XsType.Read, ['/'], tx));
  ring.kick();
  assert.deepEqual(f(guest.take()[0]), ['ENOENT'], 'the transaction is gone');
});

test('ring state saves and restores a half-sent request and queued output', () => {
  const { store, guest, ring } = setup();
  new XsClient(store, 0).write('/big', new Uint8Array(2000).fill(0x63));
  guest.put(guest.request(XsType.Read, ['/big']));
  const msg = guest.request(XsType.Read, ['/big']);
  ring.kick(); // the first reply fills rsp[] and queues the rest
  guest.take();
  guest.put(msg.subarray(0, 7)); // the second request is half-sent
  ring.kick();
  const ringState = JSON.parse(JSON.stringify(ring.save()));
  const storeState = JSON.parse(JSON.stringify(store.save()));
  const pageCopy = guest.page.slice();

  const store2 = new XenStore();
  store2.restore(storeState);
  guest.page.set(pageCopy);
  const ring2 = new XsRing({ store: store2, domid: 0, page: guest.page, notify: () => {} });
  ring2.restore(ringState);
  let got: XsMsg[] = [];
  guest.put(msg.subarray(7));
  for (let i = 0; i < 10 && got.length < 2; i++) {
    ring2.kick();
    got = got.concat(guest.take());
  }
  assert.equal(got.length, 2);
  assert.equal(got[0].payload.length, 2000);
  assert.equal(got[1].payload.length, 2000);
});

test('fuzz: random messages, garbage, scribbled indexes and reconnections never throw (fixed seed)', () => {
  let seed = 0xc0ffee;
  const rnd = () => {
    seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0;
    return seed;
  };
  const words = ['/x', 'data', '/', '@releaseDomain', 'tok', 'T', 'F', 'r0', 'n1', '1', '', '/x/y', 'device/vbd'];
  let handled = 0;
  for (let round = 0; round < 200; round++) {
    const { store, guest, ring } = setup(rnd() % 3);
    const orig = store.handle.bind(store);
    store.handle = (c, m) => {
      handled++;
      orig(c, m);
    };
    new XsClient(store, 0).write('/x', 'y');
    for (let step = 0; step < 60; step++) {
      const k = rnd() % 20;
      if (k < 10) {
        const fields = Array.from({ length: rnd() % 4 }, () => words[rnd() % words.length]);
        guest.put(encodeMsg({ type: rnd() % 28, reqId: rnd(), txId: rnd() % 4 === 0 ? rnd() % 5 : 0, payload: joinFields(fields) }));
      } else if (k < 12) {
        const b = Uint8Array.from({ length: rnd() % 64 }, () => rnd() & 0xff);
        guest.put(b);
      } else if (k === 12) {
        guest.dv.setUint32([RING_REQ_PROD, RING_RSP_CONS, RING_REQ_CONS, RING_RSP_PROD][rnd() % 4], rnd(), true);
      } else if (k === 13) {
        guest.dv.setUint32(RING_CONNECTION, 1, true);
      } else {
        guest.take();
      }
      ring.kick();
    }
    assert.equal(store.check(), null);
  }
  assert.ok(handled > 2000, `the fuzz reached the engine (${handled} requests)`);
});
