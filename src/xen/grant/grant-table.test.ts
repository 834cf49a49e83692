import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  GrantTable, grantCopy, GNTST_OKAY, GNTST_BAD_GNTREF, GNTST_PERMISSION_DENIED, GNTST_BAD_COPY_ARG, GNTST_BAD_PAGE,
  GTF_PERMIT_ACCESS, GTF_READONLY, GTF_READING, GTF_WRITING, GNTST_GENERAL_ERROR, type GuestPhysical,
} from './grant-table.js';

function guest(pages = 64): GuestPhysical {
  const u8 = new Uint8Array(pages * 4096);
  return { u8, isRamGfn: (g) => Number.isInteger(g) && g >= 0 && g < pages };
}

function grant(mem: GuestPhysical, tableGfn: number, ref: number, domid: number, gfn: number, flags: number) {
  const a = tableGfn * 4096 + ref * 8;
  mem.u8[a + 2] = domid & 0xff;
  mem.u8[a + 3] = domid >> 8;
  new DataView(mem.u8.buffer).setUint32(a + 4, gfn, true);
  mem.u8[a] = flags & 0xff;
  mem.u8[a + 1] = flags >> 8;
}

test('a backend reaches a granted page only through a valid entry naming it', () => {
  const mem = guest();
  const gt = new GrantTable(1, mem);
  assert.equal(gt.setFrame(0, 10), GNTST_OKAY);
  grant(mem, 10, 8, 0, 20, GTF_PERMIT_ACCESS);
  mem.u8[20 * 4096 + 5] = 0xab;
  const acc = gt.acquire(8, 0, true);
  assert.ok(typeof acc !== 'number');
  assert.equal(acc.page[5], 0xab);
  assert.equal(mem.u8[10 * 4096 + 8 * 8] & (GTF_READING | GTF_WRITING), GTF_READING | GTF_WRITING, 'in-use bits are set while held');
  gt.release(acc);
  assert.equal(mem.u8[10 * 4096 + 8 * 8] & (GTF_READING | GTF_WRITING), 0);
  assert.equal(gt.heldRefs, 0);
});

test('wrong grantee, read-only, invalid type, out-of-range ref and bad frames are refused', () => {
  const mem = guest();
  const gt = new GrantTable(1, mem);
  gt.setFrame(0, 10);
  grant(mem, 10, 8, 0, 20, GTF_PERMIT_ACCESS | GTF_READONLY);
  assert.equal(gt.acquire(8, 5, false), GNTST_PERMISSION_DENIED);
  assert.equal(gt.acquire(8, 0, true), GNTST_PERMISSION_DENIED);
  assert.ok(typeof gt.acquire(8, 0, false) !== 'number');
  grant(mem, 10, 9, 0, 20, 0);
  assert.equal(gt.acquire(9, 0, false), GNTST_GENERAL_ERROR);
  assert.equal(gt.acquire(512, 0, false), GNTST_BAD_GNTREF);
  assert.equal(gt.acquire(-1, 0, false), GNTST_BAD_GNTREF);
  grant(mem, 10, 10, 0, 0xffffff, GTF_PERMIT_ACCESS);
  assert.equal(gt.acquire(10, 0, false), GNTST_BAD_PAGE);
  assert.equal(gt.setFrame(40, 11), GNTST_GENERAL_ERROR, 'no more than maxFrames');
  assert.equal(gt.setFrame(3, 11), GNTST_OKAY, 'the table grows to the highest index placed');
  assert.equal(gt.nrFrames, 4);
  assert.equal(gt.acquire(512 * 2, 0, false), GNTST_BAD_GNTREF, 'refs in frames not yet placed are invalid');
  assert.equal(gt.setFrame(1, 999), GNTST_BAD_PAGE);
});

test('grant copy moves bytes between a granted page and the caller, with page-bound checks', () => {
  const fe = guest(), be = guest();
  const tables = new Map([[1, { table: new GrantTable(1, fe), mem: fe }], [0, { table: new GrantTable(0, be), mem: be }]]);
  const dir = { domain: (d: number) => tables.get(d) ?? null };
  tables.get(1)!.table.setFrame(0, 10);
  grant(fe, 10, 8, 0, 20, GTF_PERMIT_ACCESS);
  fe.u8.set([1, 2, 3, 4], 20 * 4096 + 100);
  const op = {
    source: { gref: true, ref: 8, gfn: 0, domid: 1, offset: 100 },
    dest: { gref: false, ref: 0, gfn: 3, domid: 0, offset: 7 },
    len: 4,
  };
  assert.equal(grantCopy(op, 0, dir), GNTST_OKAY);
  assert.deepEqual(Array.from(be.u8.subarray(3 * 4096 + 7, 3 * 4096 + 11)), [1, 2, 3, 4]);
  assert.equal(grantCopy({ ...op, len: 4000 }, 0, dir), GNTST_BAD_COPY_ARG);
  assert.equal(grantCopy({ ...op, dest: { ...op.dest, domid: 1 } }, 0, dir), GNTST_PERMISSION_DENIED, 'no raw GFN access to another domain');
  assert.equal(tables.get(1)!.table.heldRefs, 0, 'copies hold nothing afterwards');
});

test('pages a backend wrote are reported so decoded guest code there is dropped; reads are not', () => {
  const base = guest();
  const written: number[] = [];
  const mem: GuestPhysical = { ...base, isRamGfn: base.isRamGfn, wrote: (g) => written.push(g) };
  const gt = new GrantTable(1, mem);
  gt.setFrame(0, 10);
  grant(mem, 10, 1, 0, 20, GTF_PERMIT_ACCESS);
  grant(mem, 10, 2, 0, 21, GTF_PERMIT_ACCESS | GTF_READONLY);
  const r = gt.acquire(2, 0, false);
  assert.ok(typeof r !== 'number');
  gt.release(r);
  assert.deepEqual(written, []);
  const w = gt.acquire(1, 0, true);
  assert.ok(typeof w !== 'number');
  gt.release(w);
  assert.deepEqual(written, [20]);
});
