/**
 * The XenStore server as a pure engine: requests in, replies and watch events out, no rings, no
 * event channels, no guest memory (ring.ts is the glue to a guest's shared page). Protocol per
 * docs/misc/xenstore.txt and ../shared/docs/xen-abi.md section 6.
 *
 * A connection is one client: a domain's ring, or a client inside tsxen (XsClient). Its domain id
 * decides what it may do; dom0 is privileged. Watches and transactions belong to a connection;
 * quotas count per domain across its connections.
 *
 * Output ordering: messages go through one FIFO outbox, delivered to each connection's sink at the
 * end of each entry point. A request's reply goes out before the watch events it caused (so a
 * WATCH's "OK" precedes its initial event). Delivery is reentrant-safe: a sink may issue requests.
 */
import { log, logOnce } from '../../base/log.js';
import { type Snapshottable } from '../../base/snapshot.js';
import { joinFields, latin1Encode, splitFields } from './bytes.js';
import {
  type Change, type OpEnv, type XsQuota, DEFAULT_QUOTA, checkNewPerms, lookup, opDirectory, opGetPerms, opMkdir,
  opRead, opRm, opSetPerms, opWrite,
} from './ops.js';
import { SPECIAL_INTRODUCE, SPECIAL_RELEASE, childPath, domainPath, isValidSpecial, resolvePath } from './path.js';
import { type Perm, type Who, DOM0_ONLY, PERM_READ, accessFor, formatPerm, parsePerm } from './perms.js';
import {
  type SavedConnection, type XenStoreState, XENSTORE_STATE_VERSION, loadNode, loadPerms, loadTransaction, saveNode,
  savePerms, saveTransaction,
} from './state.js';
import { Transaction } from './transaction.js';
import { NodeTree, type NodeView } from './tree.js';
import { type Watch, matchChange, reportedPath } from './watches.js';
import { type XsMsg, XsError, XsType, XENSTORE_PAYLOAD_MAX } from './wire.js';

export type XsSink = (msg: XsMsg) => void;

/** What the engine asks of the host for domain management requests arriving from dom0. */
export interface XenStoreHooks {
  /** INTRODUCE: connect to `domid`'s ring (page `gfn`, event channel `port`). false answers EINVAL. */
  introduce?(domid: number, gfn: number, port: number): boolean;
  /** RELEASE: disconnect from `domid`'s ring. */
  release?(domid: number): void;
}

export interface XenStoreOptions {
  quota?: Partial<XsQuota>;
  hooks?: XenStoreHooks;
}

/** First reserved domain id (DOMID_FIRST_RESERVED); INTRODUCE takes only real domains below it. */
const DOMID_FIRST_RESERVED = 0x7ff0;
const OK = joinFields(['OK']);

/** One client of the store. Its watches and transactions are owned and changed by the engine. */
export class XsConnection {
  watches: Watch[] = [];
  readonly transactions = new Map<number, Transaction>();

  constructor(
    readonly domid: number,
    readonly key: string,
    /** Where replies and watch events go; null once disconnected. */
    public sink: XsSink | null,
  ) {}
}

interface DomainInfo {
  /** @releaseDomain already reported for a shutdown; RESUME re-arms it. */
  shutdownReported: boolean;
}

export class XenStore implements Snapshottable<XenStoreState> {
  readonly tree = new NodeTree();
  readonly quota: XsQuota;
  private readonly hooks: XenStoreHooks;
  private readonly conns = new Map<string, XsConnection>();
  /** Saved connections whose host side has not reconnected since restore, by key. */
  private readonly detached = new Map<string, SavedConnection>();
  private readonly domains = new Map<number, DomainInfo>();
  private readonly targets = new Map<number, number>();
  private readonly special = new Map<string, readonly Perm[]>();
  private nextTxId = 1;
  private readonly outbox: [XsConnection, XsMsg][] = [];
  /** Events raised by the request being handled; they follow its reply (or vanish with its error). */
  private collecting: [XsConnection, XsMsg][] | null = null;

  constructor(opts: XenStoreOptions = {}) {
    this.quota = { ...DEFAULT_QUOTA, ...opts.quota };
    this.hooks = opts.hooks ?? {};
    this.resetSpecial();
  }

  // ---- connections ----

