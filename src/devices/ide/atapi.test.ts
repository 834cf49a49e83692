/**
 * The ATAPI CD-ROM on an IDE channel, driven through the channel's registers as a driver does:
 * signature, IDENTIFY PACKET DEVICE, the PACKET protocol (CDB phase, DRQ blocks limited by the byte
 * count, interrupt reason, completion), DMA through the bus master, sense after errors, the TOC,
 * hostile packets, and a snapshot taken in the middle of a transfer.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MemoryBlockStore } from '../../pv/block/block-store.js';
import { IdeChannel, REG_COMMAND, REG_COUNT, REG_DATA, REG_DEVICE, REG_FEATURE, REG_LBA_HIGH, REG_LBA_LOW, REG_LBA_MID,
  REG_STATUS, ST_DRQ, ST_ERR, BM_COMMAND, BM_PRDT, BMICOM_START, BMICOM_WRITE_TO_MEMORY, type DmaMemory } from './ide-channel.js';
import { identifyString } from './ata-identify.js';

const SECTORS = 40;

function iso(): MemoryBlockStore {
  const s = new MemoryBlockStore(SECTORS * 2048, true);
  for (let i = 0; i < SECTORS; i++) s.data.fill(i, i * 2048, (i + 1) * 2048);
  s.data[5 * 2048 + 1] = 0xab;
  return s;
}

function setup(dma?: DmaMemory) {
  let irqs = 0;
  const ch = new IdeChannel({ name: 't', disks: [{ kind: 'cdrom', store: iso() }], irq: (l: boolean) => { if (l) irqs++; }, dma });
  return { ch, irqs: () => irqs };
}

/** Issues PACKET with `cdb` and a byte count limit; returns the data read and the number of DRQ blocks. */
function packet(ch: IdeChannel, cdb: number[], limit = 0xfffe, dma = false): { data: number[]; blocks: number; status: number; error: number } {
  ch.writeRegister(REG_FEATURE, dma ? 1 : 0);
  ch.writeRegister(REG_LBA_MID, limit & 0xff);
  ch.writeRegister(REG_LBA_HIGH, limit >> 8);
  ch.writeRegister(REG_COMMAND, 0xa0);
  assert.equal(ch.readAltStatus() & ST_DRQ, ST_DRQ, 'DRQ for the packet');
  assert.equal(ch.readRegister(REG_COUNT), 0x01, 'CoD=1 IO=0');
  const c = [...cdb, ...new Array(12).fill(0)].slice(0, 12);
  for (let i = 0; i < 12; i += 2) ch.writeRegister(REG_DATA, c[i] | (c[i + 1] << 8));
  const data: number[] = [];
  let blocks = 0;
  for (;;) {
    const st = ch.readRegister(REG_STATUS);
    if (!(st & ST_DRQ)) return { data, blocks, status: st, error: ch.readRegister(1) };
    if (dma) return { data, blocks, status: st, error: 0 };
    assert.equal(ch.readRegister(REG_COUNT), 0x02, 'IO=1 CoD=0');
    const n = ch.readRegister(REG_LBA_MID) | (ch.readRegister(REG_LBA_HIGH) << 8);
    assert.ok(n > 0 && n <= (limit === 0 ? 0xfffe : Math.max(2, limit & 0xfffe)));
    blocks++;
    for (let i = 0; i < n; i += 2) { const w = ch.readRegister(REG_DATA); data.push(w & 0xff); if (i + 1 < n) data.push(w >> 8); }
  }
}

test('ATAPI: PACKET signature after reset and when IDENTIFY DEVICE is aborted', () => {
  const { ch } = setup();
  assert.deepEqual([REG_COUNT, REG_LBA_LOW, REG_LBA_MID, REG_LBA_HIGH].map((r) => ch.readRegister(r)), [1, 1, 0x14, 0xeb]);
  ch.writeRegister(REG_LBA_MID, 0x55);
  ch.writeRegister(REG_COMMAND, 0xec);
  assert.equal(ch.readRegister(REG_STATUS) & ST_ERR, ST_ERR);
  assert.equal(ch.readRegister(REG_LBA_MID), 0x14);
  assert.equal(ch.readRegister(REG_LBA_HIGH), 0xeb);
  ch.writeControl(4); ch.writeControl(0);
  assert.equal(ch.readRegister(REG_LBA_HIGH), 0xeb);
  ch.writeRegister(REG_COMMAND, 0x90);
  assert.equal(ch.readRegister(REG_LBA_MID), 0x14);
});

