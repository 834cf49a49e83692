import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fold, sum16 } from '../../net/checksum.js';
import { VirtualSwitch, type SwitchPort } from '../../net/switch.js';
import { CMD_BUS_MASTER, CMD_IO, CMD_MEMORY, PCI_COMMAND } from '../pci/pci-function.js';
import { E1000, crc32 } from './e1000.js';
import { EEPROM_WORDS } from './eeprom.js';
import * as R from './regs.js';

const MAC = Uint8Array.of(0x52, 0x54, 0x00, 0x12, 0x34, 0x56);
const RAM = 1 << 20;

/** Guest RAM as the platform's DMA view presents it: in-bounds only. */
function ram() {
  const m = new Uint8Array(RAM);
  return {
    m,
    dma: {
      read: (a: number, l: number) => (a >= 0 && l >= 0 && a + l <= RAM ? m.slice(a, a + l) : null),
      write: (a: number, b: Uint8Array) => { if (a < 0 || a + b.length > RAM) return false; m.set(b, a); return true; },
    },
  };
}

function nic() {
  const r = ram();
  const sent: Uint8Array[] = [];
  const e = new E1000({ mac: MAC, dma: r.dma, output: (f) => sent.push(f) });
  e.configWrite(PCI_COMMAND, 2, CMD_IO | CMD_MEMORY | CMD_BUS_MASTER);
  return { e, ...r, sent, dv: new DataView(r.m.buffer) };
}

/** Reads one EEPROM word the way Linux's e1000 does for a Microwire part. */
function bitBangRead(e: E1000, addr: number): number {
  const w = (v: number) => e.writeReg(R.EECD, v);
  let eecd = R.EECD_REQ;
  w(eecd);
  assert.ok(e.readReg(R.EECD) & R.EECD_GNT);
  eecd |= R.EECD_CS; w(eecd);
  const out = (value: number, bits: number) => {
    for (let i = bits - 1; i >= 0; i--) {
      eecd = (eecd & ~R.EECD_DI) | ((value >> i) & 1 ? R.EECD_DI : 0);
      w(eecd); w(eecd | R.EECD_SK); w(eecd);
    }
    eecd &= ~R.EECD_DI; w(eecd);
  };
  out(0b110, 3);
  out(addr, 6);
  let data = 0;
  for (let i = 0; i < 16; i++) {
    w(eecd | R.EECD_SK);
    data = (data << 1) | ((e.readReg(R.EECD) & R.EECD_DO) ? 1 : 0);
    w(eecd);
  }
  eecd &= ~R.EECD_CS; w(eecd);
  w(0);
  return data;
}

test('e1000: PCI identity is an 82540EM', () => {
  const { e } = nic();
  assert.equal(e.configRead(0, 4), 0x100e8086);
  assert.equal(e.configRead(8, 4), 0x02000003);
  assert.equal(e.configRead(0x2c, 4), 0x001e8086);
  assert.equal(e.configRead(0x3d, 1), 1);
});

test('e1000: bit-banged Microwire EEPROM holds the MAC and sums to 0xBABA; EERD agrees', () => {
  const { e } = nic();
  let sum = 0;
  const words: number[] = [];
  for (let a = 0; a < EEPROM_WORDS; a++) { const v = bitBangRead(e, a); words.push(v); sum = (sum + v) & 0xffff; }
  assert.equal(sum, 0xbaba);
  assert.deepEqual(words.slice(0, 3), [0x5452, 0x1200, 0x5634]);
  e.writeReg(R.EERD, (2 << 8) | R.EERD_START);
  const v = e.readReg(R.EERD);
  assert.ok(v & R.EERD_DONE);
  assert.equal(v >>> 16, 0x5634);
  assert.equal(e.readReg(R.EECD) & R.EECD_PRES, R.EECD_PRES);
});

test('e1000: PHY through MDIC reports an M88E1011 with the link up', () => {
  const { e } = nic();
  const rd = (reg: number) => { e.writeReg(R.MDIC, R.MDIC_OP_READ | (1 << 21) | (reg << 16)); const v = e.readReg(R.MDIC); assert.ok(v & R.MDIC_READY); return v & 0xffff; };
  assert.equal(((rd(2) << 16) | rd(3)) & 0xfffffff0, 0x01410c20);
  assert.equal(rd(1) & 0x24, 0x24); // link + autoneg complete
  e.writeReg(R.MDIC, R.MDIC_OP_WRITE | (1 << 21) | (4 << 16) | 0x0de1);
  assert.equal(rd(4), 0x0de1);
  e.writeReg(R.MDIC, R.MDIC_OP_WRITE | (1 << 21) | (0 << 16) | 0x9140); // reset + AN
  assert.equal(rd(0) & 0x8000, 0);
  e.writeReg(R.MDIC, R.MDIC_OP_READ | (2 << 21) | (1 << 16));
  assert.ok(e.readReg(R.MDIC) & R.MDIC_ERROR, 'no PHY at address 2');
  const st = e.readReg(R.STATUS);
  assert.equal(st & 0xc3, 0x83);
});