  /**
   * Opens a connection for `domid`. `key` names it in saved state; by default "dom<N>", then
   * "dom<N>#2"... in creation order. After a restore, connecting with a saved key takes over that
   * connection's watches and transactions.
   */
  connect(domid: number, sink: XsSink, key?: string): XsConnection {
    if (!Number.isInteger(domid) || domid < 0 || domid > 0xffff) throw new Error(`xenstore: bad domid ${domid}`);
    if (key === undefined) {
      key = `dom${domid}`;
      for (let i = 2; this.conns.has(key); i++) key = `dom${domid}#${i}`;
    } else if (this.conns.has(key)) {
      throw new Error(`xenstore: connection ${key} already exists`);
    }
    const conn = new XsConnection(domid, key, sink);
    const saved = this.detached.get(key);
    if (saved && saved.domid === domid) {
      this.detached.delete(key);
      this.adopt(conn, saved);
    }
    this.conns.set(key, conn);
    return conn;
  }

  /** Closes a connection: its watches and transactions go, and nothing more is sent to it. */
  disconnect(conn: XsConnection): void {
    this.resetConnection(conn);
    if (this.conns.get(conn.key) === conn) this.conns.delete(conn.key);
    conn.sink = null;
  }

  /** Drops a connection's watches and transactions (RESET_WATCHES, ring reconnection). */
  resetConnection(conn: XsConnection): void {
    conn.watches = [];
    conn.transactions.clear();
  }

  /** Handles one request from `conn`; the reply (and any events) go to the sinks before it returns. */
  handle(conn: XsConnection, m: XsMsg): void {
    if (this.conns.get(conn.key) !== conn) return;
    const outer = this.collecting;
    const events: [XsConnection, XsMsg][] = [];
    this.collecting = events;
    let reply: XsMsg;
    try {
      const payload = this.dispatch(conn, m);
      if (payload.length > XENSTORE_PAYLOAD_MAX) throw new XsError('E2BIG');
      reply = { type: m.type, reqId: m.reqId, txId: m.txId, payload };
    } catch (e) {
      let code = 'EIO';
      if (e instanceof XsError) code = e.code;
      else logOnce('error', 'xenstore', `internal:${m.type}`, `xenstore: internal error on request type ${m.type}: ${String(e)}`);
      // Operations check before they change anything, so a failed request raised no real event.
      events.length = 0;
      reply = { type: XsType.Error, reqId: m.reqId, txId: m.txId, payload: joinFields([code]) };
    } finally {
      this.collecting = outer;
    }
    this.outbox.push([conn, reply], ...events);
    this.drain();
  }

  // ---- domains (host side) ----

  /** Marks `domid` introduced and fires @introduceDomain (once). Returns false if it already was. */
  introduce(domid: number): boolean {
    const isNew = this.introduceQuiet(domid);
    this.drain();
    return isNew;
  }

  /** The domain is gone from XenStore's view: its connections lose watches and transactions. */
  release(domid: number): boolean {
    const ok = this.releaseQuiet(domid);
    this.drain();
    return ok;
  }

  /** The domain shut down or crashed: fires @releaseDomain once until RESUME. */
  domainShutdown(domid: number): void {
    const d = this.domains.get(domid);
    if (!d || d.shutdownReported) return;
    d.shutdownReported = true;
    this.fireSpecial(SPECIAL_RELEASE);
    this.drain();
  }

  isIntroduced(domid: number): boolean {
    return domid === 0 || this.domains.has(domid);
  }

  /** Tree invariants (every child exists, parents list their children, owner counts): null if fine. */
  check(): string | null {
    const counts = new Map<number, number>();
    let seen = 0;
    for (const [path, n] of this.tree.walk()) {
      seen++;
      if (n.perms.length === 0) return `${path}: no permissions`;
      counts.set(n.perms[0].dom, (counts.get(n.perms[0].dom) ?? 0) + 1);
      if (new Set(n.children).size !== n.children.length) return `${path}: duplicate children`;
      for (const c of n.children) if (!this.tree.get(childPath(path, c))) return `${path}: missing child ${c}`;
    }
    if (seen !== this.tree.size) return `${this.tree.size - seen} nodes unreachable from /`;
    for (const [d, c] of counts) if (this.tree.ownedCount(d) !== c) return `owner count of dom${d} is wrong`;
    return null;
  }

  // ---- dispatch ----

  private who(conn: XsConnection): Who {
    return { domid: conn.domid, target: this.targets.get(conn.domid), privileged: conn.domid === 0 };
  }

  private env(conn: XsConnection): OpEnv {
    return { who: this.who(conn), quota: this.quota };
  }

