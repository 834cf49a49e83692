/**
 * The PIIX3 IDE function and its ATA channels, driven through the I/O ports as a driver does
 * (ATA-6 chapter 9 protocols): IDENTIFY byte by byte, PIO data-in/out with the interrupts where the
 * spec puts them, READ/WRITE MULTIPLE, 48-bit commands with HOB, CHS, flushes, errors, absent
 * devices, software reset, odd port accesses, PCI decoding and a snapshot mid-transfer.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PortBus } from '../../bus/port-bus.js';
import { MemoryBlockStore, type BlockStore } from '../../pv/block/block-store.js';
import { PhysicalMemory } from '../../memory/physical.js';
import { TimerQueue } from '../../bus/timer-queue.js';
import { PcPlatform } from '../../machine/pc-platform.js';
import { IDE_LEGACY, Piix3Ide } from './piix3-ide.js';
import { identifyString, MAX_MULTIPLE } from './ata-identify.js';
import type { DmaMemory } from './ide-channel.js';

const P = 0x1f0, CTL = 0x3f6, BM = 0xc000;
const SECTORS = 4096; // 2 MiB

function disk(sectors = SECTORS, readOnly = false): MemoryBlockStore {
  const d = new MemoryBlockStore(sectors * 512, readOnly);
  for (let i = 0; i < d.data.length; i++) d.data[i] = (i * 7 + (i >> 9)) & 0xff;
  return d;
}

/** 1 MiB of "guest RAM" for the bus master. */
function ram(size = 1 << 20) {
  const bytes = new Uint8Array(size);
  const mem: DmaMemory = {
    read: (addr, len) => (addr + len <= size ? bytes.slice(addr, addr + len) : null),
    write: (addr, b) => {
      if (addr + b.length > size) return false;
      bytes.set(b, addr);
      return true;
    },
  };
  return { bytes, mem };
}

function setup(disks: Array<BlockStore | undefined> = [disk()], enable = true, dma?: DmaMemory) {
  const irqs = [false, false];
  const ide = new Piix3Ide({ disks, dma, irqs: [(l) => { irqs[0] = l; }, (l) => { irqs[1] = l; }] });
  const ports = new PortBus();
  if (dma) ports.register(BM, 16, ide.ioBar(4)!);
  ide.channels.forEach((ch, c) => {
    ports.register(IDE_LEGACY[c].command, 8, ch.commandBlock());
    ports.register(IDE_LEGACY[c].control, 1, ch.controlBlock());
  });
  if (enable) {
    ide.configWrite(0x04, 2, 0x0001);
    ide.configWrite(0x40, 2, 0x8000);
    ide.configWrite(0x42, 2, 0x8000);
  }
  const inb = (port: number) => ports.read(port, 1);
  const outb = (port: number, v: number) => ports.write(port, 1, v);
  const inw = (port: number) => ports.read(port, 2);
  const outw = (port: number, v: number) => ports.write(port, 2, v);
  /** Reads one 512-byte block from the data port. */
  const readBlock = (base = P) => {
    const b = new Uint8Array(512);
    for (let i = 0; i < 256; i++) {
      const w = inw(base);
      b[2 * i] = w & 0xff;
      b[2 * i + 1] = w >> 8;
    }
    return b;
  };
  const writeBlock = (bytes: Uint8Array, base = P) => {
    for (let i = 0; i < 256; i++) outw(base, bytes[2 * i] | (bytes[2 * i + 1] << 8));
  };
  /** LBA28 task file set-up for device `dev`. */
  const lba28 = (lba: number, count: number, dev = 0) => {
    outb(P + 6, 0xe0 | (dev << 4) | ((lba >> 24) & 0x0f));
    outb(P + 2, count & 0xff);
    outb(P + 3, lba & 0xff);
    outb(P + 4, (lba >> 8) & 0xff);
    outb(P + 5, (lba >> 16) & 0xff);
  };
  /** LBA48 task file set-up (previous then current contents). */
  const lba48 = (lba: number, count: number) => {
    outb(P + 6, 0x40);
    const hi = Math.floor(lba / 2 ** 24);
    outb(P + 2, (count >> 8) & 0xff);
    outb(P + 3, hi & 0xff);
    outb(P + 4, (hi >> 8) & 0xff);
    outb(P + 5, (hi >> 16) & 0xff);
    outb(P + 2, count & 0xff);
    outb(P + 3, lba & 0xff);
    outb(P + 4, (lba >> 8) & 0xff);
    outb(P + 5, (lba >> 16) & 0xff);
  };
  return { ide, ports, irqs, inb, outb, inw, outw, readBlock, writeBlock, lba28, lba48, disks };
}

function identify(t: ReturnType<typeof setup>, dev = 0): Uint8Array {
  t.outb(P + 6, 0xa0 | (dev << 4));
  t.outb(P + 7, 0xec);
  assert.equal(t.irqs[0], true, 'IDENTIFY: interrupt before the data block');
  assert.equal(t.inb(P + 7), 0x58, 'DRDY DSC DRQ');
  assert.equal(t.irqs[0], false, 'reading Status clears the interrupt');
  const id = t.readBlock();
  assert.equal(t.inb(P + 7), 0x50);
  assert.equal(t.irqs[0], false, 'no interrupt at the end of a data-in command');
  return id;
}

