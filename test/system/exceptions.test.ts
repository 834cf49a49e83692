import { test } from 'node:test';
import assert from 'node:assert/strict';
import { kernelTest, nasmSkip, runKernel } from './run-kernel.js';

kernelTest(
  test,
  'exceptions and interrupts: restart, double faults, task gates, shadows, NMI, task switches',
  'exceptions',
);

test('triple fault shuts the processor down', { skip: nasmSkip() }, () => {
  const r = runKernel('triple');
  assert.equal(r.end, 'shutdown', r.output);
  assert.deepEqual(r.lines, ['PASS protected mode reached', 'about to triple fault'], r.output);
});
