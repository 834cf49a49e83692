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

test('host time follows the host clock and asks the caller to wait for deadlines', () => {
  let host = 1_000_000;
  const clk = new MachineClock('host', () => host, () => 0);
  host += 250;
  assert.equal(clk.now(), 250);
  assert.deepEqual(clk.idleUntil(1250), { waitNs: 1000 });
  assert.deepEqual(clk.idleUntil(100), { waitNs: 0 });
});

test('clock state round-trips through save and restore', () => {
  let retired = 0;
  const a = new MachineClock('deterministic', () => 0, () => retired);
  a.idleUntil(777);
  const b = new MachineClock('deterministic', () => 0, () => retired);
  b.restore(a.save());
  assert.equal(b.now(), a.now());
});
