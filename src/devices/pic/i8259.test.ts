import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DualPic } from './i8259.js';

/** Programs the pair as Linux does: vectors 0x20/0x28, cascade on IR2, 8086 mode, `icw4` extra bits. */
function setup(icw4Master = 0x01, icw4Slave = 0x01) {
  const out: boolean[] = [];
  const pic = new DualPic((l) => out.push(l));
  const m = pic.ports('master');
  const s = pic.ports('slave');
  m.ioWrite(0, 1, 0x11); m.ioWrite(1, 1, 0x20); m.ioWrite(1, 1, 0x04); m.ioWrite(1, 1, icw4Master);
  s.ioWrite(0, 1, 0x11); s.ioWrite(1, 1, 0x28); s.ioWrite(1, 1, 0x02); s.ioWrite(1, 1, icw4Slave);
  const irr = (p = m) => (p.ioWrite(0, 1, 0x0a), p.ioRead(0, 1));
  const isr = (p = m) => (p.ioWrite(0, 1, 0x0b), p.ioRead(0, 1));
  const eoi = (p = m) => p.ioWrite(0, 1, 0x20);
  const edge = (n: number) => (pic.setIrq(n, true), pic.setIrq(n, false));
  return { pic, m, s, out, irr, isr, eoi, edge };
}

test('ICW1 clears the mask; ICW2 sets the vector base; OCW1 masks without losing requests', () => {
  const t = setup();
  assert.equal(t.m.ioRead(1, 1), 0x00, 'ICW1 clears IMR');
  t.m.ioWrite(1, 1, 0x08); // mask IR3
  t.edge(3);
  assert.equal(t.pic.hasInterrupt(), false);
  assert.equal(t.irr() & 0x08, 0x08, 'the request is latched in IRR while masked');
  t.m.ioWrite(1, 1, 0x00);
  assert.equal(t.pic.acknowledge(), 0x23);
});

test('fully nested priority: lower levels wait for EOI, higher levels nest, INTR follows', () => {
  const t = setup();
  t.edge(3);
  t.edge(1);
  assert.deepEqual(t.out, [true]);
  assert.equal(t.pic.acknowledge(), 0x21, 'IRQ1 beats IRQ3');
  assert.equal(t.pic.hasInterrupt(), false, 'IRQ3 waits while IRQ1 is in service');
  assert.deepEqual(t.out, [true, false]);
  t.edge(0);
  assert.equal(t.pic.acknowledge(), 0x20, 'IRQ0 nests above IRQ1');
  assert.equal(t.isr(), 0x03);
  t.eoi(); // non-specific EOI clears the highest in service: IR0
  assert.equal(t.isr(), 0x02);
  assert.equal(t.pic.hasInterrupt(), false);
  t.eoi();
  assert.equal(t.pic.acknowledge(), 0x23);
  t.m.ioWrite(0, 1, 0x63); // specific EOI for IR3
  assert.equal(t.isr(), 0x00);
});

test('rotation: rotate on EOI makes the served level lowest; set-priority and rotate in AEOI', () => {
  const t = setup();
  t.edge(0);
  t.edge(4);
  assert.equal(t.pic.acknowledge(), 0x20);
  t.m.ioWrite(0, 1, 0xa0); // rotate on non-specific EOI: IR0 becomes lowest, IR1 highest
  t.edge(0);
  assert.equal(t.pic.acknowledge(), 0x24, 'IR4 now ranks above IR0');
  t.m.ioWrite(0, 1, 0xe4); // rotate on specific EOI for IR4: IR5 highest
  assert.equal(t.pic.acknowledge(), 0x20);
  t.eoi();
  t.m.ioWrite(0, 1, 0xc5); // set priority: IR5 lowest, IR6 highest
  t.edge(5);
  t.edge(7);
  assert.equal(t.pic.acknowledge(), 0x27);

  const a = setup(0x03); // auto-EOI
  a.m.ioWrite(0, 1, 0x80); // rotate in automatic EOI mode
  a.edge(3);
  a.edge(6);
  assert.equal(a.pic.acknowledge(), 0x23);
  assert.equal(a.isr(), 0, 'auto-EOI leaves nothing in service');
  a.edge(3);
  assert.equal(a.pic.acknowledge(), 0x26, 'IR3 rotated to lowest after its auto-EOI');
});

test('edge requests latch; level requests (ELCR, LTIM) follow the input', () => {
  const t = setup();
  t.edge(5);
  assert.equal(t.pic.acknowledge(), 0x25, 'a pulse is remembered until INTA');
  t.eoi();
  t.pic.elcrPorts().ioWrite(0, 1, 0xff);
  assert.equal(t.pic.elcrPorts().ioRead(0, 1), 0xf8, 'IRQ 0-2 cannot be level-triggered');
  t.pic.elcrPorts().ioWrite(1, 1, 0xff);
  assert.equal(t.pic.elcrPorts().ioRead(1, 1), 0xde, 'IRQ 8 and 13 cannot be level-triggered');
  t.pic.setIrq(5, true);
  assert.equal(t.pic.acknowledge(), 0x25);
  t.eoi();
  assert.equal(t.pic.acknowledge(), 0x25, 'still asserted after EOI, so requested again');
  t.eoi();
  t.pic.setIrq(5, false);
  assert.equal(t.pic.hasInterrupt(), false);

  const l = setup();
  l.m.ioWrite(0, 1, 0x19); // ICW1 with LTIM
  l.m.ioWrite(1, 1, 0x20); l.m.ioWrite(1, 1, 0x04); l.m.ioWrite(1, 1, 0x01);
  l.pic.setIrq(6, true);
  assert.equal(l.irr() & 0x40, 0x40);
  l.pic.setIrq(6, false);
  assert.equal(l.irr() & 0x40, 0, 'LTIM: IRR follows the level');
});

