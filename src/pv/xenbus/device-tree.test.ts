import { test } from 'node:test';
import assert from 'node:assert/strict';
import { XenStore } from '../../xen/xenstore/engine.js';
import { XsClient } from '../../xen/xenstore/client.js';
import { XsError } from '../../xen/xenstore/wire.js';
import { parseVdev } from './vdev.js';
import { removeDomainTree, writeDomainTree } from './device-tree.js';

test('virtual-device numbers follow xen-vbd-interface.7', () => {
  const n = (s: string) => parseVdev(s)?.number ?? null;
  assert.equal(n('xvda'), 51712);
  assert.equal(n('xvdb'), 51728);
  assert.equal(n('xvda1'), 51713);
  assert.equal(n('xvdp15'), (202 << 8) | (15 << 4) | 15);
  assert.equal(n('xvdq'), (1 << 28) | (16 << 8));
  assert.equal(n('xvda16'), (1 << 28) | 16, 'partitions above 15 need the extended form');
  assert.equal(n('xvdaa'), (1 << 28) | (26 << 8));
  assert.equal(n('sda'), 2048);
  assert.equal(n('sdb3'), (8 << 8) | (1 << 4) | 3);
  assert.equal(n('hda'), 768);
  assert.equal(n('hdb'), 768 + 64);
  assert.equal(n('hdc'), 22 << 8);
  assert.equal(n('d0p1'), 51713);
  assert.equal(n('d16'), (1 << 28) | (16 << 8));
  for (const bad of ['', 'xvd', 'xvda0', 'xvda01', 'hde', 'hda64', 'vda', 'xvdA', 'xvda 1', '51712', 'd0p256']) {
    assert.equal(parseVdev(bad), null, bad);
  }
});

function tree() {
  const store = new XenStore();
  const xs = new XsClient(store, 0);
  const t = writeDomainTree(xs, {
    domid: 3, name: 'vm3', memKiB: 65536, vcpus: 2, xenstore: { port: 1, gfn: 0xfeffc }, console: { port: 2, gfn: 0xfefff },
    disks: [{ vdev: 'xvda', sectors: 2048 }, { vdev: 'xvdb', readOnly: true, devtype: 'cdrom', params: '/img/cd.iso' }],
    vifs: [{ mac: '00:16:3E:12:34:56', devid: 0 }],
  });
  return { store, xs, t, guest: new XsClient(store, 3), other: new XsClient(store, 4) };
}

test('the domain tree has libxl\'s layout and permissions', () => {
  const { xs, t } = tree();
  const r = (p: string) => xs.readString(p);
  assert.equal(t.home, '/local/domain/3');
  assert.equal(r('/local/domain/3/name'), 'vm3');
  assert.equal(r('/local/domain/3/domid'), '3');
  assert.equal(r('/local/domain/3/vm'), t.vm);
  assert.equal(r(`${t.vm}/name`), 'vm3');
  assert.equal(r('/local/domain/3/memory/target'), '65536');
  assert.equal(r('/local/domain/3/cpu/1/availability'), 'online');
  assert.equal(r('/local/domain/3/store/ring-ref'), String(0xfeffc));
  assert.equal(r('/local/domain/3/console/port'), '2');
  assert.equal(r('/local/domain/3/console/limit'), '1048576');
  assert.equal(r('/local/domain/0/name'), 'Domain-0');
  assert.deepEqual(xs.getPerms('/local/domain/3'), ['n0', 'r3']);
  assert.deepEqual(xs.getPerms('/local/domain/3/control/shutdown'), ['n3']);
  assert.deepEqual(xs.getPerms('/local/domain/3/console/ring-ref'), ['n0', 'r3']);

  const [xvda, xvdb] = t.disks;
  assert.equal(xvda.frontend, '/local/domain/3/device/vbd/51712');
  assert.equal(xvda.backend, '/local/domain/0/backend/vbd/3/51712');
  assert.deepEqual(xs.getPerms(xvda.frontend), ['n3', 'r0']);
  assert.deepEqual(xs.getPerms(`${xvda.frontend}/state`), ['n3', 'r0']);
  assert.deepEqual(xs.getPerms(xvda.backend), ['n0', 'r3']);
  assert.deepEqual(xs.getPerms(`${xvda.backend}/params`), ['n0', 'r3']);
  const fe = Object.fromEntries(xs.directory(xvda.frontend).map((k) => [k, r(`${xvda.frontend}/${k}`)]));
  assert.deepEqual(fe, { backend: xvda.backend, 'backend-id': '0', state: '1', 'virtual-device': '51712', 'device-type': 'disk', trusted: '1' });
  const be = Object.fromEntries(xs.directory(xvda.backend).map((k) => [k, r(`${xvda.backend}/${k}`)]));
  assert.deepEqual(be, {
    frontend: xvda.frontend, 'frontend-id': '3', online: '1', removable: '0', bootable: '1', state: '1', dev: 'xvda', type: 'phy',
    mode: 'w', 'device-type': 'disk', 'discard-enable': '0', params: 'xvda',
  });
  assert.equal(r(`${xvdb.backend}/mode`), 'r');
  assert.equal(r(`${xvdb.backend}/removable`), '1');
  assert.equal(r(`${xvdb.frontend}/device-type`), 'cdrom');
  assert.equal(r(`${xvdb.backend}/params`), '/img/cd.iso');

  const [vif] = t.vifs;
  assert.equal(vif.frontend, '/local/domain/3/device/vif/0');
  assert.equal(r(`${vif.frontend}/mac`), '00:16:3e:12:34:56');
  assert.equal(r(`${vif.frontend}/handle`), '0');
  assert.deepEqual(xs.getPerms(`${vif.frontend}/mtu`), ['n0', 'r3']);
  assert.equal(r(`${vif.backend}/bridge`), 'xenbr0');
  assert.equal(r(`${vif.backend}/type`), 'vif');
});

