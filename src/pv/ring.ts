/**
 * The backend side of a Xen shared ring (xen/include/public/io/ring.h; ../shared/docs/xen-abi.md
 * 8.1), over the bytes of the ring page(s). The frontend is hostile: producer indices are read once
 * per pass, and a producer that claims more outstanding requests than the ring holds marks the
 * ring broken.
 */
const REQ_PROD = 0, REQ_EVENT = 4, RSP_PROD = 8, RSP_EVENT = 12, HEADER = 64;

export class BackRing {
  readonly entries: number;
  reqCons = 0;
  rspProdPvt = 0;
  broken = false;

  constructor(
    readonly page: Uint8Array,
    readonly entrySize: number,
  ) {
    const n = Math.floor((page.length - HEADER) / entrySize);
    let p = 1;
    while (p * 2 <= n) p *= 2;
    this.entries = p;
  }

  private u32(off: number): number {
    const r = this.page;
    return (r[off] | (r[off + 1] << 8) | (r[off + 2] << 16) | (r[off + 3] << 24)) >>> 0;
  }

  private setU32(off: number, v: number): void {
    const r = this.page;
    r[off] = v;
    r[off + 1] = v >>> 8;
    r[off + 2] = v >>> 16;
    r[off + 3] = v >>> 24;
  }

  /** Byte offset of ring slot `index` within the page. */
  slot(index: number): number {
    return HEADER + (index & (this.entries - 1)) * this.entrySize;
  }

  /** Number of requests ready to consume, or -1 if the producer index is impossible. */
  pendingRequests(): number {
    const prod = this.u32(REQ_PROD);
    const n = (prod - this.reqCons) >>> 0;
    const room = this.entries - ((this.reqCons - this.rspProdPvt) >>> 0);
    if (n > this.entries || room < 0) {
      this.broken = true;
      return -1;
    }
    return Math.min(n, room);
  }

  /** Copies request slot `index` out of shared memory, so later guest writes cannot change it. */
  copyRequest(index: number, size: number): Uint8Array {
    const o = this.slot(index);
    return this.page.slice(o, o + size);
  }

  /** Writes a response into the next private response slot. */
  putResponse(bytes: Uint8Array): void {
    this.page.set(bytes, this.slot(this.rspProdPvt));
    this.rspProdPvt = (this.rspProdPvt + 1) >>> 0;
  }

  /** Publishes private responses; returns whether the frontend asked to be notified (rsp_event). */
  pushResponses(): boolean {
    const old = this.u32(RSP_PROD), next = this.rspProdPvt;
    if (old === next) return false;
    this.setU32(RSP_PROD, next);
    const event = this.u32(RSP_EVENT);
    return ((next - event) >>> 0) < ((next - old) >>> 0);
  }

  /**
   * After consuming everything: ask to be notified of the next request and re-check, closing the
   * race with a frontend that produced meanwhile. Returns whether more requests are waiting.
   */
  finalCheck(): boolean {
    if (this.pendingRequests() > 0) return true;
    this.setU32(REQ_EVENT, (this.reqCons + 1) >>> 0);
    return this.pendingRequests() > 0;
  }
}
