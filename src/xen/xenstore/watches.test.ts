import { test } from 'node:test';
import assert from 'node:assert/strict';
import { XenStore } from './engine.js';
import { XsClient } from './client.js';
import { XsType, type XsMsg } from './wire.js';
import { joinFields, splitFields } from './bytes.js';

function client(store: XenStore, domid: number) {
  const c = new XsClient(store, domid);
  const events: string[] = [];
  c.onWatchEvent = (p, t) => events.push(`${p} ${t}`);
  return { c, events, take: () => events.splice(0) };
}

function setup(...guests: number[]) {
  const store = new XenStore();
  const dom0 = client(store, 0);
  for (const d of guests) {
    dom0.c.mkdir(`/local/domain/${d}`);
    dom0.c.setPerms(`/local/domain/${d}`, ['n0', `r${d}`]);
    dom0.c.mkdir(`/local/domain/${d}/data`);
    dom0.c.setPerms(`/local/domain/${d}/data`, [`n${d}`]);
  }
  dom0.take();
  return { store, dom0 };
}

test('a new watch fires once at once with the path as given, after the OK reply', () => {
  const store = new XenStore();
  const out: XsMsg[] = [];
  const conn = store.connect(0, (m) => out.push(m));
  store.handle(conn, { type: XsType.Watch, reqId: 5, txId: 0, payload: joinFields(['/not/there', 'tok']) });
  assert.equal(out.length, 2);
  assert.equal(out[0].type, XsType.Watch);
  assert.equal(out[0].reqId, 5);
  assert.equal(out[1].type, XsType.WatchEvent);
  assert.equal(out[1].reqId, 0);
  assert.equal(out[1].txId, 0);
  assert.deepEqual(splitFields(out[1].payload), { fields: ['/not/there', 'tok'], rest: null });
});

test('a watch fires for changes at and below its path, with the changed path, and not elsewhere', () => {
  const { dom0 } = setup();
  dom0.c.watch('/a/b', 'T');
  dom0.take();
  dom0.c.write('/a/b', '1');
  dom0.c.write('/a/b/c/d', '2');
  dom0.c.mkdir('/a/b/e');
  dom0.c.setPerms('/a/b/e', ['n0', 'r1']);
  dom0.c.write('/a/x', '3');
  dom0.c.write('/a/bb', '3');
  dom0.c.mkdir('/a/b/e'); // exists: no change, no event
  assert.deepEqual(dom0.take(), ['/a/b T', '/a/b/c/d T', '/a/b/e T', '/a/b/e T']);
});

test('RM fires for the removed node, and watches below it fire with their own path', () => {
  const { dom0 } = setup();
  dom0.c.write('/r/s/t/u', 'x');
  dom0.c.watch('/r', 'top');
  dom0.c.watch('/r/s/t/u', 'deep');
  dom0.c.watch('/r/s/t/u/not-yet', 'deeper');
  dom0.c.watch('/other', 'no');
  dom0.take();
  dom0.c.rm('/r/s');
  assert.deepEqual(dom0.take().sort(), ['/r/s top', '/r/s/t/u deep', '/r/s/t/u/not-yet deeper']);
  dom0.c.rm('/r/s'); // already gone: no change
  assert.deepEqual(dom0.take(), []);
});

test('a watch on / sees everything; several matching watches each fire', () => {
  const { dom0 } = setup();
  dom0.c.watch('/', 'root');
  dom0.c.watch('/k', 'k1');
  dom0.c.watch('/k', 'k2');
  dom0.take();
  dom0.c.write('/k', 'v');
  assert.deepEqual(dom0.take().sort(), ['/k k1', '/k k2', '/k root']);
});

test('relative watches report relative paths', () => {
  const { store, dom0 } = setup(3);
  const g = client(store, 3);
  g.c.watch('data', 'rel');
  g.c.watch('/local/domain/3/data', 'abs');
  assert.deepEqual(g.take(), ['data rel', '/local/domain/3/data abs']);
  dom0.c.write('/local/domain/3/data/state', '1');
  assert.deepEqual(g.take(), ['data/state rel', '/local/domain/3/data/state abs']);
  g.c.unwatch('/local/domain/3/data', 'rel'); // unwatch matches the resolved path
  dom0.c.write('/local/domain/3/data/state', '2');
  assert.deepEqual(g.take(), ['/local/domain/3/data/state abs']);
});

