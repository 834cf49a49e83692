import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rtc } from './mc146818.js';
import { TimerQueue } from '../../bus/timer-queue.js';

const START = Date.UTC(2026, 10, 24, 13, 45, 30); // 2026-11-24 13:45:30 UTC

function setup() {
  let now = 0, irq = false;
  const timers = new TimerQueue();
  const rtc = new Rtc({ clock: { now: () => now }, timers, irq: (l) => (irq = l), wallclockAtZeroMs: START });
  return { rtc, irq: () => irq, advance: (ns: number) => { now += ns; timers.runDue(now); } };
}

test('time reads in BCD by default, follows guest time, and switches to binary', () => {
  const t = setup();
  assert.equal(t.rtc.read(0), 0x30);
  assert.equal(t.rtc.read(2), 0x45);
  assert.equal(t.rtc.read(4), 0x13);
  assert.equal(t.rtc.read(7), 0x24);
  assert.equal(t.rtc.read(8), 0x11);
  assert.equal(t.rtc.read(9), 0x26);
  assert.equal(t.rtc.read(0x32), 0x20);
  t.advance(2e9);
  assert.equal(t.rtc.read(0), 0x32);
  t.rtc.write(0x0b, 0x06); // binary, 24 h
  assert.equal(t.rtc.read(0), 32);
});

test('the guest can set the time with the SET bit', () => {
  const t = setup();
  t.rtc.write(0x0b, 0x82);
  t.rtc.write(4, 0x07);
  t.rtc.write(0x0b, 0x02);
  assert.equal(t.rtc.read(4), 0x07);
  t.advance(3600e9);
  assert.equal(t.rtc.read(4), 0x08);
});

test('update-ended interrupts raise IRQ 8 and register C clears on read; state round-trips', () => {
  const t = setup();
  t.rtc.write(0x0b, 0x12); // UIE
  t.advance(1.1e9);
  assert.equal(t.irq(), true);
  assert.equal(t.rtc.read(0x0c) & 0x90, 0x90);
  assert.equal(t.rtc.read(0x0c), 0);
  assert.equal(t.irq(), false);
  t.rtc.write(0x40, 0x5a);
  const u = setup();
  u.rtc.restore(JSON.parse(JSON.stringify(t.rtc.save())));
  assert.equal(u.rtc.read(0x40), 0x5a);
});
