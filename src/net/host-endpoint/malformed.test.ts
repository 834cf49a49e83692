/**
 * Hostile and broken frames: every header field the endpoint reads is cut short or lies about its
 * length; each such frame is dropped with its reason counted, nothing is sent, nothing throws.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { wr16 } from './addr.js';
import type { DropReason } from './counters.js';
import { HostEndpoint } from './endpoint.js';
import {
  arpRequest, BCAST, CLIENT_MAC, dhcpFrame, dhcpMessage, discover, eth, fixIpChecksum, HOST_IP, HOST_MAC, icmpEcho,
  ip4, ipv4, requestSelecting, udp,
} from './testing/frames.js';

const GUEST_IP = ip4(10, 0, 2, 15);

function expectDrop(frame: Uint8Array, reason: DropReason): void {
  const out: Uint8Array[] = [];
  const ep = new HostEndpoint({}, (f) => out.push(f));
  assert.equal(ep.deliver(frame), false, reason);
  assert.equal(out.length, 0, reason);
  assert.equal(ep.counters.dropped, 1, reason);
  assert.equal(ep.counters.drops[reason], 1, `${reason}: ${JSON.stringify(ep.counters.drops)}`);
}

const ping = () => eth(HOST_MAC, CLIENT_MAC, 0x0800, ipv4(GUEST_IP, HOST_IP, 1, icmpEcho(1, 1, new Uint8Array(32))));

test('Ethernet: runts and multicast source addresses', () => {
  expectDrop(new Uint8Array(0), 'runt');
  expectDrop(new Uint8Array(13).fill(0xff), 'runt');
  const f = arpRequest(CLIENT_MAC, GUEST_IP, HOST_IP);
  f[6] = 0x01;
  expectDrop(f, 'eth-source');
});

test('ARP: truncated, other hardware/protocol types and sizes, multicast sender', () => {
  expectDrop(arpRequest(CLIENT_MAC, GUEST_IP, HOST_IP).subarray(0, 41), 'arp-truncated');
  for (const [off, v] of [[15, 6], [17, 0xdd], [18, 8], [19, 16]]) {
    const f = arpRequest(CLIENT_MAC, GUEST_IP, HOST_IP);
    f[off] = v;
    expectDrop(f, 'arp-format');
  }
  const f = arpRequest(CLIENT_MAC, GUEST_IP, HOST_IP);
  f[22] |= 1;
  expectDrop(f, 'arp-format');
});

test('IPv4: truncated header, bad version/IHL, total length vs frame, checksum, fragments', () => {
  expectDrop(ping().subarray(0, 14 + 19), 'ip-truncated');
  let f = ping();
  f[14] = 0x65; // version 6 in an IPv4 frame
  fixIpChecksum(f);
  expectDrop(f, 'ip-header');
  f = ping();
  f[14] = 0x44; // IHL 16 bytes
  expectDrop(f, 'ip-header');
  f = ping().subarray(0, 14 + 20 + 8); // IHL 15 = 60 bytes > the frame
  f[14] = 0x4f;
  expectDrop(f, 'ip-header');
  f = ping();
  wr16(f, 16, f.length - 14 + 1); // total length beyond the frame
  fixIpChecksum(f);
  expectDrop(f, 'ip-length');
  f = ping();
  wr16(f, 16, 19); // total length smaller than the header
  fixIpChecksum(f);
  expectDrop(f, 'ip-length');
  f = ping();
  f[24] ^= 0x55;
  expectDrop(f, 'ip-checksum');
  f = ping();
  f[20] = 0x20; // MF
  fixIpChecksum(f);
  expectDrop(f, 'ip-fragment');
  f = ping();
  f[20] = 0x00;
  f[21] = 0x10; // offset
  fixIpChecksum(f);
  expectDrop(f, 'ip-fragment');
  f = ping();
  f[20] = 0x80; // the reserved flag
  fixIpChecksum(f);
  expectDrop(f, 'ip-header');
});

test('IPv4: trailing padding beyond total length is fine, and so are IP options', () => {
  const out: Uint8Array[] = [];
  const ep = new HostEndpoint({}, (f) => out.push(f));
  const padded = new Uint8Array(ping().length + 20);
  padded.set(ping());
  padded.fill(0xee, padded.length - 20);
  assert.equal(ep.deliver(padded), true);
  assert.equal(out[0].length, 14 + 20 + 8 + 32, 'the padding is not echoed');
  // IHL 6 with a 4-byte option (NOP NOP NOP EOL) between header and ICMP.
  const base = ping();
  const f = new Uint8Array(base.length + 4);
  f.set(base.subarray(0, 34));
  f.set([1, 1, 1, 0], 34);
  f.set(base.subarray(34), 38);
  f[14] = 0x46;
  wr16(f, 16, base.length - 14 + 4);
  fixIpChecksum(f);
  assert.equal(ep.deliver(f), true);
  assert.equal(ep.counters.icmpEchoReplies, 2);
});

test('ICMP: truncated, bad checksum, bogus source addresses', () => {
  expectDrop(eth(HOST_MAC, CLIENT_MAC, 0x0800, ipv4(GUEST_IP, HOST_IP, 1, new Uint8Array([8, 0, 0xf7, 0xff]))), 'icmp-truncated');
  const bad = icmpEcho(1, 1, new Uint8Array(32));
  bad[10] ^= 1;
  expectDrop(eth(HOST_MAC, CLIENT_MAC, 0x0800, ipv4(GUEST_IP, HOST_IP, 1, bad)), 'icmp-checksum');
  for (const src of [0, 0xffffffff, ip4(10, 0, 2, 255), ip4(224, 0, 0, 1), ip4(127, 0, 0, 1)]) {
    expectDrop(eth(HOST_MAC, CLIENT_MAC, 0x0800, ipv4(src, HOST_IP, 1, icmpEcho(1, 1, new Uint8Array(8)))), 'ip-source');
  }
});

test('UDP: truncated header, length below 8 or beyond the IP packet, wrong checksum; zero checksum accepted', () => {
  const dhcp = () => discover(CLIENT_MAC, 1);
  expectDrop(eth(BCAST, CLIENT_MAC, 0x0800, ipv4(0, 0xffffffff, 17, new Uint8Array(7))), 'udp-truncated');
  let f = dhcp();
  wr16(f, 38, 7);
  expectDrop(f, 'udp-length');
  f = dhcp();
  wr16(f, 38, f.length - 34 + 1);
  expectDrop(f, 'udp-length');
  f = dhcp();
  f[300] ^= 0x40; // inside the options: the UDP checksum no longer matches
  expectDrop(f, 'udp-checksum');
  f = dhcp();
  f[41] ^= 1; // the checksum itself
  expectDrop(f, 'udp-checksum');
  const out: Uint8Array[] = [];
  const ep = new HostEndpoint({}, (x) => out.push(x));
  const m = dhcpMessage({ xid: 1, mac: CLIENT_MAC }, [[53, [1]]]);
  assert.equal(ep.deliver(eth(BCAST, CLIENT_MAC, 0x0800, ipv4(0, 0xffffffff, 17, udp(0, 0xffffffff, 68, 67, m, false)))), true);
  assert.equal(out.length, 1, 'UDP checksum 0 means none (IPv4)');
  // A UDP length shorter than the IP payload: the rest is ignored (here: it would not parse as options).
  const short = new Uint8Array(m.length + 16).fill(0xaa);
  short.set(m);
  const u = udp(0, 0xffffffff, 68, 67, short);
  wr16(u, 4, 8 + m.length);
  wr16(u, 6, 0);
  assert.equal(ep.deliver(eth(BCAST, CLIENT_MAC, 0x0800, ipv4(0, 0xffffffff, 17, u))), true);
  assert.equal(out.length, 2);
});

const dhcpOf = (m: Uint8Array) => dhcpFrame(CLIENT_MAC, BCAST, 0, 0xffffffff, m);

test('DHCP: truncated message, not a request, no cookie, not Ethernet, multicast chaddr', () => {
  expectDrop(dhcpOf(dhcpMessage({ xid: 1, mac: CLIENT_MAC }, [[53, [1]]]).subarray(0, 239)), 'dhcp-truncated');
  const cases: [number, number, DropReason][] = [[0, 2, 'dhcp-format'], [236, 0, 'dhcp-format'], [1, 6, 'dhcp-unsupported'], [2, 8, 'dhcp-unsupported'], [28, 0x01, 'dhcp-format']];
  for (const [off, v, reason] of cases) {
    const m = dhcpMessage({ xid: 1, mac: CLIENT_MAC }, [[53, [1]]]);
    m[off] = v;
    expectDrop(dhcpOf(m), reason);
  }
});

test('DHCP options: lengths past the end, bad sizes of known options, missing or bad message type', () => {
  const m = dhcpMessage({ xid: 1, mac: CLIENT_MAC }, [[53, [1]]]);
  // An option whose length runs past the end of the message.
  const cut = m.slice(0, 246);
  cut[243] = 12;
  cut[244] = 40;
  expectDrop(dhcpOf(cut), 'dhcp-options');
  // An option code as the very last byte (no room for its length).
  const last = m.slice(0, 244);
  last[243] = 12;
  expectDrop(dhcpOf(last), 'dhcp-options');
  const bad: [number, number[]][][] = [
    [[53, [1, 1]]], [[53, []]], [[53, [1]], [50, [10, 0, 2]]], [[53, [1]], [54, [10, 0, 2, 2, 0]]], [[53, [1]], [61, [1]]],
    [[53, [1]], [57, [2]]], [[53, [1]], [52, [1, 1]]], [[53, [1]], [53, [1]]], // repeated: concatenated to length 2
  ];
  for (const opts of bad) expectDrop(dhcpOf(dhcpMessage({ xid: 1, mac: CLIENT_MAC }, opts)), 'dhcp-options');
  expectDrop(dhcpOf(dhcpMessage({ xid: 1, mac: CLIENT_MAC }, [[12, [65]]])), 'dhcp-format'); // no message type
  expectDrop(dhcpOf(dhcpMessage({ xid: 1, mac: CLIENT_MAC }, [[53, [0]]])), 'dhcp-format');
  expectDrop(dhcpOf(dhcpMessage({ xid: 1, mac: CLIENT_MAC }, [[53, [9]]])), 'dhcp-format');
  // Overloaded sname/file with a broken option inside.
  const o = dhcpMessage({ xid: 1, mac: CLIENT_MAC }, [[53, [1]], [52, [3]]]);
  o[108] = 12;
  o[109] = 200;
  expectDrop(dhcpOf(o), 'dhcp-options');
});

test('DHCP options: pad, no end option, overload and RFC 3396 concatenation are understood', () => {
  const out: Uint8Array[] = [];
  const ep = new HostEndpoint({}, (f) => out.push(f));
  // Message type in the file field (overload = 1), requested address split over two options.
  const m = dhcpMessage({ xid: 1, mac: CLIENT_MAC }, [[52, [1]], [50, [10, 0]], [50, [2, 33]]]);
  m.set([0, 0, 53, 1, 1, 255], 108); // two pads, then the message type, in the file field
  assert.equal(ep.deliver(dhcpOf(m)), true);
  assert.equal(out.length, 1);
  assert.equal(out[0][14 + 20 + 8 + 16 + 3], 33, 'the requested 10.0.2.33 was offered');
  // Options running to the end of the message with no end option.
  const n = dhcpMessage({ xid: 2, mac: Uint8Array.of(0, 0x16, 0x3e, 0, 0, 9) }, [[53, [1]]]).slice(0, 243);
  assert.equal(ep.deliver(dhcpOf(n)), true);
  assert.equal(out.length, 2);
});

test('wrong checksums: the real stack drops them, so a DISCOVER or REQUEST with one gets no answer', () => {
  const out: Uint8Array[] = [];
  const ep = new HostEndpoint({}, (f) => out.push(f));
  const f = requestSelecting(CLIENT_MAC, 1, ip4(10, 0, 2, 15), HOST_IP);
  f[24] ^= 0xff; // IP header checksum
  assert.equal(ep.deliver(f), false);
  assert.equal(out.length, 0);
  assert.equal(ep.dhcp!.pool.size, 0);
});

test('fuzz: mutated, truncated and random frames never throw, and every frame is accounted for', () => {
  let seed = 12345;
  const rnd = (n: number) => {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    return (seed >>> 8) % n;
  };
  const ep = new HostEndpoint({}, () => {});
  const seeds = [
    discover(CLIENT_MAC, 1), requestSelecting(CLIENT_MAC, 1, ip4(10, 0, 2, 15), HOST_IP), ping(),
    arpRequest(CLIENT_MAC, GUEST_IP, HOST_IP),
  ];
  const N = 20000;
  for (let i = 0; i < N; i++) {
    const base = seeds[rnd(seeds.length)];
    let f: Uint8Array;
    switch (rnd(4)) {
      case 0: f = base.slice(0, rnd(base.length + 1)); break;
      case 1: f = Uint8Array.from({ length: rnd(400) }, () => rnd(256)); f.set(HOST_MAC.subarray(0, Math.min(6, f.length))); break;
      default: {
        f = base.slice();
        for (let k = 1 + rnd(4); k > 0; k--) f[rnd(f.length)] = rnd(256);
        if (rnd(2) === 0 && f.length > 34) fixIpChecksum(f); // reach deeper than the IP checksum
        if (base.length > 300 && rnd(2) === 0) f[40] = f[41] = 0; // a DHCP frame: no UDP checksum, reach the decoder
      }
    }
    ep.deliver(f);
  }
  const c = ep.counters;
  assert.equal(c.framesIn, N);
  assert.equal(c.drops.internal, 0, 'no exception escaped a parser');
  const sum = Object.values(c.drops).reduce((a, b) => a + b, 0);
  assert.equal(sum, c.dropped);
  assert.ok(c.dropped > 1000 && c.ignored > 100 && c.dhcpIn > 500, JSON.stringify(c));
  assert.ok(ep.dhcp!.pool.size <= 85);
});

test('fuzz: random DHCP option areas (random codes and lengths) never throw', () => {
  let seed = 777;
  const rnd = (n: number) => {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    return (seed >>> 8) % n;
  };
  const ep = new HostEndpoint({}, () => {});
  const N = 5000;
  for (let i = 0; i < N; i++) {
    const m = dhcpMessage({ xid: i, mac: Uint8Array.of(2, 0, 0, 0, i >> 8, i & 255), flags: rnd(2) << 15 }, []);
    let o = 240;
    // Mostly well-formed options with a few lying lengths; message types and overload included.
    while (o < m.length - 2 && rnd(12) !== 0) {
      const code = [53, 50, 54, 61, 52, 55, 57, 0, 255, rnd(256)][rnd(10)];
      const len = rnd(8) === 0 ? rnd(256) : code === 53 ? 1 : code === 52 ? 1 : code === 50 || code === 54 ? 4 : rnd(8);
      m[o] = code;
      m[o + 1] = len;
      for (let k = 0; k < len && o + 2 + k < m.length; k++) m[o + 2 + k] = code === 53 ? 1 + rnd(8) : code === 52 ? rnd(4) : rnd(256);
      o += 2 + len;
    }
    for (let k = rnd(3); k > 0; k--) m[44 + rnd(192)] = rnd(256); // sname/file bytes, read when overloaded
    ep.deliver(eth(BCAST, CLIENT_MAC, 0x0800, ipv4(0, 0xffffffff, 17, udp(0, 0xffffffff, 68, 67, m))));
  }
  const c = ep.counters;
  assert.equal(c.drops.internal, 0);
  assert.equal(c.framesIn, N);
  assert.ok(c.drops['dhcp-options'] > 100 && c.dhcpIn > 100, JSON.stringify(c));
  assert.ok(ep.dhcp!.pool.size <= 85);
});
