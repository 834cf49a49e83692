import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rd32 } from './addr.js';
import { HostEndpoint } from './endpoint.js';
import {
  BCAST, bytes32, CLIENT_MAC, CLIENT2_MAC, dhcpFrame, dhcpMessage, discover, HOST_IP, HOST_MAC, ip4, readDhcpReply,
  requestRenewing, requestSelecting,
} from './testing/frames.js';

function setup(opts = {}) {
  let now = 1_000_000;
  const out: Uint8Array[] = [];
  const ep = new HostEndpoint({ now: () => now, ...opts }, (f) => out.push(f));
  const send = (f: Uint8Array) => {
    const before = out.length;
    assert.equal(ep.deliver(f), true);
    return out.slice(before).map(readDhcpReply);
  };
  return { ep, out, send, advance: (s: number) => { now += s * 1000; } };
}

const u32 = (b: Uint8Array | undefined) => (b === undefined ? undefined : rd32(b, 0));
const type = (r: { options: Map<number, Uint8Array> }) => r.options.get(53)?.[0];

/** DISCOVER -> OFFER -> REQUEST -> ACK as udhcpc does it; returns the leased address. */
function lease(s: ReturnType<typeof setup>, mac: Uint8Array, xid: number): number {
  const [offer] = s.send(discover(mac, xid));
  assert.equal(type(offer), 2);
  const [ack] = s.send(requestSelecting(mac, xid, offer.yiaddr, u32(offer.options.get(54))!));
  assert.equal(type(ack), 5);
  assert.equal(ack.yiaddr, offer.yiaddr);
  return ack.yiaddr;
}

test('udhcpc exchange: DISCOVER -> OFFER, REQUEST -> ACK with mask, router, lease time and server id', () => {
  const s = setup();
  const offers = s.send(discover(CLIENT_MAC, 0x1badb002));
  assert.equal(offers.length, 1);
  const o = offers[0];
  assert.equal(type(o), 2, 'DHCPOFFER');
  assert.equal(o.xid, 0x1badb002);
  assert.deepEqual(o.chaddr, CLIENT_MAC);
  assert.equal(o.yiaddr, ip4(10, 0, 2, 15), 'the first pool address');
  assert.equal(o.ciaddr, 0);
  // No broadcast flag: unicast to the offered address at the client's MAC, from 10.0.2.2:67 to :68.
  assert.deepEqual(o.ethDst, CLIENT_MAC);
  assert.equal(o.ipDst, ip4(10, 0, 2, 15));
  assert.equal(o.ipSrc, HOST_IP);
  assert.equal(o.sport, 67);
  assert.equal(o.dport, 68);
  assert.ok(o.ipChecksumOk && o.udpChecksumOk, 'udhcpc verifies both checksums');
  assert.ok(o.dhcpLength >= 300, 'at least the BOOTP minimum');
  assert.equal(u32(o.options.get(54)), HOST_IP, 'server id');
  assert.equal(u32(o.options.get(1)), 0xffffff00, 'subnet mask');
  assert.equal(u32(o.options.get(3)), HOST_IP, 'router');
  assert.equal(u32(o.options.get(28)), ip4(10, 0, 2, 255), 'broadcast');
  assert.equal(u32(o.options.get(51)), 86400, 'lease time');
  assert.equal(u32(o.options.get(58)), 43200);
  assert.equal(u32(o.options.get(59)), 75600);
  assert.equal(s.ep.dhcp!.pool.find('id:01' + '00163e000001')?.state, 'offered');

  const [a] = s.send(requestSelecting(CLIENT_MAC, 0x1badb002, o.yiaddr, HOST_IP));
  assert.equal(type(a), 5, 'DHCPACK');
  assert.equal(a.yiaddr, o.yiaddr);
  assert.deepEqual(a.ethDst, CLIENT_MAC);
  assert.ok(a.ipChecksumOk && a.udpChecksumOk);
  assert.equal(u32(a.options.get(51)), 86400);
  assert.equal(u32(a.options.get(1)), 0xffffff00);
  assert.equal(u32(a.options.get(3)), HOST_IP);
  const l = s.ep.dhcp!.pool.leases();
  assert.equal(l.length, 1);
  assert.equal(l[0].state, 'bound');
  assert.equal(l[0].ip, o.yiaddr);
  const c = s.ep.counters;
  assert.deepEqual([c.dhcpIn, c.dhcpOffers, c.dhcpAcks, c.dhcpNaks, c.dropped], [2, 1, 1, 0, 0]);
});