test('the guest writes its frontend dirs, only reads its backend dirs, and other guests see neither', () => {
  const { t, guest, other } = tree();
  const [xvda] = t.disks;
  guest.write(`${xvda.frontend}/ring-ref`, '8');
  guest.write('device/vbd/51712/state', '3');
  assert.equal(guest.readString(`${xvda.backend}/frontend`), xvda.frontend);
  assert.throws(() => guest.write(`${xvda.backend}/state`, '4'), (e: unknown) => e instanceof XsError && e.code === 'EACCES');
  assert.throws(() => guest.write('device/vbd/99/state', '1'), (e: unknown) => e instanceof XsError && e.code === 'EACCES', 'no new devices');
  assert.throws(() => guest.write('console/ring-ref', '5'), (e: unknown) => e instanceof XsError && e.code === 'EACCES');
  guest.write('control/shutdown', '');
  assert.deepEqual(guest.directory('device/vbd'), ['51712', '51728']);
  assert.throws(() => other.readString(`${xvda.frontend}/state`), (e: unknown) => e instanceof XsError && e.code === 'EACCES');
  assert.throws(() => other.readString(`${xvda.backend}/state`), (e: unknown) => e instanceof XsError && e.code === 'EACCES');
});

test('bad descriptions are refused before anything is written; removal leaves nothing behind', () => {
  const store = new XenStore();
  const xs = new XsClient(store, 0);
  assert.throws(() => writeDomainTree(xs, { domid: 1, name: 'x', disks: [{ vdev: 'vda' }] }), /bad virtual disk name/);
  assert.throws(() => writeDomainTree(xs, { domid: 1, name: 'x', vifs: [{ mac: '00:16:3e:00:00', devid: 0 }] }), /bad MAC/);
  assert.throws(() => writeDomainTree(xs, { domid: 1, name: 'x', vifs: [{ mac: '01:16:3e:00:00:00', devid: 0 }] }), /multicast/);
  assert.throws(() => writeDomainTree(xs, { domid: 1, name: 'x', disks: [{ vdev: 'xvda' }, { vdev: 'd0' }] }), /duplicate/);
  assert.throws(() => writeDomainTree(xs, { domid: 0, name: 'x' }), /bad domid/);
  assert.equal(xs.readString('/local/domain/1'), null);
  const t = writeDomainTree(xs, { domid: 1, name: 'x', disks: [{ vdev: 'xvda' }], vifs: [{ mac: '00:16:3e:00:00:01', devid: 0 }] });
  removeDomainTree(xs, t);
  assert.equal(xs.readString('/local/domain/1'), null);
  assert.equal(xs.readString(t.vm), null);
  assert.deepEqual(xs.directory('/local/domain/0/backend/vbd'), []);
  assert.equal(store.check(), null);
});
