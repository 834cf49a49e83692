import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PortBus, type PortDevice } from '../../bus/port-bus.js';
import { PhysicalMemory, type MmioHandler } from '../../memory/physical.js';
import { PciBus, barMapper, pirqOf, type PciBusListener } from './pci-bus.js';
import { PciFunction, type PciIdentity } from './pci-function.js';
import { I440fxHostBridge, pamRegions, SMRAM_D_LCK, SMRAM_D_OPEN, SMRAM_G_SMRAME } from './i440fx.js';
import { Piix3IsaBridge } from './piix3.js';
import { Piix4PowerManagement } from './piix4-pm.js';

/** A test device with one I/O BAR, one memory BAR and INTA#. */
class TestDevice extends PciFunction {
  ioReads = 0;
  readonly io: PortDevice = { name: 'test-io', ioRead: () => { this.ioReads++; return 0x5a; }, ioWrite: () => {} };
  readonly mem: MmioHandler = { name: 'test-mem', mmioRead: () => 0x1234, mmioWrite: () => {} };
  constructor(id: Partial<PciIdentity> = {}) {
    super('test', {
      vendorId: 0x1af4, deviceId: 0x1000, revision: 1, classCode: 0x020000, interruptPin: 1,
      bars: [{ kind: 'io', size: 0x20 }, { kind: 'mmio', size: 0x1000 }, { kind: 'mmio', size: 0x4000, prefetchable: true }],
      ...id,
    });
  }
  override ioBar(bar: number): PortDevice | undefined { return bar === 0 ? this.io : undefined; }
  override mmioBar(bar: number): MmioHandler | undefined { return bar === 1 ? this.mem : undefined; }
  /** Test hook: raise a status error bit as the hardware would. */
  flagError(bits: number): void { this.config[0x07] |= bits; }
}

function machine(listener: PciBusListener = {}) {
  const ports = new PortBus();
  const mem = new PhysicalMemory(1 << 20);
  const events: string[] = [];
  const resets: boolean[] = [];
  const pciBus = new PciBus({
    barChanged: (...a) => { events.push(`bar ${a[0].name} ${a[1]} ${a[3]?.toString(16)} -> ${a[4]?.toString(16)}`); barMapper(ports, mem)(...a); },
    ...listener,
  });
  const piix3 = new Piix3IsaBridge({ onReset: (hard) => resets.push(hard) });
  pciBus.attach(0, 0, new I440fxHostBridge());
  pciBus.attach(1, 0, piix3);
  ports.register(0xcf8, 4, pciBus.addressPorts(piix3.resetControlPort()));
  ports.register(0xcfc, 4, pciBus.dataPorts());
  const cfg = (dev: number, fn: number, reg: number) => ports.write(0xcf8, 4, 0x80000000 | (dev << 11) | (fn << 8) | reg);
  const rd = (dev: number, fn: number, reg: number, size: 1 | 2 | 4 = 4) => { cfg(dev, fn, reg & 0xfc); return ports.read(0xcfc + (reg & 3), size); };
  const wr = (dev: number, fn: number, reg: number, size: 1 | 2 | 4, v: number) => { cfg(dev, fn, reg & 0xfc); ports.write(0xcfc + (reg & 3), size, v); };
  return { ports, mem, pciBus, piix3, events, resets, rd, wr };
}

test('configuration mechanism #1: IDs at 00:00.0 through 0CF8h/0CFCh with byte, word and dword reads', () => {
  const m = machine();
  assert.equal(m.rd(0, 0, 0), 0x12378086);
  assert.equal(m.rd(0, 0, 2, 2), 0x1237);
  assert.equal(m.rd(0, 0, 1, 1), 0x80);
  assert.equal(m.rd(1, 0, 0), 0x70008086);
  assert.equal(m.rd(1, 0, 0x0e, 1), 0x80, 'PIIX3 is multi-function');
  assert.equal(m.rd(1, 0, 0x08) >>> 8, 0x060100, 'ISA bridge class');
  assert.equal(m.rd(0, 0, 0x08) >>> 8, 0x060000, 'host bridge class');
});