test('e1000: CTRL.RST self-clears and restores the receive address', () => {
  const { e } = nic();
  e.writeReg(R.RAL0, 0); e.writeReg(R.IMS, 0xff);
  e.writeReg(R.CTRL, R.CTRL_RST);
  assert.equal(e.readReg(R.CTRL) & R.CTRL_RST, 0);
  assert.equal(e.readReg(R.IMS), 0);
  assert.equal(e.readReg(R.RAL0), 0x12005452);
});

function txRing(n: ReturnType<typeof nic>, base = 0x1000, len = 8) {
  n.e.writeReg(R.TDBAL, base); n.e.writeReg(R.TDBAH, 0); n.e.writeReg(R.TDLEN, len * 16);
  n.e.writeReg(R.TDH, 0); n.e.writeReg(R.TDT, 0); n.e.writeReg(R.TCTL, R.TCTL_EN);
}

function legacy(n: ReturnType<typeof nic>, slot: number, buf: number, len: number, cmd: number, css = 0, cso = 0) {
  const a = 0x1000 + slot * 16;
  n.dv.setBigUint64(a, BigInt(buf), true); n.dv.setUint16(a + 8, len, true);
  n.m[a + 10] = cso; n.m[a + 11] = cmd; n.m[a + 12] = 0; n.m[a + 13] = css;
}

test('e1000: legacy TX descriptors, two buffers one frame, DD written back, TXDW raised', () => {
  const n = nic();
  txRing(n);
  n.e.writeReg(R.IMS, R.ICR_TXDW);
  const frame = new Uint8Array(100).map((_, i) => i);
  n.m.set(frame.subarray(0, 40), 0x8000); n.m.set(frame.subarray(40), 0x9000);
  legacy(n, 0, 0x8000, 40, 0);
  legacy(n, 1, 0x9000, 60, R.TXD_EOP | R.TXD_RS | R.TXD_IFCS);
  n.e.writeReg(R.TDT, 2);
  assert.equal(n.sent.length, 1);
  assert.deepEqual(n.sent[0], frame);
  assert.equal(n.m[0x1000 + 16 + 12] & R.TXSTA_DD, 1);
  assert.equal(n.e.readReg(R.TDH), 2);
  assert.ok(n.e.intxAsserted);
  assert.ok(n.e.readReg(R.ICR) & R.ICR_TXDW);
  assert.ok(!n.e.intxAsserted, 'ICR read clears');
  assert.equal(n.e.readReg(R.GPTC), 1);
  assert.equal(n.e.readReg(R.GPTC), 0, 'statistics clear on read');
});

/** An Ethernet + IPv4 + TCP packet with `payload` bytes; checksum field holds `tcpCheck`. */
function tcpPacket(payload: number, tcpCheck: number, flags = 0x18) {
  const p = new Uint8Array(14 + 20 + 20 + payload);
  p.set(Uint8Array.of(0x52, 0x54, 0, 0, 0, 2), 0); p.set(MAC, 6); p[12] = 0x08;
  const ip = 14;
  p[ip] = 0x45; const tl = 40 + payload; p[ip + 2] = tl >> 8; p[ip + 3] = tl & 0xff;
  p[ip + 4] = 0x12; p[ip + 5] = 0x34; p[ip + 8] = 64; p[ip + 9] = 6;
  p.set([10, 0, 2, 15], ip + 12); p.set([10, 0, 2, 2], ip + 16);
  const t = 34;
  p[t] = 0x30; p[t + 1] = 0x39; p[t + 2] = 0; p[t + 3] = 80;
  p.set([0x10, 0x20, 0x30, 0x40], t + 4); p[t + 12] = 0x50; p[t + 13] = flags;
  for (let i = 0; i < payload; i++) p[54 + i] = (i * 7 + 3) & 0xff;
  p[t + 16] = tcpCheck >> 8; p[t + 17] = tcpCheck & 0xff;
  return p;
}

function pseudo(p: Uint8Array, l4len: number | 0): number {
  return sum16(p, 26, 34, 6 + l4len);
}

