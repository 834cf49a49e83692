import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BootImageError, LOADED_HIGH, detectCompression, parseBzImage, payloadUncompressedSize, protocolString } from './bzimage.js';
import { fakeBzImage } from './fake-bzimage.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '../../..');
const vmlinuz = join(root, 'guest/vmlinuz');

test('the bundled Debian bzImage parses', (t) => {
  if (!existsSync(vmlinuz)) return t.skip('guest/vmlinuz absent (run scripts/guest-kit.sh)');
  const img = new Uint8Array(readFileSync(vmlinuz));
  const bz = parseBzImage(img);
  assert.ok(bz.version >= 0x020f, protocolString(bz.version));
  assert.equal(bz.bootFlag, 0xaa55);
  assert.equal(bz.setup.length, (bz.setupSects + 1) * 512);
  assert.equal(bz.setup.length + bz.kernel.length, img.length);
  assert.ok(bz.syssize * 16 <= bz.kernel.length);
  assert.ok(bz.loadFlags & LOADED_HIGH);
  assert.equal(bz.code32Start, 0x100000);
  assert.equal(bz.relocatable, true);
  assert.equal(bz.prefAddress, 0x1000000, 'Debian i386: CONFIG_PHYSICAL_START=16 MiB');
  assert.equal(bz.kernelAlignment, 0x1000000);
  assert.equal(bz.cmdlineSize, 2047);
  assert.equal(bz.initrdAddrMax, 0x7fffffff);
  assert.ok(bz.initSize > bz.kernel.length, `init_size ${bz.initSize}`);
  assert.equal(bz.compression, 'xz', 'Debian builds CONFIG_KERNEL_XZ');
  assert.equal(bz.payload.length, bz.payloadLength);
  assert.deepEqual([...bz.payload.subarray(0, 6)], [0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]);
  assert.equal(bz.payload.byteOffset, img.byteOffset + bz.setup.length + bz.payloadOffset, 'payload is a view, not a copy');
  const unpacked = payloadUncompressedSize(bz);
  assert.ok(unpacked > bz.payloadLength && unpacked < bz.initSize, `uncompressed ${unpacked}`);
  assert.match(bz.kernelVersion ?? '', /^6\.1\.0-\d+-686-pae \(debian-kernel@lists\.debian\.org\) #1 SMP/);
  assert.equal(bz.headerEnd, 0x202 + img[0x201]);
  assert.ok(bz.kernelInfoOffset > 0 && bz.handoverOffset > 0);
});

test('a synthetic header parses field by field', () => {
  const bz = parseBzImage(fakeBzImage({ version: 0x020c, xloadflags: 0x3, initSize: 0x123000, setupSects: 0 }));
  assert.equal(bz.setupSects, 4, 'setup_sects 0 means 4');
  assert.equal(bz.setup.length, 5 * 512);
  assert.equal(bz.version, 0x020c);
  assert.equal(bz.xloadflags, 3);
  assert.equal(bz.initSize, 0x123000);
  assert.equal(bz.kernelInfoOffset, 0, 'kernel_info is 2.15+');
  assert.equal(bz.compression, 'gzip');
  assert.equal(bz.kernelVersion, '6.1.0-fake (test) #1');
  assert.equal(parseBzImage(fakeBzImage({ versionString: null })).kernelVersion, null);
});

test('malformed images are refused with a reason', () => {
  const bad = (img: Uint8Array, re: RegExp): void => {
    assert.throws(() => parseBzImage(img), (e: unknown) => e instanceof BootImageError && re.test(e.message));
  };
  bad(new Uint8Array(100), /too short/);
  bad(fakeBzImage().subarray(0, 0x260), /too short/);
  const noSig = fakeBzImage();
  noSig[0x1fe] = 0;
  bad(noSig, /boot signature \(0xAA55/);
  const noHdr = fakeBzImage();
  noHdr[0x203] = 0;
  bad(noHdr, /"HdrS"/);
  bad(fakeBzImage({ version: 0x0204 }), /protocol 2\.04 is too old \(need 2\.06/);
  const noJump = fakeBzImage();
  noJump[0x200] = 0x90;
  bad(noJump, /short jump/);
  const shortHdr = fakeBzImage();
  shortHdr[0x201] = 0x10;
  bad(shortHdr, /setup header is .* too short/);
  bad(fakeBzImage({ loadFlags: 0 }), /zImage/);
  bad(fakeBzImage().subarray(0, 5 * 512), /truncated: it ends inside its 2560-byte setup/);
  bad(fakeBzImage().subarray(0, 5 * 512 + 1000), /truncated: syssize says 65536 bytes/);
  bad(fakeBzImage({ payloadOffset: 0x100, payloadLength: 65536 }), /payload .* runs past/);
  bad(fakeBzImage({ kernelAlignment: 0x300000 }), /kernel_alignment 0x300000/);
  bad(fakeBzImage({ initSize: 0 }), /init_size 0/);
  const bigSetup = fakeBzImage();
  bigSetup[0x1f1] = 200;
  bad(bigSetup, /truncated/);
});

test('payload compression is detected by magic', () => {
  const d = (...b: number[]): string => detectCompression(new Uint8Array([...b, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]));
  assert.equal(d(0x1f, 0x8b, 0x08), 'gzip');
  assert.equal(d(0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00), 'xz');
  assert.equal(d(0x5d, 0x00, 0x00, 0x80, 0x00), 'lzma');
  assert.equal(d(0x42, 0x5a, 0x68, 0x39), 'bzip2');
  assert.equal(d(0x42, 0x5a, 0x68, 0x00), 'unknown', 'BZh needs a block size digit');
  assert.equal(d(0x89, 0x4c, 0x5a, 0x4f, 0x00, 0x0d, 0x0a, 0x1a, 0x0a), 'lzo');
  assert.equal(d(0x02, 0x21, 0x4c, 0x18), 'lz4');
  assert.equal(d(0x04, 0x22, 0x4d, 0x18), 'lz4');
  assert.equal(d(0x28, 0xb5, 0x2f, 0xfd), 'zstd');
  assert.equal(d(0x7f, 0x45, 0x4c, 0x46), 'none');
  assert.equal(d(0x12, 0x34), 'unknown');
  assert.equal(detectCompression(new Uint8Array([0x1f])), 'unknown', 'too short for any magic');
  assert.equal(parseBzImage(fakeBzImage({ payloadMagic: [0x28, 0xb5, 0x2f, 0xfd] })).compression, 'zstd');
});
