/**
 * Boots the bundled Debian kernel unmodified as a Xen PVH domain: the kernel's PVH entry from its
 * ELF note (the bzImage's xz payload unpacked on the host), hvm_start_info, the Xen CPUID leaves
 * and hypercalls, event channels through the callback vector, the Xen clocksource and timer, and
 * its console on hvc0 through the PV console ring. The kernel's own Xen code is the oracle.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { PvhMachine, type PvhStatus } from '../../src/machine/pvh.js';
import { XenHost } from '../../src/machine/xen-host.js';
import { kernelElf } from '../../src/loader/kernel-payload.js';
import { nodeDecompress } from '../../src/host/node/decompress.js';
import { drive } from '../../src/toolstack/drive.js';
import { FileBlockStore } from '../../src/host/node/file-block-store.js';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';

const root = join(fileURLToPath(import.meta.url), '../../../..');
const kernelPath = join(root, 'guest/vmlinuz'), initrdPath = join(root, 'guest/initramfs.cpio.gz');

test('the stock Debian kernel boots as a PVH domain: hvc0 console, xen-blkfront disk I/O', { timeout: 900_000 }, async (t) => {
  if (!existsSync(kernelPath)) return t.skip('guest/ not built (scripts/guest-kit.sh)');
  const dir = mkdtempSync(join(tmpdir(), 'tsxen-pvh-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const image = join(dir, 'xvda.img');
  writeFileSync(image, new Uint8Array(16 << 20));
  const cmd = [
    'echo result=$((6*7))',
    'cat /sys/hypervisor/type',
    'cat /sys/devices/system/clocksource/clocksource0/current_clocksource',
    'echo sectors=$(cat /sys/block/xvda/size)',
    // 1 MiB of random data through the page cache to the disk, flushed, then read back cold.
    'dd if=/dev/urandom of=/tmp/r bs=4096 count=256 2>/dev/null',
    'dd if=/tmp/r of=/dev/xvda bs=65536 seek=16 2>/dev/null',
    'sync',
    'echo 3 > /proc/sys/vm/drop_caches',
    'echo written=$(md5sum < /tmp/r)',
    'echo readback=$(dd if=/dev/xvda bs=65536 skip=16 count=16 2>/dev/null | md5sum)',
    "dmesg | grep -v 'command line' | grep -c -i -e 'call trace' -e oops -e 'BUG:'",
    'echo end',
  ].join('; ');
  const store = new FileBlockStore(image, false);
  let out = '';
  const dec = new TextDecoder();
  const host = new XenHost();
  const m = new PvhMachine({
    host, name: 'pvh-test', memoryMiB: 256,
    kernelElf: await kernelElf(new Uint8Array(readFileSync(kernelPath)), nodeDecompress),
    initrd: new Uint8Array(readFileSync(initrdPath)),
    cmdline: `console=hvc0 tsxen.modules=xen-blkfront tsxen.run="${cmd}"`,
    disks: [{ vdev: 'xvda', store, params: image }],
    clockMode: 'host', hostNowNs: () => performance.now() * 1e6, wallclockMs: Date.now(),
    consoleOutput: (b) => { out += dec.decode(b, { stream: true }); },
  });
  const status = await drive<PvhStatus>(m, { timeoutMs: 600_000 });
  assert.match(out, /Booting kernel on Xen PVH/, out.slice(-3000));
  assert.match(out, /Xen HVM callback vector for event delivery is enabled/);
  assert.match(out, /printk: console \[hvc0\] enabled/);
  assert.match(out, /tsxen-guest: ready/, out.slice(-3000));
  assert.match(out, /result=42/);
  assert.match(out, /\nxen\r?\n/, '/sys/hypervisor/type says xen');
  assert.match(out, /\nxen\r?\n(?:.*\n)?xen\r?\n/, 'the Xen clocksource is in use');
  assert.match(out, /sectors=32768/, 'xen-blkfront sees the 16 MiB disk');
  const written = /written=([0-9a-f]{32})/.exec(out)?.[1];
  const readback = /readback=([0-9a-f]{32})/.exec(out)?.[1];
  assert.ok(written, out.slice(-2000));
  assert.equal(readback, written, 'the guest reads back what it wrote');
  store.close();
  const onDisk = createHash('md5').update(readFileSync(image).subarray(16 * 65536, 32 * 65536)).digest('hex');
  assert.equal(onDisk, written, 'the host-side image holds what the guest wrote');
  assert.match(out, /\n0\r?\nend/, 'no oops, BUG or call trace in dmesg');
  assert.equal(status.kind, 'poweroff', JSON.stringify(status));
  // Linux really used the interface: timers, event channel sends and the callback vector.
  const calls = m.domain.stats.hypercalls;
  assert.ok((calls.get(24) ?? 0) > 100, 'vcpu_op (single-shot timers) was called');
  assert.ok((calls.get(32) ?? 0) > 0, 'event_channel_op was called');
  m.destroy();
});