/** Verifies IPv4 header and TCP checksums independently. */
function checksOk(f: Uint8Array) {
  assert.equal(fold(sum16(f, 14, 34)), 0xffff, 'IP header checksum');
  const l4len = f.length - 34;
  assert.equal(fold(sum16(f, 34, f.length, pseudo(f, l4len))), 0xffff, 'TCP checksum');
}

function context(n: ReturnType<typeof nic>, slot: number, o: { tse?: boolean; hdrlen?: number; mss?: number; paylen?: number }) {
  const a = 0x1000 + slot * 16;
  n.m.fill(0, a, a + 16);
  n.m[a] = 14; n.m[a + 1] = 24; n.dv.setUint16(a + 2, 33, true);
  n.m[a + 4] = 34; n.m[a + 5] = 34 + 16; n.dv.setUint16(a + 6, 0, true);
  n.dv.setUint32(a + 8, (o.paylen ?? 0) | (((R.TXD_DEXT | R.TUCMD_IP | R.TUCMD_TCP | (o.tse ? R.TXD_TSE : 0)) << 24) >>> 0), true);
  n.m[a + 13] = o.hdrlen ?? 0; n.dv.setUint16(a + 14, o.mss ?? 0, true);
}

function data(n: ReturnType<typeof nic>, slot: number, buf: number, len: number, dcmd: number, popts: number) {
  const a = 0x1000 + slot * 16;
  n.dv.setBigUint64(a, BigInt(buf), true);
  n.dv.setUint32(a + 8, (len | (1 << 20) | ((R.TXD_DEXT | dcmd) << 24)) >>> 0, true);
  n.m[a + 12] = 0; n.m[a + 13] = popts;
}

test('e1000: TX checksum offload (context + data descriptors) fills in the TCP checksum', () => {
  const n = nic();
  txRing(n);
  const pkt = tcpPacket(333, 0);
  const ps = fold(pseudo(pkt, 20 + 333)); // what Linux leaves: the pseudo-header sum
  pkt[50] = ps >> 8; pkt[51] = ps & 0xff;
  // IP checksum left correct by software (Linux does not use IXSM without TSO).
  const ic = ~fold(sum16(pkt, 14, 34)) & 0xffff; pkt[24] = ic >> 8; pkt[25] = ic & 0xff;
  n.m.set(pkt, 0x8000);
  context(n, 0, {});
  data(n, 1, 0x8000, pkt.length, R.TXD_EOP | R.TXD_RS | R.TXD_IFCS, R.POPTS_TXSM);
  n.e.writeReg(R.TDT, 2);
  assert.equal(n.sent.length, 1);
  checksOk(n.sent[0]);
});

test('e1000: TSO splits a 3 x MSS payload with right lengths, IDs, sequence numbers, flags and checksums', () => {
  const n = nic();
  txRing(n);
  const mss = 1000, payload = 3 * mss;
  const pkt = tcpPacket(payload, 0, 0x19 /* FIN PSH ACK */);
  pkt[16] = 0; pkt[17] = 0; // tot_len 0 as Linux's e1000_tso leaves it... any value is rewritten
  const ps = fold(pseudo(pkt, 0)); pkt[50] = ps >> 8; pkt[51] = ps & 0xff; // pseudo-header without length
  n.m.set(pkt.subarray(0, 54), 0x8000);
  n.m.set(pkt.subarray(54, 54 + 1500), 0x10000);
  n.m.set(pkt.subarray(54 + 1500), 0x20000);
  context(n, 0, { tse: true, hdrlen: 54, mss, paylen: payload });
  data(n, 1, 0x8000, 54, R.TXD_TSE, R.POPTS_IXSM | R.POPTS_TXSM);
  data(n, 2, 0x10000, 1500, R.TXD_TSE, 0);
  data(n, 3, 0x20000, 1500, R.TXD_TSE | R.TXD_EOP | R.TXD_RS, 0);
  n.e.writeReg(R.TDT, 4);
  assert.equal(n.sent.length, 3);
  assert.equal(n.e.counters.tsoPackets, 1);
  n.sent.forEach((f, i) => {
    assert.equal(f.length, 54 + mss);
    assert.equal((f[16] << 8) | f[17], 40 + mss, 'IP total length');
    assert.equal((f[18] << 8) | f[19], 0x1234 + i, 'IP ID');
    const seq = ((f[38] << 24) | (f[39] << 16) | (f[40] << 8) | f[41]) >>> 0;
    assert.equal(seq, 0x10203040 + i * mss);
    assert.equal(f[47], i === 2 ? 0x19 : 0x10, 'PSH/FIN only on the last segment');
    assert.deepEqual(f.subarray(54), pkt.subarray(54 + i * mss, 54 + (i + 1) * mss));
    checksOk(f);
  });
});

