/**
 * Debian's SeaBIOS boots an El Torito CD through the emulated PIIX3 IDE controller's ATAPI
 * CD-ROM: a no-emulation boot image (assembled with nasm at test time: it prints a line on the QEMU
 * debug console 402h with the boot drive number SeaBIOS passes in DL) is put in an ISO with xorriso,
 * the ISO sits at secondary master, and fw_cfg "bootorder" names that drive with QEMU's device path
 * (/pci@i0cf8/ide@1,1/drive@1/disk@0), so SeaBIOS tries it first. Needs the packages seabios, nasm
 * and xorriso; skips with the reason when one is missing.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync, mkdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HvmMachine } from '../../src/machine/hvm.js';
import { MemoryBlockStore } from '../../src/pv/block/block-store.js';

const BIOS = '/usr/share/seabios/bios-256k.bin';
function has(cmd: string): boolean {
  try { execFileSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }); return true; } catch { return false; }
}
const why = !existsSync(BIOS) ? `${BIOS} not found (apt-get install seabios)`
  : !has('nasm') ? 'nasm not found (apt-get install nasm)'
  : !has('xorriso') ? 'xorriso not found (apt-get install xorriso)' : '';
const skip = why && process.env.CI !== 'true' ? why : false;

const BOOT_ASM = `
bits 16
org 0x7c00
  cli
  xor ax, ax
  mov ds, ax
  mov ss, ax
  mov sp, 0x7c00
  mov bl, dl
  mov si, msg
  mov dx, 0x402
.p: lodsb
  test al, al
  jz .n
  out dx, al
  jmp .p
.n: mov al, bl          ; the boot drive, two hex digits
  shr al, 4
  call hex
  mov al, bl
  and al, 15
  call hex
  mov al, 10
  out dx, al
.h: hlt
  jmp .h
hex: add al, '0'
  cmp al, '9'
  jbe .o
  add al, 7
.o: out dx, al
  ret
msg: db 'tsxen-cd: booted from drive ', 0
times 2048-($-$$) db 0
`;

function buildIso(): Uint8Array {
  const dir = mkdtempSync(join(tmpdir(), 'tsxen-cd-'));
  try {
    writeFileSync(join(dir, 'boot.asm'), BOOT_ASM);
    mkdirSync(join(dir, 'root'));
    execFileSync('nasm', ['-f', 'bin', '-o', join(dir, 'root', 'boot.bin'), join(dir, 'boot.asm')]);
    writeFileSync(join(dir, 'root', 'hello.txt'), 'hello from the CD\n');
    execFileSync('xorriso', ['-as', 'mkisofs', '-quiet', '-o', join(dir, 'cd.iso'), '-V', 'TSXENCD',
      '-b', 'boot.bin', '-c', 'boot.cat', '-no-emul-boot', '-boot-load-size', '4', join(dir, 'root')], { stdio: 'ignore' });
    return new Uint8Array(readFileSync(join(dir, 'cd.iso')));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test('SeaBIOS boots a no-emulation El Torito image from the ATAPI CD-ROM (secondary master, bootorder)', { skip, timeout: 120_000 }, async () => {
  assert.ok(!why, `${why} (required under CI=true)`);
  const image = buildIso();
  const store = new MemoryBlockStore(image.length, true);
  store.data.set(image);
  let debug = '';
  const m = new HvmMachine({
    memoryMiB: 64,
    bios: new Uint8Array(readFileSync(BIOS)),
    clockMode: 'deterministic',
    hostNowNs: () => performance.now() * 1e6,
    wallclockMs: Date.UTC(2026, 0, 1),
    serialOutput: () => {},
    debugOutput: (b) => { debug += String.fromCharCode(b); },
    bootFailWaitSeconds: 1,
    bootOrder: ['/pci@i0cf8/ide@1,1/drive@1/disk@0'],
    disks: [undefined, undefined, { kind: 'cdrom', store }],
  });
  const t0 = performance.now();
  while (!/tsxen-cd: booted from drive [0-9A-F]{2}\n/.test(debug) && performance.now() - t0 < 60_000) {
    const s = m.step(1_000_000);
    if (s.kind === 'idle') await new Promise((r) => setTimeout(r, 1));
    else if (s.kind !== 'running') break;
    if (debug.includes('No bootable device')) break;
  }
  const tail = debug.split('\n').slice(-25).join('\n');
  assert.match(debug, /ata1-0: TSXEN CD-ROM ATAPI-\d+ DVD\/CD/, `SeaBIOS found the drive; log tail:\n${tail}`);
  assert.match(debug, /Booting from DVD\/CD/, tail);
  // SeaBIOS gives the first CD drive number E0h.
  assert.match(debug, /tsxen-cd: booted from drive E0\n/, tail);
});
