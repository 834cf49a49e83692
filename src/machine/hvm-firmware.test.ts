import { test } from 'node:test';
import assert from 'node:assert/strict';
import { HvmMachine } from './hvm.js';

/**
 * A 128 KiB ROM: the reset vector far-jumps to F000:E000 (physical FE000h, inside the PAM0
 * segment), where the ROM has "mov al, 0AAh; out 0E9h, al; hlt".
 */
function tinyRom(): Uint8Array {
  const rom = new Uint8Array(0x20000).fill(0xff);
  const off = (phys: number) => phys - 0xe0000; // ROM offset of an ISA-window address
  rom.set([0xea, 0x00, 0xe0, 0x00, 0xf0], off(0xffff0)); // jmp far f000:e000
  rom.set([0xb0, 0xaa, 0xe6, 0xe9, 0xf4], off(0xfe000));
  rom[off(0xf1234)] = 0x5a;
  return rom;
}

function machine(): { m: HvmMachine; out: number[] } {
  const out: number[] = [];
  const m = new HvmMachine({
    memoryMiB: 16, bios: tinyRom(), clockMode: 'deterministic', hostNowNs: () => 0, wallclockMs: 0,
    serialOutput: () => {}, debugOutput: (b) => out.push(b),
  });
  return { m, out };
}

function pamWrite(m: HvmMachine, index: number, value: number): void {
  // Through configuration mechanism #1, as firmware does: 80000058h selects the PAM dword.
  const reg = 0x59 + index;
  m.platform.ports.write(0xcf8, 4, (0x80000000 | (reg & 0xfc)) >>> 0);
  m.platform.ports.write(0xcfc + (reg & 3), 1, value);
}

test('HVM: the CPU starts at the reset vector in the top-of-4G ROM and runs the ISA alias', () => {
  const { m, out } = machine();
  assert.equal(m.cpu.segSel[1], 0xf000);
  assert.equal(m.cpu.segBase[1] >>> 0, 0xffff0000);
  assert.equal(m.cpu.eip, 0xfff0);
  assert.equal(m.mem.read(0xfffffff0, 1), 0xea, 'the ROM answers below 4 GiB');
  assert.equal(m.mem.read(0xffff0, 1), 0xea, 'and in the legacy window');
  const s = m.step(1000);
  assert.equal(s.kind, 'poweroff', 'HLT with IF = 0 ends the run');
  assert.deepEqual(out, [0xaa]);
});

test('HVM PAM: segments switch between ROM, read-only, write-only and read/write DRAM', () => {
  const { m } = machine();
  const mem = m.mem;
  assert.equal(mem.read(0xf1234, 1), 0x5a, 'power-on: ROM');
  mem.write(0xf1234, 1, 0x11);
  assert.equal(mem.u8[0xf1234], 0, 'writes to a PCI-decoded segment are lost');
  assert.equal(mem.read(0xc0000, 4), -1, 'nothing decodes C0000h at power-on');
  pamWrite(m, 0, 0x20); // write-only DRAM: reads ROM, writes RAM (the shadow copy)
  mem.write(0xf1234, 1, mem.read(0xf1234, 1));
  assert.equal(mem.u8[0xf1234], 0x5a);
  pamWrite(m, 0, 0x30);
  assert.equal(m.shadow.describe().get(0xf0000), 'rw');
  assert.ok(mem.isRam(0xf1234), 'read/write DRAM is plain RAM for the TLB');
  mem.write(0xf1234, 1, 0x77);
  assert.equal(mem.read(0xf1234, 1), 0x77);
  pamWrite(m, 0, 0x10); // read-only: the BIOS write-protects its shadow
  mem.write(0xf1234, 1, 0x99);
  assert.equal(mem.read(0xf1234, 1), 0x77);
  pamWrite(m, 1, 0x31); // C0000h read-only, C4000h read/write
  assert.deepEqual([m.shadow.describe().get(0xc0000), m.shadow.describe().get(0xc4000)], ['ro', 'rw']);
  assert.equal(mem.read(0xc0000, 1), 0);
  assert.equal(mem.read(0xc4000, 1), 0);
  pamWrite(m, 0, 0);
  assert.equal(mem.read(0xf1234, 1), 0x5a, 'back to ROM');
});

test('HVM PAM: a mapping change drops cached translations and decoded code', () => {
  const { m, out } = machine();
  m.mem.u8.set([0xb0, 0xbb, 0xe6, 0xe9, 0xf4], 0xfe000); // the RAM under the ROM holds other code
  assert.equal(m.step(1000).kind, 'poweroff');
  assert.deepEqual(out, [0xaa]);
  // Enable DRAM reads at F0000h and run the same address again: the RAM's code must run.
  pamWrite(m, 0, 0x30);
  m.cpu.halted = false;
  m.cpu.eip = 0xe000;
  assert.equal(m.step(1000).kind, 'poweroff');
  assert.deepEqual(out, [0xaa, 0xbb]);
  // Data through the TLB: read RAM (cached translation), switch back to ROM, read again.
  assert.equal(m.cpu.rd8(0xf1234), 0);
  pamWrite(m, 0, 0x00);
  assert.equal(m.cpu.rd8(0xf1234), 0x5a);
  m.cpu.halted = false;
  m.cpu.eip = 0xe000;
  m.step(1000);
  assert.deepEqual(out, [0xaa, 0xbb, 0xaa]);
});

test('HVM: the host bridge carries QEMU subsystem IDs and fw_cfg answers at 510h', () => {
  const { m } = machine();
  const p = m.platform.ports;
  p.write(0xcf8, 4, 0x8000002c);
  assert.equal(p.read(0xcfc, 4) >>> 0, 0x11001af4);
  p.write(0x510, 2, 0);
  assert.equal(String.fromCharCode(p.read(0x511, 1), p.read(0x511, 1), p.read(0x511, 1), p.read(0x511, 1)), 'QEMU');
  assert.equal(p.read(0x402, 1), 0xe9, 'debugcon readback');
  const e820 = m.fwCfg.file('etc/e820')!;
  assert.equal(Number(new DataView(e820.buffer).getBigUint64(8, true)), 16 << 20);
});

test('HVM: reboot restores the power-on PAM state (the BIOS area reads ROM again)', () => {
  const { m, out } = machine();
  pamWrite(m, 0, 0x30);
  assert.equal(m.mem.read(0xf1234, 1), 0);
  m.reboot();
  assert.equal(m.mem.read(0xf1234, 1), 0x5a);
  assert.equal(m.cpu.eip, 0xfff0);
  assert.equal(m.step(1000).kind, 'poweroff');
  assert.deepEqual(out, [0xaa]);
});
