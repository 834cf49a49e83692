import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TimerQueue } from '../../bus/timer-queue.js';
import { AcpiPm, PM_TIMER_HZ, type AcpiPmOptions } from './acpi-pm.js';

function setup(extra: Partial<AcpiPmOptions> = {}) {
  let now = 0;
  const clock = { now: () => now };
  const timers = new TimerQueue();
  let sci = false;
  const sciEdges: number[] = [];
  let powerOffs = 0;
  const pm = new AcpiPm({
    clock, timers,
    sci: (l) => { if (l && !sci) sciEdges.push(now); sci = l; },
    onPowerOff: () => powerOffs++,
    ...extra,
  });
  const io = pm.ports();
  const advance = (ns: number) => { now += ns; timers.runDue(now); };
  const setNow = (ns: number) => { now = ns; timers.runDue(now); };
  return { pm, io, advance, setNow, sci: () => sci, sciEdges, powerOffs: () => powerOffs, timers };
}

test('PM_TMR counts at 3.579545 MHz in 24 bits and reads as a dword with the top byte zero', () => {
  const t = setup();
  const a = t.io.ioRead(8, 4);
  t.advance(1e9);
  const b = t.io.ioRead(8, 4);
  assert.ok(Math.abs(b - a - PM_TIMER_HZ) <= 1, `counted ${b - a}`);
  t.setNow(Math.ceil(((1 << 24) + 10) * (1e9 / PM_TIMER_HZ)));
  const c = t.io.ioRead(8, 4);
  assert.ok(c >= 10 && c < 12, `wrapped to ${c}`);
  assert.equal(t.io.ioRead(11, 1), 0);
  assert.equal(t.io.ioRead(8, 2), c & 0xffff, 'word read of the low half');
});

test('TMR_STS sets when bit 23 toggles and clears when 1 is written to it', () => {
  const t = setup();
  const toggleNs = (1 << 23) * (1e9 / PM_TIMER_HZ);
  t.setNow(toggleNs - 1000);
  assert.equal(t.io.ioRead(0, 2) & 1, 0);
  t.setNow(toggleNs + 1000);
  assert.equal(t.io.ioRead(0, 2) & 1, 1);
  t.io.ioWrite(0, 2, 0x0000);
  assert.equal(t.io.ioRead(0, 2) & 1, 1, 'writing 0 leaves it');
  t.io.ioWrite(0, 2, 0x0001);
  assert.equal(t.io.ioRead(0, 2) & 1, 0);
});

test('with TMR_EN the SCI rises at the bit-23 toggle, stays until TMR_STS is cleared, and fires again', () => {
  const t = setup();
  const toggleNs = (1 << 23) * (1e9 / PM_TIMER_HZ);
  t.io.ioWrite(2, 2, 0x0001); // TMR_EN
  assert.equal(t.sci(), false);
  t.advance(toggleNs - 10);
  assert.equal(t.sci(), false);
  t.advance(20);
  assert.equal(t.sci(), true, 'raised at the toggle itself');
  t.io.ioWrite(0, 2, 0x0001);
  assert.equal(t.sci(), false);
  t.advance(toggleNs);
  assert.equal(t.sci(), true);
  assert.equal(t.sciEdges.length, 2);
});

test('the power button sets PWRBTN_STS; the SCI follows PWRBTN_EN; a byte write of 1 clears it', () => {
  const t = setup();
  t.pm.pressPowerButton();
  assert.equal(t.io.ioRead(0, 2) & 0x100, 0x100);
  assert.equal(t.sci(), false, 'not enabled');
  t.io.ioWrite(3, 1, 0x01); // PWRBTN_EN, high byte of PM1_EN
  assert.equal(t.io.ioRead(2, 2), 0x0100);
  assert.equal(t.sci(), true);
  t.io.ioWrite(1, 1, 0x01); // clear PWRBTN_STS with a byte write
  assert.equal(t.io.ioRead(0, 2) & 0x100, 0);
  assert.equal(t.sci(), false);
});

test('SCI_EN is set at reset (no SMI_CMD: always in ACPI mode) and gates the SCI', () => {
  const t = setup();
  assert.equal(t.io.ioRead(4, 2) & 1, 1);
  t.io.ioWrite(2, 2, 0x0100);
  t.io.ioWrite(4, 2, 0x0000);
  t.pm.pressPowerButton();
  assert.equal(t.sci(), false);
  t.io.ioWrite(4, 2, 0x0001);
  assert.equal(t.sci(), true);
});

test('SLP_EN with the S5 sleep type powers off (PIIX4 encoding: SUS_TYP 0 = soft off); other types are ignored; SLP_EN reads 0', () => {
  const t = setup();
  t.io.ioWrite(4, 2, 0x0001 | (1 << 10)); // SLP_TYP = 1 staged (ACPICA writes the type first)
  t.io.ioWrite(4, 2, 0x0001 | (1 << 10) | 0x2000);
  assert.equal(t.powerOffs(), 0, 'S1 ignored');
  assert.equal(t.io.ioRead(4, 2), 0x0001 | (1 << 10), 'SLP_EN is write-only');
  t.io.ioWrite(4, 2, 0x0001 | (5 << 10) | 0x2000);
  assert.equal(t.powerOffs(), 0, 'SUS_TYP 5 is "working" on a PIIX4, not soft off');
  t.io.ioWrite(4, 2, 0x0001);
  assert.equal(t.powerOffs(), 0, 'no SLP_EN, no sleep');
  t.io.ioWrite(4, 2, 0x2001);
  assert.equal(t.powerOffs(), 1, 'SUS_TYP 0 with SLP_EN: soft off');
  const u = setup({ s5SlpTyp: 5 });
  u.io.ioWrite(4, 2, 0x0001 | (5 << 10) | 0x2000);
  assert.equal(u.powerOffs(), 1, 'a configurable S5 value');
});

test('GPE0: enabled status bits raise the SCI; writing 1 clears status; both halves byte-accessible', () => {
  const t = setup();
  t.pm.raiseGpe(2);
  assert.equal(t.io.ioRead(0x0c, 1), 0x04);
  assert.equal(t.sci(), false);
  t.io.ioWrite(0x0e, 1, 0x04);
  assert.equal(t.sci(), true);
  t.io.ioWrite(0x0c, 1, 0x04);
  assert.equal(t.io.ioRead(0x0c, 4), 0x00040000, 'status clear, enable kept');
  assert.equal(t.sci(), false);
  assert.equal(t.io.ioRead(0x20, 4), 0, 'other PIIX4 registers read 0');
});

test('saved state round-trips with the PM timer continuing from guest time', () => {
  const a = setup();
  a.io.ioWrite(2, 2, 0x0101);
  a.pm.pressPowerButton();
  a.pm.raiseGpe(1);
  a.advance(5e9); // past one TMR_STS toggle
  const saved = JSON.parse(JSON.stringify(a.pm.save()));
  const b = setup();
  b.advance(5e9);
  b.pm.restore(saved);
  assert.deepEqual(b.pm.save(), a.pm.save());
  assert.equal(b.io.ioRead(0, 2), a.io.ioRead(0, 2));
  assert.equal(b.io.ioRead(8, 4), a.io.ioRead(8, 4));
  assert.equal(b.pm.sciLevel, true, 'derived SCI level rebuilt');
  assert.throws(() => b.pm.restore({ ...saved, version: 0 }));
});
