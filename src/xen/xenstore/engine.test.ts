import { test } from 'node:test';
import assert from 'node:assert/strict';
import { XenStore } from './engine.js';
import { XsClient } from './client.js';
import { XsError, XsType, type XsMsg } from './wire.js';
import { joinFields, latin1Decode, latin1Encode, splitFields, utf8Decode } from './bytes.js';

/** A connection that records every message the engine sends it. */
function raw(store: XenStore, domid: number) {
  const out: XsMsg[] = [];
  const conn = store.connect(domid, (m) => out.push(m));
  let reqId = 100;
  return {
    conn,
    out,
    /** Sends one request; returns everything sent to this connection while handling it. */
    send(type: number, payload: Uint8Array | string[], txId = 0): XsMsg[] {
      out.length = 0;
      const p = payload instanceof Uint8Array ? payload : joinFields(payload);
      store.handle(conn, { type, reqId: ++reqId, txId, payload: p });
      return out.slice();
    },
  };
}

const fields = (m: XsMsg) => splitFields(m.payload).fields;
function errorOf(msgs: XsMsg[]): string | null {
  return msgs[0].type === XsType.Error ? fields(msgs[0])[0] : null;
}
function throwsCode(f: () => unknown, code: string): void {
  assert.throws(f, (e: unknown) => e instanceof XsError && e.code === code);
}

/** dom0 client plus a guest home /local/domain/<d> owned by dom0, readable by the guest (as libxl makes it). */
function setup(...guests: number[]) {
  const store = new XenStore();
  const dom0 = new XsClient(store, 0);
  for (const d of guests) {
    dom0.mkdir(`/local/domain/${d}`);
    dom0.setPerms(`/local/domain/${d}`, ['n0', `r${d}`]);
    dom0.mkdir(`/local/domain/${d}/data`);
    dom0.setPerms(`/local/domain/${d}/data`, [`n${d}`]);
  }
  return { store, dom0 };
}

test('replies echo the request type, req_id and tx_id; WRITE and READ round-trip raw bytes', () => {
  const store = new XenStore();
  const c = raw(store, 0);
  const value = Uint8Array.from([1, 0, 255, 0x41]);
  const w = new Uint8Array([...latin1Encode('/a/b'), 0, ...value]);
  const r1 = c.send(XsType.Write, w);
  assert.equal(r1.length, 1);
  assert.equal(r1[0].type, XsType.Write);
  assert.equal(r1[0].reqId, 101);
  assert.equal(r1[0].txId, 0);
  assert.deepEqual(fields(r1[0]), ['OK']);
  const r2 = c.send(XsType.Read, ['/a/b']);
  assert.deepEqual(r2[0].payload, value, 'READ answers the value without a terminating NUL');
  assert.deepEqual(c.send(XsType.Read, ['/a'])[0].payload, new Uint8Array(0), 'WRITE creates parents with empty values');
});

test('errors come back as type ERROR with the name and a NUL', () => {
  const store = new XenStore();
  const c = raw(store, 0);
  const r = c.send(XsType.Read, ['/nope']);
  assert.equal(r[0].type, XsType.Error);
  assert.equal(r[0].reqId, 101);
  assert.equal(latin1Decode(r[0].payload), 'ENOENT\0');
});

test('malformed requests are EINVAL: no NUL, extra fields, bad paths', () => {
  const store = new XenStore();
  const c = raw(store, 0);
  assert.equal(errorOf(c.send(XsType.Read, latin1Encode('/a'))), 'EINVAL');
  assert.equal(errorOf(c.send(XsType.Read, ['/a', 'x'])), 'EINVAL');
  assert.equal(errorOf(c.send(XsType.Write, latin1Encode('/a'))), 'EINVAL');
  for (const p of ['', '/a/', '/a//b', '/a b', '/a/\u00e9', '/' + 'x'.repeat(3072), '@foo']) {
    assert.equal(errorOf(c.send(XsType.Mkdir, [p])), 'EINVAL', JSON.stringify(p.slice(0, 20)));
  }
  assert.equal(errorOf(c.send(XsType.Mkdir, ['/' + 'x'.repeat(3071)])), null, 'exactly 3072 bytes is allowed');
  assert.equal(errorOf(c.send(XsType.Mkdir, ['/-_@AZaz09'])), null);
});