const word = (b: Uint8Array, w: number) => b[2 * w] | (b[2 * w + 1] << 8);

test('PCI function 8086:7010, class 010180; ports float until I/O space and IDETIM decode are enabled', () => {
  const t = setup([disk()], false);
  assert.equal(t.ide.configRead(0, 4), 0x70108086);
  assert.equal(t.ide.configRead(0x08, 4), 0x01018000);
  assert.equal(t.ide.configRead(0x06, 2), 0x0280);
  assert.equal(t.ide.configRead(0x20, 4), 0, 'no bus-master BAR');
  assert.equal(t.inb(P + 7), 0xff, 'not decoded');
  t.ide.configWrite(0x04, 2, 0xffff);
  assert.equal(t.ide.configRead(0x04, 2), 0x0005, 'only I/O space and bus master enable are writable');
  assert.equal(t.inb(P + 7), 0xff, 'IDETIM decode still off');
  t.ide.configWrite(0x40, 2, 0x8000);
  assert.equal(t.inb(P + 7), 0x50, 'primary decodes');
  assert.equal(t.inb(0x177), 0xff, 'secondary still off');
  t.ide.configWrite(0x40, 4, 0x8000_8000);
  assert.equal(t.inb(0x177), 0x00, 'secondary decodes: an empty channel reads 00h');
  assert.equal(t.ide.configRead(0x40, 4), 0x8000_8000);
  t.ide.reset();
  assert.equal(t.inb(P + 7), 0xff, 'PCI reset clears the enables');
});

test('IDENTIFY DEVICE: byte-exact identity, geometry, capacities, features, checksum', () => {
  const d = disk(40_000);
  const t = setup([d, disk()]);
  const id = identify(t);
  assert.equal(identifyString(id, 27, 20), 'TSXEN HARDDISK');
  assert.deepEqual([...id.subarray(54, 60)], [0x53, 0x54, 0x45, 0x58, 0x20, 0x4e], 'model bytes: "TSXEN " with each pair swapped');
  assert.equal(identifyString(id, 10, 10), 'TSXEN0000');
  assert.equal(identifyString(id, 23, 4), '1.0');
  assert.equal(word(id, 0), 0x0040);
  assert.equal(word(id, 2), 0xc837);
  assert.deepEqual([word(id, 1), word(id, 3), word(id, 6)], [Math.min(16383, Math.floor(d.size / 512 / 1008)), 16, 63]);
  assert.equal(word(id, 47), 0x8000 | MAX_MULTIPLE);
  assert.equal(word(id, 49), 0x0a00, 'LBA + IORDY, no DMA');
  assert.equal(word(id, 50), 0x4000);
  assert.equal(word(id, 53), 0x0007);
  assert.equal(word(id, 59), 0, 'multiple mode off');
  const sectors = d.size / 512;
  assert.equal(word(id, 60) | (word(id, 61) << 16), sectors);
  assert.equal(word(id, 63), 0, 'no multiword DMA');
  assert.equal(word(id, 64), 0x0003);
  assert.equal(word(id, 80), 0x0070, 'ATA/ATAPI-4..6');
  assert.equal(word(id, 82), 0x0028);
  assert.equal(word(id, 83), 0x7400, '48-bit, FLUSH CACHE, FLUSH CACHE EXT');
  assert.equal(word(id, 84), 0x4000);
  assert.equal(word(id, 85), 0x0028, 'write cache enabled');
  assert.equal(word(id, 86), 0x3400);
  assert.equal(word(id, 88), 0, 'no Ultra DMA');
  assert.equal(word(id, 93), 0x403b, 'device 0, device 1 present');
  assert.deepEqual([word(id, 100), word(id, 101), word(id, 102), word(id, 103)], [sectors & 0xffff, sectors >>> 16, 0, 0]);
  assert.equal(id[510], 0xa5);
  assert.equal(id.reduce((a, b) => a + b, 0) & 0xff, 0, 'integrity word checksum');
  const slave = identify(t, 1);
  assert.equal(identifyString(slave, 10, 10), 'TSXEN0001');
  assert.equal(word(slave, 93), 0x4b00);
});

test('LBA28 capacity is capped at 0FFFFFFFh, LBA48 carries the full size (big sparse-looking store)', () => {
  const sectors = 2 ** 28 + 5;
  const big: BlockStore = { size: sectors * 512, readOnly: true, read: (_o, into) => into.fill(0x5a), write: () => {}, flush: () => {} };
  const t = setup([big]);
  const id = identify(t);
  assert.equal(word(id, 60) | (word(id, 61) << 16), 0x0fffffff);
  assert.equal(word(id, 100) + word(id, 101) * 65536 + word(id, 102) * 2 ** 32, sectors);
  t.lba48(2 ** 28 + 4, 1);
  t.outb(P + 7, 0x24);
  assert.equal(t.inb(P + 7), 0x58, 'the last sector is readable with READ SECTORS EXT');
  assert.equal(t.readBlock()[0], 0x5a);
  t.lba48(2 ** 28 + 5, 1);
  t.outb(P + 7, 0x24);
  assert.equal(t.inb(P + 7), 0x51);
  assert.equal(t.inb(P + 1), 0x10, 'IDNF one past the end');
});

