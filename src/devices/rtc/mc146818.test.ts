import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rtc } from './mc146818.js';
import { TimerQueue } from '../../bus/timer-queue.js';

const START = Date.UTC(2026, 10, 24, 13, 45, 30); // Tuesday 2026-11-24 13:45:30 UTC

function setup(wallMs = START, startNs = 0) {
  let now = startNs;
  const timers = new TimerQueue();
  const edges: number[] = [];
  let irq = false;
  const rtc = new Rtc({
    clock: { now: () => now }, timers, wallclockAtZeroMs: wallMs - startNs / 1e6,
    irq: (l) => { if (l && !irq) edges.push(now); irq = l; },
  });
  const advanceTo = (t: number) => {
    while (timers.nextDeadline() <= t) {
      now = Math.max(now, timers.nextDeadline());
      timers.runDue(now);
    }
    now = t;
    timers.runDue(now);
  };
  const p = rtc.ports();
  const rd = (reg: number) => (p.ioWrite(0, 1, reg), p.ioRead(1, 1));
  const wr = (reg: number, v: number) => (p.ioWrite(0, 1, reg), p.ioWrite(1, 1, v));
  const time = () => [0, 2, 4, 6, 7, 8, 9, 0x32].map(rd);
  return { rtc, p, rd, wr, time, edges, irq: () => irq, advanceTo, now: () => now, timers };
}

test('the clock starts at the host wall time in BCD, 24-hour, with day of week and century', () => {
  const t = setup();
  assert.deepEqual(t.time(), [0x30, 0x45, 0x13, 0x03, 0x24, 0x11, 0x26, 0x20]);
  assert.equal(t.rd(0x0a) & 0x7f, 0x26);
  assert.equal(t.rd(0x0b), 0x02);
  assert.equal(t.rd(0x0d), 0x80, 'VRT: RAM and time valid');
});

test('update cycles carry through minutes, hours, day of week, date, month, year and century', () => {
  const t = setup(Date.UTC(2099, 11, 31, 23, 59, 58)); // a Thursday
  assert.deepEqual(t.time(), [0x58, 0x59, 0x23, 0x05, 0x31, 0x12, 0x99, 0x20]);
  t.advanceTo(3e9);
  assert.deepEqual(t.time(), [0x01, 0x00, 0x00, 0x06, 0x01, 0x01, 0x00, 0x21]);
  const leap = setup(Date.UTC(2028, 1, 28, 23, 59, 59, 500));
  leap.advanceTo(0.6e9);
  assert.deepEqual([leap.rd(7), leap.rd(8)], [0x29, 0x02], 'February 29 in a year divisible by 4');
  const plain = setup(Date.UTC(2027, 1, 28, 23, 59, 59, 500));
  plain.advanceTo(0.6e9);
  assert.deepEqual([plain.rd(7), plain.rd(8)], [0x01, 0x03]);
});

test('updates happen on the wall-clock second boundary of guest time, not on reads', () => {
  const t = setup(START + 700);
  t.advanceTo(0.299e9);
  assert.equal(t.rd(0), 0x30);
  t.advanceTo(0.3e9);
  assert.equal(t.rd(0), 0x31);
  t.advanceTo(0.3e9 + 59e9);
  assert.deepEqual([t.rd(0), t.rd(2)], [0x30, 0x46]);
});

test('binary and 12-hour formats come from register B; the chip does not convert existing values', () => {
  const t = setup();
  t.wr(0x0b, 0x82 | 0x04); // SET, binary, 24 h
  assert.equal(t.rd(0), 0x30, 'still the BCD bytes: DM changes nothing by itself');
  t.wr(0, 58); t.wr(2, 59); t.wr(4, 23); t.wr(6, 7); t.wr(7, 31); t.wr(8, 12); t.wr(9, 99);
  t.wr(0x0b, 0x06);
  t.advanceTo(2.5e9);
  assert.deepEqual(t.time().slice(0, 7), [0, 0, 0, 1, 1, 1, 0], 'binary carries; Saturday wraps to Sunday');

  const h = setup(Date.UTC(2026, 0, 1, 11, 59, 59, 500));
  h.wr(0x0b, 0x80); // SET, BCD, 12-hour
  h.wr(4, 0x11); // 11 AM
  h.wr(0x0b, 0x00);
  h.advanceTo(0.6e9);
  assert.equal(h.rd(4), 0x92, '11 AM -> 12 PM (bit 7 = PM)');
  h.wr(0x0b, 0x80);
  h.wr(4, 0x91); h.wr(2, 0x59); h.wr(0, 0x59); // 11:59:59 PM
  h.wr(0x0b, 0x00);
  h.advanceTo(1.6e9);
  assert.deepEqual([h.rd(4), h.rd(7)], [0x12, 0x02], '11 PM -> 12 AM of the next day');
  h.advanceTo(3601.6e9);
  assert.equal(h.rd(4), 0x01);
});

