import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SystemControlPortA } from './port92.js';

function setup(a20?: boolean) {
  const events: string[] = [];
  const dev = new SystemControlPortA({ a20, onA20: (on) => events.push(`a20:${on}`), onReset: () => events.push('reset') });
  return { dev, port: dev.port(), events };
}

test('bit 1 gates A20 and reports each change; other bits read back', () => {
  const t = setup();
  assert.equal(t.port.ioRead(0, 1), 0x02, 'A20 on as firmware left it');
  t.port.ioWrite(0, 1, 0x00);
  t.port.ioWrite(0, 1, 0x00);
  t.port.ioWrite(0, 1, 0x0a);
  assert.deepEqual(t.events, ['a20:false', 'a20:true']);
  assert.equal(t.port.ioRead(0, 1), 0x0a);
  assert.equal(setup(false).dev.a20, false);
});

test('bit 0 going from 0 to 1 pulses reset; holding it at 1 does not repeat', () => {
  const t = setup();
  t.port.ioWrite(0, 1, 0x03);
  t.port.ioWrite(0, 1, 0x03);
  t.port.ioWrite(0, 1, 0x02);
  t.port.ioWrite(0, 1, 0x03);
  assert.deepEqual(t.events, ['reset', 'reset']);
});

test('port 0x92 state survives save and restore', () => {
  const a = setup();
  a.port.ioWrite(0, 1, 0x01);
  const b = setup();
  b.dev.restore(JSON.parse(JSON.stringify(a.dev.save())));
  assert.deepEqual(b.dev.save(), a.dev.save());
  assert.equal(b.dev.a20, false);
  b.port.ioWrite(0, 1, 0x03);
  assert.deepEqual(b.events, ['a20:true'], 'bit 0 was already 1: no new reset pulse');
});
