import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TimerQueue } from '../../bus/timer-queue.js';
import { LocalApic, LAPIC_VERSION, type ApicIpi, type LapicOptions } from './lapic.js';

const ID = 0x020, VER = 0x030, TPR = 0x080, PPR = 0x0a0, EOI = 0x0b0, LDR = 0x0d0, DFR = 0x0e0, SVR = 0x0f0;
const ISR = 0x100, TMR = 0x180, IRR = 0x200, ESR = 0x280, ICR_LO = 0x300, ICR_HI = 0x310;
const LVT_TIMER = 0x320, LVT_LINT0 = 0x350, LVT_LINT1 = 0x360, LVT_ERR = 0x370;
const TIMER_ICR = 0x380, TIMER_CCR = 0x390, TIMER_DCR = 0x3e0;

function setup(extra: Partial<LapicOptions> = {}) {
  let now = 0;
  const clock = { now: () => now };
  const timers = new TimerQueue();
  let intr = false;
  const nmis: number[] = [];
  const eois: number[] = [];
  const ipis: ApicIpi[] = [];
  const apic = new LocalApic({
    clock, timers, apicId: 0, busHz: 100e6,
    onIntr: (l) => { intr = l; },
    onNmi: () => nmis.push(now),
    onEoi: (v) => eois.push(v),
    sendIpi: (m) => ipis.push(m),
    ...extra,
  });
  const r = (off: number) => apic.mmioRead(off, 4) >>> 0;
  const w = (off: number, v: number) => apic.mmioWrite(off, 4, v);
  const advance = (ns: number) => { now += ns; timers.runDue(now); };
  const enable = () => w(SVR, 0x1ff);
  return { apic, r, w, advance, enable, intr: () => intr, nmis, eois, ipis, timers, clock };
}

function bit(t: ReturnType<typeof setup>, base: number, v: number): boolean {
  return ((t.r(base + ((v >> 5) << 4)) >>> (v & 31)) & 1) === 1;
}

test('power-up state: version 14h with six LVTs, all LVTs masked, DFR all ones, APIC software-disabled', () => {
  const t = setup({ apicId: 3 });
  assert.equal(t.r(VER), LAPIC_VERSION);
  assert.equal((t.r(VER) >> 16) & 0xff, 5);
  assert.equal(t.r(ID), 3 << 24);
  assert.equal(t.r(DFR), 0xffffffff);
  assert.equal(t.r(SVR), 0xff);
  for (let off = 0x320; off <= 0x370; off += 0x10) assert.equal(t.r(off), 0x10000, `LVT 0x${off.toString(16)}`);
  assert.deepEqual(t.apic.readApicBase(), [0xfee00900 | 0, 0]);
});

test('a fixed interrupt goes IRR -> ISR on acknowledge and EOI retires it', () => {
  const t = setup();
  t.enable();
  t.apic.acceptInterrupt(0x41, false);
  assert.ok(t.intr());
  assert.ok(bit(t, IRR, 0x41));
  assert.equal(t.apic.acknowledge(), 0x41);
  assert.ok(!bit(t, IRR, 0x41));
  assert.ok(bit(t, ISR, 0x41));
  assert.equal(t.r(PPR), 0x40, 'PPR follows the in-service class');
  assert.ok(!t.intr());
  t.w(EOI, 0);
  assert.ok(!bit(t, ISR, 0x41));
  assert.equal(t.r(PPR), 0);
  assert.deepEqual(t.eois, [], 'edge-triggered EOI is not broadcast');
});

test('TPR and in-service priority classes hold back lower and equal classes', () => {
  const t = setup();
  t.enable();
  t.w(TPR, 0x50);
  t.apic.acceptInterrupt(0x55, false);
  assert.ok(!t.apic.hasInterrupt(), 'class 5 is not above TPR class 5');
  t.apic.acceptInterrupt(0x61, false);
  assert.ok(t.apic.hasInterrupt());
  assert.equal(t.apic.acknowledge(), 0x61);
  t.w(TPR, 0);
  // 0x55 is below the in-service 0x61: held until EOI.
  assert.ok(!t.apic.hasInterrupt());
  t.w(EOI, 0);
  assert.ok(t.apic.hasInterrupt());
  assert.equal(t.apic.acknowledge(), 0x55);
});