test('unsupported and server-only message types are ENOSYS', () => {
  const store = new XenStore();
  const c = raw(store, 0);
  for (const t of [XsType.WatchEvent, XsType.Error, 20, XsType.GetFeature, XsType.SetFeature, XsType.GetQuota, XsType.SetQuota, 27, 0xffff, 0xdeadbeef]) {
    assert.equal(errorOf(c.send(t, ['x'])), 'ENOSYS', `type ${t}`);
  }
});

test('MKDIR keeps an existing value; DIRECTORY lists leaf names in creation order', () => {
  const { dom0 } = setup();
  dom0.write('/d/x', 'v');
  dom0.mkdir('/d/x');
  assert.equal(dom0.readString('/d/x'), 'v');
  dom0.mkdir('/d/b');
  dom0.mkdir('/d/a/deep/er');
  assert.deepEqual(dom0.directory('/d'), ['x', 'b', 'a']);
  assert.deepEqual(dom0.directory('/d/x'), []);
  throwsCode(() => dom0.directory('/zz'), 'ENOENT');
});

test('an empty DIRECTORY reply is zero bytes', () => {
  const store = new XenStore();
  const c = raw(store, 0);
  c.send(XsType.Mkdir, ['/e']);
  assert.equal(c.send(XsType.Directory, ['/e'])[0].payload.length, 0);
});

test('RM removes the subtree; a missing node is fine if its parent exists, else ENOENT; / is EINVAL', () => {
  const { store, dom0 } = setup();
  dom0.write('/r/a/b/c', '1');
  dom0.write('/r/a/x', '2');
  dom0.rm('/r/a');
  assert.deepEqual(dom0.directory('/r'), []);
  assert.equal(dom0.readString('/r/a/b/c'), null);
  dom0.rm('/r/gone');
  throwsCode(() => dom0.rm('/r/gone/deeper'), 'ENOENT');
  throwsCode(() => dom0.rm('/'), 'EINVAL');
  assert.equal(store.check(), null);
});

test('GET_PERMS / SET_PERMS round-trip; new nodes inherit their parent\'s permissions', () => {
  const { dom0 } = setup();
  dom0.mkdir('/p');
  dom0.setPerms('/p', ['n0', 'r3', 'w4', 'b5']);
  assert.deepEqual(dom0.getPerms('/p'), ['n0', 'r3', 'w4', 'b5']);
  dom0.write('/p/q/r', 'x');
  assert.deepEqual(dom0.getPerms('/p/q/r'), ['n0', 'r3', 'w4', 'b5']);
  throwsCode(() => dom0.setPerms('/p', ['x0']), 'EINVAL');
  throwsCode(() => dom0.setPerms('/p', ['r']), 'EINVAL');
  throwsCode(() => dom0.setPerms('/p', ['r70000']), 'EINVAL');
  throwsCode(() => dom0.setPerms('/nope', ['n0']), 'ENOENT');
  assert.deepEqual(dom0.getPerms('/'), ['n0']);
});

