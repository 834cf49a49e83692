import { test } from 'node:test';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import assert from 'node:assert/strict';
import { parseElf, noteNumber, xenNote, XEN_ELFNOTE } from './elf.js';
import { planPvh, HVM_START_MAGIC, START_INFO_SIZE } from './pvh.js';
import { compressedKernel } from './kernel-payload.js';
import { BootImageError } from './errors.js';
import { E820_RAM, E820_RESERVED } from './e820.js';

/** A minimal ELF32 executable: one PT_LOAD at 16 MiB and a PT_NOTE with Xen notes. */
function makeElf(opts: { entryNote?: number | null; paddr?: number; memsz?: number } = {}): Uint8Array {
  const paddr = opts.paddr ?? 0x1000000;
  const code = new Uint8Array(0x100).fill(0x90);
  const notes: number[] = [];
  const note = (type: number, desc: number[]) => {
    notes.push(4, 0, 0, 0, desc.length, 0, 0, 0, type, 0, 0, 0, 0x58, 0x65, 0x6e, 0, ...desc);
    while (notes.length % 4) notes.push(0);
  };
  note(XEN_ELFNOTE.GUEST_OS, [0x6c, 0x69, 0x6e, 0x75, 0x78, 0]);
  if (opts.entryNote !== null) {
    const e = opts.entryNote ?? paddr + 0x20;
    note(XEN_ELFNOTE.PHYS32_ENTRY, [e & 0xff, (e >> 8) & 0xff, (e >> 16) & 0xff, (e >>> 24) & 0xff]);
  }
  const phoff = 52, codeOff = 0x100, noteOff = codeOff + code.length;
  const b = new Uint8Array(noteOff + notes.length);
  const dv = new DataView(b.buffer);
  b.set([0x7f, 0x45, 0x4c, 0x46, 1, 1, 1]);
  dv.setUint16(16, 2, true); // ET_EXEC
  dv.setUint16(18, 3, true); // EM_386
  dv.setUint32(24, 0xc1000000, true);
  dv.setUint32(28, phoff, true);
  dv.setUint16(42, 32, true);
  dv.setUint16(44, 2, true);
  const ph = (k: number, type: number, off: number, pa: number, filesz: number, memsz: number) => {
    const o = phoff + k * 32;
    dv.setUint32(o, type, true); dv.setUint32(o + 4, off, true); dv.setUint32(o + 8, pa + 0xc0000000, true);
    dv.setUint32(o + 12, pa, true); dv.setUint32(o + 16, filesz, true); dv.setUint32(o + 20, memsz, true);
  };
  ph(0, 1, codeOff, paddr, code.length, opts.memsz ?? 0x2000);
  ph(1, 4, noteOff, 0, notes.length, notes.length);
  b.set(code, codeOff);
  b.set(notes, noteOff);
  return b;
}

test('ELF notes give the PVH entry point', () => {
  const elf = parseElf(makeElf());
  assert.equal(elf.bits, 32);
  assert.equal(noteNumber(xenNote(elf, XEN_ELFNOTE.PHYS32_ENTRY)!), 0x1000020);
});

test('hvm_start_info carries magic, command line, initrd module and the memory map', () => {
  const elf = parseElf(makeElf());
  const initrd = new Uint8Array(10000).fill(7);
  const l = planPvh({ elf, ramBytes: 64 << 20, initrd, cmdline: 'console=hvc0', vcpus: 1 });
  const mem = new Uint8Array(64 << 20);
  for (const w of l.writes) mem.set(w.bytes, w.addr);
  const dv = new DataView(mem.buffer);
  const si = l.startInfo;
  assert.equal(dv.getUint32(si, true), HVM_START_MAGIC);
  assert.equal(dv.getUint32(si + 4, true), 1);
  assert.equal(dv.getUint32(si + 12, true), 1, 'one module');
  const cmd = dv.getUint32(si + 24, true);
  assert.equal(new TextDecoder().decode(mem.subarray(cmd, cmd + 12)), 'console=hvc0');
  assert.equal(mem[cmd + 12], 0);
  const mod = dv.getUint32(si + 16, true);
  assert.equal(dv.getUint32(mod + 8, true), 10000);
  assert.equal(mem[dv.getUint32(mod, true)], 7);
  assert.ok(si >= l.kernelEnd && si >= START_INFO_SIZE);
  const map = dv.getUint32(si + 40, true), n = dv.getUint32(si + 48, true);
  assert.equal(n, l.e820.length);
  assert.equal(dv.getUint32(map + 16, true), E820_RAM);
  // The special pages are in a reserved range, never in RAM the guest would allocate.
  for (const gfn of [l.xenstoreGfn, l.consoleGfn]) {
    const e = l.e820.find((x) => gfn * 4096 >= x.addr && gfn * 4096 < x.addr + x.size)!;
    assert.equal(e.type, E820_RESERVED);
  }
  assert.equal(new TextDecoder().decode(mem.subarray(l.rsdp, l.rsdp + 8)), 'RSD PTR ');
});

test('bad PVH images get a clear BootImageError', () => {
  assert.throws(() => planPvh({ elf: parseElf(makeElf({ entryNote: null })), ramBytes: 64 << 20, cmdline: '', vcpus: 1 }), /PHYS32_ENTRY/);
  assert.throws(() => planPvh({ elf: parseElf(makeElf({ entryNote: 0x5000000 })), ramBytes: 64 << 20, cmdline: '', vcpus: 1 }), /outside the kernel/);
  assert.throws(() => planPvh({ elf: parseElf(makeElf({ memsz: 80 << 20 })), ramBytes: 64 << 20, cmdline: '', vcpus: 1 }), /does not fit/);
  assert.throws(() => planPvh({ elf: parseElf(makeElf()), ramBytes: 64 << 20, initrd: new Uint8Array(70 << 20), cmdline: '', vcpus: 1 }), /initrd/);
  assert.throws(() => planPvh({ elf: parseElf(makeElf()), ramBytes: 64 << 20, cmdline: 'a\u00e9', vcpus: 1 }), BootImageError);
  const truncated = makeElf().subarray(0, 80);
  assert.throws(() => parseElf(truncated), /past the end/);
  assert.throws(() => parseElf(new Uint8Array([1, 2, 3, 4])), /not an ELF/);
});

test('an ELF vmlinux needs no decompression; the bzImage payload is found without its size trailer', (t) => {
  assert.equal(compressedKernel(makeElf()), null);
  const path = join(fileURLToPath(import.meta.url), '../../../../guest/vmlinuz');
  if (!existsSync(path)) return t.skip('guest/ not built');
  const c = compressedKernel(new Uint8Array(readFileSync(path)));
  assert.ok(c !== null);
  assert.equal(c.compression, 'xz');
  // An xz stream ends with its footer magic "YZ"; the 4-byte size Linux appends is cut off.
  assert.deepEqual([...c.data.subarray(c.data.length - 2)], [0x59, 0x5a]);
  assert.ok(c.expectedSize > c.data.length, 'the recorded uncompressed size is the vmlinux size');
});
