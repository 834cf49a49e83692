import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Pit, PIT_HZ, nsOfTick, tickAt } from './i8254.js';
import { TimerQueue } from '../../bus/timer-queue.js';

function setup(startNs = 0) {
  let now = startNs;
  const clock = { now: () => now };
  const timers = new TimerQueue();
  const rises: number[] = [];
  const levels: boolean[] = [];
  let level = false;
  const pit = new Pit({
    clock, timers, irq0: (l) => {
      if (l && !level) rises.push(tickAt(now));
      level = l;
      levels.push(l);
    },
  });
  const ports = pit.ports();
  const p61 = pit.port61Device();
  /** Moves guest time to `tick` (running due timers on the way, as the machine does). */
  const toTick = (tick: number) => {
    const target = nsOfTick(tick);
    while (timers.nextDeadline() <= target) {
      now = Math.max(now, timers.nextDeadline());
      timers.runDue(now);
    }
    now = target;
    timers.runDue(now);
  };
  const ctl = (v: number) => ports.ioWrite(3, 1, v);
  const write16 = (k: number, v: number) => { ports.ioWrite(k, 1, v & 0xff); ports.ioWrite(k, 1, v >> 8); };
  const read16 = (k: number) => ports.ioRead(k, 1) | (ports.ioRead(k, 1) << 8);
  const status = (k: number) => { ctl(0xe0 | (2 << k)); return ports.ioRead(k, 1); };
  const out2 = () => (p61.ioRead(0, 1) & 0x20) !== 0;
  /** Jumps guest time without running timers (a machine that fell behind). */
  const jump = (ns: number) => { now = ns; };
  return { pit, ports, p61, timers, rises, levels, toTick, jump, ctl, write16, read16, status, out2, now: () => now, level: () => level };
}

test('tick arithmetic is exact both ways at 1.193182 MHz', () => {
  for (const k of [0, 1, 2, 11931, 1193182, 987654321, 12345678901]) {
    const ns = nsOfTick(k);
    assert.equal(tickAt(ns), k);
    assert.ok(ns === 0 || tickAt(ns - 1) === k - 1);
  }
  assert.equal(tickAt(1e9), PIT_HZ);
});

test('mode 2 (rate generator): IRQ 0 every N clocks, the first N+1 clocks after the count is written', () => {
  const t = setup();
  t.ctl(0x34); // counter 0, LSB then MSB, mode 2, binary
  const n = 11932; // ~100 Hz
  t.write16(0, n);
  t.toTick(1 + 3 * n);
  assert.deepEqual(t.rises, [0, 1 + n, 1 + 2 * n, 1 + 3 * n], 'the control word itself raises OUT (mode 2 starts high)');
  t.toTick(PIT_HZ);
  assert.equal(t.pit.irqCount, 1 + Math.floor((PIT_HZ - 1) / n));
  assert.equal(t.timers.size, 1, 'one armed timer, re-armed per transition');
});

test('mode 2 counts N..1 and drops OUT for exactly the clock at count 1', () => {
  const t = setup();
  t.ctl(0x34);
  t.write16(0, 5);
  t.toTick(1);
  assert.equal(t.read16(0), 5);
  t.toTick(4);
  assert.equal(t.read16(0), 2);
  assert.equal(t.status(0) & 0x80, 0x80);
  t.toTick(5);
  assert.equal(t.read16(0), 1);
  assert.equal(t.status(0) & 0x80, 0, 'OUT low at count 1');
  t.toTick(6);
  assert.equal(t.read16(0), 5, 'reloaded');
  assert.equal(t.status(0) & 0x80, 0x80);
  assert.deepEqual(t.levels, [true, false, true], 'the line followed OUT: high from the control word, low at count 1, high at reload');
});

test('mode 0 (interrupt on terminal count) is a one-shot: OUT low until N+1 clocks, then high for good', () => {
  const t = setup();
  t.ctl(0x30); // counter 0, LSB/MSB, mode 0
  assert.equal(t.status(0) & 0x80, 0, 'OUT low after the control word');
  t.write16(0, 100);
  t.toTick(100);
  assert.equal(t.level(), false);
  t.toTick(101);
  assert.equal(t.level(), true);
  assert.deepEqual(t.rises, [101]);
  t.toTick(101 + 10);
  assert.equal(t.read16(0), 0xffff - 9, 'the counter wraps and keeps counting');
  t.toTick(101 + 70000);
  assert.deepEqual(t.rises, [101], 'no second interrupt');
  assert.equal(t.timers.size, 0);
});

