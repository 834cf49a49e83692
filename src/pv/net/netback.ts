/**
 * The network backend (netback, ../shared/docs/xen-abi.md 9) in copy mode: guest transmissions are
 * assembled from their ring slots (scatter-gather up to 18 slots, extra-info slots skipped),
 * partial checksums completed, and handed to the virtual switch; frames for the guest are copied
 * into the receive buffers it posted. One response per consumed slot, as netfront expects.
 *
 * Everything the guest wrote is checked: sizes, offsets inside the page, slot counts, grants. A
 * malformed packet is answered with NETIF_RSP_ERROR and dropped; an impossible ring index cuts
 * the vif off (logged once).
 */
import { BackRing } from '../ring.js';
import type { GrantPort } from '../block/blkback.js';
import type { SwitchPort } from '../../net/switch.js';
import { completePartialChecksum } from '../../net/checksum.js';
import { logOnce } from '../../base/log.js';

export const NETTXF_CSUM_BLANK = 1, NETTXF_DATA_VALIDATED = 2, NETTXF_MORE_DATA = 4, NETTXF_EXTRA_INFO = 8;
export const NETRXF_DATA_VALIDATED = 1, NETRXF_MORE_DATA = 4;
export const NETIF_RSP_OKAY = 0, NETIF_RSP_ERROR = -1, NETIF_RSP_DROPPED = -2, NETIF_RSP_NULL = 1;
export const XEN_NETIF_EXTRA_FLAG_MORE = 1;
const MAX_SLOTS = 18;
const MAX_RX_QUEUE = 256;

export interface NetBackendOptions {
  name: string;
  grants: GrantPort;
  notify: () => void;
  /** Where transmitted frames go (the virtual switch). */
  transmit: (frame: Uint8Array) => void;
}

export interface NetStats {
  txPackets: number;
  txBytes: number;
  txErrors: number;
  rxPackets: number;
  rxBytes: number;
  rxDropped: number;
}

export class NetBackend implements SwitchPort {
  readonly stats: NetStats = { txPackets: 0, txBytes: 0, txErrors: 0, rxPackets: 0, rxBytes: 0, rxDropped: 0 };
  readonly tx: BackRing;
  readonly rx: BackRing;
  private readonly rxQueue: Uint8Array[] = [];

  constructor(txPage: Uint8Array, rxPage: Uint8Array, private readonly opts: NetBackendOptions) {
    this.tx = new BackRing(txPage, 12);
    this.rx = new BackRing(rxPage, 8);
  }

  get name(): string {
    return this.opts.name;
  }

  // ---- transmit (guest -> switch) ---------------------------------------------------------------
  /** Handles the guest's transmit ring; call when the guest notifies and once after connecting. */
  processTx(): void {
    const ring = this.tx;
    let notify = false;
    for (;;) {
      let avail = ring.pendingRequests();
      if (avail < 0) {
        logOnce('warn', 'netback', `${this.name}:tx`, `${this.name}: transmit ring indices are impossible; vif disconnected`);
        return;
      }
      while (avail > 0) {
        const used = this.txPacket(avail);
        if (used === 0) break; // the rest of the packet is not on the ring yet
        avail -= used;
      }
      if (ring.pushResponses()) notify = true;
      if (!ring.finalCheck()) break;
      if (ring.pendingRequests() === avail) break; // only an incomplete packet waits
    }
    if (notify) this.opts.notify();
  }

  /** Consumes one packet's slots if all are available; returns the number of slots used (0 = wait). */
  private txPacket(avail: number): number {
    const ring = this.tx;
    const start = ring.reqCons;
    // First pass: find the packet's extent without consuming.
    const slots: { req: Uint8Array; extra: boolean }[] = [];
    let idx = start;
    let bad = false;
    let more = true;
    let first = true;
    let expectExtra = false;
    while (more || expectExtra) {
      if (slots.length >= avail) return 0;
      const req = ring.copyRequest(idx, 12);
      idx = (idx + 1) >>> 0;
      if (expectExtra) {
        slots.push({ req, extra: true });
        expectExtra = (req[1] & XEN_NETIF_EXTRA_FLAG_MORE) !== 0;
        continue;
      }
      slots.push({ req, extra: false });
      const flags = req[6] | (req[7] << 8);
      more = (flags & NETTXF_MORE_DATA) !== 0;
      if (first && flags & NETTXF_EXTRA_INFO) expectExtra = true;
      first = false;
      if (slots.length > MAX_SLOTS) {
        // A packet this long is malformed: consume what we looked at and fail it.
        bad = true;
        break;
      }
    }
    ring.reqCons = idx;
    const data = slots.filter((s) => !s.extra).map((s) => s.req);
    const status = bad ? NETIF_RSP_ERROR : this.assemble(data);
    for (const s of slots) {
      const r = new Uint8Array(4);
      r[0] = s.req[8];
      r[1] = s.req[9];
      const st = s.extra ? NETIF_RSP_NULL : status;
      r[2] = st & 0xff;
      r[3] = (st >> 8) & 0xff;
      ring.putResponse(r);
    }
    if (status !== NETIF_RSP_OKAY) this.stats.txErrors++;
    return slots.length;
  }