test('ATAPI: IDENTIFY PACKET DEVICE', () => {
  const { ch } = setup();
  ch.writeRegister(REG_DEVICE, 0);
  ch.writeRegister(REG_COMMAND, 0xa1);
  assert.equal(ch.readRegister(REG_STATUS) & ST_DRQ, ST_DRQ);
  const b = new Uint8Array(512);
  for (let i = 0; i < 512; i += 2) { const w = ch.readRegister(REG_DATA); b[i] = w & 0xff; b[i + 1] = w >> 8; }
  assert.equal(b[0] | (b[1] << 8), 0x8580);
  assert.equal(identifyString(b, 27, 20), 'TSXEN CD-ROM');
  assert.equal(ch.readRegister(REG_STATUS) & ST_DRQ, 0);
});

test('ATAPI: INQUIRY, READ CAPACITY, TEST UNIT READY', () => {
  const { ch } = setup();
  const inq = packet(ch, [0x12, 0, 0, 0, 36]);
  assert.equal(inq.data.length, 36);
  assert.equal(inq.data[0], 5);
  assert.equal(String.fromCharCode(...inq.data.slice(16, 28)), 'TSXEN CD-ROM');
  const cap = packet(ch, [0x25]);
  assert.deepEqual(cap.data, [0, 0, 0, SECTORS - 1, 0, 0, 8, 0]);
  assert.equal(ch.readRegister(REG_COUNT), 0x03, 'completion: IO=1 CoD=1');
  const tur = packet(ch, [0]);
  assert.equal(tur.data.length, 0);
  assert.equal(tur.status & ST_ERR, 0);
});

test('ATAPI: READ(10) in several DRQ blocks under a small byte count limit, READ(12)', () => {
  const { ch } = setup();
  const r = packet(ch, [0x28, 0, 0, 0, 0, 4, 0, 0, 3], 1000);
  assert.equal(r.data.length, 3 * 2048);
  assert.equal(r.blocks, Math.ceil(3 * 2048 / 1000));
  assert.equal(r.data[0], 4);
  assert.equal(r.data[2048 + 1], 0xab);
  assert.equal(r.data[3 * 2048 - 1], 6);
  const r12 = packet(ch, [0xa8, 0, 0, 0, 0, 7, 0, 0, 0, 1], 0); // byte count 0: taken as the largest
  assert.equal(r12.data.length, 2048);
  assert.equal(r12.data[7], 7);
});

test('ATAPI: errors set sense; REQUEST SENSE reports it', () => {
  const { ch } = setup();
  const bad = packet(ch, [0x28, 0, 0, 0, 0, SECTORS, 0, 0, 1]);
  assert.equal(bad.status & ST_ERR, ST_ERR);
  assert.equal(bad.error >> 4, 5);
  let s = packet(ch, [0x03, 0, 0, 0, 18]);
  assert.equal(s.data[2], 5); assert.equal(s.data[12], 0x21);
  packet(ch, [0xff]);
  s = packet(ch, [0x03, 0, 0, 0, 18]);
  assert.equal(s.data[12], 0x20);
  s = packet(ch, [0x03, 0, 0, 0, 18]);
  assert.equal(s.data[2], 0, 'sense cleared after a good command');
});