test('higher-priority interrupts nest: ISR holds both and EOI retires the highest first', () => {
  const t = setup();
  t.enable();
  t.apic.acceptInterrupt(0x30, false);
  assert.equal(t.apic.acknowledge(), 0x30);
  t.apic.acceptInterrupt(0x80, false);
  assert.equal(t.apic.acknowledge(), 0x80);
  t.w(EOI, 0);
  assert.ok(bit(t, ISR, 0x30) && !bit(t, ISR, 0x80));
});

test('the spurious vector answers an INTA when TPR rose after INTR was seen', () => {
  const t = setup();
  t.w(SVR, 0x1ef);
  t.apic.acceptInterrupt(0x41, false);
  t.w(TPR, 0xf0);
  assert.equal(t.apic.acknowledge(), 0xef);
  assert.ok(bit(t, IRR, 0x41), 'the request stays pending');
  assert.ok(!bit(t, ISR, 0xef));
});

test('level-triggered vectors set TMR and broadcast their EOI (for I/O APIC remote IRR)', () => {
  const t = setup();
  t.enable();
  t.apic.acceptInterrupt(0x61, true);
  assert.ok(bit(t, TMR, 0x61));
  t.apic.acknowledge();
  t.w(EOI, 0);
  assert.deepEqual(t.eois, [0x61]);
  assert.ok(!bit(t, TMR, 0x61));
});

test('vectors 0-15 are illegal: ESR shows it after the ESR write, and the LVT error fires', () => {
  const t = setup();
  t.enable();
  t.w(LVT_ERR, 0xfe);
  t.apic.acceptInterrupt(0x05, false);
  assert.equal(t.r(ESR), 0, 'ESR updates only on a write');
  t.w(ESR, 0);
  assert.equal(t.r(ESR), 0x40);
  t.w(ESR, 0);
  assert.equal(t.r(ESR), 0, 'the next write clears it');
  assert.ok(bit(t, IRR, 0xfe), 'LVT error vector requested');
  t.w(ICR_LO, 0x00044003); // fixed vector 3 to self
  t.w(ESR, 0);
  assert.equal(t.r(ESR), 0x20, 'send illegal vector');
});

test('software disable masks every LVT and keeps the masks set', () => {
  const t = setup();
  t.enable();
  t.w(LVT_TIMER, 0x20);
  t.w(LVT_LINT0, 0x700);
  assert.equal(t.r(LVT_TIMER), 0x20);
  t.w(SVR, 0xff);
  assert.equal(t.r(LVT_TIMER), 0x10020);
  t.w(LVT_LINT0, 0x700);
  assert.equal(t.r(LVT_LINT0), 0x10700);
});

test('a software-disabled APIC refuses fixed messages but takes NMI', () => {
  const t = setup();
  assert.ok(t.apic.receive({ vector: 0x40, deliveryMode: 0, destination: 0, logical: false, levelTriggered: false, assert: true }));
  assert.ok(!bit(t, IRR, 0x40));
  t.apic.receive({ vector: 0, deliveryMode: 4, destination: 0xff, logical: false, levelTriggered: false, assert: true });
  assert.equal(t.nmis.length, 1);
});

function fakePic() {
  let pending = false;
  let acks = 0;
  return {
    pic: { hasInterrupt: () => pending, acknowledge: () => { acks++; pending = false; return 0x20; } },
    set: (p: boolean) => { pending = p; },
    acks: () => acks,
  };
}

test('virtual wire: the 8259A reaches the CPU through LINT0 in ExtINT mode, and INTA goes to the 8259A', () => {
  const p = fakePic();
  const t = setup({ pic: p.pic });
  p.set(true);
  t.apic.setLint0(true);
  assert.ok(!t.intr(), 'masked at power-up');
  t.apic.firmwareVirtualWire();
  assert.equal(t.r(LVT_LINT0), 0x700);
  assert.equal(t.r(LVT_LINT1), 0x400);
  assert.ok(t.intr());
  assert.equal(t.apic.acknowledge(), 0x20);
  assert.equal(p.acks(), 1);
  t.apic.setLint0(false);
  assert.ok(!t.intr());
  // ExtINT ignores TPR.
  t.w(TPR, 0xff);
  p.set(true);
  t.apic.setLint0(true);
  assert.ok(t.intr());
  // Masking LINT0 (as Linux does once the I/O APIC takes over) cuts the 8259A off.
  t.w(LVT_LINT0, 0x10700);
  assert.ok(!t.intr());
});