test('CONFIG_ADDRESS reads back without reserved bits; absent functions, other buses and a clear enable bit read all ones', () => {
  const m = machine();
  m.ports.write(0xcf8, 4, 0xff00ff03);
  assert.equal(m.ports.read(0xcf8, 4), 0x8000ff00);
  assert.equal(m.rd(5, 0, 0), 0xffffffff);
  m.ports.write(0xcf8, 4, 0x80010000); // bus 1
  assert.equal(m.ports.read(0xcfc, 4), 0xffffffff);
  m.ports.write(0xcf8, 4, 0x00000000);
  assert.equal(m.ports.read(0xcfc, 2), 0xffff);
});

test('byte writes to 0CF9h reach the PIIX3 reset control register, not CONFIG_ADDRESS', () => {
  const m = machine();
  m.ports.write(0xcf8, 4, 0x80000800);
  m.ports.write(0xcf9, 1, 0x02);
  assert.deepEqual(m.resets, []);
  m.ports.write(0xcf9, 1, 0x06);
  assert.deepEqual(m.resets, [true], 'RCPU 0->1 with SRST: hard reset');
  m.ports.write(0xcf9, 1, 0x04);
  assert.deepEqual(m.resets, [true, false], 'soft reset without SRST');
  assert.equal(m.ports.read(0xcf8, 4), 0x80000800, 'CONFIG_ADDRESS untouched');
});

test('read-only header fields ignore writes; status error bits are write-one-to-clear', () => {
  const m = machine();
  const d = new TestDevice();
  m.pciBus.attach(3, 0, d);
  m.wr(3, 0, 0, 4, 0);
  assert.equal(m.rd(3, 0, 0), 0x10001af4);
  d.flagError(0xa0); // received master abort + signalled target abort... as hardware sets them
  m.wr(3, 0, 0x06, 2, 0x2000);
  assert.equal(m.rd(3, 0, 0x06, 2), 0x8000, 'only the written-one bit cleared');
  m.wr(3, 0, 0x3c, 1, 11);
  assert.equal(m.rd(3, 0, 0x3c, 2), 0x010b, 'interrupt line writable, pin INTA# read-only');
});

test('BAR sizing: all ones reads back the size mask with the type bits', () => {
  const m = machine();
  m.pciBus.attach(3, 0, new TestDevice());
  for (let i = 0; i < 4; i++) m.wr(3, 0, 0x10 + 4 * i, 4, 0xffffffff);
  assert.equal(m.rd(3, 0, 0x10), 0xffffffe1, 'I/O BAR, 32 bytes');
  assert.equal(m.rd(3, 0, 0x14), 0xfffff000, 'memory BAR, 4 KiB');
  assert.equal(m.rd(3, 0, 0x18), 0xffffc008, 'prefetchable memory BAR, 16 KiB');
  assert.equal(m.rd(3, 0, 0x1c), 0, 'unimplemented BAR');
});

test('a BAR is decoded only while its command enable bit is set, and moves when reprogrammed', () => {
  const m = machine();
  const d = new TestDevice();
  m.pciBus.attach(3, 0, d);
  m.wr(3, 0, 0x10, 4, 0xc000);
  m.wr(3, 0, 0x14, 4, 0xfebf0000);
  assert.equal(m.ports.read(0xc000, 1), 0xff, 'not decoded yet');
  m.wr(3, 0, 0x04, 2, 0x0003);
  assert.equal(m.ports.read(0xc004, 1), 0x5a);
  assert.equal(m.mem.read(0xfebf0010, 4), 0x1234);
  m.wr(3, 0, 0x10, 4, 0xc100);
  assert.equal(m.ports.read(0xc000, 1), 0xff, 'old range released');
  assert.equal(m.ports.read(0xc11f, 1), 0x5a);
  m.wr(3, 0, 0x04, 2, 0x0000);
  assert.equal(m.ports.read(0xc100, 1), 0xff);
  assert.equal(m.mem.read(0xfebf0010, 4), -1);
  assert.deepEqual(m.events, [
    'bar test 0 undefined -> c000',
    'bar test 1 undefined -> febf0000',
    'bar test 0 c000 -> c100',
    'bar test 0 c100 -> undefined',
    'bar test 1 febf0000 -> undefined',
  ]);
});