test('READ SECTORS: one interrupt and DRQ block per sector; data from the store; count 0 means 256', () => {
  const t = setup();
  const d = t.disks[0] as MemoryBlockStore;
  t.lba28(100, 3);
  t.outb(P + 7, 0x20);
  for (let s = 0; s < 3; s++) {
    assert.equal(t.irqs[0], true, `interrupt before sector ${s}`);
    assert.equal(t.ports.read(CTL, 1), 0x58, 'Alternate Status');
    assert.equal(t.irqs[0], true, 'Alternate Status does not clear the interrupt');
    assert.equal(t.inb(P + 7), 0x58);
    assert.deepEqual(t.readBlock(), d.data.subarray((100 + s) * 512, (101 + s) * 512));
  }
  assert.equal(t.inb(P + 7), 0x50);
  assert.equal(t.irqs[0], false);
  // Count 0 = 256 sectors.
  t.lba28(0, 0);
  t.outb(P + 7, 0x20);
  let blocks = 0;
  while (t.inb(P + 7) & 0x08) {
    t.readBlock();
    blocks++;
  }
  assert.equal(blocks, 256);
});

test('WRITE SECTORS: DRQ without interrupt for the first block, an interrupt after each; then FLUSH CACHE flushes the store', () => {
  const t = setup();
  const d = t.disks[0] as MemoryBlockStore;
  const data = Uint8Array.from({ length: 1024 }, (_, i) => (i * 13) & 0xff);
  t.lba28(7, 2);
  t.outb(P + 7, 0x30);
  assert.equal(t.inb(P + 7), 0x58);
  assert.equal(t.irqs[0], false, 'no interrupt before the first data-out block');
  t.writeBlock(data.subarray(0, 512));
  assert.equal(t.irqs[0], true, 'interrupt after block 1');
  assert.equal(t.inb(P + 7), 0x58, 'DRQ for block 2');
  t.writeBlock(data.subarray(512));
  assert.equal(t.irqs[0], true, 'completion interrupt');
  assert.equal(t.inb(P + 7), 0x50);
  assert.deepEqual(d.data.subarray(7 * 512, 9 * 512), data);
  assert.equal(d.flushes, 0, 'write-back cache: no flush yet');
  t.outb(P + 7, 0xe7);
  assert.equal(t.irqs[0], true);
  assert.equal(t.inb(P + 7), 0x50);
  assert.equal(d.flushes, 1, 'FLUSH CACHE');
  t.outb(P + 7, 0xea);
  assert.equal(d.flushes, 2, 'FLUSH CACHE EXT');
  // Write cache off (SET FEATURES 82h): every write is flushed before completion.
  t.outb(P + 1, 0x82);
  t.outb(P + 7, 0xef);
  assert.equal(t.inb(P + 7), 0x50);
  const f = d.flushes;
  t.lba28(9, 1);
  t.outb(P + 7, 0x30);
  t.writeBlock(data.subarray(0, 512));
  assert.equal(d.flushes, f + 1);
  assert.equal(word(identify(t), 85) & 0x20, 0, 'identify shows the write cache disabled');
});

test('48-bit READ/WRITE SECTORS EXT: the HOB FIFO, readback through Device Control HOB', () => {
  const t = setup();
  const d = t.disks[0] as MemoryBlockStore;
  t.lba48(0x0f00, 0x0102);
  t.outb(CTL, 0x80); // HOB
  assert.deepEqual([t.inb(P + 2), t.inb(P + 3), t.inb(P + 4), t.inb(P + 5)], [0x01, 0, 0, 0], 'previous contents');
  t.outb(CTL, 0x00);
  assert.deepEqual([t.inb(P + 2), t.inb(P + 3), t.inb(P + 4)], [0x02, 0x00, 0x0f]);
  t.lba48(3000, 2);
  const data = new Uint8Array(1024).fill(0xc3);
  t.outb(P + 7, 0x34);
  t.writeBlock(data.subarray(0, 512));
  t.writeBlock(data.subarray(512));
  assert.equal(t.inb(P + 7), 0x50);
  assert.deepEqual(d.data.subarray(3000 * 512, 3002 * 512), data);
  t.lba48(3001, 1);
  t.outb(P + 7, 0x24);
  assert.equal(t.inb(P + 7), 0x58);
  assert.equal(t.readBlock()[511], 0xc3);
});

