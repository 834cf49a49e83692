import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EventChannels, PortState, XEN_EINVAL, XEN_EEXIST, XEN_ENOENT, DOMID_SELF, type EventChannelDirectory } from './event-channels.js';
import { LAYOUT_32, SharedBits } from './shared-info.js';

function domain(domid: number, dir: Map<number, EventChannels>, nrVcpus = 2) {
  const shinfo = new Uint8Array(4096);
  const kicks: number[] = [];
  const directory: EventChannelDirectory = { lookup: (d) => dir.get(d) ?? null };
  const ec = new EventChannels(
    domid,
    new SharedBits(LAYOUT_32, shinfo),
    { vcpuInfo: (v) => (v < nrVcpus ? { page: shinfo, offset: v * 64 } : null), kick: (v) => kicks.push(v) },
    directory,
    nrVcpus,
  );
  dir.set(domid, ec);
  const pending = (p: number) => (shinfo[2048 + (p >> 3)] >> (p & 7)) & 1;
  const mask = (p: number) => (shinfo[2176 + (p >> 3)] |= 1 << (p & 7));
  const upcall = (v: number) => shinfo[v * 64];
  const sel = (v: number) => shinfo[v * 64 + 4] | (shinfo[v * 64 + 5] << 8) | (shinfo[v * 64 + 6] << 16) | (shinfo[v * 64 + 7] << 24);
  return { ec, shinfo, kicks, pending, mask, upcall, sel };
}

test('ports are allocated lowest-first from 1 and port 0 is never used', () => {
  const dir = new Map<number, EventChannels>();
  const d = domain(1, dir);
  assert.equal(d.ec.allocUnbound(DOMID_SELF, 0), 1);
  assert.equal(d.ec.bindIpi(0), 2);
  assert.equal(d.ec.close(1), 0);
  assert.equal(d.ec.bindIpi(1), 1);
  assert.equal(d.ec.close(0), -XEN_EINVAL);
});

test('an interdomain send sets the peer pending bit, its selector and upcall, and kicks its vCPU once', () => {
  const dir = new Map<number, EventChannels>();
  const a = domain(1, dir), b = domain(2, dir);
  const pa = a.ec.allocUnbound(DOMID_SELF, 2);
  const pb = b.ec.bindInterdomain(1, pa);
  assert.ok(pb > 0);
  assert.equal(a.ec.status(pa)!.state, PortState.Interdomain);
  assert.equal(b.pending(pb), 1, 'bind_interdomain marks the new local port pending');
  assert.equal(b.ec.send(pb), 0);
  assert.equal(a.pending(pa), 1);
  assert.equal(a.upcall(0), 1);
  assert.equal(a.sel(0) & 1, 1);
  assert.deepEqual(a.kicks, [0]);
  a.ec.send(pa);
  assert.equal(b.ec.send(pb), 0);
  assert.deepEqual(a.kicks, [0], 'an already pending port does not kick again');
});

test('bind_interdomain refuses a port that is not unbound to us', () => {
  const dir = new Map<number, EventChannels>();
  const a = domain(1, dir), b = domain(2, dir), c = domain(3, dir);
  const pa = a.ec.allocUnbound(DOMID_SELF, 2);
  assert.equal(c.ec.bindInterdomain(1, pa), -XEN_EINVAL);
  assert.equal(b.ec.bindInterdomain(1, 999), -XEN_EINVAL);
  assert.equal(b.ec.bindInterdomain(1, -5), -XEN_EINVAL);
  assert.equal(b.ec.bindInterdomain(77, pa) < 0, true);
});

test('a masked port stays silent until unmask re-raises it', () => {
  const dir = new Map<number, EventChannels>();
  const d = domain(1, dir);
  const p = d.ec.bindIpi(1);
  d.mask(p);
  d.ec.send(p);
  assert.equal(d.pending(p), 1);
  assert.equal(d.upcall(1), 0);
  assert.deepEqual(d.kicks, []);
  assert.equal(d.ec.unmask(p), 0);
  assert.equal(d.upcall(1), 1);
  assert.deepEqual(d.kicks, [1]);
});

test('send on an unbound port succeeds silently; on a closed port it is -EINVAL', () => {
  const dir = new Map<number, EventChannels>();
  const d = domain(1, dir);
  const p = d.ec.allocUnbound(DOMID_SELF, 0);
  assert.equal(d.ec.send(p), 0);
  assert.equal(d.pending(p), 0);
  d.ec.close(p);
  assert.equal(d.ec.send(p), -XEN_EINVAL);
  assert.equal(d.ec.send(4096 * 16), -XEN_EINVAL);
});