test('INTx: device pins rotate onto PIRQ lines, wired-OR, gated by Interrupt Disable, shown in status', () => {
  const levels: string[] = [];
  const m = machine({ pirqChanged: (p, l) => levels.push(`${'ABCD'[p]}=${l ? 1 : 0}`) });
  const d3 = new TestDevice();
  const d7 = new TestDevice();
  m.pciBus.attach(3, 0, d3);
  m.pciBus.attach(7, 0, d7);
  assert.equal(pirqOf(3, 1), 3);
  assert.equal(pirqOf(7, 1), 3);
  d3.setIntx(true);
  d7.setIntx(true);
  d3.setIntx(false);
  assert.deepEqual(levels, ['D=1'], 'the shared line stays asserted');
  assert.equal(m.rd(7, 0, 0x06, 1) & 0x08, 0x08);
  m.wr(7, 0, 0x04, 2, 0x0400);
  assert.deepEqual(levels, ['D=1', 'D=0']);
  assert.equal(m.rd(7, 0, 0x06, 1) & 0x08, 0x08, 'interrupt status still shows the request');
});

test('PIIX3 PIRQ routing drives ISA IRQs, moves live requests with the route and disables with bit 7', () => {
  const isa: string[] = [];
  const routes: string[] = [];
  const p = new Piix3IsaBridge({ isaIrq: (irq, l) => isa.push(`${irq}=${l ? 1 : 0}`), onRouteChange: (n, v) => routes.push(`${n}:${v.toString(16)}`) });
  assert.equal(p.configRead(0x60, 4), 0x80808080);
  p.setPirq(0, true);
  assert.deepEqual(isa, [], 'disabled routes drive nothing');
  p.configWrite(0x60, 1, 0x0b);
  assert.deepEqual(isa, ['11=1']);
  p.configWrite(0x61, 1, 0x0b);
  p.setPirq(1, true);
  p.setPirq(0, false);
  assert.deepEqual(isa, ['11=1'], 'PIRQB keeps IRQ 11 up');
  p.configWrite(0x61, 1, 0x0a);
  assert.deepEqual(isa, ['11=1', '10=1', '11=0']);
  p.configWrite(0x61, 1, 0x8a);
  assert.deepEqual(isa.at(-1), '10=0');
  assert.deepEqual(routes, ['0:b', '1:b', '1:a', '1:8a']);
  p.configWrite(0x62, 1, 0xff);
  assert.equal(p.configRead(0x62, 1), 0x8f, 'reserved bits 6:4 read 0');
});

test('i440FX: PAM registers report changes through onPamChange and decode into shadow regions', () => {
  const pams: string[] = [];
  const h = new I440fxHostBridge({ onPamChange: (i, v) => pams.push(`${i}:${v.toString(16)}`) });
  h.configWrite(0x58, 4, 0x33_33_30_00); // DRAMT, PAM0, PAM1, PAM2
  assert.deepEqual(pams, ['0:30', '1:33', '2:33']);
  h.configWrite(0x59, 1, 0xff);
  assert.equal(h.pam(0), 0x30, 'PAM0 low nibble is reserved');
  assert.deepEqual(pamRegions(0, 0x10), [{ base: 0xf0000, size: 0x10000, readDram: true, writeDram: false }]);
  assert.deepEqual(pamRegions(3, 0x21), [
    { base: 0xd0000, size: 0x4000, readDram: true, writeDram: false },
    { base: 0xd4000, size: 0x4000, readDram: false, writeDram: true },
  ]);
  assert.equal(h.configRead(0x04, 2), 0x0006);
  assert.equal(h.configRead(0x06, 2), 0x0280);
});

