/**
 * Compiled code as an oracle: the C benchmark workload (sieve, CRC32, quicksort, x87 matrix
 * multiply, memset/memcpy), built by gcc -m32 -O2, must compute on tsxen's CPU the same checksum
 * as on the host processor. One round, so it takes a second or two.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildCBenchmark, runNative, runOnTsxen } from '../../bench/c-program.js';

test('gcc -O2 code computes the same results on tsxen as on the host CPU', (t) => {
  let build;
  try {
    build = buildCBenchmark(1);
  } catch (e) {
    if (process.env.CI === 'true') throw e;
    return t.skip((e as Error).message);
  }
  const native = runNative(build.native);
  const ours = runOnTsxen(build);
  assert.match(native.checksum, /^[0-9a-f]{8}$/);
  assert.equal(ours.checksum, native.checksum);
});
