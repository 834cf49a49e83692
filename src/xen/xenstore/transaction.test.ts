import { test } from 'node:test';
import assert from 'node:assert/strict';
import { XenStore } from './engine.js';
import { XsClient } from './client.js';
import { XsError, XsType, type XsMsg } from './wire.js';
import { joinFields, splitFields } from './bytes.js';

function two() {
  const store = new XenStore();
  const a = new XsClient(store, 0);
  const b = new XsClient(store, 0);
  return { store, a, b };
}

function throwsCode(f: () => unknown, code: string): void {
  assert.throws(f, (e: unknown) => e instanceof XsError && e.code === code);
}

test('TRANSACTION_START answers a non-zero decimal id; the id in the header selects the transaction', () => {
  const store = new XenStore();
  const out: XsMsg[] = [];
  const conn = store.connect(0, (m) => out.push(m));
  store.handle(conn, { type: XsType.TransactionStart, reqId: 1, txId: 0, payload: joinFields(['']) });
  const id = Number(splitFields(out[0].payload).fields[0]);
  assert.ok(id > 0);
  store.handle(conn, { type: XsType.Write, reqId: 2, txId: id, payload: joinFields(['/t', 'v']) });
  assert.equal(out[1].txId, id, 'replies echo tx_id');
  store.handle(conn, { type: XsType.TransactionStart, reqId: 3, txId: id, payload: joinFields(['']) });
  assert.deepEqual(splitFields(out[2].payload).fields, ['EBUSY'], 'a transaction cannot be started inside one');
});

test('writes inside a transaction are private until commit, then visible at once', () => {
  const { a, b } = two();
  a.write('/x', 'old');
  const t = a.transactionStart();
  a.write('/x', 'new', t);
  a.write('/y/z', 'created', t);
  assert.equal(a.readString('/x', t), 'new');
  assert.equal(a.readString('/x'), 'old');
  assert.equal(b.readString('/y/z'), null);
  assert.deepEqual(a.directory('/', t).sort(), ['x', 'y']);
  assert.equal(a.transactionEnd(t), true);
  assert.equal(b.readString('/x'), 'new');
  assert.equal(b.readString('/y/z'), 'created');
});

test('abort ("F") discards; the id is gone afterwards (ENOENT)', () => {
  const { a } = two();
  const t = a.transactionStart();
  a.write('/gone', 'x', t);
  assert.equal(a.transactionEnd(t, false), true);
  assert.equal(a.readString('/gone'), null);
  throwsCode(() => a.read('/', t), 'ENOENT');
  throwsCode(() => a.transactionEnd(t), 'ENOENT');
  throwsCode(() => a.request(XsType.TransactionEnd, joinFields(['T'])), 'ENOENT');
  const t2 = a.transactionStart();
  throwsCode(() => a.request(XsType.TransactionEnd, joinFields(['X']), t2), 'EINVAL');
});

test('a transaction id belongs to its connection', () => {
  const { a, b } = two();
  const t = a.transactionStart();
  throwsCode(() => b.read('/', t), 'ENOENT');
});

test('conflict: a node read in the transaction and changed by another connection -> EAGAIN', () => {
  const { a, b } = two();
  a.write('/c', '1');
  const t = a.transactionStart();
  assert.equal(a.readString('/c', t), '1');
  a.write('/d', '2', t);
  b.write('/c', 'changed');
  assert.equal(a.transactionEnd(t), false);
  assert.equal(a.readString('/d'), null, 'nothing from the failed transaction is applied');
});

test('conflict: both transactions write the same node; the second commit fails', () => {
  const { a, b } = two();
  const ta = a.transactionStart();
  const tb = b.transactionStart();
  a.write('/same', 'a', ta);
  b.write('/same', 'b', tb);
  assert.equal(a.transactionEnd(ta), true);
  assert.equal(b.transactionEnd(tb), false);
  assert.equal(a.readString('/same'), 'a');
});

test('conflict: a node seen absent was created meanwhile; a listed directory gained a child', () => {
  const { a, b } = two();
  a.mkdir('/dir');
  const t1 = a.transactionStart();
  assert.equal(a.readString('/dir/k', t1), null);
  b.write('/dir/k', 'v');
  assert.equal(a.transactionEnd(t1), false);
  const t2 = a.transactionStart();
  a.directory('/dir', t2);
  b.mkdir('/dir/k2');
  assert.equal(a.transactionEnd(t2), false);
});

