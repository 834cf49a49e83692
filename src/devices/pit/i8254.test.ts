import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Pit, PIT_HZ } from './i8254.js';
import { TimerQueue } from '../../bus/timer-queue.js';

function setup() {
  let now = 0;
  const clock = { now: () => now };
  const timers = new TimerQueue();
  let edges = 0;
  let level = false;
  const pit = new Pit(clock, timers, (l) => { if (l && !level) edges++; level = l; });
  const advance = (ns: number) => { now += ns; timers.runDue(now); };
  return { pit, ports: pit.ports(), p61: pit.port61Device(), advance, edges: () => edges };
}

test('mode 2 on counter 0 raises IRQ 0 once per period', () => {
  const t = setup();
  t.ports.ioWrite(3, 1, 0x34); // counter 0, lo/hi, mode 2
  const n = 11932; // ~100 Hz
  t.ports.ioWrite(0, 1, n & 0xff);
  t.ports.ioWrite(0, 1, n >> 8);
  for (let k = 0; k < 1000; k++) t.advance(1e6);
  assert.ok(Math.abs(t.edges() - 100) <= 1, `got ${t.edges()} interrupts in a second`);
});

test('the counter counts down at 1.193182 MHz and latches for a stable read', () => {
  const t = setup();
  t.ports.ioWrite(3, 1, 0x34);
  t.ports.ioWrite(0, 1, 0xff);
  t.ports.ioWrite(0, 1, 0xff);
  t.advance(1e6); // 1 ms = ~1193 ticks
  t.ports.ioWrite(3, 1, 0x00); // latch counter 0
  t.advance(1e6);
  const v = t.ports.ioRead(0, 1) | (t.ports.ioRead(0, 1) << 8);
  assert.ok(Math.abs(0xffff - v - Math.round(PIT_HZ / 1000)) <= 2, `latched ${v}`);
});

test('counter 2 mode 0 with the gate on port 0x61 reaches terminal count (TSC calibration path)', () => {
  const t = setup();
  t.p61.ioWrite(0, 1, 0x00);
  t.ports.ioWrite(3, 1, 0xb0); // counter 2, lo/hi, mode 0
  t.ports.ioWrite(2, 1, 1000 & 0xff);
  t.ports.ioWrite(2, 1, 1000 >> 8);
  t.p61.ioWrite(0, 1, 0x01); // gate on
  assert.equal(t.p61.ioRead(0, 1) & 0x20, 0, 'output low while counting');
  t.advance((1001 * 1e9) / PIT_HZ);
  assert.equal(t.p61.ioRead(0, 1) & 0x20, 0x20, 'output high at terminal count');
});

test('read-back returns the status byte; state survives save and restore', () => {
  const t = setup();
  t.ports.ioWrite(3, 1, 0x36); // counter 0, lo/hi, mode 3
  t.ports.ioWrite(0, 1, 0);
  t.ports.ioWrite(0, 1, 0);
  t.ports.ioWrite(3, 1, 0xe2); // read-back status of counter 0
  assert.equal(t.ports.ioRead(0, 1) & 0x3f, 0x36);
  const u = setup();
  u.pit.restore(JSON.parse(JSON.stringify(t.pit.save())));
  assert.deepEqual(u.pit.save(), t.pit.save());
});