test('mode 0: the first byte of a new count stops counting and drops OUT; the second restarts', () => {
  const t = setup();
  t.ctl(0x30);
  t.write16(0, 1000);
  t.toTick(500);
  t.ports.ioWrite(0, 1, 0x10);
  t.toTick(600);
  assert.equal(t.read16(0), 501, 'frozen at the value when the LSB was written');
  t.ports.ioWrite(0, 1, 0x00); // count 0x0010
  t.toTick(600 + 1 + 16);
  assert.deepEqual(t.rises, [617]);
});

test('mode 3 (square wave): an odd count is high (N+1)/2 clocks and low (N-1)/2, counting by two', () => {
  const t = setup();
  t.ctl(0xb6); // counter 2, LSB/MSB, mode 3
  t.write16(2, 5);
  t.p61.ioWrite(0, 1, 0x01); // GATE2 high: the count loads on the next clock
  const outs: boolean[] = [];
  const values: number[] = [];
  for (let k = 1; k <= 11; k++) {
    t.toTick(k);
    outs.push(t.out2());
    t.ctl(0x80); // latch counter 2
    values.push(t.read16(2));
  }
  assert.deepEqual(outs, [true, true, true, false, false, true, true, true, false, false, true]);
  assert.deepEqual(values, [4, 2, 0, 4, 2, 4, 2, 0, 4, 2, 4]);
  const e = setup();
  e.ctl(0x36); // counter 0 mode 3
  e.write16(0, 1000);
  e.toTick(1 + 5000);
  assert.deepEqual(e.rises, [0, 1001, 2001, 3001, 4001, 5001]);
  assert.deepEqual(e.levels.slice(0, 3), [true, false, true], 'low half from 500 clocks after the load');
});

test('mode 4 (software triggered strobe): OUT low for one clock N+1 clocks after the write', () => {
  const t = setup();
  t.ctl(0x38);
  t.write16(0, 50);
  t.toTick(50);
  assert.equal(t.level(), true);
  t.toTick(51);
  assert.equal(t.level(), false);
  t.toTick(52);
  assert.deepEqual(t.rises, [0, 52]);
  t.toTick(100000);
  assert.deepEqual(t.rises, [0, 52], 'a single strobe');
});

test('one-shot edges are delivered even when the timer runs long after both OUT transitions', () => {
  for (const ctl of [0x30, 0x38]) {
    const t = setup();
    t.ctl(ctl);
    t.write16(0, 3);
    const late = nsOfTick(1000);
    t.jump(late);
    while (t.timers.nextDeadline() <= late) t.timers.runDue(late);
    assert.equal(t.level(), true);
    assert.equal(t.pit.irqCount, ctl === 0x30 ? 1 : 2, 'mode 0: the terminal count; mode 4: the control word and the strobe');
  }
  const p = setup();
  p.ctl(0x34);
  p.write16(0, 10);
  const late = nsOfTick(100000);
  p.jump(late);
  let runs = 0;
  while (p.timers.nextDeadline() <= late) runs += p.timers.runDue(late);
  assert.ok(runs < 10, `a periodic counter skips ahead instead of replaying (${runs} timer runs)`);
});

test('a timer that runs a little late still delivers every periodic edge, in order', () => {
  const t = setup();
  t.ctl(0x34);
  t.write16(0, 20);
  for (let k = 1; k <= 50; k++) {
    const late = nsOfTick(k * 20 + 7); // each runDue comes 7 clocks after the rising edge
    t.jump(late);
    t.timers.runDue(late);
  }
  assert.equal(t.pit.irqCount, 1 + 50, 'the control word, then one edge per period');
});

test('a new count reads back at once, before the clock that loads it (Linux quick TSC calibration)', () => {
  const t = setup(nsOfTick(100) + 10);
  t.p61.ioWrite(0, 1, 0x01);
  t.ctl(0xb0);
  t.write16(2, 0xffff);
  assert.equal(t.read16(2), 0xffff);
  t.toTick(101 + 0x100);
  assert.equal(t.read16(2), 0xfeff);
});

