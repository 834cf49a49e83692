/**
 * The block backend (blkback, ../shared/docs/xen-abi.md 8): serves a frontend's blkif ring from a
 * BlockStore by copying between the disk and granted guest pages. Both on-ring ABIs are
 * supported (x86_32-abi for i386 frontends, x86_64-abi for x86-64 ones).
 *
 * Every request is copied out of the shared ring before it is looked at, every segment bound and
 * grant is checked, and anything invalid gets BLKIF_RSP_ERROR for that request alone. A WRITE is
 * acknowledged once the store has it; a FLUSH_DISKCACHE is acknowledged only after the store's
 * flush (fsync) returned, so what a guest flushed survives a host crash.
 */
import { BackRing } from '../ring.js';
import type { BlockStore } from './block-store.js';
import type { GrantAccess } from '../../xen/grant/grant-table.js';

export const BLKIF_OP_READ = 0, BLKIF_OP_WRITE = 1, BLKIF_OP_WRITE_BARRIER = 2, BLKIF_OP_FLUSH_DISKCACHE = 3,
  BLKIF_OP_DISCARD = 5, BLKIF_OP_INDIRECT = 6;
export const BLKIF_RSP_OKAY = 0, BLKIF_RSP_ERROR = -1, BLKIF_RSP_EOPNOTSUPP = -2;
export const BLKIF_MAX_SEGMENTS = 11;

export type BlkAbi = 'x86_32-abi' | 'x86_64-abi';

interface AbiLayout {
  reqSize: number;
  rspSize: number;
  id: number;
  sector: number;
  seg: number;
  nrSectors: number;
}
const ABI: Record<BlkAbi, AbiLayout> = {
  'x86_32-abi': { reqSize: 108, rspSize: 12, id: 4, sector: 12, seg: 20, nrSectors: 20 },
  'x86_64-abi': { reqSize: 112, rspSize: 16, id: 8, sector: 16, seg: 24, nrSectors: 24 },
};

/** How the backend reaches the frontend's granted pages (its GrantTable, for this backend's domid). */
export interface GrantPort {
  acquire(ref: number, write: boolean): GrantAccess | number;
  release(access: GrantAccess): void;
}

export interface BlockBackendOptions {
  abi: BlkAbi;
  store: BlockStore;
  grants: GrantPort;
  /** Notifies the frontend over the device's event channel. */
  notify: () => void;
  discard?: boolean;
}

export interface BlockStats {
  requests: number;
  reads: number;
  writes: number;
  bytesRead: number;
  bytesWritten: number;
  flushes: number;
  errors: number;
}

export class BlockBackend {
  readonly stats: BlockStats = { requests: 0, reads: 0, writes: 0, bytesRead: 0, bytesWritten: 0, flushes: 0, errors: 0 };
  private readonly layout: AbiLayout;
  readonly ring: BackRing;

  constructor(ringPage: Uint8Array, private readonly opts: BlockBackendOptions) {
    this.layout = ABI[opts.abi];
    this.ring = new BackRing(ringPage, this.layout.reqSize);
  }

  /** Handles every waiting request; call on each notification and once after connecting. */
  process(): void {
    const ring = this.ring;
    let notify = false;
    for (;;) {
      const n = ring.pendingRequests();
      if (n < 0) break; // broken frontend: stop serving it
      for (let k = 0; k < n; k++) {
        const req = ring.copyRequest(ring.reqCons, this.layout.reqSize);
        ring.reqCons = (ring.reqCons + 1) >>> 0;
        const status = this.handle(req);
        if (status !== BLKIF_RSP_OKAY) this.stats.errors++;
        ring.putResponse(this.response(req, status));
      }
      if (ring.pushResponses()) notify = true;
      if (!ring.finalCheck()) break;
    }
    if (notify) this.opts.notify();
  }

  private response(req: Uint8Array, status: number): Uint8Array {
    const r = new Uint8Array(this.layout.rspSize);
    r.set(req.subarray(this.layout.id, this.layout.id + 8), 0);
    r[8] = req[0];
    r[10] = status & 0xff;
    r[11] = (status >> 8) & 0xff;
    return r;
  }

  private handle(req: Uint8Array): number {
    this.stats.requests++;
    const op = req[0];
    const dv = new DataView(req.buffer, req.byteOffset, req.byteLength);
    const L = this.layout;
    const sector = dv.getUint32(L.sector, true) + dv.getUint32(L.sector + 4, true) * 4294967296;
    switch (op) {
      case BLKIF_OP_READ:
      case BLKIF_OP_WRITE:
        return this.readWrite(op === BLKIF_OP_WRITE, req, dv, sector);
      case BLKIF_OP_FLUSH_DISKCACHE: {
        this.opts.store.flush();
        this.stats.flushes++;
        // A flush may carry data (FUA writes): flush, then write the segments.
        return req[1] === 0 ? BLKIF_RSP_OKAY : this.readWrite(true, req, dv, sector);
      }
      case BLKIF_OP_DISCARD: {
        if (!this.opts.discard || !this.opts.store.discard) return BLKIF_RSP_EOPNOTSUPP;
        const count = dv.getUint32(L.nrSectors, true) + dv.getUint32(L.nrSectors + 4, true) * 4294967296;
        if (sector * 512 + count * 512 > this.opts.store.size) return BLKIF_RSP_ERROR;
        this.opts.store.discard(sector * 512, count * 512);
        return BLKIF_RSP_OKAY;
      }
      default:
        // WRITE_BARRIER and INDIRECT are not advertised, so a frontend must not send them.
        return BLKIF_RSP_EOPNOTSUPP;
    }
  }

  private readWrite(write: boolean, req: Uint8Array, dv: DataView, sector: number): number {
    const store = this.opts.store;
    const nseg = req[1];
    if (nseg < 1 || nseg > BLKIF_MAX_SEGMENTS) return BLKIF_RSP_ERROR;
    if (write && store.readOnly) return BLKIF_RSP_ERROR;
    // Validate every segment before touching the disk.
    let total = 0;
    for (let s = 0; s < nseg; s++) {
      const o = this.layout.seg + s * 8;
      const first = req[o + 4], last = req[o + 5];
      if (first > last || last > 7) return BLKIF_RSP_ERROR;
      total += (last - first + 1) * 512;
    }
    let pos = sector * 512;
    if (!Number.isSafeInteger(pos) || pos + total > store.size) return BLKIF_RSP_ERROR;
    for (let s = 0; s < nseg; s++) {
      const o = this.layout.seg + s * 8;
      const gref = dv.getUint32(o, true);
      const first = req[o + 4], last = req[o + 5];
      const len = (last - first + 1) * 512;
      // A READ fills the guest page (needs write access to the grant); a WRITE reads it.
      const acc = this.opts.grants.acquire(gref, !write);
      if (typeof acc === 'number') return BLKIF_RSP_ERROR;
      try {
        const view = acc.page.subarray(first * 512, first * 512 + len);
        if (write) {
          store.write(pos, view);
          this.stats.bytesWritten += len;
        } else {
          store.read(pos, view);
          this.stats.bytesRead += len;
        }
      } finally {
        this.opts.grants.release(acc);
      }
      pos += len;
    }
    if (write) this.stats.writes++;
    else this.stats.reads++;
    return BLKIF_RSP_OKAY;
  }
}
