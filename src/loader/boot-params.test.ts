import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BP, buildBootParams, buildZeroPage, encodeCmdline } from './boot-params.js';
import { parseBzImage } from './bzimage.js';
import { E820_ACPI, E820_RAM, pcE820 } from './e820.js';
import { BootImageError } from './errors.js';
import { fakeBzImage } from './fake-bzimage.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '../../..');
const vmlinuz = join(root, 'guest/vmlinuz');
const MiB = 1048576;
const bad = (f: () => unknown, re: RegExp): void => {
  assert.throws(f, (e: unknown) => e instanceof BootImageError && re.test(e.message));
};

test('the zero page carries the header and the loader fields', () => {
  const img = fakeBzImage({ loadFlags: 0x01 | 0x02 | 0x20 | 0x40 });
  const bz = parseBzImage(img);
  const e820 = pcE820(64 * MiB, [{ addr: 64 * MiB - 0x10000, size: 0x10000, type: E820_ACPI }]);
  const zp = buildBootParams(bz, { cmdlineAddr: 0x20000, initrdAddr: 60 * MiB, initrdSize: 1234567, e820, kernelAddr: 0x1000000 });
  const dv = new DataView(zp.buffer);
  assert.equal(zp.length, 4096);
  // Header bytes copied verbatim, except the fields the loader owns.
  const owned = new Set<number>();
  for (const [o, n] of [[BP.typeOfLoader, 1], [BP.loadFlags, 1], [BP.code32Start, 4], [BP.ramdiskImage, 4], [BP.ramdiskSize, 4], [BP.heapEndPtr, 2], [BP.cmdLinePtr, 4]]) {
    for (let k = 0; k < n; k++) owned.add(o + k);
  }
  for (let o = 0x1f1; o < bz.headerEnd; o++) if (!owned.has(o)) assert.equal(zp[o], img[o], `header byte ${o.toString(16)}`);
  for (let o = bz.headerEnd; o < BP.e820Table; o++) assert.equal(zp[o], 0, `past the header ${o.toString(16)}`);
  assert.equal(zp[BP.sentinel], 0);
  assert.equal(zp[BP.typeOfLoader], 0xff);
  assert.equal(zp[BP.loadFlags], 0x01 | 0x20 | 0x80, 'LOADED_HIGH and QUIET kept, CAN_USE_HEAP set, KASLR/KEEP_SEGMENTS cleared');
  assert.equal(dv.getUint16(BP.heapEndPtr, true), 0xde00);
  assert.equal(dv.getUint32(BP.code32Start, true), 0x1000000);
  assert.equal(dv.getUint32(BP.cmdLinePtr, true), 0x20000);
  assert.equal(dv.getUint32(BP.ramdiskImage, true), 60 * MiB);
  assert.equal(dv.getUint32(BP.ramdiskSize, true), 1234567);
  assert.equal(dv.getUint32(BP.extRamdiskImage, true), 0);
  assert.equal(dv.getUint32(BP.extCmdLinePtr, true), 0);
  // The e820 table.
  assert.equal(zp[BP.e820Entries], e820.length);
  e820.forEach((e, k) => {
    const o = BP.e820Table + k * 20;
    assert.equal(dv.getUint32(o, true) + dv.getUint32(o + 4, true) * 2 ** 32, e.addr);
    assert.equal(dv.getUint32(o + 8, true) + dv.getUint32(o + 12, true) * 2 ** 32, e.size);
    assert.equal(dv.getUint32(o + 16, true), e.type);
  });
  assert.equal(dv.getUint32(BP.e820Table + e820.length * 20, true), 0, 'nothing after the last entry');
  assert.equal(dv.getUint32(BP.altMemK, true), (63 * MiB - 0x10000) / 1024);
  assert.equal(dv.getUint16(BP.extMemK, true), (63 * MiB - 0x10000) / 1024);
  // No video unless asked.
  for (let o = 0x04; o < 0x40; o++) assert.equal(zp[o], 0);
});

