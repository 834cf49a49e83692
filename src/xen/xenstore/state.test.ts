import { test } from 'node:test';
import assert from 'node:assert/strict';
import { XenStore } from './engine.js';
import { XsClient } from './client.js';
import { XsType } from './wire.js';
import { joinFields } from './bytes.js';

/** A store with a bit of everything: values, permissions, watches, an open transaction, domains. */
function populated() {
  const store = new XenStore({ quota: { nodes: 50 } });
  const dom0 = new XsClient(store, 0);
  const g = new XsClient(store, 3);
  dom0.mkdir('/local/domain/3');
  dom0.setPerms('/local/domain/3', ['n0', 'r3']);
  dom0.mkdir('/local/domain/3/data');
  dom0.setPerms('/local/domain/3/data', ['n3']);
  dom0.write('/bin', Uint8Array.of(0, 1, 2, 255));
  dom0.setPerms('@releaseDomain', ['n0', 'r3']);
  store.introduce(3);
  dom0.request(XsType.SetTarget, joinFields(['4', '3']));
  g.watch('data', 'rel-token');
  dom0.watch('@introduceDomain', 'intro');
  g.write('data/kept', 'k');
  const tx = g.transactionStart();
  g.write('data/in-tx', 'pending', tx);
  g.rm('data/kept', tx);
  return { store, dom0, g, tx };
}

test('save/restore round-trips the tree, permissions, domains, watches and open transactions', () => {
  const { store, tx } = populated();
  const saved = JSON.parse(JSON.stringify(store.save()));

  const copy = new XenStore();
  copy.restore(saved);
  assert.deepEqual(JSON.parse(JSON.stringify(copy.save())), saved, 'restored state saves identically');
  assert.equal(copy.check(), null);
  assert.equal(copy.isIntroduced(3), true);

  // Reconnecting with the saved keys takes the watches and the transaction back.
  const dom0 = new XsClient(copy, 0);
  const g = new XsClient(copy, 3);
  const events: string[] = [];
  g.onWatchEvent = (p, t) => events.push(`${p} ${t}`);
  assert.deepEqual(Array.from(dom0.read('/bin')), [0, 1, 2, 255]);
  assert.deepEqual(dom0.getPerms('/local/domain/3/data/kept'), ['n3']);
  assert.equal(g.readString('data/in-tx', tx), 'pending');
  assert.equal(g.readString('data/kept', tx), null);
  assert.equal(g.readString('data/kept'), 'k');
  assert.equal(g.transactionEnd(tx), true);
  assert.deepEqual(events, ['data/in-tx rel-token', 'data/kept rel-token']);
  assert.equal(g.readString('data/in-tx'), 'pending');
  assert.deepEqual(g.getPerms('@releaseDomain'), ['n0', 'r3']);
  assert.equal(copy.quota.nodes, 50);
});

test('a restored transaction still detects conflicts with changes made after the restore', () => {
  const { store, tx } = populated();
  const copy = new XenStore();
  copy.restore(JSON.parse(JSON.stringify(store.save())));
  const dom0 = new XsClient(copy, 0);
  const g = new XsClient(copy, 3);
  dom0.write('/local/domain/3/data/kept', 'changed');
  assert.equal(g.transactionEnd(tx), false);
});

test('restore resets live connections that are not in the saved state, and new transaction ids do not collide', () => {
  const { store, tx } = populated();
  const saved = store.save();
  const other = new XenStore();
  const stranger = new XsClient(other, 9, 'not-saved');
  stranger.watch('/x', 't');
  other.restore(saved);
  const events: string[] = [];
  stranger.onWatchEvent = (p) => events.push(p);
  new XsClient(other, 0).write('/x', '1');
  assert.deepEqual(events, []);
  const g = new XsClient(other, 3);
  assert.notEqual(g.transactionStart(), tx);
});

test('restore refuses an unknown version', () => {
  const store = new XenStore();
  const s = store.save();
  assert.throws(() => store.restore({ ...s, version: 99 }));
});
