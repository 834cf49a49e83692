import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  DMA_CTL_ERROR, DMA_CTL_READ, DMA_CTL_SELECT, DMA_CTL_SKIP, DMA_CTL_WRITE, e820File, FwCfg, FW_CFG_FILE_DIR,
  FW_CFG_ID, FW_CFG_RAM_SIZE, FW_CFG_SIGNATURE, FW_CFG_VERSION_DMA, FW_CFG_VERSION_TRADITIONAL, FW_CFG_WRITE_CHANNEL,
  type FwCfgGuestMemory,
} from './fw-cfg.js';

/** 64 KiB of "guest RAM". */
function ram(): { mem: FwCfgGuestMemory; bytes: Uint8Array } {
  const bytes = new Uint8Array(0x10000);
  const ok = (a: number, n: number) => a >= 0 && n >= 0 && a + n <= bytes.length;
  return {
    bytes,
    mem: {
      read: (a, n) => (ok(a, n) ? bytes.slice(a, a + n) : null),
      write: (a, b) => {
        if (!ok(a, b.length)) return false;
        bytes.set(b, a);
        return true;
      },
    },
  };
}

const swap32 = (v: number) => (((v & 0xff) << 24) | ((v & 0xff00) << 8) | ((v >>> 8) & 0xff00) | (v >>> 24)) >>> 0;

/** Writes a descriptor at `at` and triggers it as SeaBIOS does (outl of the big-endian address to 518h). */
function dma(f: FwCfg, bytes: Uint8Array, at: number, control: number, length: number, address: number, addressHi = 0): number {
  const v = new DataView(bytes.buffer);
  v.setUint32(at, control >>> 0, false);
  v.setUint32(at + 4, length >>> 0, false);
  v.setUint32(at + 8, addressHi >>> 0, false);
  v.setUint32(at + 12, address >>> 0, false);
  const p = f.ports();
  p.ioWrite(8, 4, swap32(at));
  return v.getUint32(at, false);
}

function readItem(f: FwCfg, key: number, n: number): number[] {
  const p = f.ports();
  p.ioWrite(0, 2, key);
  return Array.from({ length: n }, () => p.ioRead(1, 1));
}

test('fw_cfg: signature, ID features and the DMA signature through the I/O ports', () => {
  const f = new FwCfg(ram().mem);
  assert.equal(String.fromCharCode(...readItem(f, FW_CFG_SIGNATURE, 4)), 'QEMU');
  const id = readItem(f, FW_CFG_ID, 4);
  assert.equal(id[0], FW_CFG_VERSION_TRADITIONAL | FW_CFG_VERSION_DMA);
  const p = f.ports();
  const lo = p.ioRead(4, 4), hi = p.ioRead(8, 4);
  const sig = [lo & 0xff, (lo >>> 8) & 0xff, (lo >>> 16) & 0xff, lo >>> 24, hi & 0xff, (hi >>> 8) & 0xff, (hi >>> 16) & 0xff, hi >>> 24];
  assert.equal(String.fromCharCode(...sig), 'QEMU CFG');
  assert.equal(new FwCfg(ram().mem, { dma: false }).ports().ioRead(1, 1), 0, 'nothing selected reads 0');
  assert.equal(readItem(new FwCfg(ram().mem, { dma: false }), FW_CFG_ID, 1)[0], FW_CFG_VERSION_TRADITIONAL);
});

test('fw_cfg: unknown selectors, reads past the end and the write-channel bit', () => {
  const f = new FwCfg(ram().mem);
  f.setU64(FW_CFG_RAM_SIZE, 0x1234_5678n);
  assert.deepEqual(readItem(f, 0x7777, 3), [0, 0, 0]);
  assert.deepEqual(readItem(f, FW_CFG_RAM_SIZE, 10), [0x78, 0x56, 0x34, 0x12, 0, 0, 0, 0, 0, 0]);
  assert.equal(readItem(f, FW_CFG_SIGNATURE | FW_CFG_WRITE_CHANNEL, 1)[0], 0x51, 'bit 14 is not part of the key');
  assert.throws(() => f.setItem(0x4001, new Uint8Array(1)));
  assert.throws(() => f.addFile('x'.repeat(56), new Uint8Array(1)));
});

