import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PortBus, type PortDevice } from './port-bus.js';
import { TimerQueue } from './timer-queue.js';

test('ports dispatch by offset; unclaimed ports float high; split accesses reach each owner', () => {
  const bus = new PortBus();
  const log: string[] = [];
  const dev = (name: string): PortDevice => ({
    name,
    ioRead: (o, s) => { log.push(`${name} r${o}/${s}`); return 0x10 + o; },
    ioWrite: (o, s, v) => { log.push(`${name} w${o}/${s}=${v.toString(16)}`); },
  });
  bus.register(0x60, 2, dev('a'));
  bus.register(0x62, 2, dev('b'));
  assert.equal(bus.read(0x61, 1), 0x11);
  assert.equal(bus.read(0x70, 1), 0xff);
  assert.equal(bus.read(0x70, 4), -1);
  assert.equal(bus.read(0x61, 2), 0x11 | (0x10 << 8), 'a word across two devices is split');
  bus.write(0x60, 2, 0xbeef);
  assert.deepEqual(log.slice(-1), ['a w0/2=beef']);
  assert.throws(() => bus.register(0x61, 1, dev('c')), /already belongs to a/);
  assert.equal(bus.counts.get('a')! > 0, true);
});

test('timers run in deadline order, skip cancelled ones, and report the next deadline', () => {
  const q = new TimerQueue();
  const ran: number[] = [];
  q.schedule(30, () => ran.push(30));
  const h = q.schedule(10, () => ran.push(10));
  q.schedule(20, () => { ran.push(20); q.schedule(25, () => ran.push(25)); });
  h.cancel();
  assert.equal(q.nextDeadline(), 20);
  q.runDue(26);
  assert.deepEqual(ran, [20, 25]);
  assert.equal(q.nextDeadline(), 30);
  q.runDue(100);
  assert.deepEqual(ran, [20, 25, 30]);
  assert.equal(q.nextDeadline(), Infinity);
});
