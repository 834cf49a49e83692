/**
 * The fully virtualized path end to end: Debian's SeaBIOS POSTs, reads the MBR of an IDE disk
 * built by scripts/make-disk.sh, SYSLINUX loads the bundled stock kernel and initramfs from its
 * FAT partition through INT 13h, and Linux boots to userland on ttyS0 with SeaBIOS's own ACPI
 * tables. Then the guest's ata_piix driver reads and writes a second IDE disk, checked on the
 * host, and `poweroff -f` reaches the PIIX4 PM block at the address SeaBIOS gave it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { repoRoot, runMachines } from './testing/guests.js';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HvmMachine } from '../../src/machine/hvm.js';
import { MemoryBlockStore } from '../../src/pv/block/block-store.js';

const BIOS = '/usr/share/seabios/bios-256k.bin';
const tools = ['/usr/sbin/sfdisk', '/usr/sbin/mkfs.vfat', '/usr/bin/mcopy', '/usr/bin/syslinux', '/usr/lib/syslinux/mbr/mbr.bin', BIOS];
const missingTool = tools.find((t) => !existsSync(t));
// Opt-in for now: alone it passes (~75 s), but in the parallel suite ata_piix found no disk within
// the guest's wait in two CI runs out of two; until that is understood it must not gate CI.
const skip = process.env.TSXEN_HVM_BOOT !== '1' ? 'set TSXEN_HVM_BOOT=1 (flaky under the parallel suite, see the note on #5)'
  : missingTool ? `${missingTool} not found (apt-get install seabios syslinux syslinux-common mtools dosfstools fdisk)` : false;

function makeDisk(append: string): Uint8Array {
  const dir = mkdtempSync(join(tmpdir(), 'tsxen-hvm-'));
  try {
    const img = join(dir, 'boot.img');
    execFileSync('bash', [join(repoRoot, 'scripts/make-disk.sh'), img, '--size', '32', '--append', append], { stdio: ['ignore', 'ignore', 'pipe'] });
    return new Uint8Array(readFileSync(img));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function store(bytes: Uint8Array): MemoryBlockStore {
  const s = new MemoryBlockStore(bytes.length);
  s.data.set(bytes);
  return s;
}

test('HVM: SeaBIOS -> MBR -> SYSLINUX -> the stock kernel to userland; ata_piix reads and writes an IDE disk; ACPI power-off', { skip, timeout: 600_000 }, async () => {
  assert.ok(!missingTool, `${missingTool} is required under CI=true`);
  // No double quotes inside: the initramfs takes tsxen.run="..." up to the next one.
  const cmd = [
    'cat /proc/cmdline',
    // libata probes asynchronously: wait for both disks, then tell them apart by size (the names
    // follow probe order).
    'i=0; while [ ! -e /sys/block/sdb ] && [ $i -lt 120 ]; do sleep 1; i=$((i+1)); done',
    'for d in sda sdb; do s=$(cat /sys/block/$d/size); echo disk-size=$s; [ $s = 8192 ] && D=/dev/$d; done',
    'dd if=$D bs=512 skip=3 count=1 2>/dev/null | head -c 17; echo',
    'echo written-by-ata_piix | dd of=$D bs=512 seek=7 conv=fsync 2>/dev/null',
    "dmesg | grep -q 'ACPI: RSDP.*BOCHS' && echo acpi=seabios",
    "dmesg | grep -i -E 'oops|call trace|BUG:|ata[0-9.]*: .*(error|failed|timeout)' | grep -v 'command line' | sed 's/^/bad: /'",
  ].join('; ');
  const boot = makeDisk(`quiet tsxen.modules=ata_piix,sd_mod tsxen.run="${cmd}"`);
  const data = new Uint8Array(4 << 20);
  data.set(new TextEncoder().encode('host-sector-three'), 3 * 512);
  const second = store(data);
  let serial = '';
  const m = new HvmMachine({
    memoryMiB: 256, bios: new Uint8Array(readFileSync(BIOS)), clockMode: 'host',
    hostNowNs: () => performance.now() * 1e6, wallclockMs: Date.now(),
    serialOutput: (b) => { serial += String.fromCharCode(b); },
    disks: [store(boot), second],
  });
  const [status] = await runMachines([m], 540_000, 2_000_000);
  const tail = serial.split('\n').slice(-25).join('\n');
  assert.equal(status?.kind, 'poweroff', `status ${JSON.stringify(status)}; serial tail:\n${tail}`);
  assert.match(serial, /SeaBIOS \(version 1\.\d+/);
  assert.match(serial, /SYSLINUX 6\.\d+/);
  assert.match(serial, /BOOT_IMAGE=\/vmlinuz console=ttyS0 quiet/, 'SYSLINUX passed its command line');
  assert.match(serial, /tsxen-guest: ready/);
  assert.match(serial, /acpi=seabios/, 'Linux uses the ACPI tables SeaBIOS built');
  assert.match(serial, /disk-size=65536/, 'the boot disk, seen by sd_mod');
  assert.match(serial, /disk-size=8192/, 'the data disk, seen by sd_mod');
  assert.match(serial, /host-sector-three/, 'ata_piix read what the host put on the disk');
  assert.doesNotMatch(serial, /^bad: /m, 'no oops, call trace or ATA error in dmesg');
  assert.match(serial, /tsxen-guest: exit 0/);
  assert.equal(new TextDecoder().decode(second.data.subarray(7 * 512, 7 * 512 + 19)), 'written-by-ata_piix', 'the write reached the disk');
});