test('SET stops updates while the guest writes the time, clears UIE, and updates resume on the same phase', () => {
  const t = setup();
  t.wr(0x0b, 0x12); // UIE
  t.wr(0x0b, 0x92); // SET
  assert.equal(t.rd(0x0b), 0x82, 'SET going high cleared UIE');
  t.wr(4, 0x07);
  t.advanceTo(5e9);
  assert.deepEqual([t.rd(0), t.rd(4)], [0x30, 0x07], 'frozen while SET');
  assert.equal(t.rd(0x0a) & 0x80, 0, 'no UIP while SET');
  t.wr(0x0b, 0x02);
  t.advanceTo(5.5e9);
  assert.equal(t.rd(0), 0x30);
  t.advanceTo(6e9);
  assert.equal(t.rd(0), 0x31, 'the first update after SET comes at the next divider second');
});

test('UIP is set for the 244 us before an update and during its 1984 us', () => {
  const t = setup();
  t.advanceTo(1e9 - 2_229_000);
  assert.equal(t.rd(0x0a) & 0x80, 0);
  t.advanceTo(1e9 - 2_228_000);
  assert.equal(t.rd(0x0a) & 0x80, 0x80);
  t.advanceTo(1e9 - 1);
  assert.equal(t.rd(0x0a) & 0x80, 0x80);
  t.advanceTo(1e9);
  assert.equal(t.rd(0x0a) & 0x80, 0);
});

test('update-ended interrupts raise IRQ 8 once a second; reading register C clears flags and the line', () => {
  const t = setup();
  t.wr(0x0b, 0x12); // UIE
  t.advanceTo(0.999e9);
  assert.equal(t.irq(), false);
  t.advanceTo(1e9);
  assert.equal(t.irq(), true);
  assert.equal(t.rd(0x0c), 0xd0, 'IRQF and UF, and PF, which the divider sets whatever PIE says');
  assert.equal(t.irq(), false);
  assert.equal(t.rd(0x0c), 0x00, 'read-to-clear');
  t.advanceTo(3.5e9);
  assert.deepEqual(t.edges, [1e9, 2e9]);
  assert.equal(t.timers.size, 0, 'IRQF set: nothing armed until C is read');
  t.rd(0x0c);
  t.advanceTo(4e9);
  assert.deepEqual(t.edges, [1e9, 2e9, 4e9]);
});

test('flags are set without their enables, and enabling one with its flag set raises IRQ at once', () => {
  const t = setup();
  t.advanceTo(1.5e9);
  assert.equal(t.irq(), false);
  assert.equal(t.timers.size, 0, 'no interrupt enabled: no timers');
  assert.equal(t.rd(0x0c), 0x50, 'PF and UF, no IRQF');
  t.advanceTo(1.6e9);
  t.wr(0x0b, 0x42); // PIE with PF already set
  assert.equal(t.irq(), true);
  assert.equal(t.rd(0x0c), 0xc0);
});

test('the periodic interrupt follows RS3-0 (1024 Hz by default, 2 Hz at rate 15)', () => {
  const t = setup();
  t.wr(0x0b, 0x42); // PIE
  let n = 0;
  for (let k = 1; k <= 1024; k++) {
    t.advanceTo(k * 976562.5);
    if (t.irq()) n++;
    t.rd(0x0c);
  }
  assert.equal(n, 1024);
  t.wr(0x0a, 0x2f);
  t.rd(0x0c);
  const before = t.edges.length;
  t.advanceTo(t.now() + 2e9);
  t.rd(0x0c);
  assert.equal(t.edges.length - before, 1, 'IRQF holds the line until C is read');
  t.advanceTo(t.now() + 0.5e9);
  assert.equal(t.irq(), true);
});