function rxRing(n: ReturnType<typeof nic>, count = 4, bsize = 0) {
  for (let i = 0; i < count; i++) n.dv.setBigUint64(0x2000 + i * 16, BigInt(0x40000 + i * 0x1000), true);
  n.e.writeReg(R.RDBAL, 0x2000); n.e.writeReg(R.RDLEN, Math.max(8, count) * 16);
  n.e.writeReg(R.RDH, 0); n.e.writeReg(R.RDT, count - 1);
  n.e.writeReg(R.RCTL, R.RCTL_EN | R.RCTL_BAM | (bsize << 16));
  n.e.writeReg(R.IMS, R.ICR_RXT0 | R.ICR_RXO);
}

test('e1000: RX writes frames (with FCS) into the ring, raises RXT0, filters by address', () => {
  const n = nic();
  rxRing(n);
  const f = new Uint8Array(100); f.set(MAC, 0); f.set([2, 0, 0, 0, 0, 9], 6); f[12] = 8; f[20] = 0xaa;
  assert.ok(n.e.deliver(f));
  assert.equal(n.dv.getUint16(0x2008, true), 104);
  assert.equal(n.m[0x200c] & 3, 3, 'DD + EOP');
  assert.deepEqual(n.m.subarray(0x40000, 0x40000 + 100), f);
  assert.equal(n.dv.getUint32(0x40000 + 100, true), crc32(f));
  assert.equal(n.e.readReg(R.RDH), 1);
  assert.ok(n.e.intxAsserted);
  assert.ok(n.e.readReg(R.ICR) & R.ICR_RXT0);
  const other = f.slice(); other[5] = 0x57;
  assert.ok(n.e.deliver(other));
  assert.equal(n.e.readReg(R.RDH), 1, 'not for us: filtered');
  // A short broadcast is padded to 60 bytes.
  const b = new Uint8Array(42).fill(0xff, 0, 6);
  n.e.deliver(b);
  assert.equal(n.dv.getUint16(0x2018, true), 64);
});

test('e1000: a frame larger than one buffer spans descriptors; EOP only on the last', () => {
  const n = nic();
  rxRing(n, 4, 3); // 256-byte buffers
  const f = new Uint8Array(600); f.set(MAC, 0);
  assert.ok(n.e.deliver(f));
  assert.equal(n.e.readReg(R.RDH), 3);
  assert.deepEqual([n.m[0x200c], n.m[0x201c], n.m[0x202c]].map((s) => s & 3), [1, 1, 3]);
  assert.equal(n.dv.getUint16(0x2028, true), 604 - 512);
});

test('e1000: RX ring full drops and counts (MPC, RXO); nothing is buffered', () => {
  const n = nic();
  rxRing(n, 3);
  const f = new Uint8Array(64); f.set(MAC, 0);
  assert.ok(n.e.deliver(f)); assert.ok(n.e.deliver(f));
  assert.equal(n.e.deliver(f), false);
  assert.equal(n.e.readReg(R.MPC), 1);
  assert.ok(n.e.readReg(R.ICR) & R.ICR_RXO);
  n.e.writeReg(R.RDT, 0); // software returns two descriptors (tail wraps)
  assert.ok(n.e.deliver(f));
});

