import { test } from 'node:test';
import assert from 'node:assert/strict';
import { timeScaleFor, writeVcpuTime } from './time.js';

/** What a Linux guest computes from a vcpu_time_info (pvclock_scale_delta, 64-bit math). */
function guestNs(page: Uint8Array, tscNow: bigint): bigint {
  const dv = new DataView(page.buffer);
  const tscStamp = dv.getBigUint64(8, true), sys = dv.getBigUint64(16, true);
  const mul = BigInt(dv.getUint32(24, true)), shift = dv.getInt8(28);
  let delta = tscNow - tscStamp;
  delta = shift >= 0 ? delta << BigInt(shift) : delta >> BigInt(-shift);
  return sys + ((delta * mul) >> 32n);
}

test('pvclock: a guest reading the record gets system time consistent with its TSC, monotonic', () => {
  for (const hz of [1e9, 2.4e9, 3.3e8, 1.5e9]) {
    const s = timeScaleFor(hz);
    const page = new Uint8Array(64);
    const sys0 = 5e9, tsc0 = Math.floor((sys0 * hz) / 1e9);
    writeVcpuTime(page, 0, sys0, tsc0, s);
    assert.equal(new DataView(page.buffer).getUint32(0, true) % 2, 0, 'version even after an update');
    let last = -1n;
    for (const dns of [0, 1, 999, 1e6, 123456789, 3.6e12]) {
      const tsc = BigInt(Math.floor(((sys0 + dns) * hz) / 1e9));
      const ns = guestNs(page, tsc);
      const exact = (Number(tsc) * 1e9) / hz;
      assert.ok(Math.abs(Number(ns) - exact) <= 2 + exact * 1e-9, `${hz} Hz, +${dns} ns: ${ns} vs ${exact}`);
      assert.ok(ns >= last, 'monotonic');
      last = ns;
    }
  }
});
