import { test } from 'node:test';
import assert from 'node:assert/strict';
import { IoApic, type IoApicMessage } from './ioapic.js';

function setup() {
  const sent: IoApicMessage[] = [];
  const io = new IoApic({ deliver: (m) => sent.push(m), id: 1 });
  const rd = (index: number) => { io.mmioWrite(0, 4, index); return io.mmioRead(0x10, 4) >>> 0; };
  const wr = (index: number, v: number) => { io.mmioWrite(0, 4, index); io.mmioWrite(0x10, 4, v); };
  const route = (pin: number, lo: number, hi = 0) => { wr(0x11 + 2 * pin, hi); wr(0x10 + 2 * pin, lo); };
  return { io, sent, rd, wr, route };
}

test('identification: version 11h with 24 entries, ID and arbitration ID', () => {
  const t = setup();
  assert.equal(t.rd(0x01), 0x00170011);
  assert.equal(t.rd(0x00), 0x01000000);
  t.wr(0x00, 0x0a000000);
  assert.equal(t.rd(0x00), 0x0a000000);
  assert.equal(t.rd(0x02), 0x0a000000, 'arbitration ID loaded from the ID');
  t.wr(0x01, 0);
  assert.equal(t.rd(0x01), 0x00170011, 'version is read-only');
});

test('every entry is masked at power-up, so inputs send nothing', () => {
  const t = setup();
  for (let pin = 0; pin < 24; pin++) assert.equal(t.rd(0x10 + 2 * pin) & 0x10000, 0x10000);
  t.io.setIrq(4, true);
  assert.equal(t.sent.length, 0);
});

test('edge-triggered pin: one message per rising edge with the entry vector and destination', () => {
  const t = setup();
  t.route(2, 0x0830, 0x03000000); // logical destination 3, fixed, vector 0x30
  t.io.setIrq(2, true);
  t.io.setIrq(2, true);
  t.io.setIrq(2, false);
  t.io.setIrq(2, true);
  assert.equal(t.sent.length, 2);
  assert.deepEqual(t.sent[0], { vector: 0x30, deliveryMode: 0, destination: 3, logical: true, levelTriggered: false, assert: true });
});

test('an edge while masked is lost', () => {
  const t = setup();
  t.route(1, 0x10031);
  t.io.setIrq(1, true);
  t.route(1, 0x00031);
  assert.equal(t.sent.length, 0);
});

test('level-triggered pin: Remote IRR holds further messages until EOI; EOI re-sends while asserted', () => {
  const t = setup();
  t.route(9, 0x8039);
  t.io.setIrq(9, true);
  assert.equal(t.sent.length, 1);
  assert.ok(t.sent[0].levelTriggered);
  assert.equal(t.rd(0x10 + 18) & 0x4000, 0x4000, 'Remote IRR set');
  t.io.eoi(0x40);
  assert.equal(t.sent.length, 1, 'EOI of another vector does nothing');
  t.io.eoi(0x39);
  assert.equal(t.sent.length, 2, 'still asserted: sent again');
  t.io.setIrq(9, false);
  t.io.eoi(0x39);
  assert.equal(t.sent.length, 2);
  assert.equal(t.rd(0x10 + 18) & 0x4000, 0, 'Remote IRR clear');
});

test('unmasking a level entry whose pin is asserted sends at once', () => {
  const t = setup();
  t.io.setIrq(10, true);
  t.route(10, 0x18050);
  assert.equal(t.sent.length, 0);
  t.route(10, 0x08050);
  assert.equal(t.sent.length, 1);
});

test('active-low polarity asserts on the low level', () => {
  const t = setup();
  t.io.setIrq(11, true); // idle high
  t.route(11, 0xa051); // level, active low, vector 0x51
  assert.equal(t.sent.length, 0);
  t.io.setIrq(11, false);
  assert.equal(t.sent.length, 1);
});

test('delivery mode, destination mode and read-only bits of an entry', () => {
  const t = setup();
  t.wr(0x10, 0xffffffff);
  assert.equal(t.rd(0x10), 0x0001afff, 'delivery status and Remote IRR are read-only');
  t.wr(0x11, 0xffffffff);
  assert.equal(t.rd(0x11), 0xff000000);
  t.route(3, 0x0400); // NMI
  t.io.setIrq(3, true);
  assert.equal(t.sent[0].deliveryMode, 4);
});

test('IOREGSEL and IOWIN take narrow accesses', () => {
  const t = setup();
  t.io.mmioWrite(0, 1, 0x12);
  assert.equal(t.io.mmioRead(0, 1), 0x12);
  t.io.mmioWrite(0x10, 1, 0x44); // byte 0 of IOREDTBL1 low: the vector
  assert.equal(t.rd(0x12), 0x10044);
  t.io.mmioWrite(0, 4, 0x01);
  assert.equal(t.io.mmioRead(0x12, 1), 0x17, 'byte 2 of IOAPICVER: max redirection entry');
});

test('saved state round-trips, including pin levels and Remote IRR', () => {
  const a = setup();
  a.route(5, 0x8045, 0x01000000);
  a.io.setIrq(5, true);
  a.wr(0, 0x05000000);
  const saved = JSON.parse(JSON.stringify(a.io.save()));
  const b = setup();
  b.io.restore(saved);
  assert.deepEqual(b.io.save(), a.io.save());
  b.io.eoi(0x45);
  assert.equal(b.sent.length, 1, 'the restored asserted pin re-sends after EOI');
  assert.throws(() => b.io.restore({ ...saved, version: 2 }));
});