test('a guest reads what it may and is refused the rest with EACCES', () => {
  const { store, dom0 } = setup(1, 2);
  dom0.write('/local/domain/1/name', 'guest1');
  dom0.write('/local/domain/2/name', 'guest2');
  dom0.write('/secret', 's');
  const g1 = new XsClient(store, 1);
  assert.equal(g1.readString('/local/domain/1/name'), 'guest1');
  assert.equal(g1.readString('name'), 'guest1', 'relative to /local/domain/1');
  throwsCode(() => g1.read('/local/domain/2/name'), 'EACCES');
  throwsCode(() => g1.read('/secret'), 'EACCES');
  throwsCode(() => g1.directory('/local/domain/2'), 'EACCES');
  throwsCode(() => g1.getPerms('/secret'), 'EACCES');
  // A missing node is EACCES, not ENOENT, where the caller cannot read the parent: no probing.
  throwsCode(() => g1.read('/local/domain/2/nothing'), 'EACCES');
  throwsCode(() => g1.read('/local/domain/1/nothing'), 'ENOENT');
  throwsCode(() => g1.write('/local/domain/1/name', 'x'), 'EACCES', );
  throwsCode(() => g1.write('/local/domain/1/new', 'x'), 'EACCES');
  throwsCode(() => g1.rm('/local/domain/1/name'), 'EACCES');
  throwsCode(() => g1.mkdir('/local/domain/1/name'), 'EACCES');
});

test('a guest writes where permitted and owns what it creates', () => {
  const { store, dom0 } = setup(1);
  const g1 = new XsClient(store, 1);
  g1.write('data/x/y', 'hello');
  assert.deepEqual(g1.getPerms('data/x/y'), ['n1'], 'creator becomes owner, keeping the inherited default');
  g1.rm('data/x');
  // The owner's letter is the default for unlisted domains; the owner always has full access.
  dom0.mkdir('/shared');
  dom0.setPerms('/shared', ['r0']);
  throwsCode(() => g1.write('/shared/a', '1'), 'EACCES');
  dom0.setPerms('/shared', ['w0']);
  g1.write('/shared/a', '1');
  assert.deepEqual(g1.getPerms('/shared/a'), ['w1']);
  // Listed entries override the default: r1 here means read-only for dom1 even though the default is w.
  dom0.setPerms('/shared', ['w0', 'r1']);
  throwsCode(() => g1.write('/shared/b', '1'), 'EACCES');
  assert.equal(store.check(), null);
});

test('SET_PERMS: only the owner (or dom0) may, and only dom0 may change the owner (EPERM)', () => {
  const { store, dom0 } = setup(1, 2);
  const g1 = new XsClient(store, 1);
  const g2 = new XsClient(store, 2);
  g1.write('data/mine', 'x');
  g1.setPerms('data/mine', ['n1', 'r2']);
  assert.equal(g2.readString('/local/domain/1/data/mine'), 'x');
  throwsCode(() => g1.setPerms('data/mine', ['n2']), 'EPERM');
  throwsCode(() => g2.setPerms('/local/domain/1/data/mine', ['n1', 'b2']), 'EACCES');
  dom0.setPerms('/local/domain/1/data/mine', ['n2']);
  assert.deepEqual(dom0.getPerms('/local/domain/1/data/mine'), ['n2']);
});

test('SET_TARGET lets a device-model domain act as its target', () => {
  const { store, dom0 } = setup(1, 5);
  dom0.write('/local/domain/1/data/x', 'v');
  const stub = new XsClient(store, 5);
  throwsCode(() => stub.read('/local/domain/1/data/x'), 'EACCES');
  const c = raw(store, 0);
  assert.equal(errorOf(c.send(XsType.SetTarget, ['5', '1'])), null);
  assert.equal(stub.readString('/local/domain/1/data/x'), 'v');
  stub.write('/local/domain/1/data/y', 'w');
  throwsCode(() => new XsClient(store, 1).request(XsType.SetTarget, joinFields(['5', '1'])), 'EACCES');
});

test('GET_DOMAIN_PATH answers /local/domain/<domid> for any caller; bad domids are EINVAL', () => {
  const { store } = setup(1);
  const g1 = raw(store, 1);
  assert.deepEqual(fields(g1.send(XsType.GetDomainPath, ['7'])[0]), ['/local/domain/7']);
  assert.equal(errorOf(g1.send(XsType.GetDomainPath, ['x'])), 'EINVAL');
  assert.equal(errorOf(g1.send(XsType.GetDomainPath, ['65536'])), 'EINVAL');
  assert.equal(errorOf(g1.send(XsType.GetDomainPath, ['-1'])), 'EINVAL');
});