test('SET MULTIPLE MODE and READ/WRITE MULTIPLE: aborted before, DRQ blocks of N sectors after, bad counts aborted', () => {
  const t = setup();
  const d = t.disks[0] as MemoryBlockStore;
  t.lba28(0, 4);
  t.outb(P + 7, 0xc4);
  assert.equal(t.inb(P + 7), 0x51, 'READ MULTIPLE before SET MULTIPLE MODE');
  assert.equal(t.inb(P + 1), 0x04, 'ABRT');
  for (const bad of [3, 32, 17]) {
    t.outb(P + 2, bad);
    t.outb(P + 7, 0xc6);
    assert.equal(t.inb(P + 7), 0x51, `count ${bad} aborted`);
  }
  t.outb(P + 2, 4);
  t.outb(P + 7, 0xc6);
  assert.equal(t.irqs[0], true);
  assert.equal(t.inb(P + 7), 0x50);
  assert.equal(word(identify(t), 59), 0x0104);
  // READ MULTIPLE of 10 sectors: blocks of 4, 4, 2, an interrupt before each.
  t.lba28(50, 10);
  t.outb(P + 7, 0xc4);
  const got: number[] = [];
  let interrupts = 0;
  for (;;) {
    if (t.irqs[0]) interrupts++;
    if (!(t.inb(P + 7) & 0x08)) break;
    let n = 0;
    while (t.ports.read(CTL, 1) & 0x08 && n < 16) {
      t.readBlock();
      n++;
      if (t.irqs[0]) break;
    }
    got.push(n);
  }
  assert.deepEqual(got, [4, 4, 2]);
  assert.equal(interrupts, 3);
  // WRITE MULTIPLE EXT of 5 sectors: blocks of 4 and 1.
  const data = new Uint8Array(5 * 512).fill(0x11);
  t.lba48(200, 5);
  t.outb(P + 7, 0x39);
  assert.equal(t.irqs[0], false);
  for (let s = 0; s < 4; s++) t.writeBlock(data.subarray(s * 512, (s + 1) * 512));
  assert.equal(t.irqs[0], true, 'interrupt after the first 4-sector block');
  assert.equal(t.inb(P + 7), 0x58);
  t.writeBlock(data.subarray(2048));
  assert.equal(t.inb(P + 7), 0x50);
  assert.deepEqual(d.data.subarray(200 * 512, 205 * 512), data);
});

test('errors: IDNF beyond the disk with the failing address, ABRT for unknown, DMA, DEVICE RESET, read-only writes; never a throw', () => {
  const t = setup([disk(1000), undefined, disk(100, true)]);
  const d = t.disks[0] as MemoryBlockStore;
  t.lba28(1000, 1);
  t.outb(P + 7, 0x20);
  assert.equal(t.irqs[0], true, 'an error ends the command with an interrupt');
  assert.equal(t.inb(P + 7), 0x51);
  assert.equal(t.inb(P + 1), 0x10, 'IDNF');
  assert.deepEqual([t.inb(P + 3), t.inb(P + 4), t.inb(P + 5)], [1000 & 0xff, 1000 >> 8, 0]);
  assert.equal(t.inw(P), 0xffff, 'no transfer after an error');
  t.lba28(998, 5);
  t.outb(P + 7, 0x30);
  assert.equal(t.inb(P + 7), 0x51, 'a range crossing the end');
  assert.equal(t.inb(P + 3), 1000 & 0xff, 'first address outside the disk');
  t.lba48(2 ** 40, 1);
  t.outb(P + 7, 0x24);
  assert.equal(t.inb(P + 1), 0x10);
  t.lba28(999, 2);
  t.outb(P + 7, 0x40);
  assert.equal(t.inb(P + 1), 0x10, 'READ VERIFY beyond the end');
  t.lba28(990, 10);
  t.outb(P + 7, 0x40);
  assert.equal(t.inb(P + 7), 0x50, 'READ VERIFY inside');
  for (const cmd of [0x00, 0xc8, 0xca, 0x25, 0x08, 0xa1, 0xa0, 0xf8, 0xff]) {
    t.outb(P + 7, cmd);
    assert.equal(t.inb(P + 7), 0x51, `command ${cmd.toString(16)}`);
    assert.equal(t.inb(P + 1), 0x04, `ABRT for ${cmd.toString(16)}`);
  }
  for (const [sub, count] of [[0x03, 0x22], [0x03, 0x45], [0x55, 0], [0x99, 0]]) {
    t.outb(P + 1, sub);
    t.outb(P + 2, count);
    t.outb(P + 7, 0xef);
    assert.equal(t.inb(P + 1), 0x04, `SET FEATURES ${sub.toString(16)}/${count.toString(16)}`);
  }
  t.outb(P + 1, 0x03);
  t.outb(P + 2, 0x0c);
  t.outb(P + 7, 0xef);
  assert.equal(t.inb(P + 7), 0x50, 'PIO mode 4 accepted');
  // The secondary master is read-only.
  t.outb(0x176, 0xe0);
  t.outb(0x172, 1);
  t.outb(0x177, 0x30);
  assert.equal(t.irqs[1], true, 'IRQ 15');
  assert.equal(t.inb(0x177), 0x51);
  assert.equal(t.inb(0x171), 0x04);
  // A failing host store: UNC on read, ABRT on write and flush; the model does not throw.
  const broken: BlockStore = {
    size: 512 * 64, readOnly: false,
    read: () => { throw new Error('EIO'); }, write: () => { throw new Error('EIO'); }, flush: () => { throw new Error('EIO'); },
  };
  const b = setup([broken]);
  b.lba28(1, 1);
  b.outb(P + 7, 0x20);
  assert.equal(b.inb(P + 7), 0x51);
  assert.equal(b.inb(P + 1), 0x40, 'UNC');
  b.lba28(1, 1);
  b.outb(P + 7, 0x30);
  b.writeBlock(new Uint8Array(512));
  assert.equal(b.inb(P + 7), 0x51);
  assert.equal(b.inb(P + 1), 0x04);
  b.outb(P + 7, 0xe7);
  assert.equal(b.inb(P + 1), 0x04, 'flush failure');
  assert.equal(d.flushes, 0);
});