test('ATAPI: READ TOC formats 0 and 1, LBA and MSF', () => {
  const { ch } = setup();
  const t = packet(ch, [0x43, 0, 0, 0, 0, 0, 0, 0, 100]);
  assert.equal(t.data.length, 20);
  assert.equal(t.data[6], 1);
  assert.equal(t.data[14], 0xaa);
  assert.deepEqual(t.data.slice(16, 20), [0, 0, 0, SECTORS]);
  const m = packet(ch, [0x43, 2, 0, 0, 0, 0, 0, 0, 100]);
  assert.deepEqual(m.data.slice(8, 12), [0, 0, 2, 0]); // LBA 0 = 00:02:00
  const s = packet(ch, [0x43, 0, 1, 0, 0, 0, 0, 0, 12]);
  assert.equal(s.data.length, 12);
  assert.equal(s.data[6], 1);
  const mode = packet(ch, [0x5a, 0, 0x2a, 0, 0, 0, 0, 0, 64]);
  assert.equal(mode.data[8], 0x2a);
});

test('ATAPI: READ(10) via bus master DMA', () => {
  const mem = new Uint8Array(1 << 16);
  const dma: DmaMemory = {
    read: (a, n) => (a + n <= mem.length ? mem.slice(a, a + n) : null),
    write: (a, b) => { if (a + b.length > mem.length) return false; mem.set(b, a); return true; },
  };
  const { ch, irqs } = setup(dma);
  // PRD at 0x100: 4096 bytes to 0x1000, end of table.
  new DataView(mem.buffer).setUint32(0x100, 0x1000, true);
  new DataView(mem.buffer).setUint32(0x104, 0x80001000, true);
  for (let i = 0; i < 4; i++) ch.bmWrite(BM_PRDT + i, (0x100 >> (8 * i)) & 0xff);
  const r = packet(ch, [0x28, 0, 0, 0, 0, 5, 0, 0, 2], 0xfffe, true);
  assert.equal(r.status & ST_DRQ, ST_DRQ);
  const before = irqs();
  ch.bmWrite(BM_COMMAND, BMICOM_START | BMICOM_WRITE_TO_MEMORY);
  assert.equal(irqs(), before + 1);
  assert.equal(ch.readRegister(REG_STATUS) & (ST_DRQ | ST_ERR), 0);
  assert.equal(ch.readRegister(REG_COUNT), 3);
  assert.equal(mem[0x1001], 0xab);
  assert.equal(mem[0x1000 + 4095], 6);
});

test('ATAPI: hostile packets and byte counts do not crash', () => {
  const { ch } = setup();
  for (let op = 0; op < 256; op++) {
    for (const limit of [0, 1, 0xffff]) {
      const r = packet(ch, [op, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff], limit);
      assert.ok(r.data.length <= 32 << 20);
    }
  }
  // Reads of the data register with nothing to read, stray commands.
  ch.readRegister(REG_DATA);
  ch.writeRegister(REG_COMMAND, 0x20);
  assert.equal(ch.readRegister(REG_STATUS) & ST_ERR, ST_ERR);
  ch.writeRegister(REG_COMMAND, 0x08); // DEVICE RESET
  assert.equal(ch.readRegister(REG_LBA_HIGH), 0xeb);
});

test('ATAPI: snapshot round trip in the middle of a PIO transfer', () => {
  const { ch } = setup();
  ch.writeRegister(REG_FEATURE, 0);
  ch.writeRegister(REG_LBA_MID, 0x00);
  ch.writeRegister(REG_LBA_HIGH, 0x04); // 1024-byte blocks
  ch.writeRegister(REG_COMMAND, 0xa0);
  const cdb = [0x28, 0, 0, 0, 0, 5, 0, 0, 2, 0, 0, 0];
  for (let i = 0; i < 12; i += 2) ch.writeRegister(REG_DATA, cdb[i] | (cdb[i + 1] << 8));
  ch.readRegister(REG_DATA);
  const saved = JSON.parse(JSON.stringify(ch.save()));
  const { ch: ch2 } = setup();
  ch2.restore(saved);
  const words: number[] = [];
  while (ch2.readAltStatus() & ST_DRQ) words.push(ch2.readRegister(REG_DATA));
  assert.equal(words.length, 2047);
  assert.equal(words[0] & 0xff, 5);
  assert.equal(words[2047 - 1] >> 8, 6);
});
