import { test } from 'node:test';
import assert from 'node:assert/strict';
import { I8042, systemControlPortA } from './i8042.js';

test('self-test, command byte, A20 through the output port, and reset pulses', () => {
  const events: string[] = [];
  const k = new I8042({ irq1: () => {}, onA20: (on) => events.push(`a20:${on}`), onReset: () => events.push('reset') });
  const p = k.ports();
  p.ioWrite(4, 1, 0xaa);
  assert.equal(p.ioRead(4, 1) & 1, 1);
  assert.equal(p.ioRead(0, 1), 0x55);
  p.ioWrite(4, 1, 0x20);
  assert.equal(p.ioRead(0, 1), 0x45);
  p.ioWrite(4, 1, 0xd1);
  p.ioWrite(0, 1, 0x01); // A20 off
  p.ioWrite(4, 1, 0xfe);
  assert.deepEqual(events, ['a20:false', 'reset']);
  const s = new I8042({ irq1: () => {}, onA20: () => {}, onReset: () => {} });
  s.restore(JSON.parse(JSON.stringify(k.save())));
  assert.deepEqual(s.save(), k.save());
});

test('port 0x92 drives fast A20 and reset', () => {
  const events: string[] = [];
  const p = systemControlPortA({ onA20: (on) => events.push(`a20:${on}`), onReset: () => events.push('reset') });
  p.ioWrite(0, 1, 0x00);
  p.ioWrite(0, 1, 0x03);
  assert.deepEqual(events, ['a20:false', 'a20:true', 'reset']);
});