test('LINT1 in NMI mode raises NMI on a rising edge', () => {
  const t = setup();
  t.apic.firmwareVirtualWire();
  t.apic.setLint1(true);
  t.apic.setLint1(true);
  t.apic.setLint1(false);
  assert.equal(t.nmis.length, 1);
});

test('LINT0 as a fixed level-triggered input uses remote IRR until EOI', () => {
  const t = setup();
  t.enable();
  t.w(LVT_LINT0, 0x8031); // level, fixed, vector 0x31
  t.apic.setLint0(true);
  assert.ok(bit(t, IRR, 0x31));
  assert.ok(t.r(LVT_LINT0) & 0x4000, 'remote IRR set');
  assert.equal(t.apic.acknowledge(), 0x31);
  t.w(EOI, 0);
  // Still asserted: requests again.
  assert.ok(bit(t, IRR, 0x31));
  t.apic.acknowledge();
  t.apic.setLint0(false);
  t.w(EOI, 0);
  assert.equal(t.r(LVT_LINT0) & 0x4000, 0);
  assert.ok(!bit(t, IRR, 0x31));
});

test('IA32_APIC_BASE: clearing global enable gives PIC mode and resets the registers; bad values #GP', () => {
  const p = fakePic();
  const moves: Array<[number, boolean]> = [];
  const t = setup({ pic: p.pic, onBaseChange: (b, e) => moves.push([b, e]) });
  t.enable();
  t.w(TPR, 0x20);
  assert.equal(t.apic.writeApicBase(0xfee00000, 0), true);
  assert.deepEqual(moves, [[0xfee00000, false]]);
  assert.equal(t.apic.readApicBase()[0] >>> 0, 0xfee00100, 'BSP bit stays');
  p.set(true);
  t.apic.setLint0(true);
  assert.ok(t.intr(), 'INTR follows the 8259A with no LVT programming');
  assert.equal(t.apic.acknowledge(), 0x20);
  assert.equal(t.apic.mmioRead(TPR, 4), -1, 'registers are gone from the bus');
  assert.equal(t.apic.writeApicBase(0xfee00800, 0), true);
  assert.equal(t.r(TPR), 0, 'state was lost');
  assert.equal(t.r(SVR), 0xff);
  assert.equal(t.apic.writeApicBase(0xfee00c00, 0), false, 'x2APIC enable is not offered');
  assert.equal(t.apic.writeApicBase(0xfee00801, 0), false, 'reserved bits');
  assert.equal(t.apic.writeApicBase(0xfee00800, 1), false, 'above 4 GiB');
});

test('one-shot timer: the current count falls at bus/divisor and the vector fires once at zero', () => {
  const t = setup();
  t.enable();
  t.w(TIMER_DCR, 0x3); // divide by 16 -> 160 ns per count at 100 MHz
  t.w(LVT_TIMER, 0xec);
  t.w(TIMER_ICR, 1000);
  t.advance(160 * 250);
  assert.equal(t.r(TIMER_CCR), 750);
  t.advance(160 * 749);
  assert.equal(t.r(TIMER_CCR), 1);
  assert.ok(!bit(t, IRR, 0xec));
  t.advance(160);
  assert.equal(t.r(TIMER_CCR), 0);
  assert.ok(bit(t, IRR, 0xec));
  t.apic.acknowledge();
  t.w(EOI, 0);
  t.advance(1e6);
  assert.ok(!bit(t, IRR, 0xec), 'one-shot fires once');
});

test('periodic timer reloads and fires once per period; divide by 1 and by 128', () => {
  const t = setup();
  t.enable();
  t.w(TIMER_DCR, 0xb); // divide by 1: 10 ns per count
  t.w(LVT_TIMER, 0x200ec);
  t.w(TIMER_ICR, 100_000); // 1 ms
  let fired = 0;
  for (let k = 0; k < 1000; k++) {
    t.advance(100_000);
    if (bit(t, IRR, 0xec)) { fired++; t.apic.acknowledge(); t.w(EOI, 0); }
  }
  assert.equal(fired, 100);
  t.w(TIMER_DCR, 0xa); // divide by 128
  const c0 = t.r(TIMER_CCR);
  t.advance(1280 * 10);
  assert.equal(c0 - t.r(TIMER_CCR), 10, 'changing the divider keeps counting from the current value');
});

