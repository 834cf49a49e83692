import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BlockBackend, BLKIF_OP_READ, BLKIF_OP_WRITE, BLKIF_OP_FLUSH_DISKCACHE, BLKIF_RSP_OKAY, BLKIF_RSP_ERROR, BLKIF_RSP_EOPNOTSUPP, type BlkAbi } from './blkback.js';
import { MemoryBlockStore } from './block-store.js';
import { GrantTable, GTF_PERMIT_ACCESS, GTF_READONLY } from '../../xen/grant/grant-table.js';

/** A frontend written the way blkfront does it, against a fake guest memory. */
function harness(abi: BlkAbi, opts: { readOnly?: boolean } = {}) {
  const pages = 64;
  const mem = { u8: new Uint8Array(pages * 4096), isRamGfn: (g: number) => g >= 0 && g < pages };
  const table = new GrantTable(1, mem);
  table.setFrame(0, 1);
  const grant = (ref: number, gfn: number, ro = false) => {
    const a = 4096 + ref * 8;
    mem.u8[a + 2] = 0;
    new DataView(mem.u8.buffer).setUint32(a + 4, gfn, true);
    mem.u8[a] = GTF_PERMIT_ACCESS | (ro ? GTF_READONLY : 0);
  };
  const ringGfn = 2;
  const ring = mem.u8.subarray(ringGfn * 4096, ringGfn * 4096 + 4096);
  const dv = new DataView(ring.buffer, ring.byteOffset, 4096);
  dv.setUint32(4, 1, true); // req_event
  dv.setUint32(12, 1, true); // rsp_event
  const store = new MemoryBlockStore(1 << 20, opts.readOnly ?? false);
  let notifies = 0;
  const be = new BlockBackend(ring, {
    abi, store, notify: () => notifies++,
    grants: { acquire: (r, w) => table.acquire(r, 0, w), release: (a) => table.release(a) },
  });
  const reqSize = abi === "x86_32-abi" ? 108 : 112;
  const idOff = abi === 'x86_32-abi' ? 4 : 8, secOff = idOff + 8, segOff = secOff + 8;
  let prod = 0, rspCons = 0;
  const submit = (op: number, id: number, sector: number, segs: [number, number, number][]) => {
    const o = 64 + (prod % 32) * reqSize;
    ring.fill(0, o, o + reqSize);
    ring[o] = op;
    ring[o + 1] = segs.length;
    dv.setUint32(o + idOff, id, true);
    dv.setUint32(o + secOff, sector, true);
    segs.forEach(([gref, first, last], k) => {
      dv.setUint32(o + segOff + k * 8, gref, true);
      ring[o + segOff + k * 8 + 4] = first;
      ring[o + segOff + k * 8 + 5] = last;
    });
    prod++;
    dv.setUint32(0, prod, true);
  };
  const responses = () => {
    const out: { id: number; op: number; status: number }[] = [];
    const rp = dv.getUint32(8, true);
    while (rspCons !== rp) {
      const o = 64 + (rspCons % 32) * reqSize; // slots are a request/response union
      out.push({ id: dv.getUint32(o, true), op: ring[o + 8], status: dv.getInt16(o + 10, true) });
      rspCons++;
    }
    dv.setUint32(12, rspCons + 1, true);
    return out;
  };
  return { mem, grant, store, be, submit, responses, notifies: () => notifies };
}

for (const abi of ['x86_32-abi', 'x86_64-abi'] as const) {
  test(`${abi}: a write then a read round-trip data through the disk`, () => {
    const h = harness(abi);
    h.grant(8, 10);
    h.grant(9, 11);
    h.mem.u8.fill(0x5a, 10 * 4096, 11 * 4096);
    h.submit(BLKIF_OP_WRITE, 77, 16, [[8, 0, 7]]);
    h.be.process();
    assert.deepEqual(h.responses(), [{ id: 77, op: BLKIF_OP_WRITE, status: BLKIF_RSP_OKAY }]);
    assert.equal(h.store.data[16 * 512], 0x5a);
    h.submit(BLKIF_OP_READ, 78, 17, [[9, 2, 3]]);
    h.be.process();
    assert.deepEqual(h.responses(), [{ id: 78, op: BLKIF_OP_READ, status: BLKIF_RSP_OKAY }]);
    assert.equal(h.mem.u8[11 * 4096 + 2 * 512], 0x5a);
    assert.equal(h.mem.u8[11 * 4096 + 4 * 512], 0, 'only the named sectors were filled');
    assert.equal(h.notifies(), 2);
  });
}

test('a flush reaches the store before its response', () => {
  const h = harness('x86_32-abi');
  h.submit(BLKIF_OP_FLUSH_DISKCACHE, 5, 0, []);
  h.be.process();
  assert.equal(h.store.flushes, 1);
  assert.deepEqual(h.responses(), [{ id: 5, op: BLKIF_OP_FLUSH_DISKCACHE, status: BLKIF_RSP_OKAY }]);
});

test('bad segments, read-only grants, out-of-disk sectors and unknown operations fail alone', () => {
  const h = harness('x86_32-abi');
  h.grant(8, 10, true);
  h.grant(9, 12);
  h.submit(BLKIF_OP_READ, 1, 0, [[8, 0, 0]]); // READ into a read-only grant
  h.submit(BLKIF_OP_WRITE, 2, 0, [[9, 5, 2]]); // first > last
  h.submit(BLKIF_OP_WRITE, 3, 4096, [[9, 0, 7]]); // past the 1 MiB disk
  h.submit(BLKIF_OP_WRITE, 4, 0, [[300, 0, 0]]); // ungranted ref
  h.submit(42, 5, 0, []);
  h.submit(BLKIF_OP_WRITE, 6, 0, [[9, 0, 0]]); // a good one after all that
  h.be.process();
  assert.deepEqual(h.responses().map((r) => [r.id, r.status]), [
    [1, BLKIF_RSP_ERROR], [2, BLKIF_RSP_ERROR], [3, BLKIF_RSP_ERROR], [4, BLKIF_RSP_ERROR], [5, BLKIF_RSP_EOPNOTSUPP], [6, BLKIF_RSP_OKAY],
  ]);
});

test('writes to a read-only disk are refused', () => {
  const h = harness('x86_32-abi', { readOnly: true });
  h.grant(9, 12);
  h.submit(BLKIF_OP_WRITE, 1, 0, [[9, 0, 0]]);
  h.be.process();
  assert.equal(h.responses()[0].status, BLKIF_RSP_ERROR);
});

test('a frontend claiming more requests than the ring holds is cut off', () => {
  const h = harness('x86_32-abi');
  new DataView(h.mem.u8.buffer).setUint32(2 * 4096, 1000, true);
  h.be.process();
  assert.equal(h.be.ring.broken, true);
  assert.equal(h.notifies(), 0);
});
