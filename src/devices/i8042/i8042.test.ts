import { test } from 'node:test';
import assert from 'node:assert/strict';
import { I8042 } from './i8042.js';

function setup() {
  const events: string[] = [];
  let irq1 = false;
  let irq12 = false;
  const edges = { irq1: 0, irq12: 0 };
  const kbc = new I8042({
    irq1: (l) => { if (l && !irq1) edges.irq1++; irq1 = l; },
    irq12: (l) => { if (l && !irq12) edges.irq12++; irq12 = l; },
    onA20: (on) => events.push(`a20:${on}`),
    onReset: () => events.push('reset'),
  });
  const data = kbc.dataPort();
  const cmd = kbc.commandPort();
  const status = () => cmd.ioRead(0, 1);
  const command = (c: number, arg?: number) => {
    cmd.ioWrite(0, 1, c);
    if (arg !== undefined) data.ioWrite(0, 1, arg);
  };
  const read = () => data.ioRead(0, 1);
  const drain = () => {
    const got: number[] = [];
    while (status() & 1) got.push(read());
    return got;
  };
  return { kbc, data, cmd, status, command, read, drain, events, edges, irq1: () => irq1, irq12: () => irq12 };
}

test('self-test answers 0x55 and the interface tests 0x00 through the output buffer', () => {
  const t = setup();
  assert.equal(t.status() & 0x01, 0, 'output buffer empty');
  t.command(0xaa);
  assert.equal(t.status() & 0x09, 0x09, 'OBF, and the last write went to the command port');
  assert.equal(t.read(), 0x55);
  assert.equal(t.status() & 0x01, 0);
  t.command(0xab);
  t.command(0xa9);
  assert.deepEqual(t.drain(), [0x00, 0x00]);
});

test('the command byte reads and writes through 0x20/0x60; SYS in the status follows it', () => {
  const t = setup();
  t.command(0x20);
  assert.equal(t.read(), 0x45);
  assert.equal(t.status() & 0x14, 0x14, 'SYS set, keyboard not inhibited');
  t.command(0x60, 0x20);
  assert.equal(t.status() & 0x0c, 0x00, 'SYS cleared; the last write was data');
  t.command(0x20);
  assert.equal(t.read(), 0x20);
});

test('IRQ 1 is high while a byte waits (if enabled); each queued byte is a new edge', () => {
  const t = setup();
  t.command(0xd2, 0x1c); // as if the keyboard sent a scan code
  assert.equal(t.irq1(), true);
  t.kbc.keyboardInput([0x9c, 0x2a]);
  assert.equal(t.read(), 0x1c);
  assert.equal(t.irq1(), true);
  assert.equal(t.read(), 0x9c);
  assert.equal(t.read(), 0x2a);
  assert.equal(t.irq1(), false);
  assert.equal(t.edges.irq1, 3);
  t.command(0x60, 0x44); // keyboard interrupt off
  t.kbc.keyboardInput([0x01]);
  assert.equal(t.irq1(), false);
  assert.equal(t.status() & 1, 1, 'the byte is there to poll');
});

test('disabling the keyboard holds its bytes; controller replies still pass; enabling releases them', () => {
  const t = setup();
  t.command(0xad);
  t.kbc.keyboardInput([0x1e]);
  t.command(0x20);
  assert.deepEqual(t.drain(), [0x45 | 0x10]);
  t.command(0xae);
  assert.deepEqual(t.drain(), [0x1e]);
});

test('the output port: A20 changes are reported, bit 0 low and command 0xFE pulse reset', () => {
  const t = setup();
  t.command(0xd0);
  assert.equal(t.read() & 0x03, 0x03);
  t.command(0xd1, 0x01); // A20 off
  assert.equal(t.kbc.a20, false);
  t.command(0xd1, 0x03);
  t.command(0xfe);
  t.command(0xff); // pulses nothing
  t.command(0xd1, 0x02); // reset line low
  assert.deepEqual(t.events, ['a20:false', 'a20:true', 'reset', 'reset']);
  t.command(0xd0);
  assert.equal(t.read() & 0x03, 0x03, 'the reset line came back high');
});

test('the keyboard on port 1 answers reset, identify and echo; aux loopback raises IRQ 12', () => {
  const t = setup();
  t.data.ioWrite(0, 1, 0xff);
  assert.deepEqual(t.drain(), [0xfa, 0xaa]);
  t.data.ioWrite(0, 1, 0xf2);
  assert.deepEqual(t.drain(), [0xfa, 0xab, 0x83]);
  t.data.ioWrite(0, 1, 0xee);
  t.data.ioWrite(0, 1, 0xed);
  t.data.ioWrite(0, 1, 0x07);
  assert.deepEqual(t.drain(), [0xee, 0xfa, 0xfa]);
  t.command(0x60, 0x47); // aux interrupt on too
  t.command(0xd3, 0x5a);
  assert.equal(t.status() & 0x21, 0x21, 'AUXB');
  assert.equal(t.irq12(), true);
  assert.equal(t.irq1(), false);
  assert.equal(t.read(), 0x5a);
  t.command(0xd4, 0xf2); // to the (absent) mouse
  assert.equal(t.status() & 0x61, 0x61, 'timeout with aux data');
  assert.equal(t.read(), 0xfe);
});

test('i8042 state survives save and restore, including queued bytes and a pending command', () => {
  const a = setup();
  a.command(0x60, 0x47);
  a.kbc.keyboardInput([1, 2, 3]);
  a.command(0xd1); // waiting for its data byte
  const saved = JSON.parse(JSON.stringify(a.kbc.save()));
  const b = setup();
  b.kbc.restore(saved);
  assert.deepEqual(b.kbc.save(), saved);
  assert.equal(b.irq1(), false, 'restore does not drive the line');
  for (const t of [a, b]) {
    t.data.ioWrite(0, 1, 0x01);
    assert.deepEqual(t.events, ['a20:false']);
    assert.deepEqual(t.drain(), [1, 2, 3]);
  }
});