  private view(conn: XsConnection, m: XsMsg): NodeView {
    if (m.txId === 0) return this.tree;
    const t = conn.transactions.get(m.txId);
    if (!t) throw new XsError('ENOENT');
    return t;
  }

  /** A change made now (fires watches) or inside a transaction (fires at commit). */
  private record(conn: XsConnection, m: XsMsg, c: Change | null): void {
    if (!c) return;
    if (m.txId === 0) this.fire(c);
    else conn.transactions.get(m.txId)!.changes.push(c);
  }

  private path(conn: XsConnection, raw: string): string {
    return resolvePath(raw, conn.domid);
  }

  private dispatch(conn: XsConnection, m: XsMsg): Uint8Array {
    switch (m.type) {
      case XsType.Control:
        return this.control(conn, m);
      case XsType.Directory: {
        const view = this.view(conn, m);
        return joinFields(opDirectory(view, this.env(conn), this.path(conn, oneArg(m))));
      }
      case XsType.DirectoryPart:
        return this.directoryPart(conn, m);
      case XsType.Read: {
        const view = this.view(conn, m);
        return opRead(view, this.env(conn), this.path(conn, oneArg(m))).slice();
      }
      case XsType.GetPerms:
        return this.getPerms(conn, m);
      case XsType.Write: {
        const view = this.view(conn, m);
        const nul = m.payload.indexOf(0);
        if (nul < 0) throw new XsError('EINVAL');
        const path = this.path(conn, splitFields(m.payload.subarray(0, nul + 1)).fields[0]);
        this.record(conn, m, opWrite(view, this.env(conn), path, m.payload.slice(nul + 1)));
        return OK;
      }
      case XsType.Mkdir: {
        const view = this.view(conn, m);
        this.record(conn, m, opMkdir(view, this.env(conn), this.path(conn, oneArg(m))));
        return OK;
      }
      case XsType.Rm: {
        const view = this.view(conn, m);
        this.record(conn, m, opRm(view, this.env(conn), this.path(conn, oneArg(m))));
        return OK;
      }
      case XsType.SetPerms:
        return this.setPerms(conn, m);
      case XsType.Watch:
        return this.watch(conn, m);
      case XsType.Unwatch:
        return this.unwatch(conn, m);
      case XsType.TransactionStart:
        return this.transactionStart(conn, m);
      case XsType.TransactionEnd:
        return this.transactionEnd(conn, m);
      case XsType.Introduce:
        return this.introduceRequest(conn, m);
      case XsType.Release: {
        this.requirePrivileged(conn);
        const domid = parseDomid(args(m, 1)[0]);
        if (domid === 0) throw new XsError('EINVAL');
        if (!this.domains.has(domid)) throw new XsError('ENOENT');
        this.releaseQuiet(domid);
        this.hooks.release?.(domid);
        return OK;
      }
      case XsType.GetDomainPath:
        return joinFields([domainPath(parseDomid(args(m, 1)[0]))]);
      case XsType.IsDomainIntroduced:
        this.requirePrivileged(conn);
        return joinFields([this.isIntroduced(parseDomid(args(m, 1)[0])) ? 'T' : 'F']);
      case XsType.Resume: {
        this.requirePrivileged(conn);
        const d = this.domains.get(parseDomid(args(m, 1)[0]));
        if (!d) throw new XsError('ENOENT');
        d.shutdownReported = false;
        return OK;
      }
      case XsType.SetTarget: {
        this.requirePrivileged(conn);
        const a = args(m, 2);
        const domid = parseDomid(a[0]);
        const target = parseDomid(a[1]);
        if (domid === 0) throw new XsError('EINVAL');
        this.targets.set(domid, target);
        return OK;
      }
      case XsType.ResetWatches:
        this.resetConnection(conn);
        return OK;
      default:
        // WATCH_EVENT and ERROR are server-to-client only; 20 (RESTRICT) was removed; the
        // feature and quota messages are optional and not offered.
        logOnce('info', 'xenstore', `enosys:${m.type}`, `xenstore: dom${conn.domid} sent unsupported message type ${m.type}`);
        throw new XsError('ENOSYS');
    }
  }

  private requirePrivileged(conn: XsConnection): void {
    if (conn.domid !== 0) throw new XsError('EACCES');
  }