test('events are only sent for nodes the watcher may read (old or new permissions)', () => {
  const { store, dom0 } = setup(1);
  const g = client(store, 1);
  g.c.watch('/pub', 't');
  g.take();
  dom0.c.write('/pub/hidden', 'x');
  assert.deepEqual(g.take(), []);
  dom0.c.setPerms('/pub/hidden', ['n0', 'r1']);
  assert.deepEqual(g.take(), ['/pub/hidden t'], 'now readable');
  dom0.c.setPerms('/pub/hidden', ['n0']);
  assert.deepEqual(g.take(), ['/pub/hidden t'], 'readable before the change');
  dom0.c.write('/pub/hidden', 'y');
  assert.deepEqual(g.take(), []);
});

test('@introduceDomain and @releaseDomain fire for dom0, and for guests only if permitted', () => {
  const { store, dom0 } = setup(1);
  const g = client(store, 1);
  dom0.c.watch('@introduceDomain', 'i');
  dom0.c.watch('@releaseDomain', 'r');
  g.c.watch('@releaseDomain', 'gr');
  assert.deepEqual(dom0.take(), ['@introduceDomain i', '@releaseDomain r']);
  assert.deepEqual(g.take(), ['@releaseDomain gr'], 'the initial event is always sent');
  dom0.c.request(XsType.Introduce, joinFields(['7', '0', '1']));
  assert.deepEqual(dom0.take(), ['@introduceDomain i']);
  dom0.c.request(XsType.Introduce, joinFields(['7', '0', '1']));
  assert.deepEqual(dom0.take(), [], 'a repeated INTRODUCE does not fire again');
  dom0.c.request(XsType.Release, joinFields(['7']));
  assert.deepEqual(dom0.take(), ['@releaseDomain r']);
  assert.deepEqual(g.take(), [], 'no read permission on @releaseDomain');
  dom0.c.setPerms('@releaseDomain', ['n0', 'r1']);
  store.introduce(8);
  store.domainShutdown(8);
  store.domainShutdown(8);
  assert.deepEqual(g.take(), ['@releaseDomain gr'], 'one event per shutdown until RESUME');
  dom0.c.request(XsType.Resume, joinFields(['8']));
  store.domainShutdown(8);
  assert.deepEqual(g.take(), ['@releaseDomain gr']);
  assert.deepEqual(dom0.take(), ['@introduceDomain i', '@releaseDomain r', '@releaseDomain r']);
});

test('special watches do not match node changes, and node watches do not match special events', () => {
  const { dom0 } = setup();
  dom0.c.watch('@introduceDomain', 'i');
  dom0.c.watch('/', 'all');
  dom0.take();
  dom0.c.write('/x', '1');
  assert.deepEqual(dom0.take(), ['/x all']);
});

test('RELEASE drops the released domain\'s watches and transactions', () => {
  const { store, dom0 } = setup(4);
  store.introduce(4);
  const g = client(store, 4);
  g.c.watch('data', 't');
  const tx = g.c.transactionStart();
  g.take();
  store.release(4);
  dom0.c.write('/local/domain/4/data/x', '1');
  assert.deepEqual(g.take(), []);
  assert.throws(() => g.c.read('data', tx));
});

test('a watch callback may issue requests while events are being delivered', () => {
  const { store, dom0 } = setup();
  const c = new XsClient(store, 0);
  const seen: string[] = [];
  c.onWatchEvent = (p) => {
    seen.push(`${p}=${c.readString(p)}`);
    if (p === '/chain/1') c.write('/chain/2', 'b');
  };
  c.watch('/chain', 'x');
  dom0.c.write('/chain/1', 'a');
  assert.deepEqual(seen, ['/chain=null', '/chain/1=a', '/chain/2=b']);
});