test('INTRODUCE / IS_DOMAIN_INTRODUCED / RESUME / RELEASE, and the host hooks they call', () => {
  const calls: string[] = [];
  const store = new XenStore({
    hooks: {
      introduce: (d, gfn, port) => (calls.push(`intro ${d} ${gfn} ${port}`), d !== 9),
      release: (d) => calls.push(`release ${d}`),
    },
  });
  const c = raw(store, 0);
  const isIntro = (d: number) => fields(c.send(XsType.IsDomainIntroduced, [String(d)])[0])[0];
  assert.equal(isIntro(0), 'T');
  assert.equal(isIntro(3), 'F');
  assert.equal(errorOf(c.send(XsType.Introduce, ['3', '-1', '17'])), null);
  assert.equal(isIntro(3), 'T');
  assert.equal(store.isIntroduced(3), true);
  assert.equal(errorOf(c.send(XsType.Introduce, ['3', '4', '17'])), null, 're-introducing is OK');
  assert.equal(errorOf(c.send(XsType.Introduce, ['9', '4', '17'])), 'EINVAL', 'the host refused');
  assert.equal(errorOf(c.send(XsType.Introduce, ['0', '4', '17'])), 'EINVAL');
  assert.equal(errorOf(c.send(XsType.Introduce, ['32752', '4', '17'])), 'EINVAL', 'DOMID_FIRST_RESERVED');
  assert.equal(errorOf(c.send(XsType.Introduce, ['4', 'x', '17'])), 'EINVAL');
  assert.equal(errorOf(c.send(XsType.Introduce, ['4', '1'])), 'EINVAL');
  assert.equal(errorOf(c.send(XsType.Resume, ['3'])), null);
  assert.equal(errorOf(c.send(XsType.Resume, ['8'])), 'ENOENT');
  assert.equal(errorOf(c.send(XsType.Release, ['3'])), null);
  assert.equal(isIntro(3), 'F');
  assert.equal(errorOf(c.send(XsType.Release, ['3'])), 'ENOENT');
  assert.equal(errorOf(c.send(XsType.Release, ['0'])), 'EINVAL');
  assert.deepEqual(calls, ['intro 3 -1 17', 'intro 3 4 17', 'intro 9 4 17', 'release 3']);
});

test('domain management and CONTROL are dom0-only (EACCES)', () => {
  const { store } = setup(1);
  const g = raw(store, 1);
  for (const [t, a] of [
    [XsType.Introduce, ['2', '1', '1']],
    [XsType.Release, ['2']],
    [XsType.Resume, ['2']],
    [XsType.SetTarget, ['2', '1']],
    [XsType.IsDomainIntroduced, ['2']],
    [XsType.Control, ['check']],
  ] as const) {
    assert.equal(errorOf(g.send(t, [...a])), 'EACCES', `type ${t}`);
  }
});

test('CONTROL (DEBUG): print, check, help, quota; unknown commands EINVAL', () => {
  const store = new XenStore();
  const c = raw(store, 0);
  assert.deepEqual(fields(c.send(XsType.Control, ['print', 'hello'])[0]), ['OK']);
  assert.deepEqual(fields(c.send(XsType.Control, ['check'])[0]), ['OK']);
  assert.match(fields(c.send(XsType.Control, ['help'])[0])[0], /check/);
  assert.match(fields(c.send(XsType.Control, ['quota'])[0])[0], /nodes 1000/);
  assert.equal(errorOf(c.send(XsType.Control, ['frobnicate'])), 'EINVAL');
});

