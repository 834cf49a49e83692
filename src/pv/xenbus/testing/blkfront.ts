/**
 * Test support: a scripted blkfront, following Linux's drivers/block/xen-blkfront.c handshake
 * (blkback_changed, talk_to_blkback, blkfront_connect, blkfront_closing) and its ring protocol,
 * with knobs to misbehave. Not a copy of Linux: just the same observable XenStore and ring traffic.
 */
import { XenbusState, parseUint, readOrNull } from '../xs-util.js';
import { type TestGuest, Serial, frontSwitchState } from './guest.js';

export interface BlkfrontTalk {
  /** The "protocol" key; null omits it. Default: the ABI's name. */
  protocol?: string | null;
  /** Keys written (or, with null, removed) after the normal ones, in the same transaction. */
  keys?: Record<string, string | null>;
  /** Grant the ring to this domain instead of the backend's. */
  grantTo?: number;
  /** Write this port number instead of allocating one. */
  port?: number;
  /** The state written after the keys (Initialised normally). */
  state?: number;
}

export interface DiskInfo {
  sectors: number;
  info: number;
  sectorSize: number;
  physicalSectorSize: number;
  flush: boolean;
  discard: boolean;
}

export class TestBlkfront {
  readonly dir: string;
  backend = '';
  /** The frontend's own idea of its state (Linux's dev->state). */
  state: number = XenbusState.Initialising;
  ringGfn = -1;
  ringRef = -1;
  port = -1;
  disk: DiskInfo | null = null;
  /** Backend states seen, in order. */
  readonly seen: number[] = [];
  private reqProd = 0;
  private rspCons = 0;
  private readonly serial = new Serial(() => this.backendChanged());

  constructor(
    readonly guest: TestGuest,
    readonly devid: number,
    readonly abi: 'x86_32-abi' | 'x86_64-abi',
    public talk: BlkfrontTalk = {},
  ) {
    this.dir = `device/vbd/${devid}`; // relative to the guest's home, as Linux's nodename is
  }

  get xs() {
    return this.guest.xs;
  }

  /** Probe: read our device nodes, then watch the backend's state. */
  start(): void {
    const vdev = this.xs.readString(`${this.dir}/virtual-device`);
    if (vdev === null || this.xs.readString(`${this.dir}/device-type`) === null) throw new Error('blkfront: device nodes missing');
    this.backend = this.xs.readString(`${this.dir}/backend`) ?? '';
    this.xs.onWatchEvent = () => this.serial.run();
    this.xs.watch(`${this.backend}/state`, `vbd-${this.devid}`);
  }

  backendState(): number {
    return parseUint(this.read('state')) ?? 0;
  }

  read(key: string): string | null {
    return readOrNull(this.xs, `${this.backend}/${key}`);
  }

  /** Stops following the backend (to play a frontend that ignores it). */
  deaf(): void {
    this.xs.onWatchEvent = null;
  }

  private backendChanged(): void {
    const bs = this.backendState();
    this.seen.push(bs);
    switch (bs) {
      case XenbusState.InitWait:
        if (this.state === XenbusState.Initialising) this.talkToBackend();
        return;
      case XenbusState.Connected:
        if (this.state === XenbusState.Initialised || this.state === XenbusState.Connected) this.connect();
        return;
      case XenbusState.Closed:
      case XenbusState.Closing:
        if (this.state !== XenbusState.Closed) this.closing();
        return;
    }
  }

  private talkToBackend(): void {
    const t = this.talk;
    const backendId = Number(this.xs.readString(`${this.dir}/backend-id`) ?? '0');
    if ((parseUint(this.read('max-ring-page-order')) ?? 0) !== 0) throw new Error('test blkfront only does single-page rings');
    this.ringGfn = this.guest.allocPage();
    const ring = new DataView(this.guest.mem.u8.buffer, this.ringGfn * 4096, 4096);
    ring.setUint32(4, 1, true); // req_event
    ring.setUint32(12, 1, true); // rsp_event
    this.reqProd = this.rspCons = 0;
    this.ringRef = this.guest.grant(this.ringGfn, t.grantTo ?? backendId);
    this.port = t.port ?? this.guest.allocUnbound(backendId);
    const keys: Record<string, string | null> = {
      'ring-ref': String(this.ringRef),
      'event-channel': String(this.port),
      protocol: t.protocol === undefined ? this.abi : t.protocol,
      'feature-persistent': '1',
      ...t.keys,
    };
    for (;;) {
      const tx = this.xs.transactionStart();
      for (const [k, v] of Object.entries(keys)) {
        if (v === null) this.xs.rm(`${this.dir}/${k}`, tx);
        else this.xs.write(`${this.dir}/${k}`, v, tx);
      }
      if (this.xs.transactionEnd(tx, true)) break;
    }
    this.state = t.state ?? XenbusState.Initialised;
    frontSwitchState(this.xs, this.dir, this.state);
  }

