/**
 * Boots the bundled Debian kernel and busybox initramfs on the emulated PC, runs commands in the
 * guest through the initramfs's tsxen.run hook, and checks what they print. This is the real-guest
 * oracle for the CPU and the platform devices: an unmodified stock kernel must get through its
 * whole boot and run userland.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { PcMachine, type PcStatus } from '../../src/machine/pc.js';

const root = join(fileURLToPath(import.meta.url), '../../../..');
const kernelPath = join(root, 'guest/vmlinuz'), initrdPath = join(root, 'guest/initramfs.cpio.gz');

async function bootAndRun(cmd: string, limitSeconds: number): Promise<{ out: string; status: PcStatus }> {
  let out = '';
  const m = new PcMachine({
    memoryMiB: 256,
    kernel: new Uint8Array(readFileSync(kernelPath)),
    initrd: new Uint8Array(readFileSync(initrdPath)),
    cmdline: `console=ttyS0 quiet tsxen.run="${cmd}"`,
    clockMode: 'host',
    hostNowNs: () => performance.now() * 1e6,
    wallclockMs: Date.now(),
    serialOutput: (b) => { out += String.fromCharCode(b); },
  });
  const t0 = performance.now();
  for (;;) {
    const s = m.step(5_000_000);
    if (s.kind === 'idle') await new Promise((r) => setTimeout(r, Math.min(20, s.waitNs / 1e6)));
    else if (s.kind !== 'running') return { out, status: s };
    if (performance.now() - t0 > limitSeconds * 1000) return { out, status: { kind: 'crash', reason: 'test time limit' } };
  }
}

test('the stock Debian kernel boots to its initramfs and runs commands', { timeout: 900_000 }, async (t) => {
  if (!existsSync(kernelPath)) return t.skip('guest/ not built (scripts/guest-kit.sh)');
  const cmd = "echo result=$((6*7)); grep -c ^processor /proc/cpuinfo; grep -m1 'model name' /proc/cpuinfo; date +year=%Y; dmesg | grep -v 'command line' | grep -c -i -e 'call trace' -e oops; echo end";
  const { out, status } = await bootAndRun(cmd, 800);
  assert.match(out, /tsxen-guest: ready/, out.slice(-2000));
  assert.match(out, /result=42/);
  assert.match(out, /model name\s*: tsxen virtual CPU/);
  assert.match(out, new RegExp(`year=${new Date().getUTCFullYear()}`), 'the RTC gave the guest the host date');
  assert.match(out, /\n0\r?\n/, 'no oops or call trace in dmesg');
  assert.match(out, /tsxen-guest: exit 0/);
  assert.equal(status.kind, 'poweroff', JSON.stringify(status));
});