test('the broadcast flag makes replies broadcast', () => {
  const s = setup();
  const m = dhcpMessage({ xid: 5, mac: CLIENT_MAC, flags: 0x8000 }, [[53, [1]]]);
  const [o] = s.send(dhcpFrame(CLIENT_MAC, BCAST, 0, 0xffffffff, m));
  assert.deepEqual(o.ethDst, BCAST);
  assert.equal(o.ipDst, 0xffffffff);
  assert.equal(o.flags, 0x8000);
  assert.ok(o.udpChecksumOk);
});

test('renewal (unicast, ciaddr set) extends the lease and is answered unicast to ciaddr; rebinding too', () => {
  const s = setup({ dhcp: { leaseSeconds: 600 } });
  const ip = lease(s, CLIENT_MAC, 1);
  const l0 = s.ep.dhcp!.pool.leases()[0].expires;
  s.advance(300); // T1
  const [a] = s.send(requestRenewing(CLIENT_MAC, 2, ip));
  assert.equal(type(a), 5);
  assert.equal(a.yiaddr, ip);
  assert.equal(a.ciaddr, ip);
  assert.equal(a.ipDst, ip);
  assert.deepEqual(a.ethDst, CLIENT_MAC);
  assert.equal(u32(a.options.get(51)), 600);
  assert.equal(s.ep.dhcp!.pool.leases()[0].expires, l0 + 300_000);
  // Rebinding: the same but broadcast; the server answers unicast to ciaddr.
  s.advance(300);
  const [b] = s.send(requestRenewing(CLIENT_MAC, 3, ip, BCAST, 0xffffffff));
  assert.equal(type(b), 5);
  assert.equal(b.ipDst, ip);
  assert.equal(s.ep.counters.dhcpAcks, 3);
});

test('two clients get different addresses, and each gets its own again on a new DISCOVER', () => {
  const s = setup();
  const a = lease(s, CLIENT_MAC, 10);
  const b = lease(s, CLIENT2_MAC, 20);
  assert.equal(a, ip4(10, 0, 2, 15));
  assert.equal(b, ip4(10, 0, 2, 16));
  assert.equal(lease(s, CLIENT_MAC, 11), a);
  assert.equal(lease(s, CLIENT2_MAC, 21), b);
  assert.equal(s.ep.dhcp!.pool.size, 2);
});

test('a client without a client identifier is known by its MAC', () => {
  const s = setup();
  const m = dhcpMessage({ xid: 1, mac: CLIENT_MAC }, [[53, [1]]]);
  const [o] = s.send(dhcpFrame(CLIENT_MAC, BCAST, 0, 0xffffffff, m));
  assert.equal(o.yiaddr, ip4(10, 0, 2, 15));
  assert.ok(s.ep.dhcp!.pool.find('hw:00:16:3e:00:00:01'));
});

