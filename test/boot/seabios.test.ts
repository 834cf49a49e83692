/**
 * Runs Debian's SeaBIOS (package `seabios`, /usr/share/seabios/bios-256k.bin; not in the repo) on
 * the HVM machine from the reset vector through its POST to "No bootable device", and checks what
 * it reports on the QEMU debug console (port 402h): its banner, QEMU platform and fw_cfg detection,
 * the RAM size it took from "etc/e820", the PCI functions it enumerated, the CPU count, the e820
 * map it hands to an OS. Then its retry timer (PIT interrupts through the 8259A and LINT0) expires
 * and it resets the machine through 0CF9h, and the second POST starts from ROM again (PAM reset).
 *
 * Guest time runs on the deterministic clock (1 ns per instruction, idle time skipped), so the run
 * is the same on every machine; it takes well under a second of host time.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { HvmMachine, type HvmStatus } from '../../src/machine/hvm.js';

const BIOS = '/usr/share/seabios/bios-256k.bin';
const missing = !existsSync(BIOS);
const skip = missing && process.env.CI !== 'true' ? `${BIOS} not found (apt-get install seabios)` : false;

interface Run {
  debug: string[];
  serial: string;
  resets: string[];
  status: HvmStatus | { kind: 'limit' };
  m: HvmMachine;
  /** Shadow state when "No bootable device" first appeared. */
  shadowAtEnd?: Map<number, string>;
}

async function runSeabios(memoryMiB: number, maxBoots: number, limitSeconds: number): Promise<Run> {
  const debug = [''];
  let serial = '';
  let shadowAtEnd: Map<number, string> | undefined;
  const m: HvmMachine = new HvmMachine({
    memoryMiB,
    bios: new Uint8Array(readFileSync(BIOS)),
    clockMode: 'deterministic',
    hostNowNs: () => performance.now() * 1e6,
    wallclockMs: Date.UTC(2026, 0, 1),
    serialOutput: (b) => { serial += String.fromCharCode(b); },
    debugOutput: (b) => {
      debug[debug.length - 1] += String.fromCharCode(b);
      // Taken as the line is printed (later in the same step SeaBIOS unprotects itself to reboot).
      if (shadowAtEnd === undefined && debug[0].endsWith('No bootable device')) shadowAtEnd = m.shadow.describe();
    },
    bootFailWaitSeconds: 1,
  });
  const run: Run = { debug, serial: '', resets: [], status: { kind: 'limit' }, m };
  const t0 = performance.now();
  for (;;) {
    const s = m.step(1_000_000);
    if (s.kind === 'reset' && debug.length < maxBoots) {
      run.resets.push(s.reason);
      m.reboot();
      debug.push('');
    } else if (s.kind === 'idle') {
      await new Promise((r) => setTimeout(r, 1));
    } else if (s.kind !== 'running') {
      run.status = s;
      break;
    }
    if (debug.length === maxBoots && debug[maxBoots - 1].includes('No bootable device')) {
      run.status = s;
      break;
    }
    if (performance.now() - t0 > limitSeconds * 1000) break;
  }
  run.serial = serial;
  run.shadowAtEnd = shadowAtEnd;
  return run;
}

test('SeaBIOS POSTs on the HVM machine: banner, fw_cfg, RAM, PCI, CPUs, e820, boot attempts, reboot', { skip, timeout: 120_000 }, async () => {
  assert.ok(!missing, `${BIOS} is required under CI=true (package seabios)`);
  const r = await runSeabios(128, 2, 60);
  const log = r.debug[0];
  const tail = log.split('\n').slice(-15).join('\n');
  assert.equal(r.debug.length, 2, `expected a reboot after the boot-fail wait; status ${JSON.stringify(r.status)}; last lines:\n${tail}`);
  assert.match(log, /^SeaBIOS \(version 1\.\d+[^)]*\)/m);
  assert.match(log, /Running on QEMU \(i440fx\)/);
  assert.match(log, /Found QEMU fw_cfg/);
  assert.match(log, /QEMU fw_cfg DMA interface supported/);
  assert.match(log, /qemu\/e820: addr 0x0000000000000000 len 0x0000000008000000 \[RAM\]/, 'RAM size from etc/e820');
  // SeaBIOS copied itself into RAM: init code relocated to the top of RAM.
  assert.match(log, /Relocating init from 0x000[cdef][0-9a-f]{4} to 0x0[67][0-9a-f]{6}/);
  assert.match(log, /Found 3 PCI devices \(max PCI bus is 00\)/);
  assert.match(log, /PCI: init bdf=00:00\.0 id=8086:1237/);
  assert.match(log, /PCI: init bdf=00:01\.0 id=8086:7000/);
  assert.match(log, /PCI: init bdf=00:01\.3 id=8086:7113/);
  assert.match(log, /Using pmtimer, ioport 0x[0-9a-f]+/);
  assert.match(log, /Found 1 cpu\(s\) max supported 1 cpu\(s\)/);
  assert.match(log, /PS2 keyboard initialized/);
  assert.match(log, /3: 0000000000100000 - 0000000007ffe000 = 1 RAM/);
  assert.match(log, /Booting from Hard Disk\.\.\./);
  assert.match(log, /No bootable device\.  Retrying in 1 seconds\./);
  assert.match(log, /Rebooting\./);
  assert.deepEqual(r.resets, ['reset control register 0xcf9 (hard reset)']);
  // At the end of POST the F segment is write-protected DRAM (PAM0 = 10h).
  assert.equal(r.shadowAtEnd?.get(0xf0000), 'ro');
  // The second power-on ran POST from ROM again, as far as the same end.
  assert.match(r.debug[1], /^SeaBIOS \(version/m);
  assert.match(r.debug[1], /No bootable device/);
  // SeaBIOS's serial console mirrors its screen output on COM1.
  assert.match(r.serial, /SeaBIOS \(version/);
  assert.equal(r.m.fwCfg.dmaErrors, 0);
});
