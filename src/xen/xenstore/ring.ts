/**
 * The glue between a guest's XenStore ring page and the engine: struct xenstore_domain_interface
 * (xs_wire.h; docs/misc/xenstore-ring.txt; ../shared/docs/xen-abi.md 6.1).
 *
 *   0     req[1024]   guest -> server byte stream      2056  rsp_cons (guest)
 *   1024  rsp[1024]   server -> guest byte stream      2060  rsp_prod (server)
 *   2048  req_cons (server)                            2064  server_features
 *   2052  req_prod (guest)                             2068  connection   2072  error
 *
 * Indexes are free-running u32; byte x of a stream lives at x mod 1024. The page is guest memory,
 * so everything in it is hostile: the server keeps its own copies of the indexes it owns (req_cons,
 * rsp_prod), and a guest index more than 1024 away from ours breaks the connection (error field 2,
 * logged once, no more service) instead of being trusted. An oversize message does the same
 * (error 3), as Xen drops such a connection. The guest can ask for a fresh start through the
 * reconnection feature (connection = 1), which we offer, and which also recovers a broken ring.
 *
 * Backpressure: replies and events that do not fit in rsp[] wait in a queue, and no further
 * request is consumed while anything waits, so a guest that stops reading stalls only itself.
 * Watch events beyond `maxQueuedBytes` are dropped (they are hints; Xen also bounds them).
 */
import { logOnce } from '../../base/log.js';
import { type Snapshottable, base64ToBytes, bytesToBase64 } from '../../base/snapshot.js';
import { type XenStore, type XsConnection } from './engine.js';
import { type XsMsg, type XsParserState, XsParser, XsType, encodeMsg } from './wire.js';

export const XENSTORE_RING_SIZE = 1024;
export const RING_REQ = 0;
export const RING_RSP = 1024;
export const RING_REQ_CONS = 2048;
export const RING_REQ_PROD = 2052;
export const RING_RSP_CONS = 2056;
export const RING_RSP_PROD = 2060;
export const RING_SERVER_FEATURES = 2064;
export const RING_CONNECTION = 2068;
export const RING_ERROR = 2072;

export const XENSTORE_SERVER_FEATURE_RECONNECTION = 1;
export const XENSTORE_SERVER_FEATURE_ERROR = 2;
export const XENSTORE_CONNECTED = 0;
export const XENSTORE_RECONNECT = 1;
export const XENSTORE_ERROR_NONE = 0;
export const XENSTORE_ERROR_COMM = 1;
export const XENSTORE_ERROR_RINGIDX = 2;
export const XENSTORE_ERROR_PROTO = 3;

const MASK = XENSTORE_RING_SIZE - 1;

export interface XsRingOptions {
  store: XenStore;
  domid: number;
  /** The guest's ring page (at least the 2076 bytes the structure uses). */
  page: Uint8Array;
  /** Signals the guest's XenStore event channel. */
  notify: () => void;
  /** Connection key for saved state (see XenStore.connect). */
  key?: string;
  /** Queued output beyond which watch events are dropped; default 1 MiB. */
  maxQueuedBytes?: number;
}

export interface XsRingState {
  version: number;
  reqCons: number;
  rspProd: number;
  parser: XsParserState;
  /** Encoded messages waiting for ring space, base64; the first is `headOffset` bytes sent. */
  queue: string[];
  headOffset: number;
  error: number;
}

const STATE_VERSION = 1;

export class XsRing implements Snapshottable<XsRingState> {
  readonly conn: XsConnection;
  private readonly store: XenStore;
  private readonly page: Uint8Array;
  private readonly dv: DataView;
  private readonly notifyGuest: () => void;
  private readonly maxQueued: number;
  private readonly parser = new XsParser();
  private reqCons: number;
  private rspProd: number;
  private queue: Uint8Array[] = [];
  private headOff = 0;
  private queuedBytes = 0;
  private error = XENSTORE_ERROR_NONE;
  private closed = false;
  private inKick = false;
  private again = false;
  private dirty = false;