test('ICW1 resets edge sensing: an input already high must go low and high again', () => {
  const t = setup();
  t.pic.setIrq(4, true);
  t.m.ioWrite(0, 1, 0x11); t.m.ioWrite(1, 1, 0x20); t.m.ioWrite(1, 1, 0x04); t.m.ioWrite(1, 1, 0x01);
  assert.equal(t.pic.hasInterrupt(), false);
  t.pic.setIrq(4, false);
  t.pic.setIrq(4, true);
  assert.equal(t.pic.acknowledge(), 0x24);
});

test('special mask mode opens lower levels; non-specific EOI skips masked in-service bits', () => {
  const t = setup();
  t.edge(3);
  assert.equal(t.pic.acknowledge(), 0x23);
  t.edge(5);
  assert.equal(t.pic.hasInterrupt(), false);
  t.m.ioWrite(1, 1, 0x08); // mask IR3 (in service)
  t.m.ioWrite(0, 1, 0x68); // OCW3: set special mask mode
  assert.equal(t.pic.acknowledge(), 0x25, 'IR5 gets through while IR3 is masked in service');
  t.eoi();
  assert.equal(t.isr(), 0x08, 'the EOI cleared IR5, not the masked IR3');
  t.m.ioWrite(0, 1, 0x48); // reset special mask mode
  t.eoi();
  assert.equal(t.isr(), 0x00, 'outside special mask mode a non-specific EOI clears it');
});

test('poll mode: the next read acts as INTA and returns the level with bit 7', () => {
  const t = setup();
  t.m.ioWrite(0, 1, 0x0c);
  assert.equal(t.m.ioRead(0, 1), 0x00, 'nothing pending');
  t.edge(6);
  t.m.ioWrite(0, 1, 0x0c);
  assert.equal(t.m.ioRead(1, 1), 0x86, 'either port returns the poll word');
  assert.equal(t.isr(), 0x40);
  assert.equal(t.m.ioRead(1, 1), 0x00, 'poll is one-shot: IMR again');
});

test('slave requests cascade through IR2: both chips put the level in service', () => {
  const t = setup();
  t.edge(12);
  t.edge(3);
  assert.equal(t.pic.acknowledge(), 0x2c, 'IRQ12 (on IR2) ranks above IRQ3');
  assert.equal(t.isr(t.m), 0x04);
  assert.equal(t.isr(t.s), 0x10);
  t.edge(1);
  assert.equal(t.pic.acknowledge(), 0x21, 'IRQ1 nests above the slave');
  t.eoi(); // IRQ1
  t.eoi(t.s);
  t.eoi();
  assert.equal(t.pic.acknowledge(), 0x23);
});

test('spurious IRQ7 and IRQ15 when a level request is gone at INTA', () => {
  const t = setup();
  t.pic.elcrPorts().ioWrite(0, 1, 0x20); // IRQ5 level
  t.pic.elcrPorts().ioWrite(1, 1, 0x02); // IRQ9 level
  t.pic.setIrq(5, true);
  t.pic.setIrq(5, false);
  assert.equal(t.pic.acknowledge(), 0x27);
  assert.equal(t.isr(), 0x00, 'a spurious IR7 sets no in-service bit');
  t.pic.setIrq(9, true);
  t.pic.setIrq(9, false); // the master latched the slave's INT edge on IR2
  assert.equal(t.pic.hasInterrupt(), true);
  assert.equal(t.pic.acknowledge(), 0x2f);
  assert.equal(t.isr(t.m), 0x04, 'the master still put IR2 in service (the OS must EOI it)');
  assert.equal(t.isr(t.s), 0x00);
  assert.equal(t.pic.spurious, 2);
});

test('special fully nested mode lets a higher slave request through while the slave is in service', () => {
  const t = setup(0x11);
  t.edge(12);
  assert.equal(t.pic.acknowledge(), 0x2c);
  t.edge(9);
  assert.equal(t.pic.acknowledge(), 0x29);
  const n = setup();
  n.edge(12);
  n.pic.acknowledge();
  n.edge(9);
  assert.equal(n.pic.hasInterrupt(), false, 'without SFNM the master holds IR2 off');
});

test('PIC state survives save and restore into a fresh pair', () => {
  const a = setup();
  a.m.ioWrite(1, 1, 0x10);
  a.edge(4); // masked, pending
  a.edge(3);
  a.pic.acknowledge();
  a.edge(12);
  a.m.ioWrite(0, 1, 0x0b);
  const b = new DualPic();
  b.restore(JSON.parse(JSON.stringify(a.pic.save())));
  assert.deepEqual(b.save(), a.pic.save());
  assert.equal(b.intrLevel, a.pic.intrLevel);
  for (const p of [a.pic, b]) {
    const m = p.ports('master');
    assert.equal(m.ioRead(0, 1), 0x08, 'read-ISR selection survived');
    assert.equal(p.hasInterrupt(), true, 'IR2 (slave) outranks IR3 in service');
    assert.equal(p.acknowledge(), 0x2c);
  }
});