test('RESET_WATCHES drops the connection\'s watches and transactions', () => {
  const { store, dom0 } = setup(1);
  const g = new XsClient(store, 1);
  const events: string[] = [];
  g.onWatchEvent = (p) => events.push(p);
  g.watch('data', 't');
  const tx = g.transactionStart();
  g.request(XsType.ResetWatches, joinFields(['']));
  events.length = 0;
  dom0.write('/local/domain/1/data/k', 'v');
  assert.deepEqual(events, []);
  throwsCode(() => g.read('data', tx), 'ENOENT');
});

test('a reply larger than a message is E2BIG; DIRECTORY_PART pages through a long list', () => {
  const store = new XenStore({ quota: { nodes: 0 } });
  const dom0 = new XsClient(store, 0);
  const names: string[] = [];
  for (let i = 0; i < 400; i++) {
    const n = `child-with-a-long-name-${String(i).padStart(4, '0')}`;
    names.push(n);
    dom0.mkdir(`/big/${n}`);
  }
  throwsCode(() => dom0.directory('/big'), 'E2BIG');
  const got: string[] = [];
  let off = 0;
  let gen: string | null = null;
  for (let guard = 0; guard < 100; guard++) {
    const p = dom0.request(XsType.DirectoryPart, joinFields(['/big', String(off)]));
    assert.ok(p.length <= 4096);
    const f = splitFields(p).fields;
    gen ??= f[0];
    assert.equal(f[0], gen, 'the generation is stable while the node does not change');
    const list = f.slice(1);
    if (list[list.length - 1] === '') {
      got.push(...list.slice(0, -1));
      break;
    }
    got.push(...list);
    off += list.reduce((n, s) => n + s.length + 1, 0);
  }
  assert.deepEqual(got, names);
  // Past the end: just the generation and the empty terminator.
  const end = dom0.request(XsType.DirectoryPart, joinFields(['/big', '999999']));
  assert.deepEqual(splitFields(end).fields, [gen!, '']);
  dom0.mkdir('/big/more');
  const after = splitFields(dom0.request(XsType.DirectoryPart, joinFields(['/big', '0']))).fields[0];
  assert.notEqual(after, gen, 'a new child changes the generation');
  throwsCode(() => dom0.request(XsType.DirectoryPart, joinFields(['/big'])), 'EINVAL');
});

test('node quota: an unprivileged domain may own at most `nodes` nodes (ENOSPC)', () => {
  const store = new XenStore({ quota: { nodes: 3 } });
  const dom0 = new XsClient(store, 0);
  dom0.mkdir('/local/domain/1/data');
  dom0.setPerms('/local/domain/1/data', ['n1']);
  const g = new XsClient(store, 1);
  throwsCode(() => g.write('data/a/b/c', 'x'), 'ENOSPC');
  assert.equal(g.readString('data/a'), null, 'nothing was created by the failed write');
  g.write('data/a/b', 'x'); // 'data' is owned by dom1 too (1) + a + b = 3
  throwsCode(() => g.mkdir('data/c'), 'ENOSPC');
  g.rm('data/a/b');
  g.mkdir('data/c');
  for (let i = 0; i < 20; i++) dom0.mkdir(`/local/domain/1/data/x${i}`); // dom0 is never limited
  assert.equal(store.check(), null);
});

test('value size, permission count, watch and transaction quotas answer ENOSPC', () => {
  const store = new XenStore({ quota: { nodeSize: 8, perms: 2, watches: 2, transactions: 2 } });
  const dom0 = new XsClient(store, 0);
  dom0.mkdir('/local/domain/1/data');
  dom0.setPerms('/local/domain/1/data', ['n1']);
  const g = new XsClient(store, 1);
  g.write('data/v', '12345678');
  throwsCode(() => g.write('data/v', '123456789'), 'ENOSPC');
  dom0.write('/local/domain/1/data/big', '123456789abcdef');
  g.setPerms('data/v', ['n1', 'r0']);
  throwsCode(() => g.setPerms('data/v', ['n1', 'r0', 'r2']), 'ENOSPC');
  g.watch('data', 'a');
  g.watch('data', 'b');
  throwsCode(() => g.watch('data', 'c'), 'ENOSPC');
  // Quotas count per domain, across its connections.
  const g2 = new XsClient(store, 1);
  throwsCode(() => g2.watch('data', 'd'), 'ENOSPC');
  g.transactionStart();
  g2.transactionStart();
  throwsCode(() => g.transactionStart(), 'ENOSPC');
  for (let i = 0; i < 5; i++) dom0.watch('/', `t${i}`);
});