test('mode 1 and mode 5 are triggered by the GATE rising edge (counter 2 via port 0x61)', () => {
  const t = setup();
  t.ctl(0xb2); // counter 2, mode 1
  t.write16(2, 10);
  t.toTick(20);
  assert.equal(t.out2(), true, 'no trigger yet');
  assert.equal(t.status(2) & 0x40, 0x40, 'null count until the trigger loads CR');
  t.p61.ioWrite(0, 1, 0x01);
  t.toTick(21);
  assert.equal(t.out2(), false, 'OUT low from the clock after the trigger');
  assert.equal(t.status(2) & 0x40, 0);
  t.toTick(26);
  t.p61.ioWrite(0, 1, 0x00);
  t.p61.ioWrite(0, 1, 0x01); // retrigger: starts over
  t.toTick(36);
  assert.equal(t.out2(), false);
  t.toTick(37);
  assert.equal(t.out2(), true);

  const s = setup();
  s.ctl(0xba); // counter 2, mode 5
  s.write16(2, 10);
  s.p61.ioWrite(0, 1, 0x01);
  s.toTick(11);
  assert.equal(s.out2(), false, 'strobe N clocks after the load');
  s.toTick(12);
  assert.equal(s.out2(), true);
});

test('GATE low pauses modes 0 and 4 and forces OUT high in modes 2 and 3 until a rising edge reloads', () => {
  const t = setup();
  t.ctl(0xb0); // counter 2, mode 0
  t.write16(2, 1000);
  t.toTick(100);
  t.ctl(0x80);
  assert.equal(t.read16(2), 1000, 'GATE low from reset: loaded but not counting');
  t.p61.ioWrite(0, 1, 0x01);
  t.toTick(200);
  t.p61.ioWrite(0, 1, 0x00);
  t.toTick(5000);
  assert.equal(t.read16(2), 900);
  assert.equal(t.out2(), false);
  t.p61.ioWrite(0, 1, 0x01);
  t.toTick(5000 + 899);
  assert.equal(t.out2(), false);
  t.toTick(5000 + 900);
  assert.equal(t.out2(), true);

  const r = setup();
  r.ctl(0xb4); // counter 2, mode 2
  r.p61.ioWrite(0, 1, 0x01);
  r.write16(2, 10);
  r.toTick(10);
  assert.equal(r.out2(), false, 'count 1');
  r.p61.ioWrite(0, 1, 0x00);
  assert.equal(r.out2(), true, 'GATE low drives OUT high at once');
  r.toTick(50);
  r.p61.ioWrite(0, 1, 0x01);
  r.toTick(51);
  assert.equal(r.read16(2), 10, 'reloaded on the clock after the rising edge');
});

test('mode 2: a new count written while counting takes effect at the end of the current period', () => {
  const t = setup();
  t.ctl(0x34);
  t.write16(0, 100);
  t.toTick(150); // inside the second period (101..201)
  t.write16(0, 40);
  assert.equal(t.status(0) & 0x40, 0x40, 'null count until the period ends');
  t.toTick(400);
  assert.deepEqual(t.rises, [0, 101, 201, 241, 281, 321, 361]);
  assert.equal(t.status(0) & 0x40, 0);
});

test('BCD counting: counts are decimal digits and wrap at 10000', () => {
  const t = setup();
  t.ctl(0x35); // counter 0, mode 2, BCD
  t.write16(0, 0x0100); // 100 decimal
  t.toTick(1 + 300);
  assert.deepEqual(t.rises, [0, 101, 201, 301]);
  t.toTick(301 + 37);
  assert.equal(t.read16(0), 0x0063);
  const w = setup();
  w.ctl(0x31); // mode 0, BCD, count 0 = 10000
  w.write16(0, 0);
  w.toTick(2);
  assert.equal(w.read16(0), 0x9999);
});

