import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MachineClock } from './clock.js';

test('deterministic time follows retired instructions and skips idle time', () => {
  let retired = 0;
  const clk = new MachineClock('deterministic', () => 123456789, () => retired, 2);
  assert.equal(clk.now(), 0);
  retired = 500;
  assert.equal(clk.now(), 1000);
  assert.deepEqual(clk.idleUntil(5000), { waitNs: 0 });
  assert.equal(clk.now(), 5000);
  retired = 600;
  assert.equal(clk.now(), 5200);
});

test('host-following time converges on the host clock and stays monotonic', () => {
  let host = 1_000_000, retired = 0;
  const clk = new MachineClock('host', () => host, () => retired);
  let last = 0;
  // The guest executes 10 M instructions per host second (10 MIPS): 100 ns each.
  for (let k = 0; k < 200; k++) {
    retired += 100_000;
    host += 10_000_000;
    const t = clk.now();
    assert.ok(t >= last, 'never backwards');
    last = t;
    clk.sync();
  }
  const guest = clk.now(), elapsed = host - 1_000_000;
  assert.ok(Math.abs(guest - elapsed) / elapsed < 0.05, `guest ${guest} tracks host ${elapsed}`);
});

test('idling in host mode jumps guest time and asks the host to wait for it', () => {
  let host = 0, retired = 0;
  const clk = new MachineClock('host', () => host, () => retired);
  const { waitNs } = clk.idleUntil(5_000_000);
  assert.equal(clk.now(), 5_000_000);
  assert.equal(waitNs, 5_000_000);
  host = 7_000_000;
  assert.deepEqual(clk.idleUntil(6_000_000), { waitNs: 0 }, 'the host is already past it');
});

test('clock state round-trips through save and restore', () => {
  let retired = 0;
  const a = new MachineClock('deterministic', () => 0, () => retired);
  a.idleUntil(777);
  const b = new MachineClock('deterministic', () => 0, () => retired);
  b.restore(a.save());
  assert.equal(b.now(), a.now());
});
