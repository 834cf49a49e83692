/**
 * Boots the bundled Debian kernel unmodified as a Xen PVH domain: the kernel's PVH entry from its
 * ELF note (the bzImage's xz payload unpacked on the host), hvm_start_info, the Xen CPUID leaves
 * and hypercalls, event channels through the callback vector, the Xen clocksource and timer, its
 * console on hvc0 through the PV console ring, and its own xen-blkfront against tsxen's blkback.
 * The kernel's own Xen code is the oracle; a host-side look at the image files checks the data.
 *
 * Boot 1 makes an ext2 filesystem on xvda and writes files, and pushes 1 MiB of random data raw
 * through xvdb. Boot 2 attaches xvda read-only and reads the files back.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { PvhMachine, type PvhStatus } from '../../src/machine/pvh.js';
import { XenHost } from '../../src/machine/xen-host.js';
import { kernelElf } from '../../src/loader/kernel-payload.js';
import { nodeDecompress } from '../../src/host/node/decompress.js';
import { drive } from '../../src/toolstack/drive.js';
import { FileBlockStore } from '../../src/host/node/file-block-store.js';
import type { PvDisk } from '../../src/pv/xenbus/index.js';

const root = join(fileURLToPath(import.meta.url), '../../../..');
const kernelPath = join(root, 'guest/vmlinuz'), initrdPath = join(root, 'guest/initramfs.cpio.gz');
const NO_OOPS = "dmesg | grep -v 'command line' | grep -c -i -e 'call trace' -e oops -e 'BUG:'";

async function bootPvh(cmd: string, disks: PvDisk[]): Promise<{ out: string; status: unknown; m: PvhMachine }> {
  let out = '';
  const dec = new TextDecoder();
  const m = new PvhMachine({
    host: new XenHost(), name: 'pvh-test', memoryMiB: 256,
    kernelElf: await kernelElf(new Uint8Array(readFileSync(kernelPath)), nodeDecompress),
    initrd: new Uint8Array(readFileSync(initrdPath)),
    cmdline: `console=hvc0 tsxen.modules=xen-blkfront,ext4 tsxen.run="${cmd}"`,
    clockMode: 'host', hostNowNs: () => performance.now() * 1e6, wallclockMs: Date.now(),
    consoleOutput: (b) => { out += dec.decode(b, { stream: true }); },
    disks,
  });
  const status = await drive<PvhStatus>(m, { timeoutMs: 600_000 });
  m.destroy();
  return { out, status, m };
}

test('the stock Debian kernel boots as a PVH domain: hvc0, xen-blkfront, data survives a reboot', { timeout: 1_500_000 }, async (t) => {
  if (!existsSync(kernelPath)) return t.skip('guest/ not built (scripts/guest-kit.sh)');
  const dir = mkdtempSync(join(tmpdir(), 'tsxen-pvh-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const fsImage = join(dir, 'xvda.img'), rawImage = join(dir, 'xvdb.img');
  writeFileSync(fsImage, new Uint8Array(16 << 20));
  writeFileSync(rawImage, new Uint8Array(8 << 20));

  // ---- boot 1: the platform, a filesystem on xvda, raw I/O on xvdb ----
  const cmd1 = [
    'echo result=$((6*7))',
    'cat /sys/hypervisor/type',
    'cat /sys/devices/system/clocksource/clocksource0/current_clocksource',
    'echo sectors=$(cat /sys/block/xvda/size),$(cat /sys/block/xvdb/size)',
    'mke2fs -q /dev/xvda && mkdir -p /mnt && mount -t ext2 /dev/xvda /mnt',
    'echo hello from tsxen > /mnt/hello.txt',
    'dd if=/dev/urandom of=/mnt/r bs=4096 count=256 2>/dev/null',
    'echo fsfile=$(md5sum < /mnt/r)',
    'umount /mnt && echo umounted',
    // 1 MiB of random data through the page cache to xvdb, flushed, then read back cold.
    'dd if=/dev/urandom of=/tmp/r bs=4096 count=256 2>/dev/null',
    'dd if=/tmp/r of=/dev/xvdb bs=65536 seek=16 2>/dev/null',
    'sync',
    'echo 3 > /proc/sys/vm/drop_caches',
    'echo written=$(md5sum < /tmp/r)',
    'echo readback=$(dd if=/dev/xvdb bs=65536 skip=16 count=16 2>/dev/null | md5sum)',
    NO_OOPS,
    'echo end',
  ].join('; ');
  const fsStore = new FileBlockStore(fsImage, false), rawStore = new FileBlockStore(rawImage, false);
  const b1 = await bootPvh(cmd1, [{ vdev: 'xvda', store: fsStore, params: fsImage }, { vdev: 'xvdb', store: rawStore, params: rawImage }]);
  fsStore.close();
  rawStore.close();
  const out = b1.out;
  assert.match(out, /Booting kernel on Xen PVH/, out.slice(-3000));
  assert.match(out, /Xen HVM callback vector for event delivery is enabled/);
  assert.match(out, /printk: console \[hvc0\] enabled/);
  assert.match(out, /tsxen-guest: ready/, out.slice(-3000));
  assert.match(out, /result=42/);
  assert.match(out, /\nxen\r?\n(?:.*\n)?xen\r?\n/, '/sys/hypervisor/type and the clocksource say xen');
  assert.match(out, /sectors=32768,16384/, 'xen-blkfront sees both disks with their sizes');
  assert.match(out, /umounted/, out.slice(-2000));
  const written = /written=([0-9a-f]{32})/.exec(out)?.[1];
  assert.ok(written, out.slice(-2000));
  assert.equal(/readback=([0-9a-f]{32})/.exec(out)?.[1], written, 'the guest reads back what it wrote');
  const onDisk = createHash('md5').update(readFileSync(rawImage).subarray(16 * 65536, 32 * 65536)).digest('hex');
  assert.equal(onDisk, written, 'the host-side image holds what the guest wrote');
  assert.match(out, /\n0\r?\nend/, 'no oops, BUG or call trace in dmesg');
  assert.equal((b1.status as PvhStatus).kind, 'poweroff', JSON.stringify(b1.status));
  const fsfile = /fsfile=([0-9a-f]{32})/.exec(out)?.[1];
  assert.ok(fsfile);
  // Linux really used the interface: timers, event channel sends, the disks' rings.
  const calls = b1.m.domain.stats.hypercalls;
  assert.ok((calls.get(24) ?? 0) > 100, 'vcpu_op (single-shot timers) was called');
  assert.ok((calls.get(32) ?? 0) > 0, 'event_channel_op was called');

  // The host's own tools agree with the guest about the filesystem.
  try {
    const hello = execFileSync('debugfs', ['-R', 'cat /hello.txt', fsImage], { stdio: ['ignore', 'pipe', 'ignore'] }).toString();
    assert.equal(hello, 'hello from tsxen\n', 'debugfs on the host reads the file the guest wrote');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    t.diagnostic('debugfs (e2fsprogs) not installed: host-side filesystem check skipped');
  }

  // ---- boot 2: the same image, read-only: the files are intact and writes are refused ----
  const cmd2 = [
    'mkdir -p /mnt && mount -t ext2 -o ro /dev/xvda /mnt && echo mounted',
    'cat /mnt/hello.txt',
    'echo fsfile=$(md5sum < /mnt/r)',
    'cat /sys/block/xvda/ro',
    'dd if=/dev/zero of=/dev/xvda bs=512 count=1 2>/dev/null && echo raw-write-succeeded || echo raw-write-refused',
    NO_OOPS,
    'echo end',
  ].join('; ');
  const roStore = new FileBlockStore(fsImage, true);
  const before = createHash('md5').update(readFileSync(fsImage)).digest('hex');
  const b2 = await bootPvh(cmd2, [{ vdev: 'xvda', store: roStore, readOnly: true, params: fsImage }]);
  roStore.close();
  assert.match(b2.out, /mounted/, b2.out.slice(-2000));
  assert.match(b2.out, /hello from tsxen/);
  assert.equal(/fsfile=([0-9a-f]{32})/.exec(b2.out)?.[1], fsfile, 'the file reads back intact after a reboot');
  assert.match(b2.out, /\n1\r?\n/, 'the guest sees xvda as read-only');
  assert.match(b2.out, /raw-write-refused/);
  assert.equal(createHash('md5').update(readFileSync(fsImage)).digest('hex'), before, 'a read-only disk is never written');
  assert.match(b2.out, /\n0\r?\nend/, 'no oops, BUG or call trace in dmesg');
  assert.equal((b2.status as PvhStatus).kind, 'poweroff');
});
