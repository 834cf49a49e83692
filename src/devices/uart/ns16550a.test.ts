import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Uart16550 } from './ns16550a.js';
import { TimerQueue } from '../../bus/timer-queue.js';

const RBR = 0, THR = 0, IER = 1, IIR = 2, FCR = 2, LCR = 3, MCR = 4, LSR = 5, MSR = 6, SCR = 7;

function setup(startNs = 0) {
  let now = startNs;
  let irq = false;
  const out: number[] = [];
  const timers = new TimerQueue();
  const u = new Uart16550({ name: 'com1', clock: { now: () => now }, timers, irq: (l) => (irq = l), output: (b) => out.push(b) });
  const rd = (r: number) => u.readRegister(r);
  const wr = (r: number, v: number) => u.writeRegister(r, v);
  const advance = (ns: number) => {
    now += ns;
    timers.runDue(now);
  };
  const drain = () => {
    const got: number[] = [];
    while (rd(LSR) & 1) got.push(rd(RBR));
    return got;
  };
  return { u, out, rd, wr, irq: () => irq, advance, drain, now: () => now, timers };
}

test('THR bytes reach the sink; DLAB maps offsets 0 and 1 to the divisor latch; LCR and SCR read back', () => {
  const t = setup();
  t.wr(LCR, 0x83);
  t.wr(0, 0x01);
  t.wr(1, 0x00);
  t.wr(LCR, 0x03);
  assert.deepEqual([t.u.dll, t.u.dlm], [1, 0]);
  assert.equal(t.rd(LCR), 0x03);
  t.wr(THR, 0x41);
  t.wr(THR, 0x42);
  assert.deepEqual(t.out, [0x41, 0x42]);
  assert.equal(t.rd(LSR) & 0x60, 0x60, 'THRE and TEMT: transmission is instantaneous');
  t.wr(SCR, 0x5a);
  assert.equal(t.rd(SCR), 0x5a);
  assert.equal(t.rd(IIR), 0x01, 'no FIFOs, nothing pending');
});

test('the THRE interrupt: raised by enabling ETBEI, cleared by reading IIR, re-raised by writing THR, gated by OUT2', () => {
  const t = setup();
  t.wr(IER, 0x02);
  assert.equal(t.irq(), false, 'OUT2 low: the PC\'s interrupt buffer is off');
  t.wr(MCR, 0x08);
  assert.equal(t.irq(), true);
  assert.equal(t.rd(IIR), 0x02);
  assert.equal(t.irq(), false);
  assert.equal(t.rd(IIR), 0x01, 'cleared by the read that reported it');
  t.wr(THR, 0x20);
  assert.equal(t.irq(), true);
  t.wr(IER, 0x00);
  assert.equal(t.irq(), false);
});

test('without FIFOs, received bytes arrive one at a time through RBR; the rest wait in the host backlog', () => {
  const t = setup();
  t.wr(MCR, 0x08);
  t.wr(IER, 0x01);
  t.u.receive([1, 2, 3]);
  assert.equal(t.irq(), true);
  assert.equal(t.rd(IIR), 0x04);
  assert.equal(t.u.pendingInput, 2);
  assert.deepEqual(t.drain(), [1, 2, 3]);
  assert.equal(t.irq(), false);
});

test('FIFO trigger levels 1, 4, 8 and 14 decide when received data interrupts', () => {
  for (const [bits, level] of [[0x00, 1], [0x40, 4], [0x80, 8], [0xc0, 14]]) {
    const t = setup();
    t.wr(MCR, 0x08);
    t.wr(FCR, 0x01 | bits);
    t.wr(IER, 0x01);
    t.u.receive(new Array(level - 1).fill(7));
    assert.equal(t.irq(), false);
    t.u.receive([8]);
    assert.equal(t.irq(), true, `trigger ${level}`);
    assert.equal(t.rd(IIR), 0xc4);
    t.rd(RBR);
    assert.equal(t.irq(), false, 'below the trigger again');
  }
});

test('character timeout: data below the trigger interrupts after 4 character times; reading clears it', () => {
  const t = setup();
  t.wr(MCR, 0x08);
  t.wr(FCR, 0x81); // trigger 8
  t.wr(IER, 0x01);
  t.u.receive([1, 2, 3]); // 9600 baud 5N1: 7 bits = 729 us a character
  t.wr(LCR, 0x00);
  t.u.receive([4]); // restarts the timer with the new frame
  const charNs = (7 * 1e9 * 12) / 115200;
  t.advance(4 * charNs - 1000);
  assert.equal(t.irq(), false);
  t.advance(1000);
  assert.equal(t.irq(), true);
  assert.equal(t.rd(IIR), 0xcc);
  assert.equal(t.rd(RBR), 1);
  assert.equal(t.irq(), false, 'the read cleared the timeout and restarted it');
  t.advance(4 * charNs);
  assert.equal(t.rd(IIR), 0xcc);
  assert.deepEqual(t.drain(), [2, 3, 4]);
  t.advance(1e9);
  assert.equal(t.rd(IIR), 0xc1, 'an empty FIFO never times out');
});

