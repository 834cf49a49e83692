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

/** Serial output of each boot of one machine, and how the last one ended. */
interface Run {
  boots: string[];
  /** Why each reset happened. */
  resets: string[];
  status: PcStatus;
}

/**
 * Boots the guest with `cmd` as tsxen.run, restarting it on every reset request (as `tsxen run`
 * does) until it powers off, crashes or `maxBoots` boots have happened.
 */
async function bootAndRun(cmd: string, limitSeconds: number, maxBoots = 1): Promise<Run> {
  const boots = [''];
  const resets: string[] = [];
  const m = new PcMachine({
    memoryMiB: 256,
    kernel: new Uint8Array(readFileSync(kernelPath)),
    initrd: new Uint8Array(readFileSync(initrdPath)),
    cmdline: `console=ttyS0 quiet tsxen.run="${cmd}"`,
    clockMode: 'host',
    hostNowNs: () => performance.now() * 1e6,
    wallclockMs: Date.now(),
    serialOutput: (b) => { boots[boots.length - 1] += String.fromCharCode(b); },
  });
  const t0 = performance.now();
  for (;;) {
    const s = m.step(5_000_000);
    if (s.kind === 'idle') await new Promise((r) => setTimeout(r, Math.min(20, s.waitNs / 1e6)));
    else if (s.kind === 'reset' && boots.length < maxBoots) {
      resets.push(s.reason);
      m.reboot();
      boots.push('');
    } else if (s.kind !== 'running') return { boots, resets, status: s };
    if (performance.now() - t0 > limitSeconds * 1000) return { boots, resets, status: { kind: 'crash', reason: 'test time limit' } };
  }
}

// A marker in battery-backed CMOS RAM (index 7Eh, through /dev/port: index to 70h, data to 71h)
// tells the second boot from the first: CMOS survives the reset, RAM does not.
const cmosSelect = "printf '\\176' | dd of=/dev/port bs=1 seek=112 count=1 conv=notrunc 2>/dev/null";
const cmosRead = 'dd if=/dev/port bs=1 skip=113 count=1 2>/dev/null | od -An -tx1 | tr -d \' \'';
const cmosWrite = (octal: string) => `printf '\\176\\${octal}' | dd of=/dev/port bs=1 seek=112 count=2 conv=notrunc 2>/dev/null`;

test('the stock Debian kernel boots on the APIC/ACPI PC, runs commands, reboots with reboot -f, and powers off through ACPI S5', { timeout: 900_000 }, async (t) => {
  if (!existsSync(kernelPath)) return t.skip('guest/ not built (scripts/guest-kit.sh)');
  const firstBoot = [
    'echo result=$((6*7))',
    'grep -c ^processor /proc/cpuinfo',
    "grep -m1 'model name' /proc/cpuinfo",
    'date +year=%Y',
    "echo oops=$(dmesg | grep -v 'command line' | grep -c -i -e 'call trace' -e oops)",
    // Kernel messages at warning level or worse (busybox dmesg -r keeps the <level> prefix).
    "dmesg -r | grep '^<[0-4]>' | sed 's/^/warn: /'",
    "dmesg | grep -e 'IOAPIC\\[0\\]' -e 'ACPI: FACP' -e 'ACPI: PM: (supports' -e 'Using IOAPIC for interrupt' -e 'TIMER: vector'",
    "grep -e IO-APIC -e LOC: /proc/interrupts | sed 's/^ */irq /'",
    cmosWrite('245'),
    'reboot -f',
  ].join('; ');
  const secondBoot = `${cmosWrite('000')}; echo second-boot`;
  const cmd = `${cmosSelect}; if [ $(${cmosRead}) = a5 ]; then ${secondBoot}; else ${firstBoot}; fi`;
  const { boots, resets, status } = await bootAndRun(cmd, 850, 2);
  const [out, again = ''] = boots;
  assert.match(out, /tsxen-guest: ready/, out.slice(-2000));
  assert.match(out, /result=42/);
  assert.match(out, /model name\s*: tsxen virtual CPU/);
  assert.match(out, new RegExp(`year=${new Date().getUTCFullYear()}`), 'the RTC gave the guest the host date');
  assert.match(out, /oops=0\r?\n/, 'no oops or call trace in dmesg');
  // Expected on this platform as on a real one: an i440FX has no MMCONFIG (no MCFG table), which
  // Linux reports for every such PCI root. The MCE line is the CPU's (CPUID has no MCE/MCA yet).
  const expected = [/fail to add MMCONFIG information/, /mce: Unable to init MCE device/];
  const warnings = (out.match(/^warn: .*$/gm) ?? []).filter((w) => !expected.some((e) => e.test(w)));
  assert.deepEqual(warnings, [], 'no other kernel warnings or errors');
  // The platform as Linux found it: ACPI tables, the I/O APIC, the timer through pin 2, the SCI.
  assert.match(out, /ACPI: FACP 0x00000000000F0/);
  assert.match(out, /IOAPIC\[0\]: apic_id 1, version 17, address 0xfec00000, GSI 0-23/);
  assert.match(out, /ACPI: PM: \(supports S0 S5\)/);
  assert.match(out, /ACPI: Using IOAPIC for interrupt routing/);
  assert.match(out, /irq 0: +[1-9]\d* +IO-APIC +2-edge +timer/, 'the PIT through I/O APIC pin 2');
  assert.match(out, /irq 4: +[1-9]\d* +IO-APIC +4-edge +ttyS0/);
  assert.match(out, /irq 9: +\d+ +IO-APIC +9-fasteoi +acpi/, 'the SCI, level-triggered');
  assert.match(out, /irq LOC: +[1-9]\d* +Local timer interrupts/, 'the LAPIC timer ticks');
  // reboot -f: the machine reset and booted again to the ready line; the second boot exits through ACPI S5.
  assert.equal(boots.length, 2, `reboot -f restarted the guest (status ${JSON.stringify(status)})`);
  assert.match(resets[0], /0xcf9/, 'Linux resets through the FADT reset register first');
  assert.match(again, /tsxen-guest: ready/, again.slice(-2000));
  assert.match(again, /second-boot/);
  assert.match(again, /tsxen-guest: exit 0/);
  assert.equal(status.kind, 'poweroff', JSON.stringify(status));
  assert.equal(status.kind === 'poweroff' && status.via, 'acpi-s5', 'powered off through PM1a_CNT SLP_EN with S5, not by halting');
});
