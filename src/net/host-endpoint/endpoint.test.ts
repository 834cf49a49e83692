import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fold, sum16 } from '../checksum.js';
import { VirtualSwitch, type SwitchPort } from '../switch.js';
import { rd16, rd32 } from './addr.js';
import { HostEndpoint } from './endpoint.js';
import {
  arpRequest, BCAST, CLIENT_MAC, CLIENT2_MAC, eth, HOST_IP, HOST_MAC, icmpEcho, ip4, ipv4, udp,
} from './testing/frames.js';

const GUEST_IP = ip4(10, 0, 2, 15);

function endpoint(opts = {}): { ep: HostEndpoint; out: Uint8Array[] } {
  const out: Uint8Array[] = [];
  return { ep: new HostEndpoint(opts, (f) => out.push(f)), out };
}

test('an ARP request for the endpoint address gets a reply sent straight to the requester', () => {
  const { ep, out } = endpoint();
  assert.equal(ep.deliver(arpRequest(CLIENT_MAC, GUEST_IP, HOST_IP)), true);
  assert.equal(out.length, 1);
  const r = out[0];
  assert.equal(r.length, 60, 'padded to the Ethernet minimum');
  assert.deepEqual(r.subarray(0, 6), CLIENT_MAC);
  assert.deepEqual(r.subarray(6, 12), HOST_MAC);
  assert.equal(rd16(r, 12), 0x0806);
  assert.deepEqual([...r.subarray(14, 20)], [0, 1, 8, 0, 6, 4]);
  assert.equal(rd16(r, 20), 2, 'op = reply');
  assert.deepEqual(r.subarray(22, 28), HOST_MAC, 'sender hardware address');
  assert.equal(rd32(r, 28), HOST_IP, 'sender protocol address');
  assert.deepEqual(r.subarray(32, 38), CLIENT_MAC);
  assert.equal(rd32(r, 38), GUEST_IP);
  assert.equal(ep.counters.arpRequests, 1);
  assert.equal(ep.counters.arpReplies, 1);
  assert.equal(ep.counters.framesOut, 1);
});

test('ARP for other addresses, ARP replies and gratuitous ARP are ignored', () => {
  const { ep, out } = endpoint();
  ep.deliver(arpRequest(CLIENT_MAC, GUEST_IP, ip4(10, 0, 2, 3)));
  ep.deliver(arpRequest(CLIENT_MAC, GUEST_IP, GUEST_IP)); // gratuitous
  const reply = arpRequest(CLIENT_MAC, GUEST_IP, HOST_IP);
  reply[21] = 2;
  ep.deliver(reply);
  assert.equal(out.length, 0);
  assert.equal(ep.counters.ignored, 3);
  assert.equal(ep.counters.dropped, 0);
});

test('an ICMP echo request gets an echo reply with the same id, sequence and data and valid checksums', () => {
  const { ep, out } = endpoint();
  const data = Uint8Array.from({ length: 57 }, (_, i) => (i * 7) & 0xff); // odd length
  const req = eth(HOST_MAC, CLIENT_MAC, 0x0800, ipv4(GUEST_IP, HOST_IP, 1, icmpEcho(0x4242, 7, data)));
  assert.equal(ep.deliver(req), true);
  assert.equal(out.length, 1);
  const r = out[0];
  assert.deepEqual(r.subarray(0, 6), CLIENT_MAC);
  assert.deepEqual(r.subarray(6, 12), HOST_MAC);
  assert.equal(r[14], 0x45);
  assert.equal(rd16(r, 16), 20 + 8 + data.length);
  assert.equal(r[22], 64, 'TTL');
  assert.equal(r[23], 1, 'ICMP');
  assert.equal(rd32(r, 26), HOST_IP);
  assert.equal(rd32(r, 30), GUEST_IP);
  assert.equal(fold(sum16(r, 14, 34)), 0xffff, 'IPv4 header checksum');
  const icmpEnd = 14 + rd16(r, 16);
  assert.equal(fold(sum16(r, 34, icmpEnd)), 0xffff, 'ICMP checksum');
  assert.equal(r[34], 0, 'echo reply');
  assert.equal(r[35], 0);
  assert.equal(rd16(r, 38), 0x4242);
  assert.equal(rd16(r, 40), 7);
  assert.deepEqual(r.subarray(42, icmpEnd), data);
  assert.equal(ep.counters.icmpEchoRequests, 1);
  assert.equal(ep.counters.icmpEchoReplies, 1);
});

