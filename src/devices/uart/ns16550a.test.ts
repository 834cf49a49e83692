import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Uart16550 } from './ns16550a.js';
import { TimerQueue } from '../../bus/timer-queue.js';

function setup() {
  let now = 0, irq = false;
  const out: number[] = [];
  const timers = new TimerQueue();
  const u = new Uart16550({ name: 'com1', clock: { now: () => now }, timers, irq: (l) => (irq = l), output: (b) => out.push(b) });
  return { u, out, irq: () => irq, advance: (ns: number) => { now += ns; timers.runDue(now); } };
}

test('transmitted bytes reach the sink; THRE interrupts follow IER and OUT2', () => {
  const t = setup();
  t.u.writeReg(4, 0x08); // OUT2
  t.u.writeReg(1, 0x02); // enable THRE interrupt
  assert.equal(t.irq(), true, 'enabling THRE with an empty THR interrupts at once');
  assert.equal(t.u.readReg(2) & 0x0f, 0x02);
  assert.equal(t.irq(), false, 'reading IIR clears the THRE source');
  t.u.writeReg(0, 0x41);
  assert.deepEqual(t.out, [0x41]);
  assert.equal(t.irq(), true);
});

test('received data interrupts at the FIFO trigger level, and with a timeout below it', () => {
  const t = setup();
  t.u.writeReg(4, 0x08);
  t.u.writeReg(2, 0x81); // FIFO on, trigger 8
  t.u.writeReg(1, 0x01);
  t.u.receive(Uint8Array.from([1, 2, 3]));
  assert.equal(t.irq(), false, 'below the trigger level');
  t.advance(10e6);
  assert.equal(t.u.readReg(2) & 0x0f, 0x0c, 'character timeout');
  t.u.receive(new Uint8Array(30).fill(9));
  assert.equal(t.u.readReg(2) & 0x0f, 0x04, 'trigger level reached');
  let n = 0;
  while (t.u.readReg(5) & 1) { t.u.readReg(0); n++; }
  assert.equal(n, 33, 'the backlog refills the FIFO: nothing lost');
});

test('the divisor latch, loopback and saved state', () => {
  const t = setup();
  t.u.writeReg(3, 0x80);
  t.u.writeReg(0, 0x01);
  t.u.writeReg(1, 0x00);
  t.u.writeReg(3, 0x03);
  assert.equal(t.u.dll, 1);
  t.u.writeReg(4, 0x10); // loopback
  t.u.writeReg(0, 0x5a);
  assert.deepEqual(t.out, []);
  assert.equal(t.u.readReg(0), 0x5a);
  const s = setup();
  s.u.restore(JSON.parse(JSON.stringify(t.u.save())));
  assert.deepEqual(s.u.save(), t.u.save());
});
