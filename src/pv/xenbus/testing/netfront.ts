/**
 * Test support: a scripted netfront, following Linux's drivers/net/xen-netfront.c handshake
 * (probe writes Initialising; on backend InitWait talk_to_netback checks feature-rx-copy, sets up
 * both rings and one event channel, writes the keys and goes straight to Connected, then posts
 * receive buffers and notifies) and its ring formats.
 */
import { XenbusState, parseUint, readOrNull } from '../xs-util.js';
import { type TestGuest, Serial, frontSwitchState } from './guest.js';

const RX_BUFFERS = 16;

export interface NetfrontTalk {
  keys?: Record<string, string | null>;
  /** Do not post receive buffers after connecting. */
  noRxBuffers?: boolean;
}

export interface Received {
  id: number;
  offset: number;
  flags: number;
  status: number;
  data: Uint8Array;
}

export class TestNetfront {
  readonly dir: string;
  backend = '';
  state: number = XenbusState.Initialising;
  txGfn = -1;
  rxGfn = -1;
  port = -1;
  backendConnected = false;
  readonly seen: number[] = [];
  private txProd = 0;
  private txRspCons = 0;
  private rxProd = 0;
  private rxRspCons = 0;
  /** RX request id -> granted page. */
  private readonly rxBufs = new Map<number, { ref: number; gfn: number }>();
  private readonly serial = new Serial(() => this.backendChanged());

  constructor(readonly guest: TestGuest, readonly devid: number, public talk: NetfrontTalk = {}) {
    this.dir = `device/vif/${devid}`;
  }

  get xs() {
    return this.guest.xs;
  }

  start(): void {
    this.backend = this.xs.readString(`${this.dir}/backend`) ?? '';
    if (this.xs.readString(`${this.dir}/mac`) === null) throw new Error('netfront: no mac');
    frontSwitchState(this.xs, this.dir, XenbusState.Initialising);
    this.xs.onWatchEvent = () => this.serial.run();
    this.xs.watch(`${this.backend}/state`, `vif-${this.devid}`);
  }

  backendState(): number {
    return parseUint(readOrNull(this.xs, `${this.backend}/state`)) ?? 0;
  }

  private backendChanged(): void {
    const bs = this.backendState();
    this.seen.push(bs);
    switch (bs) {
      case XenbusState.InitWait:
        if (this.state === XenbusState.Initialising) this.connectRings();
        return;
      case XenbusState.Connected:
        this.backendConnected = true;
        return;
      case XenbusState.Closing:
      case XenbusState.Closed:
        this.backendConnected = false;
        if (this.state !== XenbusState.Closed) {
          this.state = XenbusState.Closed;
          frontSwitchState(this.xs, this.dir, XenbusState.Closed);
        }
        return;
    }
  }

  private connectRings(): void {
    if (this.xs.readString(`${this.backend}/feature-rx-copy`) !== '1') throw new Error('backend does not support copying receive path');
    const backendId = Number(this.xs.readString(`${this.dir}/backend-id`) ?? '0');
    this.txGfn = this.guest.allocPage();
    this.rxGfn = this.guest.allocPage();
    for (const g of [this.txGfn, this.rxGfn]) {
      const dv = new DataView(this.guest.mem.u8.buffer, g * 4096, 4096);
      dv.setUint32(4, 1, true);
      dv.setUint32(12, 1, true);
    }
    this.txProd = this.txRspCons = this.rxProd = this.rxRspCons = 0;
    this.rxBufs.clear();
    const txRef = this.guest.grant(this.txGfn, backendId), rxRef = this.guest.grant(this.rxGfn, backendId);
    this.port = this.guest.allocUnbound(backendId);
    const keys: Record<string, string | null> = {
      'tx-ring-ref': String(txRef), 'rx-ring-ref': String(rxRef), 'event-channel': String(this.port),
      'request-rx-copy': '1', 'feature-rx-notify': '1', 'feature-sg': '1', 'feature-gso-tcpv4': '1', 'feature-gso-tcpv6': '1',
      'feature-ipv6-csum-offload': '1', ...this.talk.keys,
    };
    for (;;) {
      const tx = this.xs.transactionStart();
      for (const [k, v] of Object.entries(keys)) {
        if (v === null) this.xs.rm(`${this.dir}/${k}`, tx);
        else this.xs.write(`${this.dir}/${k}`, v, tx);
      }
      if (this.xs.transactionEnd(tx, true)) break;
    }
    this.state = XenbusState.Connected;
    frontSwitchState(this.xs, this.dir, XenbusState.Connected);
    if (!this.talk.noRxBuffers) this.postRxBuffers(RX_BUFFERS);
  }

