import { test } from 'node:test';
import assert from 'node:assert/strict';
import { completePartialChecksum, fold, sum16 } from './checksum.js';

/** Builds Ethernet+IPv4+UDP with the checksum field holding only the pseudo-header sum. */
function udpFrame(payload: number[]): Uint8Array {
  const udpLen = 8 + payload.length, ipLen = 20 + udpLen;
  const f = new Uint8Array(14 + ipLen);
  f[12] = 0x08;
  f[13] = 0x00;
  const ip = 14;
  f.set([0x45, 0, ipLen >> 8, ipLen & 0xff, 0, 0, 0, 0, 64, 17, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2], ip);
  const u = ip + 20;
  f.set([0x12, 0x34, 0x00, 0x35, udpLen >> 8, udpLen & 0xff, 0, 0], u);
  f.set(payload, u + 8);
  const pseudo = fold(0x0a00 + 0x0001 + 0x0a00 + 0x0002 + 17 + udpLen);
  f[u + 6] = pseudo >> 8;
  f[u + 7] = pseudo & 0xff;
  return f;
}

test('a partial UDP checksum is completed so the whole pseudo-header sum verifies', () => {
  const f = udpFrame([1, 2, 3, 4, 5]);
  assert.equal(completePartialChecksum(f), true);
  // Receiver's check: pseudo header + segment (with the checksum) sums to 0xffff.
  const u = 34, len = f.length - u;
  const s = fold(sum16(f, u, f.length, 0x0a00 + 0x0001 + 0x0a00 + 0x0002 + 17 + len));
  assert.equal(s, 0xffff);
});

test('frames that are not IPv4 TCP/UDP are left alone', () => {
  const arp = new Uint8Array(60);
  arp[12] = 0x08;
  arp[13] = 0x06;
  assert.equal(completePartialChecksum(arp), false);
  assert.equal(completePartialChecksum(new Uint8Array(10)), false);
});