test('pings to other addresses (not routed), broadcast pings and other ICMP types are not answered', () => {
  const { ep, out } = endpoint();
  const echo = icmpEcho(1, 1, new Uint8Array(8));
  ep.deliver(eth(HOST_MAC, CLIENT_MAC, 0x0800, ipv4(GUEST_IP, ip4(8, 8, 8, 8), 1, echo)));
  ep.deliver(eth(BCAST, CLIENT_MAC, 0x0800, ipv4(GUEST_IP, ip4(10, 0, 2, 255), 1, echo)));
  ep.deliver(eth(BCAST, CLIENT_MAC, 0x0800, ipv4(GUEST_IP, 0xffffffff, 1, echo)));
  const reply = icmpEcho(1, 1, new Uint8Array(8));
  reply[0] = 0;
  reply[2] += 8; // checksum adjusted for type 8 -> 0
  ep.deliver(eth(HOST_MAC, CLIENT_MAC, 0x0800, ipv4(GUEST_IP, HOST_IP, 1, reply)));
  assert.equal(out.length, 0);
  assert.equal(ep.counters.ignored, 4);
  assert.equal(ep.counters.dropped, 0);
});

test('frames for other MACs, IPv6, multicast and UDP to other ports are ignored, not dropped', () => {
  const { ep, out } = endpoint();
  ep.deliver(eth(CLIENT2_MAC, CLIENT_MAC, 0x0800, ipv4(GUEST_IP, HOST_IP, 1, icmpEcho(1, 1, new Uint8Array(4)))));
  ep.deliver(eth(Uint8Array.of(0x33, 0x33, 0, 0, 0, 1), CLIENT_MAC, 0x86dd, new Uint8Array(40)));
  ep.deliver(eth(HOST_MAC, CLIENT_MAC, 0x86dd, new Uint8Array(40)));
  ep.deliver(eth(HOST_MAC, CLIENT_MAC, 0x0800, ipv4(GUEST_IP, HOST_IP, 17, udp(GUEST_IP, HOST_IP, 1000, 53, new Uint8Array(12)))));
  ep.deliver(eth(HOST_MAC, CLIENT_MAC, 0x0800, ipv4(GUEST_IP, HOST_IP, 6, new Uint8Array(20))));
  assert.equal(out.length, 0);
  assert.equal(ep.counters.ignored, 5);
  assert.equal(ep.counters.dropped, 0);
});

test('on a VirtualSwitch: a guest port ARPs for the endpoint, pings it, and the replies come back to it alone', () => {
  const sw = new VirtualSwitch();
  const ep = new HostEndpoint();
  ep.attach(sw);
  const got: Uint8Array[][] = [[], []];
  const ports: SwitchPort[] = [0, 1].map((k) => ({ name: `vif${k}`, deliver: (f) => (got[k].push(f), true) }));
  for (const p of ports) sw.attach(p);
  sw.input(ports[0], arpRequest(CLIENT_MAC, GUEST_IP, HOST_IP));
  // The broadcast reached the other guest too; the reply only the requester.
  assert.equal(got[1].length, 1);
  assert.equal(got[0].length, 1);
  assert.equal(rd16(got[0][0], 20), 2);
  sw.input(ports[0], eth(HOST_MAC, CLIENT_MAC, 0x0800, ipv4(GUEST_IP, HOST_IP, 1, icmpEcho(9, 1, new Uint8Array(16)))));
  assert.equal(got[0].length, 2);
  assert.equal(got[0][1][34], 0);
  assert.equal(got[1].length, 1, 'the unicast reply is not flooded: the switch learned the guest');
  assert.equal(ep.counters.framesIn, 2);
  assert.equal(ep.counters.framesOut, 2);
  assert.equal(sw.dropped, 0);
  ep.detach();
  sw.input(ports[0], arpRequest(CLIENT_MAC, GUEST_IP, HOST_IP));
  assert.equal(ep.counters.framesIn, 2, 'detached');
});

test('the network, host number, MAC and pool are configurable and checked', () => {
  const { ep, out } = endpoint({ network: '192.168.77.0', hostNumber: 1, mac: '02:00:00:00:00:99', dhcp: { first: 100, last: 101 } });
  ep.deliver(arpRequest(CLIENT_MAC, 0, ip4(192, 168, 77, 1)));
  assert.equal(out.length, 1);
  assert.deepEqual([...out[0].subarray(22, 28)], [2, 0, 0, 0, 0, 0x99]);
  assert.equal(ep.dhcp?.pool.first, ip4(192, 168, 77, 100));
  assert.throws(() => new HostEndpoint({ network: '10.0.2.1' }));
  assert.throws(() => new HostEndpoint({ mac: '01:00:00:00:00:01' }));
  assert.throws(() => new HostEndpoint({ hostNumber: 255 }));
  assert.throws(() => new HostEndpoint({ hostNumber: 20 }), 'inside the pool');
  assert.throws(() => new HostEndpoint({ dhcp: { first: 50, last: 40 } }));
  assert.equal(new HostEndpoint({ dhcp: false }).dhcp, null);
});