  private control(conn: XsConnection, m: XsMsg): Uint8Array {
    this.requirePrivileged(conn);
    const { fields } = splitFields(m.payload);
    switch (fields[0]) {
      case 'print':
        log('info', 'xenstore', `xenstore: ${fields.slice(1).join(' ')}`);
        return OK;
      case 'help':
        return joinFields(['check\nprint\nquota\nhelp\n']);
      case 'check':
        return joinFields([this.check() ?? 'OK']);
      case 'quota':
        return joinFields([Object.entries(this.quota).map(([k, v]) => `${k} ${v}`).join('\n') + '\n']);
      default:
        throw new XsError('EINVAL');
    }
  }

  private directoryPart(conn: XsConnection, m: XsMsg): Uint8Array {
    const view = this.view(conn, m);
    const a = args(m, 2);
    const node = lookup(view, this.who(conn), this.path(conn, a[0]), PERM_READ);
    if (!/^[0-9]{1,10}$/.test(a[1])) throw new XsError('EINVAL');
    const off = Number(a[1]);
    const all = joinFields(node.children);
    const gen = latin1Encode(String(node.gen) + '\0');
    // Whole names from `off` on, as many as fit; an extra NUL marks the end of the list.
    const room = XENSTORE_PAYLOAD_MAX - gen.length - 1;
    let end = off;
    if (off < all.length) {
      for (;;) {
        const nul = all.indexOf(0, end);
        if (nul < 0 || nul + 1 - off > room) break;
        end = nul + 1;
        if (end === all.length) break;
      }
      if (end === off) throw new XsError('E2BIG');
    }
    const last = end >= all.length;
    const out = new Uint8Array(gen.length + (end - off > 0 ? end - off : 0) + (last ? 1 : 0));
    out.set(gen, 0);
    if (end > off) out.set(all.subarray(off, end), gen.length);
    return out;
  }

  private getPerms(conn: XsConnection, m: XsMsg): Uint8Array {
    const raw = oneArg(m);
    let perms: readonly Perm[];
    const sp = this.special.get(raw);
    if (sp) {
      if (!(accessFor(sp, this.who(conn)) & PERM_READ)) throw new XsError('EACCES');
      perms = sp;
    } else {
      perms = opGetPerms(this.view(conn, m), this.env(conn), this.path(conn, raw));
    }
    return joinFields(perms.map(formatPerm));
  }

  private setPerms(conn: XsConnection, m: XsMsg): Uint8Array {
    const { fields, rest } = splitFields(m.payload);
    if (fields.length < 2) throw new XsError('EINVAL');
    if (rest !== null) throw new XsError('EINVAL');
    const perms = fields.slice(1).map(parsePerm);
    const sp = this.special.get(fields[0]);
    if (sp) {
      checkNewPerms(this.env(conn), sp, perms);
      this.special.set(fields[0], perms);
      return OK;
    }
    const view = this.view(conn, m);
    this.record(conn, m, opSetPerms(view, this.env(conn), this.path(conn, fields[0]), perms));
    return OK;
  }

  private watch(conn: XsConnection, m: XsMsg): Uint8Array {
    const { fields } = splitFields(m.payload);
    // A third field (depth, XENSTORE_SERVER_FEATURE_WATCHDEPTH) is not offered and is ignored:
    // a wider watch only fires more often, which clients must tolerate anyway.
    if (fields.length < 2) throw new XsError('EINVAL');
    const [raw, token] = fields;
    let w: Watch;
    if (raw[0] === '@') {
      if (!isValidSpecial(raw)) throw new XsError('EINVAL');
      w = { path: raw, token, relative: false };
    } else {
      w = { path: this.path(conn, raw), token, relative: raw[0] !== '/' };
    }
    if (conn.watches.some((x) => x.path === w.path && x.token === token)) throw new XsError('EEXIST');
    if (conn.domid !== 0 && this.quota.watches > 0 && this.countFor(conn.domid, (c) => c.watches.length) >= this.quota.watches) {
      throw new XsError('ENOSPC');
    }
    conn.watches.push(w);
    // Every watch fires once at once, with the path as given: clients rely on it to pick up state.
    this.queueEvent(conn, raw, token);
    return OK;
  }

  private unwatch(conn: XsConnection, m: XsMsg): Uint8Array {
    const { fields } = splitFields(m.payload);
    if (fields.length < 2) throw new XsError('EINVAL');
    const [raw, token] = fields;
    const path = raw[0] === '@' ? raw : this.path(conn, raw);
    const i = conn.watches.findIndex((x) => x.path === path && x.token === token);
    if (i < 0) throw new XsError('ENOENT');
    conn.watches.splice(i, 1);
    return OK;
  }