test('i440FX SMRAM: C_BASE_SEG is fixed at 010b and D_LCK freezes D_OPEN, D_LCK and G_SMRAME', () => {
  const h = new I440fxHostBridge();
  assert.equal(h.smram, 0x02);
  h.configWrite(0x72, 1, 0xff);
  assert.equal(h.smram, 0x02 | 0x20 | SMRAM_D_LCK | SMRAM_G_SMRAME, 'D_OPEN cleared by D_LCK');
  h.configWrite(0x72, 1, SMRAM_D_OPEN);
  assert.equal(h.smram & (SMRAM_D_OPEN | SMRAM_D_LCK | SMRAM_G_SMRAME), SMRAM_D_LCK | SMRAM_G_SMRAME);
  h.reset();
  assert.equal(h.smram, 0x02, 'only reset unlocks');
});

test('PIIX4 PM: PMBA and PMIOSE decide where the PM block decodes', () => {
  const bases: Array<number | undefined> = [];
  const pm = new Piix4PowerManagement({ onPmIoChange: (b) => bases.push(b) });
  assert.equal(pm.configRead(0x00, 4), 0x71138086);
  assert.equal(pm.configRead(0x40, 4), 1);
  pm.configWrite(0x40, 4, 0xffffffff);
  assert.equal(pm.configRead(0x40, 4), 0xffc1, '64-byte block, I/O indicator');
  pm.configWrite(0x40, 4, 0x600);
  assert.deepEqual(bases, [], 'not decoded until PMIOSE');
  pm.configWrite(0x80, 1, 1);
  pm.configWrite(0x40, 2, 0xb000);
  pm.configWrite(0x80, 1, 0);
  assert.deepEqual(bases, [0x600, 0xb000, undefined]);
  pm.firmwareInit(0x600);
  assert.equal(pm.pmIoBase, 0x600);
  assert.equal(pm.configRead(0x90, 4), 1, 'SMBus base: I/O, unassigned');
  assert.equal(pm.configRead(0xd2, 1), 0, 'SMBus host disabled');
});

test('saved state round-trips; restore re-announces BARs, shadowing and the PM block to a fresh machine', () => {
  const pams: number[] = [];
  const pmBases: Array<number | undefined> = [];
  function build() {
    const m = machine();
    const d = new TestDevice();
    const host = new I440fxHostBridge({ onPamChange: (i, v) => { if (v) pams.push(i); } });
    const pm = new Piix4PowerManagement({ onPmIoChange: (b) => pmBases.push(b) });
    const bus = new PciBus({ barChanged: barMapper(m.ports, m.mem) });
    const piix3 = new Piix3IsaBridge();
    bus.attach(0, 0, host);
    bus.attach(1, 0, piix3);
    bus.attach(1, 3, pm);
    bus.attach(3, 0, d);
    return { m, d, host, pm, bus, piix3 };
  }
  const a = build();
  a.d.configWrite(0x10, 4, 0xc000);
  a.d.configWrite(0x04, 2, 1);
  a.host.configWrite(0x5a, 1, 0x11);
  a.pm.firmwareInit(0x600);
  a.piix3.configWrite(0x60, 4, 0x0b0b0a0a); // PIRQC -> IRQ 11
  a.piix3.setPirq(2, true);
  const saved = JSON.parse(JSON.stringify(a.bus.save()));

  pams.length = 0;
  pmBases.length = 0;
  const b = build();
  b.bus.restore(saved);
  assert.deepEqual(b.bus.save(), a.bus.save());
  assert.equal(b.m.ports.read(0xc000, 1), 0x5a, 'I/O BAR mapped again');
  assert.deepEqual(pams, [1]);
  assert.deepEqual(pmBases.at(-1), 0x600);
  assert.ok(b.piix3.drivesIsaIrq(11));
  assert.throws(() => b.bus.restore({ ...saved, version: 3 }));
});

test('i440FX: subsystem IDs are 0 by default and read-only when given (QEMU: 1AF4h:1100h)', () => {
  assert.equal(new I440fxHostBridge().configRead(0x2c, 4), 0);
  const h = new I440fxHostBridge({ subsystem: { vendorId: 0x1af4, id: 0x1100 } });
  assert.equal(h.configRead(0x2c, 4) >>> 0, 0x11001af4);
  h.configWrite(0x2c, 4, 0);
  assert.equal(h.configRead(0x2c, 4) >>> 0, 0x11001af4);
});