test('conflict: a subtree removed in the transaction got a new node meanwhile', () => {
  const { a, b } = two();
  a.write('/tree/a/b', '1');
  const t = a.transactionStart();
  a.rm('/tree/a', t);
  b.write('/tree/a/b/c', 'new');
  assert.equal(a.transactionEnd(t), false);
  assert.equal(a.readString('/tree/a/b/c'), 'new');
});

test('conflict: a node deleted and recreated with the same value still conflicts', () => {
  const { a, b } = two();
  a.write('/aba', 'v');
  const t = a.transactionStart();
  a.readString('/aba', t);
  b.rm('/aba');
  b.write('/aba', 'v');
  assert.equal(a.transactionEnd(t), false);
});

test('no conflict: changes elsewhere do not fail a transaction that never looked there', () => {
  const { a, b } = two();
  a.write('/mine/x', '1');
  a.write('/theirs/y', '1');
  const t = a.transactionStart();
  assert.equal(a.readString('/mine/x', t), '1');
  a.write('/mine/x', '2', t);
  a.write('/mine/new', '3', t);
  b.write('/theirs/y', '2');
  b.write('/theirs/z', '2');
  b.write('/elsewhere', '9');
  assert.equal(a.transactionEnd(t), true);
  assert.equal(b.readString('/mine/x'), '2');
  assert.equal(b.readString('/mine/new'), '3');
  assert.equal(b.readString('/theirs/z'), '2');
});

test('no conflict: two transactions on disjoint subtrees both commit', () => {
  const { store, a, b } = two();
  a.mkdir('/dev/vbd');
  a.mkdir('/dev/vif');
  const ta = a.transactionStart();
  const tb = b.transactionStart();
  a.write('/dev/vbd/state', '4', ta);
  b.write('/dev/vif/state', '4', tb);
  assert.equal(a.transactionEnd(ta), true);
  assert.equal(b.transactionEnd(tb), true);
  assert.equal(a.readString('/dev/vif/state'), '4');
  assert.equal(store.check(), null);
});

test('watches fire at commit only, for each change made in the transaction', () => {
  const { a, b } = two();
  const events: string[] = [];
  b.onWatchEvent = (p) => events.push(p);
  b.watch('/w', 'tok');
  events.length = 0;
  const t = a.transactionStart();
  a.write('/w/one', '1', t);
  a.rm('/w/one', t);
  a.write('/w/two', '2', t);
  assert.deepEqual(events, []);
  a.transactionEnd(t);
  assert.deepEqual(events, ['/w/one', '/w/one', '/w/two']);
  events.length = 0;
  const t2 = a.transactionStart();
  a.write('/w/three', '3', t2);
  a.transactionEnd(t2, false);
  assert.deepEqual(events, [], 'an aborted transaction fires nothing');
});

test('the node quota is rechecked at commit against what others created meanwhile', () => {
  const store = new XenStore({ quota: { nodes: 4 } });
  const dom0 = new XsClient(store, 0);
  dom0.mkdir('/local/domain/1/data');
  dom0.setPerms('/local/domain/1/data', ['n1']);
  dom0.mkdir('/local/domain/1/other');
  dom0.setPerms('/local/domain/1/other', ['n1']);
  const g = new XsClient(store, 1);
  const g2 = new XsClient(store, 1);
  const t = g.transactionStart();
  g.mkdir('data/t1', t);
  g.mkdir('data/t2', t);
  g2.mkdir('other/o1'); // data + other + o1 = 3, the transaction adds 2 -> 5 > 4, no node conflict
  throwsCode(() => g.transactionEnd(t), 'ENOSPC');
  assert.equal(store.check(), null);
});

test('a transaction sees the permissions of the live tree and enforces them', () => {
  const store = new XenStore();
  const dom0 = new XsClient(store, 0);
  dom0.write('/private', 'x');
  const g = new XsClient(store, 2);
  const t = g.transactionStart();
  throwsCode(() => g.read('/private', t), 'EACCES');
  throwsCode(() => g.write('/private/y', 'v', t), 'EACCES');
  assert.equal(g.transactionEnd(t), true);
});
