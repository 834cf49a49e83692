import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PortBus, type PortDevice } from './port-bus.js';
import { setLogSink } from '../base/log.js';

function recorder(name: string, widths?: number) {
  const log: string[] = [];
  const dev: PortDevice = {
    name,
    widths,
    ioRead: (o, s) => {
      log.push(`r${o}/${s}`);
      return s === 1 ? 0x10 + o : s === 2 ? 0x2000 + o : 0x40000000 + o;
    },
    ioWrite: (o, s, v) => {
      log.push(`w${o}/${s}=${v.toString(16)}`);
    },
  };
  return { dev, log };
}

test('a device sees offsets from its base, never absolute ports', () => {
  const bus = new PortBus();
  const a = recorder('a');
  bus.register(0x3f8, 8, a.dev);
  assert.equal(bus.read(0x3fd, 1), 0x15);
  bus.write(0x3f8, 1, 0x41);
  assert.deepEqual(a.log, ['r5/1', 'w0/1=41']);
});

test('wide accesses to a byte-only device are split into byte accesses, little-endian', () => {
  const bus = new PortBus();
  const a = recorder('a');
  bus.register(0x60, 4, a.dev);
  assert.equal(bus.read(0x60, 2), 0x1110);
  assert.equal(bus.read(0x60, 4), 0x13121110);
  bus.write(0x61, 2, 0xbeef);
  assert.deepEqual(a.log.slice(-2), ['w1/1=ef', 'w2/1=be']);
});

test('devices that implement wider accesses get them whole; a 16-bit-only device gets 32-bit reads as two words', () => {
  const bus = new PortBus();
  const full = recorder('full', 7);
  const word = recorder('word', 3);
  bus.register(0xcf8, 4, full.dev);
  bus.register(0x1f0, 8, word.dev);
  assert.equal(bus.read(0xcf8, 4), 0x40000000);
  bus.write(0xcf8, 4, 0x80000000);
  assert.deepEqual(full.log, ['r0/4', 'w0/4=80000000']);
  assert.equal(bus.read(0x1f0, 4), (0x2002 * 0x10000 + 0x2000) >>> 0);
  assert.deepEqual(word.log, ['r0/2', 'r2/2']);
});

test('an access running past a device reaches each owner for its own bytes', () => {
  const bus = new PortBus();
  const a = recorder('a', 7);
  const b = recorder('b');
  bus.register(0x60, 2, a.dev);
  bus.register(0x62, 2, b.dev);
  assert.equal(bus.read(0x61, 2), 0x1011, 'byte 0x61 from a, byte 0x62 from b');
  assert.deepEqual(a.log, ['r1/1']);
  assert.deepEqual(b.log, ['r0/1']);
});

test('unclaimed ports read all ones at every width, ignore writes and log once per port', () => {
  const lines: string[] = [];
  setLogSink((level, topic, msg) => lines.push(`${level} ${topic} ${msg}`));
  const bus = new PortBus();
  assert.equal(bus.read(0x1234, 1), 0xff);
  assert.equal(bus.read(0x1234, 2), 0xffff);
  assert.equal(bus.read(0x1234, 4), 0xffffffff);
  bus.write(0x1234, 1, 0);
  bus.write(0x1234, 1, 0);
  setLogSink(() => {});
  assert.equal(lines.filter((l) => l.includes('read of unclaimed port 0x1234')).length, 1);
  assert.equal(lines.filter((l) => l.includes('write of unclaimed port 0x1234')).length, 1);
  assert.ok(lines.every((l) => l.startsWith('debug ports')));
});

test('registration rejects overlaps and bad ranges; unregister frees the ports', () => {
  const bus = new PortBus();
  const a = recorder('a');
  bus.register(0x70, 2, a.dev);
  assert.throws(() => bus.register(0x71, 1, recorder('c').dev), /already belongs to a/);
  assert.throws(() => bus.register(0xffff, 2, recorder('d').dev), /bad port range/);
  assert.equal(bus.owner(0x71), 'a');
  bus.unregister(a.dev);
  assert.equal(bus.owner(0x71), undefined);
  assert.equal(bus.read(0x70, 1), 0xff);
});

test('access counters are kept per device name and can be reset', () => {
  const bus = new PortBus();
  bus.register(0x20, 2, recorder('pic').dev);
  bus.register(0xa0, 2, recorder('pic').dev);
  bus.register(0x40, 4, recorder('pit').dev);
  bus.read(0x20, 1);
  bus.write(0xa1, 1, 0);
  bus.read(0x40, 2); // split: two byte calls
  const counts = Object.fromEntries(bus.accessCounts().map((c) => [c.name, c]));
  assert.deepEqual(counts.pic, { name: 'pic', reads: 1, writes: 1 });
  assert.deepEqual(counts.pit, { name: 'pit', reads: 2, writes: 0 });
  bus.resetAccessCounts();
  assert.ok(bus.accessCounts().every((c) => c.reads === 0 && c.writes === 0));
});

test('values are masked to the access width on both sides', () => {
  const bus = new PortBus();
  const seen: number[] = [];
  bus.register(0x80, 4, { name: 'sloppy', widths: 7, ioRead: () => -1, ioWrite: (_o, _s, v) => seen.push(v) });
  assert.equal(bus.read(0x80, 1), 0xff);
  assert.equal(bus.read(0x80, 2), 0xffff);
  assert.equal(bus.read(0x80, 4), 0xffffffff);
  bus.write(0x80, 1, 0x1234);
  bus.write(0x80, 4, -1);
  assert.deepEqual(seen, [0x34, 0xffffffff]);
});