test('a masked timer still counts down but requests nothing; writing 0 stops it', () => {
  const t = setup();
  t.enable();
  t.w(LVT_TIMER, 0x100ec);
  t.w(TIMER_ICR, 10);
  t.advance(1e6);
  assert.equal(t.r(TIMER_CCR), 0);
  assert.ok(!bit(t, IRR, 0xec));
  t.w(LVT_TIMER, 0x200ec);
  t.w(TIMER_ICR, 1000);
  t.w(TIMER_ICR, 0);
  assert.equal(t.timers.size, 0);
  assert.equal(t.r(TIMER_CCR), 0);
});

test('ICR: self shorthand delivers here only; all-but-self goes out only; physical self ID is local', () => {
  const t = setup({ apicId: 2 });
  t.enable();
  t.w(ICR_LO, 0x00040051); // self, fixed 0x51
  assert.ok(bit(t, IRR, 0x51));
  assert.equal(t.ipis.length, 0);
  t.w(ICR_LO, 0x000c0052); // all excluding self
  assert.ok(!bit(t, IRR, 0x52));
  assert.equal(t.ipis.length, 1);
  assert.equal(t.ipis[0].shorthand, 3);
  t.w(ICR_HI, 0x02000000);
  t.w(ICR_LO, 0x00000053); // physical destination 2 = us
  assert.ok(bit(t, IRR, 0x53));
  assert.equal(t.ipis.length, 1, 'an IPI for this APIC alone does not go out');
  t.w(ICR_HI, 0x05000000);
  t.w(ICR_LO, 0x00000054); // another CPU
  assert.ok(!bit(t, IRR, 0x54));
  assert.equal(t.ipis.at(-1)!.destination, 5);
  assert.equal(t.r(ICR_LO) & 0x1000, 0, 'delivery status idle');
  t.w(ICR_LO, 0x00040400); // NMI to self
  assert.equal(t.nmis.length, 1);
});

test('logical destinations: flat model ANDs the LDR; cluster model matches cluster and member bits', () => {
  const t = setup();
  t.w(LDR, 0x04000000);
  assert.ok(t.apic.matchesDestination(0x06, true));
  assert.ok(!t.apic.matchesDestination(0x03, true));
  assert.ok(t.apic.matchesDestination(0xff, true));
  t.w(DFR, 0x0fffffff); // cluster
  assert.equal(t.r(DFR), 0x0fffffff);
  t.w(LDR, 0x32000000); // cluster 3, member bit 1
  assert.ok(t.apic.matchesDestination(0x32, true));
  assert.ok(t.apic.matchesDestination(0x36, true));
  assert.ok(!t.apic.matchesDestination(0x22, true));
  assert.ok(t.apic.matchesDestination(0xf2, true));
  assert.ok(!t.apic.matchesDestination(0x31, true));
});

test('ExtINT messages (I/O APIC pin in ExtINT mode) take their vector from the 8259A', () => {
  const p = fakePic();
  const t = setup({ pic: p.pic });
  t.enable();
  p.set(true);
  t.apic.receive({ vector: 0, deliveryMode: 7, destination: 0, logical: false, levelTriggered: false, assert: true });
  assert.ok(t.intr());
  assert.equal(t.apic.acknowledge(), 0x20);
  assert.ok(!t.intr());
});

test('saved state round-trips, and a running periodic timer keeps its phase', () => {
  const a = setup();
  a.enable();
  a.w(TPR, 0x10);
  a.w(LDR, 0x01000000);
  a.apic.acceptInterrupt(0x99, true);
  a.apic.acknowledge();
  a.apic.acceptInterrupt(0x42, false);
  a.w(LVT_TIMER, 0x200e0);
  a.w(TIMER_DCR, 0xb);
  a.w(TIMER_ICR, 5000); // 50 us at 10 ns per count
  a.advance(12_345);
  const saved = JSON.parse(JSON.stringify(a.apic.save()));

  const b = setup();
  b.advance(12_345);
  b.apic.restore(saved);
  assert.deepEqual(b.apic.save(), a.apic.save());
  assert.equal(b.r(TIMER_CCR), a.r(TIMER_CCR));
  assert.equal(b.intr(), false, 'INTR level is derived, not driven on restore');
  a.advance(50_000 - 12_345);
  b.advance(50_000 - 12_345);
  assert.ok(bit(a, IRR, 0xe0) && bit(b, IRR, 0xe0));
  assert.throws(() => b.apic.restore({ ...saved, version: 9 }));
});
