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

const root = join(fileURLToPath(import.meta.url), '../../../..');
const kernelPath = join(root, 'guest/vmlinuz'), initrdPath = join(root, 'guest/initramfs.cpio.gz');

test('the stock Debian kernel boots as a PVH domain with its console on hvc0', { timeout: 900_000 }, async (t) => {
  if (!existsSync(kernelPath)) return t.skip('guest/ not built (scripts/guest-kit.sh)');
  const cmd = [
    'echo result=$((6*7))',
    'cat /sys/hypervisor/type',
    'cat /sys/devices/system/clocksource/clocksource0/current_clocksource',
    "dmesg | grep -v 'command line' | grep -c -i -e 'call trace' -e oops -e 'BUG:'",
    'echo end',
  ].join('; ');
  let out = '';
  const dec = new TextDecoder();
  const host = new XenHost();
  const m = new PvhMachine({
    host, name: 'pvh-test', memoryMiB: 256,
    kernelElf: await kernelElf(new Uint8Array(readFileSync(kernelPath)), nodeDecompress),
    initrd: new Uint8Array(readFileSync(initrdPath)),
    cmdline: `console=hvc0 tsxen.run="${cmd}"`,
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
  assert.match(out, /\n0\r?\nend/, 'no oops, BUG or call trace in dmesg');
  assert.equal(status.kind, 'poweroff', JSON.stringify(status));
  // Linux really used the interface: timers, event channel sends and the callback vector.
  const calls = m.domain.stats.hypercalls;
  assert.ok((calls.get(24) ?? 0) > 100, 'vcpu_op (single-shot timers) was called');
  assert.ok((calls.get(32) ?? 0) > 0, 'event_channel_op was called');
  m.destroy();
});
