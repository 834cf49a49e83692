/**
 * A XenStore client inside tsxen (toolstack, in-hypervisor backends, tests). It speaks the same
 * messages as a guest, through `XenStore.handle`, so it gets exactly a guest's semantics; the
 * engine answers synchronously, so every call returns its result directly.
 *
 * Errors come back as thrown `XsError` (code = the Xen error name).
 */
import { joinFields, latin1Encode, splitFields, utf8Decode, utf8Encode } from './bytes.js';
import { type XenStore, type XsConnection } from './engine.js';
import { type XsMsg, XsError, XsType, XS_ERROR_NAMES, type XsErrorName } from './wire.js';

export type WatchCallback = (path: string, token: string) => void;

export class XsClient {
  readonly conn: XsConnection;
  /** Called for every WATCH_EVENT, as the engine delivers it. */
  onWatchEvent: WatchCallback | null = null;
  private nextReq = 1;
  private readonly replies = new Map<number, XsMsg>();

  constructor(
    private readonly store: XenStore,
    domid = 0,
    key?: string,
  ) {
    this.conn = store.connect(domid, (m) => this.receive(m), key);
  }

  /** Sends one request and returns the reply payload; throws XsError on an ERROR reply. */
  request(type: number, payload: Uint8Array, txId = 0): Uint8Array {
    const reqId = this.nextReq;
    this.nextReq = (this.nextReq + 1) >>> 0 || 1;
    this.store.handle(this.conn, { type, reqId, txId, payload });
    const r = this.replies.get(reqId);
    this.replies.delete(reqId);
    if (!r) throw new XsError('EIO');
    if (r.type === XsType.Error) {
      const name = splitFields(r.payload).fields[0] ?? '';
      throw new XsError((XS_ERROR_NAMES as readonly string[]).includes(name) ? (name as XsErrorName) : 'EIO');
    }
    return r.payload;
  }

  read(path: string, tx = 0): Uint8Array {
    return this.request(XsType.Read, joinFields([path]), tx);
  }

  /** The value as UTF-8 text, or null if the node does not exist. */
  readString(path: string, tx = 0): string | null {
    try {
      return utf8Decode(this.read(path, tx));
    } catch (e) {
      if (e instanceof XsError && e.code === 'ENOENT') return null;
      throw e;
    }
  }

  /** Writes a value (strings as UTF-8). */
  write(path: string, value: Uint8Array | string, tx = 0): void {
    const v = typeof value === 'string' ? utf8Encode(value) : value;
    const p = latin1Encode(path);
    const payload = new Uint8Array(p.length + 1 + v.length);
    payload.set(p, 0);
    payload.set(v, p.length + 1);
    this.request(XsType.Write, payload, tx);
  }

  mkdir(path: string, tx = 0): void {
    this.request(XsType.Mkdir, joinFields([path]), tx);
  }

  rm(path: string, tx = 0): void {
    this.request(XsType.Rm, joinFields([path]), tx);
  }

  directory(path: string, tx = 0): string[] {
    return splitFields(this.request(XsType.Directory, joinFields([path]), tx)).fields;
  }

  /** Permission strings, owner first ("n0", "r5"). */
  getPerms(path: string, tx = 0): string[] {
    return splitFields(this.request(XsType.GetPerms, joinFields([path]), tx)).fields;
  }

  setPerms(path: string, perms: readonly string[], tx = 0): void {
    this.request(XsType.SetPerms, joinFields([path, ...perms]), tx);
  }

  watch(path: string, token: string): void {
    this.request(XsType.Watch, joinFields([path, token]));
  }

  unwatch(path: string, token: string): void {
    this.request(XsType.Unwatch, joinFields([path, token]));
  }

  transactionStart(): number {
    return Number(splitFields(this.request(XsType.TransactionStart, joinFields(['']))).fields[0]);
  }

  /** Commits (or aborts); false if the commit conflicted (EAGAIN) and must be retried. */
  transactionEnd(tx: number, commit = true): boolean {
    try {
      this.request(XsType.TransactionEnd, joinFields([commit ? 'T' : 'F']), tx);
      return true;
    } catch (e) {
      if (e instanceof XsError && e.code === 'EAGAIN') return false;
      throw e;
    }
  }

  close(): void {
    this.store.disconnect(this.conn);
  }

  private receive(m: XsMsg): void {
    if (m.type === XsType.WatchEvent) {
      const f = splitFields(m.payload).fields;
      this.onWatchEvent?.(f[0] ?? '', f[1] ?? '');
      return;
    }
    this.replies.set(m.reqId, m);
  }
}