test('e1000: hostile rings and descriptors never throw and never stall the host', () => {
  const n = nic();
  // TX ring outside RAM, descriptors pointing outside RAM, ridiculous lengths.
  n.e.writeReg(R.TDBAL, 0xfffff000); n.e.writeReg(R.TDBAH, 0xffffffff); n.e.writeReg(R.TDLEN, 0xfffff);
  n.e.writeReg(R.TCTL, R.TCTL_EN);
  n.e.writeReg(R.TDT, 5);
  txRing(n);
  for (let i = 0; i < 7; i++) legacy(n, i, 0xfff00000 + i, 0xffff, i === 6 ? R.TXD_EOP | R.TXD_RS : 0);
  n.e.writeReg(R.TDT, 7);
  assert.equal(n.sent.length, 0);
  assert.equal(n.e.readReg(R.TDH), 7, 'ring still advances');
  // Many in-RAM chunks adding up beyond the packet bound.
  txRing(n);
  for (let i = 0; i < 7; i++) legacy(n, i, 0x10000, 0xffff, i === 6 ? R.TXD_EOP : 0);
  n.e.writeReg(R.TDT, 7);
  assert.equal(n.sent.length, 0, 'oversized packet dropped');
  // TSO context with nonsense header length / MSS 0.
  txRing(n);
  context(n, 0, { tse: true, hdrlen: 255, mss: 0 });
  data(n, 1, 0x8000, 100, R.TXD_TSE | R.TXD_EOP, 3);
  n.e.writeReg(R.TDT, 2);
  context(n, 2, { tse: true, hdrlen: 54, mss: 1 });
  data(n, 3, 0x8000, 54 + 3000, R.TXD_TSE | R.TXD_EOP, 3);
  n.e.writeReg(R.TDT, 4);
  assert.equal(n.sent.length, 3000, 'MSS 1 still terminates');
  // Heads beyond the ring.
  n.e.writeReg(R.TDH, 100); n.e.writeReg(R.TDT, 3);
  // RX ring with descriptors outside RAM and buffers outside RAM.
  n.e.writeReg(R.RDBAL, 0x1000000); n.e.writeReg(R.RDLEN, 1 << 19); n.e.writeReg(R.RDH, 0); n.e.writeReg(R.RDT, 100);
  n.e.writeReg(R.RCTL, R.RCTL_EN | R.RCTL_UPE);
  assert.equal(n.e.deliver(new Uint8Array(1500)), false, 'descriptor outside RAM');
  n.e.writeReg(R.RDH, 40000);
  assert.equal(n.e.deliver(new Uint8Array(64)), false);
  assert.equal(n.e.deliver(new Uint8Array(100000)), false, 'giant frame dropped');
  // Odd-sized and out-of-window register accesses.
  const mm = n.e.mmioBar(0)!;
  mm.mmioWrite(0x1ffff, 1, 0xff); mm.mmioRead(0x12345, 2);
  n.e.ioBar(1)!.ioWrite(0, 4, 0xffffffff); n.e.ioBar(1)!.ioRead(4, 4);
});

test('e1000: I/O window reaches the registers through IOADDR/IODATA', () => {
  const { e } = nic();
  const io = e.ioBar(1)!;
  io.ioWrite(0, 4, R.RAL0);
  assert.equal(io.ioRead(4, 4), 0x12005452);
  io.ioWrite(0, 4, R.IMS); io.ioWrite(4, 4, R.ICR_LSC);
  assert.equal(e.readReg(R.IMS), R.ICR_LSC);
});

test('e1000: switch port in both directions', () => {
  const sw = new VirtualSwitch();
  const got: Uint8Array[] = [];
  const peer: SwitchPort = { name: 'peer', deliver: (f) => { got.push(f); return true; } };
  const n = nic();
  sw.attach(n.e); sw.attach(peer);
  n.e.setOutput((f) => sw.input(n.e, f));
  txRing(n);
  const f = new Uint8Array(60).fill(0xff, 0, 6); f.set(MAC, 6);
  n.m.set(f, 0x8000);
  legacy(n, 0, 0x8000, 60, R.TXD_EOP);
  n.e.writeReg(R.TDT, 1);
  assert.equal(got.length, 1);
  rxRing(n);
  const back = new Uint8Array(60); back.set(MAC, 0); back.set([2, 0, 0, 0, 0, 1], 6);
  sw.input(peer, back);
  assert.equal(n.e.readReg(R.RDH), 1);
});

test('e1000: snapshot round trip keeps registers, EEPROM position, PHY and a half-built packet', () => {
  const a = nic();
  txRing(a);
  a.e.writeReg(R.IMS, 0x9d);
  a.m.set(new Uint8Array(30).fill(7), 0x8000);
  legacy(a, 0, 0x8000, 30, 0);
  a.e.writeReg(R.TDT, 1);
  a.e.writeReg(R.MDIC, R.MDIC_OP_WRITE | (1 << 21) | (4 << 16) | 0x0de1);
  const st = JSON.parse(JSON.stringify(a.e.save()));
  const b = nic();
  b.m.set(a.m);
  b.e.setOutput((f) => b.sent.push(f));
  b.e.restore(st);
  assert.deepEqual(b.e.save(), a.e.save());
  legacy(b, 1, 0x8000, 30, R.TXD_EOP);
  b.e.writeReg(R.TDT, 2);
  assert.equal(b.sent.length, 1);
  assert.equal(b.sent[0].length, 60);
  assert.throws(() => b.e.restore({ ...st, phy: [] }));
});