test('CHS addressing after INITIALIZE DEVICE PARAMETERS; default geometry 16/63', () => {
  const t = setup();
  const d = t.disks[0] as MemoryBlockStore;
  const chs = (c: number, h: number, s: number) => {
    t.outb(P + 6, 0xa0 | h);
    t.outb(P + 2, 1);
    t.outb(P + 3, s);
    t.outb(P + 4, c & 0xff);
    t.outb(P + 5, c >> 8);
    t.outb(P + 7, 0x20);
  };
  chs(1, 2, 3); // (1*16 + 2)*63 + 2
  assert.equal(t.inb(P + 7), 0x58);
  assert.deepEqual(t.readBlock(), d.data.subarray(1136 * 512, 1137 * 512));
  chs(0, 0, 0);
  assert.equal(t.inb(P + 1), 0x10, 'sector 0 does not exist');
  chs(0, 0, 64);
  assert.equal(t.inb(P + 1), 0x10, 'sector beyond the track');
  // 4 heads, 32 sectors per track.
  t.outb(P + 6, 0xa0 | 3);
  t.outb(P + 2, 32);
  t.outb(P + 7, 0x91);
  assert.equal(t.inb(P + 7), 0x50);
  chs(2, 1, 5); // (2*4 + 1)*32 + 4
  assert.equal(t.inb(P + 7), 0x58);
  assert.deepEqual(t.readBlock(), d.data.subarray(292 * 512, 293 * 512));
  const id = identify(t);
  assert.deepEqual([word(id, 54), word(id, 55), word(id, 56)], [32, 4, 32], 'current geometry (4096 sectors / 128)');
  assert.equal(word(id, 57) | (word(id, 58) << 16), 4096);
  chs(0, 4, 1);
  assert.equal(t.inb(P + 1), 0x10, 'head beyond the current geometry');
});

test('absent slave: Status reads 00h, other registers answer as device 0, commands are ignored; empty channel reads 00h', () => {
  const t = setup();
  t.outb(P + 3, 0x12);
  t.outb(P + 6, 0xb0);
  assert.equal(t.inb(P + 6), 0xb0, 'Device register reads back with DEV=1');
  assert.equal(t.inb(P + 7), 0x00);
  assert.equal(t.ports.read(CTL, 1), 0x00);
  assert.equal(t.inb(P + 3), 0x12, 'device 0 answers for device 1');
  t.outb(P + 7, 0xec);
  assert.equal(t.irqs[0], false, 'command ignored');
  assert.equal(t.inw(P), 0xffff, 'no data');
  assert.equal(t.inb(P + 7), 0x00);
  t.outb(P + 6, 0xa0);
  assert.equal(t.inb(P + 7), 0x50, 'device 0 untouched');
  // EXECUTE DEVICE DIAGNOSTIC is for both devices: device 0 reports and interrupts.
  t.outb(P + 6, 0xb0);
  t.outb(P + 7, 0x90);
  assert.equal(t.inb(P + 6), 0x00, 'signature: Device 00h selects device 0');
  assert.equal(t.irqs[0], true);
  assert.equal(t.inb(P + 1), 0x01);
  assert.deepEqual([t.inb(P + 2), t.inb(P + 3), t.inb(P + 4), t.inb(P + 5)], [1, 1, 0, 0]);
  // The empty secondary channel.
  for (let r = 0; r < 8; r++) assert.equal(t.inb(0x170 + r), 0x00);
  t.outb(0x172, 0x55);
  assert.equal(t.inb(0x172), 0x00);
  t.outb(0x177, 0xec);
  assert.equal(t.inw(0x170), 0x0000);
  assert.equal(t.irqs[1], false);
  // Only a slave: device 0 reads Status 00h.
  const s = setup([undefined, disk()]);
  assert.equal(s.inb(P + 7), 0x00);
  s.outb(P + 6, 0xb0);
  assert.equal(s.inb(P + 7), 0x50);
});