test('REQUEST for an address not ours, or another client\'s, is NAKed (broadcast); a free one is granted', () => {
  const s = setup();
  const a = lease(s, CLIENT_MAC, 1);
  // INIT-REBOOT (requested address, no server id) for another client's address.
  const reboot = (mac: Uint8Array, ip: number) =>
    dhcpFrame(mac, BCAST, 0, 0xffffffff, dhcpMessage({ xid: 7, mac }, [[53, [3]], [61, [1, ...mac]], [50, bytes32(ip)]]));
  let [r] = s.send(reboot(CLIENT2_MAC, a));
  assert.equal(type(r), 6, 'NAK: taken');
  assert.equal(r.yiaddr, 0);
  assert.deepEqual(r.ethDst, BCAST);
  assert.equal(r.ipDst, 0xffffffff);
  assert.equal(u32(r.options.get(54)), HOST_IP);
  assert.equal(r.options.get(51), undefined, 'a NAK carries no lease');
  [r] = s.send(reboot(CLIENT2_MAC, ip4(192, 168, 1, 50)));
  assert.equal(type(r), 6, 'NAK: another network');
  [r] = s.send(reboot(CLIENT2_MAC, ip4(10, 0, 2, 200)));
  assert.equal(type(r), 6, 'NAK: outside the pool');
  [r] = s.send(reboot(CLIENT2_MAC, HOST_IP));
  assert.equal(type(r), 6, 'NAK: the endpoint itself');
  [r] = s.send(reboot(CLIENT2_MAC, ip4(10, 0, 2, 40)));
  assert.equal(type(r), 5, 'a free pool address remembered from an earlier run is granted');
  assert.equal(r.yiaddr, ip4(10, 0, 2, 40));
  [r] = s.send(reboot(CLIENT_MAC, a));
  assert.equal(type(r), 5, 'the owner verifying its own address');
  const noId = dhcpFrame(CLIENT_MAC, BCAST, 0, 0xffffffff, dhcpMessage({ xid: 7, mac: CLIENT_MAC }, [[53, [3]], [50, bytes32(a)]]));
  [r] = s.send(noId);
  assert.equal(type(r), 6, 'the same MAC without its client identifier is another client (RFC 2131 4.2)');
  // SELECTING with our server id but an address we did not offer (and is taken).
  [r] = s.send(requestSelecting(CLIENT2_MAC, 8, a, HOST_IP));
  assert.equal(type(r), 6);
  // Renewing an address that is not the client's.
  [r] = s.send(requestRenewing(CLIENT2_MAC, 9, a));
  assert.equal(type(r), 6);
  assert.equal(s.ep.counters.dhcpNaks, 7);
});

test('a REQUEST for another server drops our offer; a REQUEST naming no address is ignored', () => {
  const s = setup();
  const [o] = s.send(discover(CLIENT_MAC, 1));
  assert.equal(s.send(requestSelecting(CLIENT_MAC, 1, o.yiaddr, ip4(10, 0, 2, 3))).length, 0);
  assert.equal(s.ep.dhcp!.pool.size, 0);
  assert.equal(s.send(dhcpFrame(CLIENT_MAC, BCAST, 0, 0xffffffff, dhcpMessage({ xid: 1, mac: CLIENT_MAC }, [[53, [3]]]))).length, 0);
  assert.equal(s.ep.counters.ignored, 2);
});

test('an unanswered offer expires and its address goes to the next client', () => {
  const s = setup();
  const [o1] = s.send(discover(CLIENT_MAC, 1));
  const [o2] = s.send(discover(CLIENT2_MAC, 2));
  assert.notEqual(o1.yiaddr, o2.yiaddr, 'an offer holds its address');
  s.advance(31);
  const three = Uint8Array.of(0, 0x16, 0x3e, 0, 0, 3);
  const [o3] = s.send(discover(three, 3));
  assert.equal(o3.yiaddr, ip4(10, 0, 2, 17), 'never-used addresses first');
});

test('RELEASE frees the address but the client gets the same one back; DECLINE takes it out of the pool', () => {
  const s = setup();
  const a = lease(s, CLIENT_MAC, 1);
  const rel = dhcpMessage({ xid: 2, mac: CLIENT_MAC, ciaddr: a }, [[53, [7]], [61, [1, ...CLIENT_MAC]], [54, bytes32(HOST_IP)]]);
  assert.equal(s.send(dhcpFrame(CLIENT_MAC, HOST_MAC, a, HOST_IP, rel)).length, 0);
  assert.equal(s.ep.counters.dhcpReleases, 1);
  assert.equal(lease(s, CLIENT_MAC, 3), a);

  const dec = dhcpMessage({ xid: 4, mac: CLIENT_MAC }, [[53, [4]], [61, [1, ...CLIENT_MAC]], [50, bytes32(a)], [54, bytes32(HOST_IP)]]);
  assert.equal(s.send(dhcpFrame(CLIENT_MAC, BCAST, 0, 0xffffffff, dec)).length, 0);
  assert.equal(s.ep.counters.dhcpDeclines, 1);
  const b = lease(s, CLIENT_MAC, 5);
  assert.notEqual(b, a, 'a declined address is not offered again');
  // Another client cannot decline an address it does not hold.
  const dec2 = dhcpMessage({ xid: 6, mac: CLIENT2_MAC }, [[53, [4]], [50, bytes32(b)], [54, bytes32(HOST_IP)]]);
  s.send(dhcpFrame(CLIENT2_MAC, BCAST, 0, 0xffffffff, dec2));
  assert.equal(s.ep.counters.dhcpDeclines, 1);
  assert.equal(lease(s, CLIENT_MAC, 7), b);
});