  private transactionStart(conn: XsConnection, m: XsMsg): Uint8Array {
    if (m.txId !== 0) throw new XsError('EBUSY');
    if (conn.domid !== 0 && this.quota.transactions > 0 && this.countFor(conn.domid, (c) => c.transactions.size) >= this.quota.transactions) {
      throw new XsError('ENOSPC');
    }
    const id = this.allocTxId();
    conn.transactions.set(id, new Transaction(id, this.tree));
    return joinFields([String(id)]);
  }

  private transactionEnd(conn: XsConnection, m: XsMsg): Uint8Array {
    const t = conn.transactions.get(m.txId);
    if (m.txId === 0 || !t) throw new XsError('ENOENT');
    const arg = oneArg(m);
    if (arg !== 'T' && arg !== 'F') throw new XsError('EINVAL');
    conn.transactions.delete(m.txId);
    if (arg === 'F') return OK;
    if (!t.stillValid()) throw new XsError('EAGAIN');
    // The node quota is rechecked against the live counts: others may have created nodes meanwhile.
    if (this.quota.nodes > 0) {
      for (const [dom, d] of t.ownedDelta) {
        if (dom !== 0 && d > 0 && this.tree.ownedCount(dom) + d > this.quota.nodes) throw new XsError('ENOSPC');
      }
    }
    t.apply();
    for (const c of t.changes) this.fire(c);
    return OK;
  }

  private introduceRequest(conn: XsConnection, m: XsMsg): Uint8Array {
    this.requirePrivileged(conn);
    const a = args(m, 3);
    const domid = parseDomid(a[0]);
    if (domid === 0 || domid >= DOMID_FIRST_RESERVED) throw new XsError('EINVAL');
    if (!/^-?[0-9]{1,20}$/.test(a[1]) || !/^[0-9]{1,10}$/.test(a[2])) throw new XsError('EINVAL');
    const gfn = Number(a[1]);
    const port = Number(a[2]);
    // Called on every INTRODUCE: a repeated one (resume, kexec) asks the host to rebind the ring.
    if (this.hooks.introduce && !this.hooks.introduce(domid, gfn, port)) throw new XsError('EINVAL');
    this.introduceQuiet(domid);
    return OK;
  }

  private introduceQuiet(domid: number): boolean {
    if (this.domains.has(domid)) return false;
    this.domains.set(domid, { shutdownReported: false });
    this.fireSpecial(SPECIAL_INTRODUCE);
    return true;
  }

  private releaseQuiet(domid: number): boolean {
    if (!this.domains.delete(domid)) return false;
    this.targets.delete(domid);
    for (const c of this.conns.values()) if (c.domid === domid) this.resetConnection(c);
    this.fireSpecial(SPECIAL_RELEASE);
    return true;
  }

  private countFor(domid: number, f: (c: XsConnection) => number): number {
    let n = 0;
    for (const c of this.conns.values()) if (c.domid === domid) n += f(c);
    return n;
  }

  private allocTxId(): number {
    for (;;) {
      const id = this.nextTxId;
      this.nextTxId = (this.nextTxId + 1) >>> 0 || 1;
      let used = false;
      for (const c of this.conns.values()) if (c.transactions.has(id)) used = true;
      if (!used) return id;
    }
  }

  // ---- watch events ----

  private canSee(conn: XsConnection, c: Change): boolean {
    const who = this.who(conn);
    return !!(accessFor(c.perms, who) & PERM_READ) || (c.oldPerms !== undefined && !!(accessFor(c.oldPerms, who) & PERM_READ));
  }

  private fire(c: Change): void {
    for (const conn of this.conns.values()) {
      const home = domainPath(conn.domid);
      for (const w of conn.watches) {
        const abs = matchChange(w, c);
        if (abs !== null && this.canSee(conn, c)) this.queueEvent(conn, reportedPath(w, abs, home), w.token);
      }
    }
  }

  private fireSpecial(name: string): void {
    const perms = this.special.get(name) ?? DOM0_ONLY;
    for (const conn of this.conns.values()) {
      const visible = !!(accessFor(perms, this.who(conn)) & PERM_READ);
      for (const w of conn.watches) if (w.path === name && visible) this.queueEvent(conn, name, w.token);
    }
  }

