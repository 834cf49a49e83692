/**
 * Runs Debian's SeaBIOS (package `seabios`, /usr/share/seabios/bios-256k.bin; not in the repo) on
 * the HVM machine from the reset vector through its POST to "No bootable device", and checks what
 * it reports on the QEMU debug console (port 402h): its banner, QEMU platform and fw_cfg detection,
 * the RAM size it took from "etc/e820", the PCI functions it enumerated, the CPU count, the e820
 * map it hands to an OS. Then its retry timer (PIT interrupts through the 8259A and LINT0) expires
 * and it resets the machine through 0CF9h, and the second POST starts from ROM again (PAM reset).
 *
 * A second case gives the machine an IDE disk whose MBR prints through INT 10h and reads two more
 * sectors through INT 13h (CHS and extended), all through the emulated PIIX3 IDE controller.
 *
 * Guest time runs on the deterministic clock (1 ns per instruction, idle time skipped), so the run
 * is the same on every machine; it takes well under a second of host time.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { HvmMachine, type HvmStatus } from '../../src/machine/hvm.js';
import { MemoryBlockStore } from '../../src/pv/block/block-store.js';

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

async function runSeabios(memoryMiB: number, maxBoots: number, limitSeconds: number, disks?: MemoryBlockStore[]): Promise<Run> {
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
    disks,
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
  assert.match(log, /Found 4 PCI devices \(max PCI bus is 00\)/);
  assert.match(log, /PCI: init bdf=00:00\.0 id=8086:1237/);
  assert.match(log, /PCI: init bdf=00:01\.0 id=8086:7000/);
  assert.match(log, /PCI: init bdf=00:01\.1 id=8086:7010/);
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

/**
 * A boot sector, assembled with nasm from this source (org 7C00h):
 *
 *   cli; xor ax,ax; mov ds,ax; mov es,ax; mov ss,ax; mov sp,7C00h; sti
 *   mov [drive],dl                       ; the boot drive SeaBIOS passes (80h)
 *   mov si,msg; .p1: lodsb; test al,al; jz .d1
 *   mov ah,0Eh; mov bx,7; int 10h; jmp .p1  ; teletype "TSXEN-MBR\r\n" (SeaBIOS's serial console)
 *   .d1: mov ax,0201h; mov cx,2; mov dh,0; mov dl,[drive]; mov bx,7E00h
 *   int 13h; jc fail                     ; CHS read of sector 1 (C0/H0/S2) to 0:7E00h
 *   mov si,7E00h; call dbgprint          ; print its NUL-terminated text on the debug port
 *   mov ah,42h; mov dl,[drive]; mov si,dap
 *   int 13h; jc fail                     ; extended read of LBA 2 to 0:8000h
 *   mov si,8000h; call dbgprint
 *   mov ax,4300h; mov dl,[drive]; mov si,dap2
 *   int 13h; jc fail                     ; extended write of 0:7E00h (sector 1's copy) to LBA 3
 *   cli; hlt
 *   fail: mov si,failmsg; call dbgprint; cli; hlt
 *   dbgprint: mov dx,402h; .l: lodsb; test al,al; jz .e; out dx,al; jmp .l; .e: ret
 *   drive: db 0; msg: db "TSXEN-MBR",13,10,0; failmsg: db "TSXEN-FAIL",0
 *   align 4; dap: db 10h,0; dw 1; dw 8000h,0; dq 2
 *   dap2: db 10h,0; dw 1; dw 7E00h,0; dq 3
 */
const BOOT_SECTOR_HEX =
  'fa31c08ed88ec08ed0bc007cfb8816727cbe737cac84c07409b40ebb0700cd10ebf2b80102b90200b6008a16727cbb007ecd137229be007e' +
  'e82b00b4428a16727cbe8c7ccd137216be0080e81800b800438a16727cbe9c7ccd137202faf4be7f7ce80200faf4ba0204ac84c07403eeeb' +
  'f8c300545358454e2d4d42520d0a00545358454e2d4641494c0090901000010000800000020000000000000010000100007e000003000000' +
  '00000000';

function bootDisk(mib: number): MemoryBlockStore {
  const d = new MemoryBlockStore(mib << 20);
  const code = Uint8Array.from(BOOT_SECTOR_HEX.match(/../g)!.map((h) => parseInt(h, 16)));
  d.data.set(code, 0);
  d.data[510] = 0x55;
  d.data[511] = 0xaa;
  const put = (lba: number, s: string) => d.data.set([...s].map((c) => c.charCodeAt(0)).concat(0), lba * 512);
  put(1, '[sector 1 via INT 13h AH=02h]');
  put(2, '[sector 2 via INT 13h AH=42h]');
  return d;
}

test('SeaBIOS finds the IDE disk (ata0-0) and boots its MBR, which reads sectors 1 and 2 and writes sector 3 through INT 13h', { skip, timeout: 60_000 }, async () => {
  assert.ok(!missing, `${BIOS} is required under CI=true (package seabios)`);
  const disk = bootDisk(8);
  const t0 = performance.now();
  const r = await runSeabios(64, 1, 20, [disk]);
  const ms = performance.now() - t0;
  const log = r.debug[0];
  const tail = log.split('\n').slice(-15).join('\n');
  assert.deepEqual(r.status, { kind: 'poweroff', reason: 'guest halted with interrupts disabled', via: 'halt' }, `last lines:\n${tail}`);
  assert.match(log, /ata0-0: TSXEN HARDDISK ATA-6 Hard-Disk \(8 MiBytes\)/);
  assert.match(log, /Booting from Hard Disk\.\.\./);
  assert.match(log, /Booting from 0000:7c00/);
  // INT 10h teletype reaches COM1 through SeaBIOS's serial console, which sends what changed on its
  // screen lazily: the last characters are still in its buffer when the guest halts with IF clear.
  assert.match(r.serial, /Booting from Hard Disk\.\.\.\r?\n.*TSXEN-MB/);
  assert.ok(log.endsWith('[sector 1 via INT 13h AH=02h][sector 2 via INT 13h AH=42h]'), `debug output ends: ${JSON.stringify(log.slice(-120))}`);
  assert.doesNotMatch(log, /TSXEN-FAIL/);
  assert.deepEqual(disk.data.subarray(3 * 512, 4 * 512), disk.data.subarray(512, 1024), 'INT 13h AH=43h wrote sector 3');
  assert.ok(ms < 10_000, `took ${ms.toFixed(0)} ms`);
});