  private assemble(frags: Uint8Array[]): number {
    const u16 = (b: Uint8Array, o: number) => b[o] | (b[o + 1] << 8);
    const u32 = (b: Uint8Array, o: number) => (b[o] | (b[o + 1] << 8) | (b[o + 2] << 16) | (b[o + 3] << 24)) >>> 0;
    const total = u16(frags[0], 10);
    let rest = 0;
    for (let k = 1; k < frags.length; k++) rest += u16(frags[k], 10);
    const firstLen = total - rest;
    if (total < 14 || firstLen < 0) return NETIF_RSP_ERROR;
    const frame = new Uint8Array(total);
    let pos = 0;
    for (let k = 0; k < frags.length; k++) {
      const f = frags[k];
      const len = k === 0 ? firstLen : u16(f, 10);
      const off = u16(f, 4);
      if (off + len > 4096) return NETIF_RSP_ERROR;
      const acc = this.opts.grants.acquire(u32(f, 0), false);
      if (typeof acc === 'number') return NETIF_RSP_ERROR;
      frame.set(acc.page.subarray(off, off + len), pos);
      this.opts.grants.release(acc);
      pos += len;
    }
    const flags = u16(frags[0], 6);
    if (flags & NETTXF_CSUM_BLANK) completePartialChecksum(frame);
    this.stats.txPackets++;
    this.stats.txBytes += total;
    this.opts.transmit(frame);
    return NETIF_RSP_OKAY;
  }

  // ---- receive (switch -> guest) ----------------------------------------------------------------
  /** A frame for this guest (SwitchPort). Queued, then copied into posted buffers. */
  deliver(frame: Uint8Array): boolean {
    if (this.rxQueue.length >= MAX_RX_QUEUE) {
      this.stats.rxDropped++;
      return false;
    }
    this.rxQueue.push(frame);
    this.processRx();
    return true;
  }

  /** Moves queued frames into the guest's posted receive buffers; call when it posts more. */
  processRx(): void {
    const ring = this.rx;
    let produced = false;
    while (this.rxQueue.length > 0) {
      const frame = this.rxQueue[0];
      const need = Math.max(1, Math.ceil(frame.length / 4096));
      const avail = ring.pendingRequests();
      if (avail < 0) {
        logOnce('warn', 'netback', `${this.name}:rx`, `${this.name}: receive ring indices are impossible; vif disconnected`);
        this.rxQueue.length = 0;
        return;
      }
      if (avail < need) {
        ring.finalCheck(); // ask to be told when buffers are posted
        if (ring.pendingRequests() < need) break;
        continue;
      }
      this.rxQueue.shift();
      let pos = 0;
      for (let s = 0; s < need; s++) {
        const req = ring.copyRequest(ring.reqCons, 8);
        ring.reqCons = (ring.reqCons + 1) >>> 0;
        const len = Math.min(4096, frame.length - pos);
        const gref = (req[4] | (req[5] << 8) | (req[6] << 16) | (req[7] << 24)) >>> 0;
        const acc = this.opts.grants.acquire(gref, true);
        let status: number;
        if (typeof acc === 'number') {
          status = NETIF_RSP_ERROR;
        } else {
          acc.page.set(frame.subarray(pos, pos + len), 0);
          this.opts.grants.release(acc);
          status = len;
        }
        const r = new Uint8Array(8);
        r[0] = req[0];
        r[1] = req[1];
        const flags = s < need - 1 ? NETRXF_MORE_DATA : 0;
        r[4] = flags;
        r[6] = status & 0xff;
        r[7] = (status >> 8) & 0xff;
        ring.putResponse(r);
        pos += len;
      }
      this.stats.rxPackets++;
      this.stats.rxBytes += frame.length;
      produced = true;
    }
    if (produced && ring.pushResponses()) this.opts.notify();
  }
}
