import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DualPic } from './i8259.js';

/** Programs the pair as Linux does: vectors 0x20/0x28, cascade on IR2, 8086 mode. */
function init(pic: DualPic) {
  const m = pic.ports('master'), s = pic.ports('slave');
  m.ioWrite(0, 1, 0x11); m.ioWrite(1, 1, 0x20); m.ioWrite(1, 1, 0x04); m.ioWrite(1, 1, 0x01);
  s.ioWrite(0, 1, 0x11); s.ioWrite(1, 1, 0x28); s.ioWrite(1, 1, 0x02); s.ioWrite(1, 1, 0x01);
  m.ioWrite(1, 1, 0x00);
  s.ioWrite(1, 1, 0x00);
  return { m, s };
}

test('requests are delivered by priority and held off by in-service lower levels until EOI', () => {
  let intr = false;
  const pic = new DualPic((l) => (intr = l));
  const { m } = init(pic);
  pic.setIrq(3, true);
  pic.setIrq(1, true);
  assert.equal(intr, true);
  assert.equal(pic.acknowledge(), 0x21, 'IRQ1 beats IRQ3');
  assert.equal(pic.hasInterrupt(), false, 'IRQ3 waits while IRQ1 is in service');
  m.ioWrite(0, 1, 0x20); // non-specific EOI
  assert.equal(pic.acknowledge(), 0x23);
  m.ioWrite(0, 1, 0x0b); // OCW3: read ISR
  assert.equal(m.ioRead(0, 1), 0x08);
});

test('slave interrupts cascade through IR2; masked and spurious cases behave as the datasheet says', () => {
  const pic = new DualPic();
  const { m, s } = init(pic);
  pic.setIrq(12, true);
  assert.equal(pic.acknowledge(), 0x2c);
  s.ioWrite(0, 1, 0x20);
  m.ioWrite(0, 1, 0x20);
  s.ioWrite(1, 1, 0x10); // mask IRQ12
  pic.setIrq(12, false);
  pic.setIrq(12, true);
  assert.equal(pic.hasInterrupt(), false);
  assert.equal(pic.acknowledge(), 0x27, 'nothing pending: spurious IRQ7');
  assert.equal(s.ioRead(1, 1), 0x10);
});

test('level-triggered inputs (ELCR) stay requested while asserted', () => {
  const pic = new DualPic();
  init(pic);
  pic.elcrPorts().ioWrite(1, 1, 0x02); // IRQ9 level
  pic.setIrq(9, true);
  assert.equal(pic.acknowledge(), 0x29);
  pic.ports('slave').ioWrite(0, 1, 0x20);
  pic.ports('master').ioWrite(0, 1, 0x20);
  assert.equal(pic.hasInterrupt(), true, 'still asserted, so requested again');
  pic.setIrq(9, false);
  // The master latched the cascade edge; with the request gone the slave answers spuriously (IRQ15).
  assert.equal(pic.acknowledge(), 0x2f);
});

test('PIC state survives save and restore', () => {
  const a = new DualPic();
  init(a);
  a.setIrq(4, true);
  const b = new DualPic();
  b.restore(JSON.parse(JSON.stringify(a.save())));
  assert.deepEqual(b.save(), a.save());
  assert.equal(b.acknowledge(), 0x24);
});
