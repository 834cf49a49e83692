import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TimerQueue } from './timer-queue.js';
import { IrqPin, irqLine, pulse } from './irq.js';

test('timers run in deadline order (ties in arming order) and skip cancelled ones', () => {
  const q = new TimerQueue();
  const ran: string[] = [];
  q.schedule(30, () => ran.push('30'));
  const h = q.schedule(10, () => ran.push('10'));
  q.schedule(20, () => ran.push('20a'));
  q.schedule(20, () => ran.push('20b'));
  h.cancel();
  assert.equal(q.nextDeadline(), 20);
  assert.equal(q.runDue(25), 2);
  assert.deepEqual(ran, ['20a', '20b']);
  assert.equal(q.nextDeadline(), 30);
  q.runDue(100);
  assert.deepEqual(ran, ['20a', '20b', '30']);
  assert.equal(q.nextDeadline(), Infinity);
  assert.equal(q.size, 0);
});

test('callbacks get their deadline and may arm more work that is already due', () => {
  const q = new TimerQueue();
  const ran: number[] = [];
  q.schedule(20, (at) => {
    ran.push(at);
    q.schedule(25, (at2) => ran.push(at2));
    q.schedule(40, (at2) => ran.push(at2));
  });
  q.runDue(30);
  assert.deepEqual(ran, [20, 25]);
  assert.equal(q.nextDeadline(), 40);
});

test('a kept timer re-arms from its own callback without piling up entries', () => {
  const q = new TimerQueue();
  let fired = 0;
  const t = q.timer((at) => {
    fired++;
    t.arm(at + 10);
  });
  t.arm(10);
  for (let now = 0; now <= 1000; now += 5) q.runDue(now);
  assert.equal(fired, 100);
  assert.equal(q.size, 1);
  assert.equal(t.armed, true);
  t.arm(5000); // re-arming an armed timer moves it
  assert.equal(q.size, 1);
  assert.equal(q.nextDeadline(), 5000);
  t.cancel();
  assert.equal(t.armed, false);
  assert.equal(q.nextDeadline(), Infinity);
});

test('the heap stays ordered under random arming, moving and cancelling', () => {
  const q = new TimerQueue();
  let seed = 12345;
  const rnd = () => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff;
  const order: number[] = [];
  const timers = Array.from({ length: 200 }, () => q.timer((at) => order.push(at)));
  for (const t of timers) t.arm(Math.floor(rnd() * 10000));
  for (let k = 0; k < 300; k++) {
    const t = timers[Math.floor(rnd() * timers.length)];
    if (rnd() < 0.3) t.cancel();
    else t.arm(Math.floor(rnd() * 10000));
  }
  const live = timers.filter((t) => t.armed).map((t) => t.at).sort((a, b) => a - b);
  q.runDue(Infinity);
  assert.deepEqual(order, live);
});

test('interrupt pins forward only level changes; pulse and edge make rising edges', () => {
  const seen: boolean[] = [];
  const pin = new IrqPin((l) => seen.push(l));
  pin.set(false);
  pin.set(true);
  pin.set(true);
  pin.edge();
  pin.restoreLevel(false);
  assert.equal(pin.level, false);
  pulse(irqLine((l) => seen.push(l)));
  assert.deepEqual(seen, [true, false, true, true, false]);
});