test('fw_cfg: the file directory lists named files with sizes and selectors, big-endian', () => {
  const f = new FwCfg(ram().mem);
  const s1 = f.addFile('etc/e820', e820File([{ base: 0, length: 0x8000000, type: 1 }]));
  const s2 = f.addFile('bootorder', new Uint8Array(0));
  assert.equal(f.addFile('etc/e820', e820File([{ base: 0, length: 0x4000000, type: 1 }])), s1, 'replacing keeps the selector');
  const dir = readItem(f, FW_CFG_FILE_DIR, 4 + 64 * 2);
  const v = new DataView(new Uint8Array(dir).buffer);
  assert.equal(v.getUint32(0, false), 2);
  const entries = [0, 1].map((i) => ({
    size: v.getUint32(4 + 64 * i, false),
    select: v.getUint16(8 + 64 * i, false),
    name: String.fromCharCode(...dir.slice(12 + 64 * i, 12 + 64 * i + 56)).replace(/\0+$/, ''),
  }));
  assert.deepEqual(entries, [{ size: 0, select: s2, name: 'bootorder' }, { size: 20, select: s1, name: 'etc/e820' }]);
  const e820 = readItem(f, s1, 20);
  assert.equal(new DataView(new Uint8Array(e820).buffer).getUint32(8, true), 0x4000000);
});

test('fw_cfg DMA: select + read, skip, partial reads padded with zeros, control cleared', () => {
  const { mem, bytes } = ram();
  const f = new FwCfg(mem);
  const sel = f.addFile('etc/test', new Uint8Array([1, 2, 3, 4, 5, 6]));
  assert.equal(dma(f, bytes, 0x100, (sel << 16) | DMA_CTL_SELECT | DMA_CTL_READ, 2, 0x200), 0);
  assert.deepEqual([...bytes.slice(0x200, 0x202)], [1, 2]);
  assert.equal(dma(f, bytes, 0x100, DMA_CTL_SKIP, 1, 0), 0);
  bytes.fill(0xee, 0x300, 0x308);
  assert.equal(dma(f, bytes, 0x100, DMA_CTL_READ, 6, 0x300), 0);
  assert.deepEqual([...bytes.slice(0x300, 0x308)], [4, 5, 6, 0, 0, 0, 0xee, 0xee], 'past the end reads zeros');
  // The data port continues from where DMA left off (at the end now).
  assert.equal(f.ports().ioRead(1, 1), 0);
  assert.equal(f.dmaErrors, 0);
});

test('fw_cfg DMA: hostile descriptors set the error bit and never throw', () => {
  const { mem, bytes } = ram();
  const f = new FwCfg(mem);
  const ro = f.addFile('etc/ro', new Uint8Array(4));
  const rw = f.addFile('etc/rw', new Uint8Array(4), true);
  // Buffer outside RAM.
  assert.equal(dma(f, bytes, 0x100, (ro << 16) | DMA_CTL_SELECT | DMA_CTL_READ, 16, 0xfff8), DMA_CTL_ERROR);
  assert.equal(dma(f, bytes, 0x100, DMA_CTL_READ, 1, 0x10, 1), DMA_CTL_ERROR, 'buffer above 4 GiB');
  // Reserved control bits.
  assert.equal(dma(f, bytes, 0x100, DMA_CTL_READ | 0x20, 1, 0x200), DMA_CTL_ERROR);
  // Writes to a read-only item, and past a writable one's end.
  assert.equal(dma(f, bytes, 0x100, (ro << 16) | DMA_CTL_SELECT | DMA_CTL_WRITE, 4, 0x200), DMA_CTL_ERROR);
  assert.equal(dma(f, bytes, 0x100, (rw << 16) | DMA_CTL_SELECT | DMA_CTL_WRITE, 5, 0x200), DMA_CTL_ERROR);
  bytes.set([9, 8, 7, 6], 0x200);
  assert.equal(dma(f, bytes, 0x100, (rw << 16) | DMA_CTL_SELECT | DMA_CTL_WRITE, 4, 0x200), 0);
  assert.deepEqual([...f.file('etc/rw')!], [9, 8, 7, 6]);
  // Absurd length.
  assert.equal(dma(f, bytes, 0x100, DMA_CTL_SKIP, 0xffffffff, 0), DMA_CTL_ERROR);
  // A descriptor that is not in RAM (or straddles its end): nothing to write back, counted.
  const before = f.dmaErrors;
  f.ports().ioWrite(8, 4, swap32(0xfffc));
  f.ports().ioWrite(4, 4, swap32(1));
  f.ports().ioWrite(8, 4, swap32(0x100));
  assert.equal(f.dmaErrors, before + 2);
  // The high half is consumed by one transfer.
  assert.equal(dma(f, bytes, 0x100, (ro << 16) | DMA_CTL_SELECT, 0, 0), 0);
});
