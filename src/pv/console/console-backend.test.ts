import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConsoleBackend } from './console-backend.js';

function setup() {
  const ring = new Uint8Array(4096);
  const dv = new DataView(ring.buffer);
  const out: number[] = [];
  let notifies = 0;
  const be = new ConsoleBackend(ring, { sink: (b) => out.push(...b), notify: () => notifies++, name: 't' });
  // The guest side, as hvc_xen does it.
  const guestWrite = (s: string) => {
    let prod = dv.getUint32(3084, true);
    for (const ch of s) ring[1024 + (prod++ & 2047)] = ch.charCodeAt(0);
    dv.setUint32(3084, prod >>> 0, true);
  };
  const guestRead = () => {
    let cons = dv.getUint32(3072, true);
    const prod = dv.getUint32(3076, true);
    let s = '';
    while (cons !== prod) s += String.fromCharCode(ring[cons++ & 1023]);
    dv.setUint32(3072, cons, true);
    return s;
  };
  return { ring, dv, out, be, guestWrite, guestRead, notifies: () => notifies };
}

test('guest output is drained in order across the ring wrap, and the guest is told', () => {
  const t = setup();
  t.dv.setUint32(3080, 0xfffffff0, true); // free-running indices near the u32 wrap
  t.dv.setUint32(3084, 0xfffffff0, true);
  t.guestWrite('hello, world: ' + 'x'.repeat(40));
  t.be.service();
  assert.equal(String.fromCharCode(...t.out), 'hello, world: ' + 'x'.repeat(40));
  assert.equal(t.notifies(), 1);
  t.be.service();
  assert.equal(t.notifies(), 1, 'no news, no notification');
});

test('host input beyond the ring size waits until the guest consumes', () => {
  const t = setup();
  const big = new Uint8Array(1500).fill(0x61);
  t.be.input(big);
  assert.equal(t.be.queuedInput, 1500 - 1024);
  assert.equal(t.guestRead().length, 1024);
  t.be.service();
  assert.equal(t.guestRead().length, 1500 - 1024);
  assert.equal(t.be.queuedInput, 0);
});

test('a guest that corrupts its indices loses its console, not the host', () => {
  const t = setup();
  t.dv.setUint32(3084, 999999, true);
  t.be.service();
  assert.equal(t.be.broken, true);
  assert.deepEqual(t.out, []);
  t.be.input(new Uint8Array([1, 2, 3]));
  t.be.service();
  assert.equal(t.notifies(), 0);
});