test('alarm: an exact match interrupts once a day; "don\'t care" codes make it every second', () => {
  const t = setup();
  t.wr(0x01, 0x33); t.wr(0x03, 0x45); t.wr(0x05, 0x13); // 13:45:33
  t.wr(0x0b, 0x22); // AIE
  t.advanceTo(2.5e9);
  assert.equal(t.irq(), false);
  t.advanceTo(3e9);
  assert.equal(t.irq(), true);
  assert.equal(t.rd(0x0c) & 0xb0, 0xb0, 'IRQF, AF and UF');
  t.wr(0x01, 0xc0); t.wr(0x03, 0xc0); t.wr(0x05, 0xc0);
  t.advanceTo(4e9);
  assert.equal(t.rd(0x0c) & 0xa0, 0xa0);
});

test('divider reset (DV = 11x) holds the clock; the first update comes half a second after release', () => {
  const t = setup();
  t.wr(0x0a, 0x66);
  t.advanceTo(10.2e9);
  assert.equal(t.rd(0), 0x30);
  assert.equal(t.rd(0x0a) & 0x80, 0);
  t.wr(0x0a, 0x26);
  t.advanceTo(10.2e9 + 0.499e9);
  assert.equal(t.rd(0), 0x30);
  t.advanceTo(10.2e9 + 0.5e9);
  assert.equal(t.rd(0), 0x31);
});

test('a guest that ignores the clock for days still reads the right date', () => {
  const t = setup();
  t.advanceTo((3 * 86400 + 3600) * 1e9);
  assert.deepEqual(t.time(), [0x30, 0x45, 0x14, 0x06, 0x27, 0x11, 0x26, 0x20]);
});

test('port 0x70: 7-bit index plus the NMI mask bit; reads float; RAM, C and D behave', () => {
  const t = setup();
  t.p.ioWrite(0, 1, 0x80 | 0x40);
  assert.equal(t.rtc.nmiMasked, true);
  t.p.ioWrite(1, 1, 0x5a);
  assert.equal(t.rtc.cmos[0x40], 0x5a);
  t.p.ioWrite(0, 1, 0x40);
  assert.equal(t.rtc.nmiMasked, false);
  assert.equal(t.p.ioRead(1, 1), 0x5a);
  assert.equal(t.p.ioRead(0, 1), 0xff);
  t.wr(0x0d, 0x00);
  t.wr(0x0c, 0xff);
  assert.equal(t.rd(0x0d), 0x80);
  assert.equal(t.rd(0x0c), 0x00);
  t.wr(0x7f, 0x11);
  assert.equal(t.rd(0x7f), 0x11);
});

test('the machine fills memory sizes and the AT checksum through setters', () => {
  const t = setup();
  t.rtc.setMemorySize(128 * 1048576);
  assert.deepEqual([t.rd(0x15), t.rd(0x16)], [0x80, 0x02], '640 KiB base memory');
  assert.deepEqual([t.rd(0x17), t.rd(0x18)], [0x00, 0xfc], 'extended memory capped at 63 MiB');
  assert.deepEqual([t.rd(0x34), t.rd(0x35)], [0x00, 0x07], '112 MiB above 16 MiB in 64 KiB units');
  let sum = 0;
  for (let i = 0x10; i <= 0x2d; i++) sum += t.rd(i);
  assert.equal((t.rd(0x2e) << 8) | t.rd(0x2f), sum);
  assert.throws(() => t.rtc.setByte(0x00, 1), /not RAM/);
});

test('RTC state survives save and restore: same registers, same next interrupt', () => {
  const a = setup();
  a.wr(0x0b, 0x12);
  a.wr(0x50, 0x77);
  a.advanceTo(2.3e9);
  a.rd(0x0c);
  a.wr(0x0b, 0x52); // PIE too
  a.advanceTo(2.7e9);
  const saved = JSON.parse(JSON.stringify(a.rtc.save()));
  const b = setup(0, a.now());
  b.rtc.restore(saved);
  assert.deepEqual(b.rtc.save(), saved);
  assert.equal(b.irq(), false, 'restore does not drive the line');
  for (const t of [a, b]) {
    assert.deepEqual(t.time(), [0x32, 0x45, 0x13, 0x03, 0x24, 0x11, 0x26, 0x20]);
    assert.equal(t.rd(0x50), 0x77);
    assert.equal(t.rd(0x0c), 0xc0, 'PF pending across the save');
    t.advanceTo(3.05e9);
    assert.equal(t.rd(0x0c) & 0xd0, 0xd0);
  }
});