test('the IIR reports sources in priority order: line status, received data, THRE, modem status', () => {
  const t = setup();
  t.wr(FCR, 0x07);
  t.wr(IER, 0x0f);
  t.wr(MCR, 0x12); // loopback with RTS: CTS changes
  for (let k = 0; k < 17; k++) t.wr(THR, k);
  assert.equal(t.rd(IIR), 0xc6, 'overrun: the 17th byte did not fit');
  assert.equal(t.rd(LSR) & 0x03, 0x03, 'DR and OE; reading LSR clears OE');
  assert.equal(t.rd(IIR), 0xc4);
  assert.deepEqual(t.drain(), [...Array(16).keys()], 'in FIFO mode the overrunning byte is the one lost');
  assert.equal(t.rd(IIR), 0xc2);
  assert.equal(t.rd(IIR), 0xc0, 'modem status last');
  assert.equal(t.rd(MSR), 0x1a, 'CTS from RTS; DSR and DCD dropped as loopback cut the host lines');
  assert.equal(t.rd(IIR), 0xc1);
});

test('loopback: TX feeds RX, MCR outputs drive MSR inputs, nothing reaches the sink or the IRQ pin', () => {
  const t = setup();
  t.wr(MCR, 0x1a); // LOOP | OUT2 | RTS, as Linux's autoconfig probes it
  assert.equal(t.rd(MSR) & 0xf0, 0x90, 'DCD from OUT2, CTS from RTS');
  t.wr(MCR, 0x1f);
  assert.equal(t.rd(MSR) & 0xf0, 0xf0);
  t.wr(IER, 0x01);
  t.wr(THR, 0x55);
  assert.deepEqual(t.out, []);
  assert.equal(t.rd(IIR) & 0x0f, 0x04);
  assert.equal(t.irq(), false, 'the OUT2 pin is forced inactive in loopback');
  assert.equal(t.rd(RBR), 0x55);
  t.wr(THR, 1);
  t.wr(THR, 2);
  assert.equal(t.rd(LSR) & 0x02, 0x02, 'no FIFO: the second byte overran the first');
  assert.equal(t.rd(RBR), 2);
  t.u.receive([9]);
  assert.equal(t.rd(LSR) & 0x01, 0, 'host input waits while the serial input is disconnected');
  t.wr(MCR, 0x08);
  assert.equal(t.rd(RBR), 9);
});

test('FCR: enabling or disabling the FIFOs clears them, RCVR reset clears, bits need FCR0', () => {
  const t = setup();
  t.wr(FCR, 0xc1);
  t.u.receive([1, 2, 3]);
  t.wr(FCR, 0xc3);
  assert.equal(t.rd(LSR) & 1, 0, 'receiver FIFO reset');
  assert.equal(t.rd(IIR) & 0xc0, 0xc0);
  t.u.receive([4, 5]);
  t.wr(FCR, 0xc0);
  assert.equal(t.rd(IIR) & 0xc0, 0x00, 'FCR0 = 0: FIFOs off');
  assert.deepEqual(t.drain(), [], 'disabling cleared the FIFO');
});

test('host input beyond the FIFO is kept in order and delivered as the guest reads', () => {
  const t = setup();
  t.wr(FCR, 0x01);
  const data = Array.from({ length: 40 }, (_, k) => k + 100);
  t.u.receive(data);
  assert.equal(t.u.pendingInput, 24);
  assert.deepEqual(t.drain(), data);
  assert.equal(t.u.pendingInput, 0);
});

test('modem status inputs from the host set delta bits and the modem status interrupt', () => {
  const t = setup();
  t.wr(MCR, 0x08);
  t.wr(IER, 0x08);
  assert.equal(t.rd(MSR), 0xb0, 'CTS, DSR, DCD asserted by default');
  t.u.setModemInputs({ dcd: false, ri: true });
  assert.equal(t.irq(), true);
  assert.equal(t.rd(IIR), 0x00);
  assert.equal(t.rd(MSR), 0x78, 'DDCD; CTS, DSR and RI now asserted (RI rising sets no delta)');
  assert.equal(t.irq(), false);
  t.u.setModemInputs({ ri: false });
  assert.equal(t.rd(MSR), 0x34, 'TERI on the trailing edge of RI');
});

test('UART state survives save and restore: same bytes, same pending timeout, same interrupts', () => {
  const a = setup();
  a.wr(MCR, 0x0b);
  a.wr(FCR, 0x81);
  a.wr(IER, 0x0d);
  a.wr(LCR, 0x1b);
  a.wr(SCR, 0x33);
  a.u.receive(Array.from({ length: 20 }, (_, k) => k));
  a.rd(RBR);
  a.advance(1e5);
  const saved = JSON.parse(JSON.stringify(a.u.save()));
  const b = setup(a.now());
  b.u.restore(saved);
  assert.deepEqual(b.u.save(), saved);
  assert.equal(b.irq(), false, 'restore does not drive the line');
  for (const t of [a, b]) {
    assert.equal(t.rd(IIR), 0xc4);
    for (let k = 0; k < 12; k++) t.rd(RBR);
    t.advance(5e6); // 4 characters of 11 bits at 9600 baud: 4.58 ms
    assert.equal(t.rd(IIR), 0xcc);
    assert.deepEqual(t.drain(), Array.from({ length: 7 }, (_, k) => k + 13));
    assert.equal(t.rd(SCR), 0x33);
  }
});