test('screen_info, ACPI RSDP, setup_data and entries above 4 GiB', () => {
  const bz = parseBzImage(fakeBzImage());
  const e820 = pcE820(6144 * MiB);
  const zp = buildBootParams(bz, { cmdlineAddr: 0x20000, e820, vgaText: true, acpiRsdpAddr: 0xf5a10, setupData: 0x30000 });
  const dv = new DataView(zp.buffer);
  assert.deepEqual([zp[BP.origVideoMode], zp[BP.origVideoCols], zp[BP.origVideoLines], zp[BP.origVideoIsVGA]], [3, 80, 25, 1]);
  assert.equal(dv.getUint16(BP.origVideoPoints, true), 16);
  assert.equal(dv.getUint32(BP.acpiRsdpAddr, true), 0xf5a10);
  assert.equal(dv.getUint32(BP.setupData, true), 0x30000);
  assert.equal(dv.getUint32(BP.ramdiskImage, true), 0, 'no initrd');
  const hi = BP.e820Table + 4 * 20;
  assert.equal(dv.getUint32(hi, true), 0);
  assert.equal(dv.getUint32(hi + 4, true), 1, 'addr 4 GiB: high dword 1');
  assert.equal(dv.getUint32(hi + 8, true) + dv.getUint32(hi + 12, true) * 2 ** 32, 6144 * MiB - 0xe0000000);
  assert.equal(dv.getUint32(BP.altMemK, true), (0xe0000000 - MiB) / 1024);
  assert.equal(dv.getUint16(BP.extMemK, true), 0xffff, 'int 15h/88h caps at 64 MiB');
});

test('zero page requests the kernel cannot take are refused', () => {
  const bz = parseBzImage(fakeBzImage({ initrdAddrMax: 0x37ffffff }));
  const e820 = pcE820(64 * MiB);
  bad(() => buildBootParams(bz, { cmdlineAddr: 0x20000, e820: Array.from({ length: 129 }, (_, k) => ({ addr: k * 4096, size: 4096, type: E820_RAM })) }), /129 entries/);
  bad(() => buildBootParams(bz, { cmdlineAddr: 0x20000, e820, initrdAddr: 0x37fff000, initrdSize: 0x2000 }), /initrd_addr_max 0x37ffffff/);
  bad(() => buildBootParams(bz, { cmdlineAddr: 0x20000, e820, initrdAddr: 0x1000800, initrdSize: 0x2000 }), /not page aligned/);
  bad(() => buildBootParams(bz, { cmdlineAddr: 2 ** 33, e820 }), /above 4 GiB/);
  bad(() => buildBootParams(bz, { cmdlineAddr: -5, e820 }), /not a valid address/);
  bad(() => buildBootParams(parseBzImage(fakeBzImage({ version: 0x0208 })), { cmdlineAddr: 0x20000, e820, setupData: 0x30000 }), /2\.09/);
  bad(() => buildBootParams(parseBzImage(fakeBzImage({ version: 0x020d })), { cmdlineAddr: 0x20000, e820, acpiRsdpAddr: 0xf0000 }), /2\.14/);
  // A 64-bit-capable kernel may have its initrd above initrd_addr_max / 4 GiB: ext fields carry it.
  const k64 = parseBzImage(fakeBzImage({ xloadflags: 0x3 }));
  const zp = buildBootParams(k64, { cmdlineAddr: 0x20000, e820, initrdAddr: 0x140000000, initrdSize: 0x1000 });
  const dv = new DataView(zp.buffer);
  assert.equal(dv.getUint32(BP.ramdiskImage, true), 0x40000000);
  assert.equal(dv.getUint32(BP.extRamdiskImage, true), 1);
});

test('command lines are encoded with a NUL and checked against cmdline_size', () => {
  const bz = parseBzImage(fakeBzImage({ cmdlineSize: 16 }));
  assert.deepEqual([...encodeCmdline('quiet', bz)], [0x71, 0x75, 0x69, 0x65, 0x74, 0]);
  assert.equal(encodeCmdline('x'.repeat(16), bz).length, 17, 'cmdline_size excludes the NUL');
  bad(() => encodeCmdline('x'.repeat(17), bz), /17 bytes; this kernel accepts at most 16/);
  bad(() => encodeCmdline('a\u0000b', bz), /unsupported character/);
  bad(() => encodeCmdline('\u20ac', bz), /unsupported character/);
});

test('the real kernel: its own header lands in the zero page (legacy buildZeroPage)', (t) => {
  if (!existsSync(vmlinuz)) return t.skip('guest/vmlinuz absent (run scripts/guest-kit.sh)');
  const img = new Uint8Array(readFileSync(vmlinuz));
  const bz = parseBzImage(img);
  const zp = buildZeroPage(bz, { cmdline: 0x20000, initrd: 200 * MiB, kernel: 0x100000 }, 2 * MiB, pcE820(256 * MiB));
  assert.deepEqual([...zp.subarray(0x1f1, 0x210)], [...img.subarray(0x1f1, 0x210)]);
  assert.deepEqual([...zp.subarray(0x230, bz.headerEnd)], [...img.subarray(0x230, bz.headerEnd)]);
  const dv = new DataView(zp.buffer);
  assert.equal(dv.getUint32(BP.ramdiskImage, true), 200 * MiB);
  assert.equal(dv.getUint32(BP.ramdiskSize, true), 2 * MiB);
  assert.equal(zp[BP.e820Entries], 4);
});