  postRxBuffers(n: number): void {
    const backendId = Number(this.xs.readString(`${this.dir}/backend-id`) ?? '0');
    const rx = new DataView(this.guest.mem.u8.buffer, this.rxGfn * 4096, 4096);
    const old = this.rxProd;
    for (let k = 0; k < n; k++) {
      const id = this.rxProd & 0xff;
      const gfn = this.guest.allocPage();
      const ref = this.guest.grant(gfn, backendId);
      this.rxBufs.set(id, { ref, gfn });
      const o = 64 + (this.rxProd % 256) * 8;
      rx.setUint16(o, id, true);
      rx.setUint32(o + 4, ref, true);
      this.rxProd++;
    }
    rx.setUint32(0, this.rxProd, true);
    const event = rx.getUint32(4, true);
    if (((this.rxProd - event) >>> 0) < ((this.rxProd - old) >>> 0)) this.guest.evtchn.send(this.port);
  }

  /** Sends one frame from a freshly granted page (one slot); returns the send result or null. */
  transmit(frame: Uint8Array, id = 1): number | null {
    const backendId = Number(this.xs.readString(`${this.dir}/backend-id`) ?? '0');
    const gfn = this.guest.allocPage();
    this.guest.page(gfn).set(frame, 0);
    const ref = this.guest.grant(gfn, backendId, true);
    const tx = new DataView(this.guest.mem.u8.buffer, this.txGfn * 4096, 4096);
    const o = 64 + (this.txProd % 256) * 12;
    tx.setUint32(o, ref, true);
    tx.setUint16(o + 4, 0, true);
    tx.setUint16(o + 6, 0, true);
    tx.setUint16(o + 8, id, true);
    tx.setUint16(o + 10, frame.length, true);
    const old = this.txProd++;
    tx.setUint32(0, this.txProd, true);
    const event = tx.getUint32(4, true);
    if (((this.txProd - event) >>> 0) < ((this.txProd - old) >>> 0)) return this.guest.evtchn.send(this.port);
    return null;
  }

  /** TX responses [id, status]. */
  txResponses(): [number, number][] {
    const tx = new DataView(this.guest.mem.u8.buffer, this.txGfn * 4096, 4096);
    const out: [number, number][] = [];
    const prod = tx.getUint32(8, true);
    while (this.txRspCons !== prod) {
      const o = 64 + (this.txRspCons % 256) * 12;
      out.push([tx.getUint16(o, true), tx.getInt16(o + 2, true)]);
      this.txRspCons++;
    }
    tx.setUint32(12, this.txRspCons + 1, true);
    return out;
  }

  /** Received frames, copied out of their buffers. */
  received(): Received[] {
    const rx = new DataView(this.guest.mem.u8.buffer, this.rxGfn * 4096, 4096);
    const out: Received[] = [];
    const prod = rx.getUint32(8, true);
    while (this.rxRspCons !== prod) {
      const o = 64 + (this.rxRspCons % 256) * 8;
      const id = rx.getUint16(o, true), offset = rx.getUint16(o + 2, true), flags = rx.getUint16(o + 4, true), status = rx.getInt16(o + 6, true);
      const buf = this.rxBufs.get(id);
      const data = buf && status > 0 ? this.guest.page(buf.gfn).slice(offset, offset + status) : new Uint8Array(0);
      out.push({ id, offset, flags, status, data });
      this.rxRspCons++;
    }
    rx.setUint32(12, this.rxRspCons + 1, true);
    return out;
  }
}