  constructor(o: XsRingOptions) {
    if (o.page.length < RING_ERROR + 4) throw new Error('xenstore ring: page too small');
    this.store = o.store;
    this.page = o.page;
    this.dv = new DataView(o.page.buffer, o.page.byteOffset, o.page.byteLength);
    this.notifyGuest = o.notify;
    this.maxQueued = o.maxQueuedBytes ?? 1 << 20;
    this.reqCons = this.u32(RING_REQ_CONS);
    this.rspProd = this.u32(RING_RSP_PROD);
    // Features are advertised before any data moves, as the reconnection feature requires.
    this.dv.setUint32(RING_SERVER_FEATURES, this.u32(RING_SERVER_FEATURES) | XENSTORE_SERVER_FEATURE_RECONNECTION | XENSTORE_SERVER_FEATURE_ERROR, true);
    this.conn = o.store.connect(o.domid, (m) => this.enqueue(m), o.key);
  }

  /** The connection stopped on a guest error (XENSTORE_ERROR_*), or 0. */
  get errorCode(): number {
    return this.error;
  }

  /** Bytes of output waiting for ring space. */
  get pendingBytes(): number {
    return this.queuedBytes - this.headOff;
  }

  /** The guest signalled the event channel (or the host wants the ring looked at). */
  kick(): void {
    if (this.closed) return;
    if (this.inKick) {
      this.again = true;
      return;
    }
    this.inKick = true;
    try {
      do {
        this.again = false;
        this.service();
      } while (this.again && !this.closed);
    } finally {
      this.inKick = false;
    }
    this.notifyIfDirty();
  }

  /** Detaches from the engine (domain released or destroyed); the ring is not touched again. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.store.disconnect(this.conn);
    this.queue = [];
    this.queuedBytes = this.headOff = 0;
  }

  save(): XsRingState {
    return {
      version: STATE_VERSION,
      reqCons: this.reqCons,
      rspProd: this.rspProd,
      parser: this.parser.save(),
      queue: this.queue.map(bytesToBase64),
      headOffset: this.headOff,
      error: this.error,
    };
  }

  restore(s: XsRingState): void {
    if (s.version !== STATE_VERSION) throw new Error(`xenstore ring state version ${s.version} not supported`);
    this.reqCons = s.reqCons >>> 0;
    this.rspProd = s.rspProd >>> 0;
    this.parser.restore(s.parser);
    this.queue = s.queue.map(base64ToBytes);
    this.queuedBytes = this.queue.reduce((n, b) => n + b.length, 0);
    this.headOff = s.headOffset;
    this.error = s.error;
  }

  private u32(off: number): number {
    return this.dv.getUint32(off, true);
  }

  private service(): void {
    if (this.u32(RING_CONNECTION) === XENSTORE_RECONNECT) this.reconnect();
    if (this.error !== XENSTORE_ERROR_NONE) return;
    this.flush();
    if (this.error !== XENSTORE_ERROR_NONE) return;
    const prod = this.u32(RING_REQ_PROD);
    let avail = (prod - this.reqCons) >>> 0;
    if (avail > XENSTORE_RING_SIZE) {
      this.fail(XENSTORE_ERROR_RINGIDX, `request indexes out of range (prod ${prod}, cons ${this.reqCons})`);
      return;
    }
    while (avail > 0 && this.queue.length === 0 && !this.closed) {
      const off = this.reqCons & MASK;
      const chunk = Math.min(avail, XENSTORE_RING_SIZE - off);
      const n = this.parser.feed(this.page, RING_REQ + off, RING_REQ + off + chunk);
      if (n > 0) {
        this.reqCons = (this.reqCons + n) >>> 0;
        avail -= n;
        this.dv.setUint32(RING_REQ_CONS, this.reqCons, true);
        // The guest may be waiting for space to write the rest of a request.
        this.dirty = true;
      }
      if (this.parser.error !== null) {
        this.fail(XENSTORE_ERROR_PROTO, this.parser.error);
        return;
      }
      const m = this.parser.take();
      if (m) {
        this.store.handle(this.conn, m);
        if (this.error !== XENSTORE_ERROR_NONE) return;
      } else if (n === 0) {
        break;
      }
    }
  }

  /** Copies queued output into rsp[] as far as the guest has made room. */
  private flush(): void {
    if (this.queue.length === 0) return;
    const cons = this.u32(RING_RSP_CONS);
    const used = (this.rspProd - cons) >>> 0;
    if (used > XENSTORE_RING_SIZE) {
      this.fail(XENSTORE_ERROR_RINGIDX, `response indexes out of range (prod ${this.rspProd}, cons ${cons})`);
      return;
    }
    let space = XENSTORE_RING_SIZE - used;
    let wrote = false;
    while (space > 0 && this.queue.length) {
      const head = this.queue[0];
      const off = this.rspProd & MASK;
      const n = Math.min(space, head.length - this.headOff, XENSTORE_RING_SIZE - off);
      this.page.set(head.subarray(this.headOff, this.headOff + n), RING_RSP + off);
      this.headOff += n;
      this.rspProd = (this.rspProd + n) >>> 0;
      space -= n;
      wrote = true;
      if (this.headOff === head.length) {
        this.queue.shift();
        this.queuedBytes -= head.length;
        this.headOff = 0;
      }
    }
    if (wrote) {
      // Data before index: the guest may look at the ring at any moment.
      this.dv.setUint32(RING_RSP_PROD, this.rspProd, true);
      this.dirty = true;
    }
  }

