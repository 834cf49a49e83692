/**
 * The interrupt path as the machine wires it: a level-triggered SCI from the ACPI PM block enters
 * I/O APIC pin 9, becomes a message for the local APIC, reaches the CPU's INTR, and the local
 * APIC's EOI broadcast clears Remote IRR so a still-asserted line is delivered again.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TimerQueue } from '../../bus/timer-queue.js';
import { AcpiPm } from '../acpi-pm/acpi-pm.js';
import { LocalApic } from '../lapic/lapic.js';
import { IoApic } from './ioapic.js';

test('SCI -> I/O APIC pin 9 (level) -> local APIC -> INTR; EOI broadcast re-arms the pin', () => {
  const clock = { now: () => 0 };
  const timers = new TimerQueue();
  let intr = false;
  let ioapic: IoApic | undefined = undefined;
  const lapic = new LocalApic({ clock, timers, onIntr: (l) => { intr = l; }, onEoi: (v) => ioapic!.eoi(v) });
  ioapic = new IoApic({ deliver: (msg) => { lapic.receive(msg); } });
  const pm = new AcpiPm({ clock, timers, sci: (l) => ioapic!.setIrq(9, l) });
  lapic.mmioWrite(0xf0, 4, 0x1ff); // software enable
  ioapic.mmioWrite(0, 4, 0x10 + 18); // IOREDTBL9 low: vector 0x39, level, physical dest 0
  ioapic.mmioWrite(0x10, 4, 0x8039);

  pm.ports().ioWrite(2, 2, 0x0100); // PWRBTN_EN
  pm.pressPowerButton();
  assert.ok(intr);
  assert.equal(lapic.acknowledge(), 0x39);
  assert.ok(!intr);
  lapic.mmioWrite(0xb0, 4, 0); // EOI without clearing the status: the line is still high
  assert.ok(intr, 'delivered again after EOI');
  assert.equal(lapic.acknowledge(), 0x39);
  pm.ports().ioWrite(0, 2, 0x0100); // the handler clears PWRBTN_STS
  lapic.mmioWrite(0xb0, 4, 0);
  assert.ok(!intr);
});