test('software reset: BSY while SRST is set, then the ATA signature and DRDY; a transfer in progress is abandoned', () => {
  const t = setup([disk(), disk()]);
  t.lba28(5, 2, 1);
  t.outb(P + 7, 0x20);
  assert.equal(t.inb(P + 7), 0x58);
  t.outb(CTL, 0x04 | 0x02);
  assert.equal(t.ports.read(CTL, 1), 0x80, 'BSY');
  assert.equal(t.inb(P + 7), 0x80);
  t.outb(P + 7, 0xec);
  assert.equal(t.irqs[0], false, 'commands are ignored while BSY');
  t.outb(CTL, 0x02);
  assert.equal(t.inb(P + 7), 0x50, 'device 0 after reset');
  assert.equal(t.inb(P + 6), 0x00);
  assert.deepEqual([t.inb(P + 1), t.inb(P + 2), t.inb(P + 3), t.inb(P + 4), t.inb(P + 5)], [1, 1, 1, 0, 0]);
  assert.equal(t.inw(P), 0xffff, 'the read was abandoned');
  t.outb(P + 6, 0xb0);
  assert.equal(t.inb(P + 7), 0x50, 'device 1 ready too');
});

test('nIEN gates INTRQ; only the selected device drives it; writing Command clears a pending interrupt', () => {
  const t = setup([disk(), disk()]);
  t.outb(CTL, 0x02);
  t.outb(P + 6, 0xa0);
  t.outb(P + 7, 0xe7);
  assert.equal(t.irqs[0], false, 'nIEN set');
  t.outb(CTL, 0x00);
  assert.equal(t.irqs[0], true, 'pending interrupt shows once nIEN clears');
  t.outb(P + 6, 0xb0);
  assert.equal(t.irqs[0], false, 'device 1 selected: device 0 does not drive INTRQ');
  t.outb(P + 6, 0xa0);
  assert.equal(t.irqs[0], true);
  t.outb(P + 7, 0xe0);
  assert.equal(t.irqs[0], true, 'STANDBY IMMEDIATE completes with a new interrupt');
  t.outb(P + 2, 0);
  t.outb(P + 7, 0xe5);
  assert.equal(t.inb(P + 2), 0xff, 'CHECK POWER MODE: active');
  assert.equal(t.irqs[0], true, 'the write of Command cleared the old interrupt, completion raised a new one');
  t.inb(P + 7);
  assert.equal(t.irqs[0], false);
});

test('odd port accesses: 32-bit data moves two words, byte data reads the low lane, wide register accesses split, idle data port', () => {
  const t = setup();
  const d = t.disks[0] as MemoryBlockStore;
  assert.equal(t.inw(P), 0xffff, 'no transfer in progress');
  t.outw(P, 0x1234); // dropped
  t.lba28(1, 1);
  t.outb(P + 7, 0x20);
  const ref = d.data.subarray(512, 1024);
  const dw = t.ports.read(P, 4);
  assert.equal(dw, (ref[0] | (ref[1] << 8) | (ref[2] << 16) | (ref[3] << 24)) >>> 0);
  assert.equal(t.inb(P), ref[4], 'byte read: one word moved, low byte returned');
  assert.equal(t.inw(P), ref[6] | (ref[7] << 8));
  for (let i = 8; i < 512; i += 4) t.ports.read(P, 4);
  assert.equal(t.inb(P + 7), 0x50, 'the sector is done');
  // A 16-bit write at offset 2 is Count + LBA Low; a 16-bit read of 6-7 is Device + Status.
  t.outw(P + 2, 0x3402);
  assert.deepEqual([t.inb(P + 2), t.inb(P + 3)], [0x02, 0x34]);
  assert.equal(t.ports.read(P + 6, 2), 0x50e0, 'Device (E0h from the last LBA set-up) and Status');
  assert.equal(t.ports.read(P + 4, 4) >>> 24, 0x50);
  // A 32-bit write of data during a write command: two words.
  t.lba28(3, 1);
  t.outb(P + 7, 0x30);
  for (let i = 0; i < 128; i++) t.ports.write(P, 4, 0xa1b2c3d4);
  assert.equal(t.inb(P + 7), 0x50);
  assert.deepEqual([...d.data.subarray(3 * 512, 3 * 512 + 4)], [0xd4, 0xc3, 0xb2, 0xa1]);
});

test('snapshot mid-transfer: the restored channel continues the same read and keeps its interrupt state', () => {
  const a = setup([disk(), disk()]);
  const d = a.disks[0] as MemoryBlockStore;
  a.outb(P + 2, 2);
  a.outb(P + 7, 0xc6);
  a.inb(P + 7);
  a.lba28(40, 6);
  a.outb(P + 7, 0xc4);
  a.inb(P + 7);
  for (let i = 0; i < 300; i++) a.inw(P); // into the second sector of the first block
  const saved = JSON.parse(JSON.stringify(a.ide.save()));
  assert.deepEqual(saved.channels[0].bm, { command: 0, status: 0x04, prdt: 0 }, 'BMISTA latched the interrupt');
  const b = setup([d, a.disks[1]]);
  b.ide.restore(saved);
  assert.deepEqual(b.ide.save(), saved);
  assert.equal(b.irqs[0], false, 'restore does not drive the line');
  const rest = new Uint8Array(6 * 512 - 600);
  let k = 0;
  while (k < rest.length) {
    if (!(b.ports.read(CTL, 1) & 0x08)) break;
    const w = b.inw(P);
    rest[k++] = w & 0xff;
    rest[k++] = w >> 8;
    if (b.irqs[0]) b.inb(P + 7);
  }
  assert.equal(k, rest.length);
  assert.deepEqual(rest, d.data.subarray(40 * 512 + 600, 46 * 512));
  assert.equal(b.inb(P + 7), 0x50);
  assert.throws(() => setup([d]).ide.restore(saved), /presence/);
  assert.throws(() => b.ide.restore({ ...saved, channels: [saved.channels[0]] }), /two channels/);
});