  private queueEvent(conn: XsConnection, path: string, token: string): void {
    const payload = joinFields([path, token]);
    if (payload.length > XENSTORE_PAYLOAD_MAX) {
      logOnce('warn', 'xenstore', `bigevent:${conn.key}`, `xenstore: dropped a watch event for ${conn.key} longer than a message`);
      return;
    }
    (this.collecting ?? this.outbox).push([conn, { type: XsType.WatchEvent, reqId: 0, txId: 0, payload }]);
  }

  private drain(): void {
    // Reentrant by construction: a sink that issues a request drains the same FIFO further.
    while (this.outbox.length) {
      const [conn, msg] = this.outbox.shift()!;
      conn.sink?.(msg);
    }
  }

  // ---- saved state ----

  save(): XenStoreState {
    const connections: SavedConnection[] = [...this.detached.values()];
    for (const c of this.conns.values()) {
      connections.push({
        key: c.key,
        domid: c.domid,
        watches: c.watches.map((w) => ({ ...w })),
        transactions: [...c.transactions.values()].map(saveTransaction),
      });
    }
    return {
      version: XENSTORE_STATE_VERSION,
      gen: this.tree.currentGen,
      nextTxId: this.nextTxId,
      quota: { ...this.quota },
      nodes: [...this.tree.walk()].map(([p, n]) => saveNode(p, n)),
      special: [...this.special].map(([name, perms]) => ({ name, perms: savePerms(perms) })),
      domains: [...this.domains].map(([domid, d]) => ({ domid, shutdownReported: d.shutdownReported })),
      targets: [...this.targets],
      connections,
    };
  }

  /**
   * Replaces the store. Live connections whose key is in the saved state take its watches and
   * transactions; other live connections are reset; saved connections not yet reconnected wait for
   * `connect` with their key.
   */
  restore(s: XenStoreState): void {
    if (s.version !== XENSTORE_STATE_VERSION) throw new Error(`xenstore state version ${s.version} not supported`);
    if (!s.nodes.length || s.nodes[0].path !== '/') throw new Error('xenstore state: missing root');
    this.tree.clearAll();
    for (const n of s.nodes) this.tree.putWithGen(n.path, loadNode(n), n.gen);
    this.tree.setGen(s.gen);
    Object.assign(this.quota, s.quota);
    this.nextTxId = s.nextTxId;
    this.resetSpecial();
    for (const sp of s.special) this.special.set(sp.name, loadPerms(sp.perms));
    this.domains.clear();
    for (const d of s.domains) this.domains.set(d.domid, { shutdownReported: d.shutdownReported });
    this.targets.clear();
    for (const [d, t] of s.targets) this.targets.set(d, t);
    this.detached.clear();
    this.outbox.length = 0;
    for (const c of this.conns.values()) this.resetConnection(c);
    for (const sc of s.connections) {
      const live = this.conns.get(sc.key);
      if (live && live.domid === sc.domid) this.adopt(live, sc);
      else this.detached.set(sc.key, sc);
    }
  }

  private adopt(conn: XsConnection, s: SavedConnection): void {
    conn.watches = s.watches.map((w) => ({ path: w.path, token: w.token, relative: w.relative }));
    conn.transactions.clear();
    for (const t of s.transactions) conn.transactions.set(t.id, loadTransaction(t, this.tree));
  }

  private resetSpecial(): void {
    this.special.clear();
    this.special.set(SPECIAL_INTRODUCE, DOM0_ONLY);
    this.special.set(SPECIAL_RELEASE, DOM0_ONLY);
  }
}

/** The single NUL-terminated string a request carries; anything else is EINVAL. */
function oneArg(m: XsMsg): string {
  const { fields, rest } = splitFields(m.payload);
  if (fields.length !== 1 || rest !== null) throw new XsError('EINVAL');
  return fields[0];
}

/** At least `n` NUL-terminated fields (trailing reserved fields are ignored). */
function args(m: XsMsg, n: number): string[] {
  const { fields } = splitFields(m.payload);
  if (fields.length < n) throw new XsError('EINVAL');
  return fields;
}

/** A decimal domain id 0..65535; anything else is EINVAL. */
function parseDomid(s: string): number {
  if (!/^[0-9]{1,5}$/.test(s)) throw new XsError('EINVAL');
  const d = Number(s);
  if (d > 0xffff) throw new XsError('EINVAL');
  return d;
}