test('INFORM gets configuration without a lease, unicast to ciaddr', () => {
  const s = setup();
  const ip = ip4(10, 0, 2, 200);
  const m = dhcpMessage({ xid: 9, mac: CLIENT_MAC, ciaddr: ip }, [[53, [8]]]);
  const [r] = s.send(dhcpFrame(CLIENT_MAC, HOST_MAC, ip, HOST_IP, m));
  assert.equal(type(r), 5);
  assert.equal(r.yiaddr, 0);
  assert.equal(r.ipDst, ip);
  assert.equal(r.options.get(51), undefined);
  assert.equal(u32(r.options.get(3)), HOST_IP);
  assert.equal(s.ep.dhcp!.pool.size, 0);
});

test('the lease table is bounded by the pool: a guest inventing clients exhausts it but grows nothing', () => {
  const s = setup({ dhcp: { first: 10, last: 13 } });
  let answered = 0;
  for (let i = 0; i < 1000; i++) {
    const mac = Uint8Array.of(0x02, 0, 0, 0, i >> 8, i & 0xff);
    answered += s.send(discover(mac, i)).length;
    assert.ok(s.ep.dhcp!.pool.size <= 4);
  }
  assert.equal(answered, 4);
  assert.equal(s.ep.counters.dhcpPoolExhausted, 996);
  s.advance(31); // the offers lapse
  const [o] = s.send(discover(CLIENT_MAC, 1));
  assert.equal(type(o), 2);
  assert.equal(s.ep.dhcp!.pool.size, 4);
});

test('an expired lease is reclaimed for a new client only when no address was never used', () => {
  const s = setup({ dhcp: { first: 10, last: 11, leaseSeconds: 60 } });
  const a = lease(s, CLIENT_MAC, 1);
  const b = lease(s, CLIENT2_MAC, 2);
  const three = Uint8Array.of(0, 0x16, 0x3e, 0, 0, 3);
  assert.equal(s.send(discover(three, 3)).length, 0, 'exhausted while both leases run');
  s.advance(61);
  const [o] = s.send(discover(three, 4));
  assert.ok(o.yiaddr === a || o.yiaddr === b);
});

test('relayed messages (giaddr set) and messages of server types are not served', () => {
  const s = setup();
  const m = dhcpMessage({ xid: 1, mac: CLIENT_MAC }, [[53, [1]]]);
  m[24] = 10; // giaddr 10.0.0.1
  m[27] = 1;
  assert.equal(s.ep.deliver(dhcpFrame(CLIENT_MAC, BCAST, 0, 0xffffffff, m)), false);
  assert.equal(s.ep.counters.drops['dhcp-unsupported'], 1);
  const offer = dhcpMessage({ xid: 1, mac: CLIENT_MAC }, [[53, [2]]]);
  assert.equal(s.send(dhcpFrame(CLIENT_MAC, BCAST, 0, 0xffffffff, offer)).length, 0);
  assert.equal(s.out.length, 0);
});

test('DHCP to the subnet broadcast address is served; DHCP off means it is ignored', () => {
  const s = setup();
  const m = dhcpMessage({ xid: 1, mac: CLIENT_MAC }, [[53, [1]]]);
  assert.equal(s.send(dhcpFrame(CLIENT_MAC, BCAST, 0, ip4(10, 0, 2, 255), m)).length, 1);
  const off = setup({ dhcp: false });
  assert.equal(off.send(discover(CLIENT_MAC, 1)).length, 0);
  assert.equal(off.ep.counters.ignored, 1);
});