test('in the PC platform: 00:01.1 on the PCI bus, ports at 1F0h/3F6h, IRQ 14 through the 8259A', () => {
  const mem = new PhysicalMemory(16 << 20);
  let intr = false;
  const p = new PcPlatform({
    mem, clock: { now: () => 0 }, timers: new TimerQueue(), wallclockMs: 0,
    intr: (l) => { intr = l; }, nmi: () => {}, a20: () => {}, onReset: () => {}, onPowerOff: () => {},
    generalProtection: () => { throw new Error('#GP'); }, serialOutput: () => {}, firmware: true,
    ideDisks: [disk()],
  });
  const cfg = (reg: number) => p.ports.write(0xcf8, 4, 0x80000000 | (1 << 11) | (1 << 8) | reg);
  cfg(0);
  assert.equal(p.ports.read(0xcfc, 4), 0x70108086);
  cfg(0x04);
  p.ports.write(0xcfc, 2, 1);
  cfg(0x40);
  p.ports.write(0xcfc, 4, 0x80008000);
  // 8259A: ICW1-4 on both, unmask the cascade and IRQ 14.
  for (const [base, vec, icw3, mask] of [[0x20, 0x08, 0x04, 0xfb], [0xa0, 0x70, 0x02, 0xbf]]) {
    p.ports.write(base, 1, 0x11);
    p.ports.write(base + 1, 1, vec);
    p.ports.write(base + 1, 1, icw3);
    p.ports.write(base + 1, 1, 0x01);
    p.ports.write(base + 1, 1, mask);
  }
  p.lapic.firmwareVirtualWire();
  assert.equal(p.ports.read(0x1f7, 1), 0x50);
  p.ports.write(0x1f6, 1, 0xa0);
  p.ports.write(0x1f7, 1, 0xe7);
  assert.equal(intr, true, 'IRQ 14 reached INTR');
  assert.equal(p.acknowledge(), 0x76);
  assert.equal(p.ports.owner(0x3f6), 'ide-primary-ctl');
  assert.equal(p.ports.owner(0x3f7), undefined, '3F7h is not the IDE function\'s');
  // Without ideDisks (the direct-boot PC) there is no IDE function.
  const q = new PcPlatform({
    mem: new PhysicalMemory(16 << 20), clock: { now: () => 0 }, timers: new TimerQueue(), wallclockMs: 0,
    intr: () => {}, nmi: () => {}, a20: () => {}, onReset: () => {}, onPowerOff: () => {},
    generalProtection: () => { throw new Error('#GP'); }, serialOutput: () => {},
  });
  assert.equal(q.ide, undefined);
  assert.equal(q.ports.owner(0x1f0), undefined);
});

/** Writes a PRD table at `at`: [address, byte count] pairs, EOT on the last. */
function prdTable(bytes: Uint8Array, at: number, entries: Array<[number, number]>): void {
  const v = new DataView(bytes.buffer);
  entries.forEach(([addr, len], i) => {
    v.setUint32(at + 8 * i, addr, true);
    v.setUint32(at + 8 * i + 4, (len & 0xffff) | (i === entries.length - 1 ? 0x80000000 : 0), true);
  });
}

test('bus master IDE: BAR 4, IDENTIFY claims multiword DMA 0-2, SET FEATURES selects the mode', () => {
  const r = ram();
  const t = setup([disk()], true, r.mem);
  assert.equal(t.ide.configRead(0x20, 4), 0x00000001, 'BMIBA: an I/O BAR');
  t.ide.configWrite(0x20, 4, 0xffffffff);
  assert.equal(t.ide.configRead(0x20, 4), 0xfffffff1, '16 bytes');
  const id = identify(t);
  assert.equal(word(id, 49), 0x0b00, 'DMA supported');
  assert.equal(word(id, 63), 0x0407, 'modes 0-2, mode 2 selected');
  assert.equal(word(id, 88), 0, 'no Ultra DMA');
  t.outb(P + 1, 0x03);
  t.outb(P + 2, 0x21);
  t.outb(P + 7, 0xef);
  assert.equal(t.inb(P + 7), 0x50);
  assert.equal(word(identify(t), 63), 0x0207);
  t.outb(P + 2, 0x42);
  t.outb(P + 7, 0xef);
  assert.equal(t.inb(P + 1), 0x04, 'Ultra DMA mode 2 aborted');
  // BMIDTP is dword aligned; BMISTA's drive-capable bits are plain storage.
  t.ports.write(BM + 4, 4, 0x12345677);
  assert.equal(t.ports.read(BM + 4, 4), 0x12345674);
  assert.equal(t.inb(BM + 2), 0x04, 'the IDENTIFY interrupts were latched');
  t.outb(BM + 2, 0x64);
  assert.equal(t.inb(BM + 2), 0x60);
});