test('counter latch holds the value until read; a second latch is ignored; LSB-only and MSB-only access', () => {
  const t = setup();
  t.ctl(0x34);
  t.write16(0, 0xffff);
  t.toTick(1001);
  t.ctl(0x00);
  t.toTick(3001);
  t.ctl(0x00);
  assert.equal(t.read16(0), 0xffff - 1000);
  t.ctl(0x14); // LSB only
  t.ports.ioWrite(0, 1, 0x80);
  t.toTick(3002 + 0x10);
  assert.equal(t.ports.ioRead(0, 1), 0x70);
  assert.equal(t.ports.ioRead(0, 1), 0x70, 'LSB-only reads never toggle to the MSB');
  t.ctl(0x24); // MSB only: count 0x0200
  t.ports.ioWrite(0, 1, 0x02);
  t.toTick(3019 + 100);
  assert.equal(t.ports.ioRead(0, 1), 0x01, '0x200 - 100 = 0x19C');
});

test('reads and writes of a two-byte counter have separate flip-flops and may interleave', () => {
  const t = setup();
  t.ctl(0xb4); // counter 2 mode 2, GATE low: the CE takes the count but does not count
  t.write16(2, 0x1234);
  t.ports.ioWrite(2, 1, 0x78); // new LSB
  t.ctl(0x80);
  assert.equal(t.ports.ioRead(2, 1), 0x34, 'read LSB');
  t.ports.ioWrite(2, 1, 0x56); // new MSB: count 0x5678
  assert.equal(t.ports.ioRead(2, 1), 0x12, 'read MSB of the latched count');
  t.p61.ioWrite(0, 1, 0x01);
  t.toTick(1 + 11);
  t.ctl(0x80);
  assert.equal(t.read16(2), 0x5678 - 11);
});

test('read-back latches status (OUT, null count, programmed mode) before the count, for several counters', () => {
  const t = setup();
  t.ctl(0x3e); // counter 0, mode 7 (= 3), as written
  t.ctl(0x72); // counter 1, LSB/MSB, mode 1
  assert.equal(t.status(0), 0xc0 | 0x3e, 'OUT high, null count, bits as written');
  t.write16(0, 0x1000);
  t.toTick(5);
  t.ctl(0xc6); // read-back count and status of counters 0 and 1
  assert.equal(t.ports.ioRead(0, 1), 0x80 | 0x3e, 'status first, null count cleared by the load');
  assert.equal(t.read16(0), 0x1000 - 2 * 4);
  assert.equal(t.ports.ioRead(1, 1), 0xc0 | 0x32);
  t.ctl(0xd2); // count only, counter 0
  t.toTick(50);
  t.ctl(0xd2); // ignored: already latched
  assert.equal(t.read16(0), 0x1000 - 2 * 4, 'the first latch holds');
});

test('port 0x61: gate and speaker bits read back, bit 5 is OUT2, bit 4 toggles with refresh', () => {
  const t = setup();
  t.p61.ioWrite(0, 1, 0xff);
  assert.equal(t.p61.ioRead(0, 1) & 0xcf, 0x0f);
  assert.equal(t.pit.speakerOn, true);
  const seen = new Set<number>();
  for (let k = 0; k < 40; k++) {
    t.toTick(k * 7);
    seen.add(t.p61.ioRead(0, 1) & 0x10);
  }
  assert.deepEqual([...seen].sort(), [0, 0x10]);
});

test('PIT state survives save and restore: the restored PIT raises the same edges at the same ticks', () => {
  const a = setup();
  a.ctl(0x34);
  a.write16(0, 300);
  a.ctl(0xb6);
  a.write16(2, 77);
  a.p61.ioWrite(0, 1, 0x03);
  a.toTick(450);
  a.write16(0, 120); // pending until the period ends
  a.ctl(0x80); // counter 2 latched, not yet read
  const saved = JSON.parse(JSON.stringify(a.pit.save()));
  const b = setup(a.now());
  b.pit.restore(saved);
  assert.deepEqual(b.pit.save(), saved);
  assert.equal(b.level(), false, 'restore does not drive the line');
  assert.equal(b.read16(2), a.read16(2));
  a.toTick(1000);
  b.toTick(1000);
  assert.deepEqual(b.rises, a.rises.filter((r) => r > 450));
  assert.equal(b.read16(0), a.read16(0));
  assert.equal(b.out2(), a.out2());
});