test('WATCH twice with the same path and token is EEXIST; UNWATCH of an unknown watch is ENOENT', () => {
  const { dom0 } = setup();
  dom0.watch('/w', 'tok');
  throwsCode(() => dom0.watch('/w', 'tok'), 'EEXIST');
  dom0.watch('/w', 'tok2');
  dom0.unwatch('/w', 'tok');
  throwsCode(() => dom0.unwatch('/w', 'tok'), 'ENOENT');
  throwsCode(() => dom0.request(XsType.Watch, joinFields(['/w'])), 'EINVAL');
  throwsCode(() => dom0.watch('/w/', 'x'), 'EINVAL');
});

test('special permission names: GET_PERMS/SET_PERMS on @releaseDomain', () => {
  const { store, dom0 } = setup(1);
  const g = new XsClient(store, 1);
  assert.deepEqual(dom0.getPerms('@releaseDomain'), ['n0']);
  throwsCode(() => g.getPerms('@releaseDomain'), 'EACCES');
  throwsCode(() => g.setPerms('@releaseDomain', ['r1']), 'EACCES');
  dom0.setPerms('@releaseDomain', ['n0', 'r1']);
  assert.deepEqual(g.getPerms('@releaseDomain'), ['n0', 'r1']);
  throwsCode(() => dom0.read('@releaseDomain'), 'EINVAL');
});

test('UTF-8 values written by the host read back as text', () => {
  const { dom0 } = setup();
  dom0.write('/name', 'gäst ✓ 𝄞');
  assert.equal(dom0.readString('/name'), 'gäst ✓ 𝄞');
  assert.equal(utf8Decode(dom0.read('/name')), 'gäst ✓ 𝄞');
});

test('random requests from a guest never throw and keep the tree consistent (fixed seed)', () => {
  const { store, dom0 } = setup(1, 2);
  const g = raw(store, 1);
  let seed = 0x2545f491;
  const rnd = (n: number) => {
    seed ^= seed << 13;
    seed ^= seed >>> 17;
    seed ^= seed << 5;
    return (seed >>> 0) % n;
  };
  const words = ['data', 'a', 'b', '/local/domain/1/data', '/local/domain/2', '@releaseDomain', '', '/', 'T', 'F', 'r1', 'n0', '1', '0', 'x//y'];
  const txs: number[] = [0];
  for (let i = 0; i < 20000; i++) {
    const type = rnd(30);
    let payload: Uint8Array;
    if (rnd(4) === 0) {
      payload = Uint8Array.from({ length: rnd(40) }, () => rnd(256));
    } else {
      const f: string[] = [];
      for (let k = rnd(4); k >= 0; k--) f.push(words[rnd(words.length)] + (rnd(2) ? '/' + words[rnd(3)] : ''));
      payload = joinFields(f);
    }
    const tx = txs[rnd(txs.length)];
    const out = g.send(type, payload, rnd(8) === 0 ? rnd(5) : tx);
    assert.ok(out.length >= 1);
    if (type === XsType.TransactionStart && out[0].type === type) txs.push(Number(fields(out[0])[0]));
    if (i % 1000 === 0) dom0.write(`/local/domain/1/data/h${i}`, 'x');
  }
  assert.equal(store.check(), null);
});