test('READ DMA: DRQ until the bus master starts, then the sectors land through the PRD list, INTRQ and BMISTA.INT', () => {
  const r = ram();
  const t = setup([disk()], true, r.mem);
  const d = t.disks[0] as MemoryBlockStore;
  t.ide.configWrite(0x04, 2, 0x0005); // I/O + bus master
  prdTable(r.bytes, 0x1000, [[0x20000, 1024], [0x30000, 512]]);
  t.ports.write(BM + 4, 4, 0x1000);
  t.outb(BM, 0x08); // direction: write to memory, stopped
  t.lba28(10, 3);
  t.outb(P + 7, 0xc8);
  assert.equal(t.ports.read(CTL, 1), 0x58, 'waiting for the bus master');
  assert.equal(t.irqs[0], false);
  t.outb(BM, 0x09);
  assert.equal(t.irqs[0], true);
  assert.equal(t.inb(BM + 2) & 0x07, 0x04, 'interrupt, not active (the list ended with the transfer), no error');
  assert.equal(t.inb(P + 7), 0x50);
  assert.deepEqual(r.bytes.subarray(0x20000, 0x20400), d.data.subarray(10 * 512, 12 * 512));
  assert.deepEqual(r.bytes.subarray(0x30000, 0x30200), d.data.subarray(12 * 512, 13 * 512));
  t.outb(BM + 2, 0x04);
  assert.equal(t.inb(BM + 2) & 0x04, 0, 'interrupt bit is write-one-to-clear');
  t.outb(BM, 0x08);
  // Start first, command second (as some drivers do), a PRD list larger than the transfer: active stays set.
  prdTable(r.bytes, 0x1000, [[0x40000, 0]]); // 0 = 64 KiB
  t.outb(BM, 0x09);
  t.lba48(20, 1);
  t.outb(P + 7, 0x25);
  assert.equal(t.inb(BM + 2) & 0x07, 0x05, 'interrupt + still active');
  assert.deepEqual(r.bytes.subarray(0x40000, 0x40200), d.data.subarray(20 * 512, 21 * 512));
  t.outb(BM, 0x08);
  assert.equal(t.inb(BM + 2) & 0x01, 0, 'stopping clears active');
});

test('WRITE DMA (EXT): waits for Bus Master Enable; too-short lists, wrong direction and bad addresses fail with BMISTA error + ABRT', () => {
  const r = ram();
  const t = setup([disk()], true, r.mem);
  const d = t.disks[0] as MemoryBlockStore;
  r.bytes.fill(0x77, 0x50000, 0x50400);
  prdTable(r.bytes, 0x2000, [[0x50000, 1024]]);
  t.ports.write(BM + 4, 4, 0x2000);
  t.outb(BM, 0x01); // start, read from memory
  t.lba48(30, 2);
  t.outb(P + 7, 0x35);
  assert.equal(t.irqs[0], false, 'Bus Master Enable is clear: nothing moves');
  t.ide.configWrite(0x04, 2, 0x0005);
  assert.equal(t.irqs[0], true);
  assert.equal(t.inb(P + 7), 0x50);
  assert.ok(d.data.subarray(30 * 512, 32 * 512).every((b) => b === 0x77));
  t.outb(BM, 0x00);
  t.outb(BM + 2, 0x06);
  // List shorter than the transfer.
  t.outb(BM, 0x01);
  t.lba28(40, 3);
  t.outb(P + 7, 0xca);
  assert.equal(t.inb(P + 7), 0x51);
  assert.equal(t.inb(P + 1), 0x04);
  assert.equal(t.inb(BM + 2) & 0x07, 0x06, 'error + interrupt, not active');
  t.outb(BM, 0x00);
  t.outb(BM + 2, 0x06);
  // Direction opposite to the command (BMICOM says write-to-memory for a WRITE DMA).
  t.outb(BM, 0x09);
  t.lba28(40, 1);
  t.outb(P + 7, 0xca);
  assert.equal(t.inb(P + 1), 0x04);
  assert.equal(t.inb(BM + 2) & 0x02, 0x02);
  t.outb(BM, 0x08);
  t.outb(BM + 2, 0x06);
  // A buffer outside RAM.
  prdTable(r.bytes, 0x2000, [[0x200000, 512]]);
  t.outb(BM, 0x09);
  t.lba28(40, 1);
  t.outb(P + 7, 0xc8);
  assert.equal(t.inb(P + 1), 0x04);
  assert.equal(t.inb(BM + 2) & 0x02, 0x02);
  // DMA to a read-only disk, and beyond the end.
  const ro = setup([disk(64, true)], true, r.mem);
  ro.outb(P + 7, 0xca);
  assert.equal(ro.inb(P + 1), 0x04);
  ro.lba28(64, 1);
  ro.outb(P + 7, 0xc8);
  assert.equal(ro.inb(P + 1), 0x10);
});