  private connect(): void {
    const num = (k: string) => parseUint(this.read(k));
    const sectors = num('sectors'), info = num('info'), ss = num('sector-size');
    if (sectors === null || info === null || ss === null) throw new Error('blkfront: backend did not publish sectors/info/sector-size');
    this.disk = {
      sectors, info, sectorSize: ss, physicalSectorSize: num('physical-sector-size') ?? ss,
      flush: num('feature-flush-cache') === 1, discard: num('feature-discard') === 1,
    };
    if (this.state !== XenbusState.Connected) {
      this.state = XenbusState.Connected;
      frontSwitchState(this.xs, this.dir, XenbusState.Connected);
    }
  }

  /** Backend closing: drop the disk, end access to the ring, close the port, Closed. */
  private closing(): void {
    this.disk = null;
    if (this.port > 0 && this.talk.port === undefined) this.guest.evtchn.close(this.port);
    this.port = -1;
    this.state = XenbusState.Closed;
    frontSwitchState(this.xs, this.dir, XenbusState.Closed);
  }

  /** Guest shutdown (xenbus_dev_shutdown): Closing, then follow the backend. */
  shutdown(): void {
    this.state = XenbusState.Closing;
    frontSwitchState(this.xs, this.dir, XenbusState.Closing);
  }

  /** Driver reload / kexec: back to Initialising, to go through the handshake again. */
  reinitialise(talk: BlkfrontTalk = {}): void {
    this.talk = talk;
    this.state = XenbusState.Initialising;
    this.xs.write(`${this.dir}/state`, String(XenbusState.Initialising));
  }

  // ---- the ring -------------------------------------------------------------------------------

  private get L() {
    return this.abi === 'x86_32-abi' ? { size: 108, id: 4, sector: 12, seg: 20 } : { size: 112, id: 8, sector: 16, seg: 24 };
  }

  private ringView(): DataView {
    return new DataView(this.guest.mem.u8.buffer, this.ringGfn * 4096, 4096);
  }

  /** Queues one request (not yet visible to the backend). */
  queue(op: number, id: number, sector: number, segs: [gref: number, first: number, last: number][]): void {
    const r = this.ringView(), L = this.L;
    const o = 64 + (this.reqProd % 32) * L.size;
    for (let k = 0; k < L.size; k++) r.setUint8(o + k, 0);
    r.setUint8(o, op);
    r.setUint8(o + 1, segs.length);
    r.setUint16(o + 2, this.devid & 0xffff, true);
    r.setUint32(o + L.id, id, true);
    r.setUint32(o + L.sector, sector, true);
    segs.forEach(([gref, first, last], k) => {
      r.setUint32(o + L.seg + k * 8, gref, true);
      r.setUint8(o + L.seg + k * 8 + 4, first);
      r.setUint8(o + L.seg + k * 8 + 5, last);
    });
    this.reqProd++;
  }

  /** RING_PUSH_REQUESTS_AND_CHECK_NOTIFY, then EVTCHNOP_send if asked. Returns the send result (or null). */
  push(): number | null {
    const r = this.ringView();
    const old = r.getUint32(0, true), next = this.reqProd >>> 0;
    r.setUint32(0, next, true);
    const event = r.getUint32(4, true);
    if (((next - event) >>> 0) < ((next - old) >>> 0)) return this.guest.evtchn.send(this.port);
    return null;
  }

  /** Consumes responses: [id, op, status]. */
  responses(): [number, number, number][] {
    const r = this.ringView(), L = this.L;
    const out: [number, number, number][] = [];
    const prod = r.getUint32(8, true);
    while (this.rspCons !== prod) {
      const o = 64 + (this.rspCons % 32) * L.size;
      out.push([r.getUint32(o, true), r.getUint8(o + 8), r.getInt16(o + 10, true)]);
      this.rspCons = (this.rspCons + 1) >>> 0;
    }
    r.setUint32(12, this.rspCons + 1, true);
    return out;
  }

  /** Scribbles on the shared ring header (hostile tests). */
  pokeRing(offset: number, value: number): void {
    this.ringView().setUint32(offset, value, true);
  }
}
