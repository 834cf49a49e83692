import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildZeroPage, parseBzImage, pcE820, planBoot } from './bzimage.js';

/** A synthetic bzImage: a setup header and a small protected-mode part. */
function fakeImage(version = 0x020f): Uint8Array {
  const img = new Uint8Array(5 * 512 + 4096);
  const dv = new DataView(img.buffer);
  img[0x1f1] = 4;
  dv.setUint16(0x1fe, 0xaa55, true);
  img[0x201] = 0x6a;
  dv.setUint32(0x202, 0x53726448, true);
  dv.setUint16(0x206, version, true);
  img[0x211] = 1;
  dv.setUint32(0x214, 0x100000, true);
  dv.setUint32(0x22c, 0x7fffffff, true);
  dv.setUint32(0x238, 2048, true);
  dv.setUint32(0x260, 0x800000, true);
  return img;
}

test('a bzImage header is parsed and a zero page built from it', () => {
  const bz = parseBzImage(fakeImage());
  assert.equal(bz.version, 0x020f);
  assert.equal(bz.kernel.length, 4096);
  const layout = planBoot(bz, 64 << 20, 1 << 20, 'console=ttyS0');
  assert.equal(layout.initrd, (64 << 20) - (1 << 20));
  const zp = buildZeroPage(bz, layout, 1 << 20, pcE820(64 << 20));
  const dv = new DataView(zp.buffer);
  assert.equal(zp[0x210], 0xff);
  assert.equal(dv.getUint32(0x228, true), layout.cmdline);
  assert.equal(dv.getUint32(0x218, true), layout.initrd);
  assert.equal(zp[0x1e8], 4);
  assert.equal(dv.getUint32(0x2d0 + 3 * 20 + 8, true), (64 << 20) - 0x100000);
});

test('malformed and unsuitable images are refused with a reason', () => {
  assert.throws(() => parseBzImage(new Uint8Array(100)), /too short/);
  const noSig = fakeImage();
  noSig[0x1fe] = 0;
  assert.throws(() => parseBzImage(noSig), /no boot signature/);
  const noHdr = fakeImage();
  noHdr[0x202] = 0;
  assert.throws(() => parseBzImage(noHdr), /HdrS/);
  assert.throws(() => parseBzImage(fakeImage(0x0204)), /too old/);
  assert.throws(() => planBoot(parseBzImage(fakeImage()), 8 << 20, 0, ''), /not enough memory/);
  assert.throws(() => planBoot(parseBzImage(fakeImage()), 64 << 20, 0, 'x'.repeat(3000)), /command line/);
});