  /** The engine's sink: replies and watch events for this guest. */
  private enqueue(m: XsMsg): void {
    if (this.closed || this.error !== XENSTORE_ERROR_NONE) return;
    const bytes = encodeMsg(m);
    if (m.type === XsType.WatchEvent && this.queuedBytes + bytes.length > this.maxQueued) {
      logOnce('warn', 'xenstore', `ring-overflow:${this.conn.key}`, `xenstore: ${this.conn.key} is not reading its ring; dropping watch events`);
      return;
    }
    this.queue.push(bytes);
    this.queuedBytes += bytes.length;
    this.flush();
    if (!this.inKick) this.notifyIfDirty();
  }

  private notifyIfDirty(): void {
    if (!this.dirty) return;
    this.dirty = false;
    this.notifyGuest();
  }

  private fail(code: number, why: string): void {
    this.error = code;
    this.dv.setUint32(RING_ERROR, code, true);
    logOnce('warn', 'xenstore', `ring-error:${this.conn.key}:${code}`, `xenstore: ${this.conn.key} ring broken: ${why}`);
    this.parser.reset();
    this.queue = [];
    this.queuedBytes = this.headOff = 0;
    this.store.resetConnection(this.conn);
    this.dirty = true;
  }

  /** The guest asked for a fresh ring (connection = 1): xenstore-ring.txt, "ring reconnection". */
  private reconnect(): void {
    this.parser.reset();
    this.queue = [];
    this.queuedBytes = this.headOff = 0;
    this.store.resetConnection(this.conn);
    // Empty both streams at whatever indexes the guest left; any values are consistent after this.
    this.reqCons = this.u32(RING_REQ_PROD);
    this.rspProd = this.u32(RING_RSP_CONS);
    this.dv.setUint32(RING_REQ_CONS, this.reqCons, true);
    this.dv.setUint32(RING_RSP_PROD, this.rspProd, true);
    this.error = XENSTORE_ERROR_NONE;
    this.dv.setUint32(RING_ERROR, XENSTORE_ERROR_NONE, true);
    this.dv.setUint32(RING_CONNECTION, XENSTORE_CONNECTED, true);
    this.dirty = true;
  }
}
