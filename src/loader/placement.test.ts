import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BP } from './boot-params.js';
import { parseBzImage } from './bzimage.js';
import { prepareDirectBoot } from './direct-boot.js';
import { E820_ACPI, E820_RAM, pcE820 } from './e820.js';
import { BootImageError } from './errors.js';
import { fakeBzImage } from './fake-bzimage.js';
import { BOOT_CS, BOOT_DS, bootGdt, planBoot, planDirectBoot } from './placement.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '../../..');
const vmlinuz = join(root, 'guest/vmlinuz');
const initramfs = join(root, 'guest/initramfs.cpio.gz');
const MiB = 1048576;
const bad = (f: () => unknown, re: RegExp): void => {
  assert.throws(f, (e: unknown) => e instanceof BootImageError && re.test(e.message));
};

test('the real kernel and initramfs in 256 MiB', (t) => {
  if (!existsSync(vmlinuz) || !existsSync(initramfs)) return t.skip('guest/ absent (run scripts/guest-kit.sh)');
  const bz = parseBzImage(new Uint8Array(readFileSync(vmlinuz)));
  const initrdSize = readFileSync(initramfs).length;
  const p = planDirectBoot(bz, { ramBytes: 256 * MiB, initrdSize, cmdlineLength: 40 });
  assert.equal(p.kernel, 0x1000000, 'relocatable: loaded at pref_address');
  assert.equal(p.runtimeStart, 0x1000000);
  assert.equal(p.runtimeEnd, 0x1000000 + bz.initSize);
  assert.equal(p.initrd % 4096, 0);
  assert.ok(p.initrdEnd <= 256 * MiB && p.initrdEnd > 256 * MiB - 4096, 'initrd at the top of RAM');
  assert.equal(p.entry.eip, p.kernel);
  assert.equal(p.entry.esi, p.zeroPage);
  const low = planDirectBoot(bz, { ramBytes: 256 * MiB, initrdSize, kernelAt: 'code32' });
  assert.equal(low.kernel, 0x100000);
  assert.equal(low.runtimeStart, 0x1000000, 'the kernel moves itself up to 16 MiB');
  bad(() => planDirectBoot(bz, { ramBytes: 32 * MiB, initrdSize }), /not enough memory: the kernel's working memory \(init_size 17\.\d MiB from 0x1000000\) needs RAM up to 33\.\d MiB, but RAM from 1 MiB ends at 32\.0 MiB/);
  // 40 MiB: no room above the kernel, but below it (1-16 MiB) there is.
  const tight = planDirectBoot(bz, { ramBytes: 40 * MiB, initrdSize: 10 * MiB });
  assert.equal(tight.initrdEnd, 16 * MiB);
  bad(() => planDirectBoot(bz, { ramBytes: 40 * MiB, initrdSize: 10 * MiB, kernelAt: 'code32' }), /not enough memory for the initrd \(10\.0 MiB\)/);
});

test('prepareDirectBoot: the writes and the entry state for the real kernel', (t) => {
  if (!existsSync(vmlinuz) || !existsSync(initramfs)) return t.skip('guest/ absent (run scripts/guest-kit.sh)');
  const image = new Uint8Array(readFileSync(vmlinuz));
  const initrd = new Uint8Array(readFileSync(initramfs));
  const cmdline = 'console=ttyS0 tsxen.run="echo hi"';
  const b = prepareDirectBoot(image, { ramBytes: 128 * MiB, initrd, cmdline });
  const w = Object.fromEntries(b.writes.map((x) => [x.what, x]));
  assert.equal(w.kernel.addr, 0x1000000);
  assert.equal(w.kernel.data.length, image.length - b.bz.setup.length);
  assert.equal(w.initrd.addr, b.placement.initrd);
  assert.equal(w.initrd.data, initrd);
  assert.equal(String.fromCharCode(...w.cmdline.data), cmdline + '\0');
  const zp = new DataView(w['zero page'].data.buffer);
  assert.equal(w['zero page'].addr, b.entry.esi);
  assert.equal(zp.getUint32(BP.cmdLinePtr, true), w.cmdline.addr);
  assert.equal(zp.getUint32(BP.ramdiskImage, true), w.initrd.addr);
  assert.equal(zp.getUint32(BP.ramdiskSize, true), initrd.length);
  assert.equal(zp.getUint32(BP.code32Start, true), w.kernel.addr);
  assert.equal(w.gdt.addr, b.entry.gdtBase);
  // Nothing overlaps.
  const spans = b.writes.map((x) => [x.addr, x.addr + x.data.length] as const).sort((x, y) => x[0] - y[0]);
  for (let k = 1; k < spans.length; k++) assert.ok(spans[k][0] >= spans[k - 1][1], 'writes overlap');
  assert.ok(b.placement.initrd >= b.placement.runtimeEnd, 'initrd clear of the decompressing kernel');
});

test('entry state follows the 32-bit boot protocol', () => {
  const p = planDirectBoot(parseBzImage(fakeBzImage()), { ramBytes: 64 * MiB });
  const e = p.entry;
  assert.equal(e.cs.selector, BOOT_CS);
  for (const s of [e.ds, e.es, e.ss, e.fs, e.gs]) assert.equal(s.selector, BOOT_DS);
  for (const s of [e.cs, e.ds]) assert.deepEqual([s.base, s.limit], [0, 0xffffffff]);
  assert.deepEqual([e.ebp, e.edi, e.ebx], [0, 0, 0], 'the protocol requires EBP = EDI = EBX = 0');
  assert.equal(e.eflags & 0x200, 0, 'interrupts off');
  assert.equal(e.cr0 & 0x80000001, 1, 'protected mode, paging off');
  assert.equal(e.gdtLimit, 31);
  const gdt = new DataView(bootGdt().buffer);
  assert.equal(gdt.getUint32(0, true) + gdt.getUint32(4, true) + gdt.getUint32(8, true) + gdt.getUint32(12, true), 0);
  assert.equal(gdt.getUint32(BOOT_CS + 4, true), e.cs.descriptor[1]);
  assert.equal(gdt.getUint32(BOOT_CS + 4, true), 0x00cf9b00, 'code: present, DPL0, execute/read, 32-bit, 4 KiB granular');
  assert.equal(gdt.getUint32(BOOT_DS + 4, true), 0x00cf9300, 'data: present, DPL0, read/write');
  assert.equal(gdt.getUint32(BOOT_DS, true), 0x0000ffff);
  // Low addresses sit in conventional RAM, clear of each other.
  assert.ok(p.gdt + 32 <= p.stackTop - 4096 && p.stackTop <= p.zeroPage && p.zeroPage + 4096 <= p.cmdline && p.cmdline < 0x9f000);
});

test('placement rules on synthetic kernels', () => {
  // Non-relocatable: at code32_start, runs at pref_address.
  const fixed = parseBzImage(fakeBzImage({ relocatable: false, prefAddress: 0x1000000, initSize: 0x800000 }));
  const f = planDirectBoot(fixed, { ramBytes: 64 * MiB, initrdSize: MiB });
  assert.deepEqual([f.kernel, f.runtimeStart, f.runtimeEnd], [0x100000, 0x1000000, 0x1800000]);
  bad(() => planDirectBoot(fixed, { ramBytes: 64 * MiB, kernelAt: 0x2000000 }), /not relocatable/);
  // Relocatable at an explicit address: runtime is that address aligned up.
  const r = parseBzImage(fakeBzImage({ prefAddress: 0x1000000, kernelAlignment: 0x200000 }));
  const at = planDirectBoot(r, { ramBytes: 64 * MiB, kernelAt: 0x2100000 });
  assert.deepEqual([at.kernel, at.runtimeStart], [0x2100000, 0x2200000]);
  bad(() => planDirectBoot(r, { ramBytes: 64 * MiB, kernelAt: 0x2100800 }), /page aligned/);
  // initrd_addr_max below the top of RAM caps the initrd.
  const capped = parseBzImage(fakeBzImage({ initrdAddrMax: 0x37ffffff }));
  const c = planDirectBoot(capped, { ramBytes: 2048 * MiB, initrdSize: 3 * MiB + 5 });
  assert.equal(c.initrdEnd <= 0x38000000 && c.initrdEnd > 0x38000000 - 4096, true);
  assert.equal(c.initrd % 4096, 0);
  // Reserved ranges at the top of RAM (ACPI tables) are avoided.
  const e820 = pcE820(64 * MiB, [{ addr: 64 * MiB - 0x10000, size: 0x10000, type: E820_ACPI }]);
  const a = planDirectBoot(r, { e820, initrdSize: MiB });
  assert.equal(a.initrdEnd <= 64 * MiB - 0x10000, true);
  // RAM above 4 GiB is never used for the initrd of a 32-bit boot.
  const big = planDirectBoot(r, { ramBytes: 5120 * MiB, initrdSize: MiB });
  assert.equal(big.initrdEnd <= 0x80000000, true, 'initrd_addr_max 0x7fffffff');
  // Errors.
  bad(() => planDirectBoot(r, {}), /RAM size or a memory map/);
  bad(() => planDirectBoot(r, { ramBytes: 64 * MiB, cmdlineLength: 5000 }), /5000 bytes; this kernel accepts at most 2047/);
  bad(() => planDirectBoot(r, { ramBytes: 16 * MiB }), /not enough memory: the kernel image/);
  bad(() => planDirectBoot(r, { e820: [{ addr: MiB, size: 63 * MiB, type: E820_RAM }] }), /no RAM for the boot GDT/);
  bad(() => planDirectBoot(r, { ramBytes: 64 * MiB, initrdSize: 60 * MiB }), /not enough memory for the initrd/);
  bad(() => planDirectBoot(r, { ramBytes: 64 * MiB, initrdSize: -1 }), /initrd size/);
});

test('legacy planBoot: kernel at code32_start (callers enter there)', () => {
  const bz = parseBzImage(fakeBzImage());
  const l = planBoot(bz, 64 * MiB, MiB, 'console=ttyS0');
  assert.equal(l.kernel, 0x100000);
  assert.equal(l.initrd, 63 * MiB);
  assert.equal(l.zeroPage, 0x10000);
  assert.ok(l.cmdline > l.zeroPage);
  bad(() => planBoot(bz, 64 * MiB, 0, 'x'.repeat(3000)), /command line/);
});