test('per-vCPU VIRQs bind once per vCPU; global VIRQs only on vCPU 0', () => {
  const dir = new Map<number, EventChannels>();
  const d = domain(1, dir);
  const t0 = d.ec.bindVirq(0, 0);
  const t1 = d.ec.bindVirq(0, 1);
  assert.ok(t0 > 0 && t1 > 0 && t0 !== t1);
  assert.equal(d.ec.bindVirq(0, 0), -XEN_EEXIST);
  assert.equal(d.ec.bindVirq(3, 1), -XEN_EINVAL);
  assert.equal(d.ec.bindVirq(24, 0), -XEN_EINVAL);
  assert.equal(d.ec.bindVirq(0, 9), -XEN_ENOENT);
  d.ec.raiseVirq(0, 1);
  assert.equal(d.pending(t1), 1);
  assert.equal(d.pending(t0), 0);
});

test('closing one end of an interdomain channel leaves the other unbound', () => {
  const dir = new Map<number, EventChannels>();
  const a = domain(1, dir), b = domain(2, dir);
  const pa = a.ec.allocUnbound(DOMID_SELF, 2);
  const pb = b.ec.bindInterdomain(1, pa);
  assert.equal(b.ec.close(pb), 0);
  assert.equal(a.ec.status(pa)!.state, PortState.Unbound);
  assert.equal(a.ec.send(pa), 0);
});

test('an attached backend port calls its consumer on send', () => {
  const dir = new Map<number, EventChannels>();
  const d = domain(1, dir);
  let n = 0;
  const p = d.ec.allocUnbound(DOMID_SELF, 0);
  assert.equal(d.ec.connectBackend(p, 0, () => n++), 0);
  d.ec.send(p);
  d.ec.send(p);
  assert.equal(n, 2);
  assert.equal(d.ec.connectBackend(p, 0, () => n++), -XEN_EINVAL, 'a port is connected only once');
  d.ec.setPending(p);
  assert.equal(d.pending(p), 1, 'the backend notifies the guest through the same port');
});

test('event channel table survives save and restore', () => {
  const dir = new Map<number, EventChannels>();
  const a = domain(1, dir);
  a.ec.bindVirq(0, 0);
  a.ec.bindIpi(1);
  const s = JSON.parse(JSON.stringify(a.ec.save()));
  const dir2 = new Map<number, EventChannels>();
  const b = domain(1, dir2);
  b.ec.restore(s);
  assert.deepEqual(b.ec.save(), s);
  assert.equal(b.ec.bindVirq(0, 0), -XEN_EEXIST, 'VIRQ bindings are rebuilt');
});

test('a backend notifies only through a port it still holds, and letting go leaves it unbound', () => {
  const dir = new Map<number, EventChannels>();
  const d = domain(1, dir);
  const mine = () => {};
  const other = () => {};
  const p = d.ec.allocUnbound(DOMID_SELF, 0);
  assert.equal(d.ec.connectBackend(p, 0, mine), 0);
  assert.equal(d.ec.notifyFromBackend(p, other), false, 'another consumer cannot use the port');
  assert.equal(d.pending(p), 0);
  assert.equal(d.ec.notifyFromBackend(p, mine), true);
  assert.equal(d.pending(p), 1);
  assert.equal(d.ec.disconnectBackend(p, other), -XEN_EINVAL);
  assert.equal(d.ec.disconnectBackend(p, mine), 0);
  assert.deepEqual([d.ec.status(p)!.state, d.ec.status(p)!.remoteDom], [PortState.Unbound, 0], 'unbound to the backend again');
  assert.equal(d.ec.notifyFromBackend(p, mine), false);
  assert.equal(d.ec.disconnectBackend(p, mine), -XEN_EINVAL, 'only once');
  assert.equal(d.ec.connectBackend(p, 0, other), 0, 'a new backend may connect to it');
});

test('a port the guest closed and re-allocated is not touched by its old backend', () => {
  const dir = new Map<number, EventChannels>();
  const d = domain(1, dir);
  const old = () => {};
  const p = d.ec.allocUnbound(DOMID_SELF, 0);
  d.ec.connectBackend(p, 0, old);
  assert.equal(d.ec.close(p), 0);
  assert.equal(d.ec.bindIpi(0), p, 'the guest re-used the number');
  assert.equal(d.ec.notifyFromBackend(p, old), false);
  assert.equal(d.pending(p), 0);
  assert.equal(d.ec.disconnectBackend(p, old), -XEN_EINVAL);
  assert.equal(d.ec.status(p)!.state, PortState.Ipi);
  assert.equal(d.ec.notifyFromBackend(-1, old) || d.ec.notifyFromBackend(1e9, old), false);
});
