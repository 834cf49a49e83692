/**
 * Intel 82540EM Gigabit Ethernet controller (the "e1000" QEMU and VirtualBox emulate; Linux's
 * e1000 driver, mac_type e1000_82540), on the PCI bus and as a port of tsxen's VirtualSwitch.
 *
 * PCI: 8086:100E revision 3, class 020000h (network / Ethernet), subsystem 8086:001E (the
 * PRO/1000 MT Desktop Adapter's), INTA. BAR 0: the 128 KiB register window; BAR 1: a 64-byte I/O
 * window where IOADDR (+0) selects a register and IODATA (+4) reads/writes it (manual 13.2).
 *
 * Pieces: `eeprom.ts` (bit-banged Microwire EEPROM), `phy.ts` (the PHY behind MDIC),
 * `tx-offload.ts` (checksum insertion and TSO), this file (registers, rings, interrupts).
 * Transmit runs synchronously when software moves TDT; receive writes each frame straight into the
 * ring when the switch delivers it (no internal FIFO: a full ring drops the frame, counted in MPC
 * with RXO raised). Interrupt moderation (ITR, RDTR/RADV, TIDV/TADV) is not modelled: causes are
 * raised at once, which the driver accepts.
 *
 * Hostile guests: ring bases, lengths and descriptor buffers go through the injected `DmaMemory`
 * (RAM only, bounds-checked); a descriptor the device cannot read stops the ring where it is, a
 * buffer it cannot read drops the packet; a transmit packet is bounded (MAX_TX_PACKET) and each
 * ring pass is bounded by the ring size, so no guest value makes the host allocate or loop without
 * bound.
 */
import { bytesToBase64, base64ToBytes } from '../../base/snapshot.js';
import { logOnce } from '../../base/log.js';
import type { MmioHandler } from '../../memory/physical.js';
import type { PortDevice } from '../../bus/port-bus.js';
import type { DmaMemory } from '../ide/ide-channel.js';
import type { SwitchPort } from '../../net/switch.js';
import { CMD_BUS_MASTER, PciFunction, PCI_COMMAND, type PciFunctionState } from '../pci/pci-function.js';
import { buildEeprom, MicrowireEeprom, type MicrowireState } from './eeprom.js';
import { M88Phy, PHY_ADDR } from './phy.js';
import { applyChecksums, emptyContext, segment, type TxContext } from './tx-offload.js';
import * as R from './regs.js';

export const E1000_MMIO_SIZE = 0x20000;
export const E1000_IO_SIZE = 0x40;
/** Largest packet a chain of TX descriptors may assemble (TSO sends up to 64 KiB plus headers). */
export const MAX_TX_PACKET = 0x10000 + 256;
/** Largest frame accepted from the switch (jumbo frames beyond this are dropped). */
export const MAX_RX_FRAME = 16384;

/** Where a frame leaves the NIC (the switch's input, bound to this port). */
export type FrameSink = (frame: Uint8Array) => void;

export interface E1000Options {
  mac: Uint8Array;
  dma: DmaMemory;
  /** Transmitted frames; default: dropped. `attachSwitch` sets it. */
  output?: FrameSink;
}

export interface E1000State extends PciFunctionState {
  regs: Array<[number, number]>;
  ioaddr: number;
  eeprom: MicrowireState;
  phy: number[];
  ctx: TxContext;
  txPacket: string;
  txPopts: number;
  txTse: boolean;
  txOverflow: boolean;
}

/** Registers that hold what software writes (besides those with side effects handled below). */
const PLAIN = new Set<number>([
  R.CTRL_EXT, R.FCAL, R.FCAH, R.FCT, R.VET, R.ITR, R.RCTL, R.FCTTV, R.TXCW, R.RXCW, R.TCTL, R.TIPG,
  R.LEDCTL, R.PBA, 0x2160, 0x2168, 0x2c00, R.RDBAL, R.RDBAH, R.RDLEN, R.RDH, R.RDT, R.RDTR, R.RADV,
  R.TDBAL, R.TDBAH, R.TDLEN, R.TDH, R.TIDV, R.TXDCTL, R.TADV, R.RXCSUM, R.WUC, R.WUFC, R.MANC,
  0x3000, 0x3008, 0x3018, // TDFH/TDFT/TDFHS... FIFO pointers the driver saves and restores
  0x2410, 0x2418, 0x3410, 0x3418, 0x3420, 0x3428, 0x3430, 0x5808, 0x5810, 0x5818, 0x5838, 0x5900, 0x5f00,
]);

function isPlain(off: number): boolean {
  return PLAIN.has(off) || (off >= R.MTA && off < R.MTA + 0x200) || (off >= R.RAL0 && off < R.RAL0 + 0x80)
    || (off >= R.VFTA && off < R.VFTA + 0x200);
}

export class E1000 extends PciFunction implements SwitchPort {
  private readonly regs = new Uint32Array(E1000_MMIO_SIZE / 4);
  private readonly eeprom: MicrowireEeprom;
  private readonly phy = new M88Phy();
  private readonly mac: Uint8Array;
  private ioaddr = 0;
  private ctx: TxContext = emptyContext();
  /** The packet being assembled from TX descriptors (bounded by MAX_TX_PACKET). */
  private txBuf = new Uint8Array(MAX_TX_PACKET);
  private txLen = 0;
  private txPopts = 0;
  private txTse = false;
  private txOverflow = false;
  private output: FrameSink | undefined;
  /** Diagnostics (not architectural state, not saved): which offload paths the guest used. */
  readonly counters = { tsoPackets: 0, checksumPackets: 0, rxDropped: 0 };
  private mmio: MmioHandler | undefined;
  private io: PortDevice | undefined;

  constructor(private readonly o: E1000Options) {
    super('e1000', {
      vendorId: 0x8086, deviceId: 0x100e, revision: 0x03, classCode: 0x020000,
      subsystemVendorId: 0x8086, subsystemId: 0x001e, interruptPin: 1,
      bars: [{ kind: 'mmio', size: E1000_MMIO_SIZE }, { kind: 'io', size: E1000_IO_SIZE }],
    });
    if (o.mac.length !== 6) throw new Error('e1000: MAC address must be 6 bytes');
    this.mac = o.mac.slice();
    this.eeprom = new MicrowireEeprom(buildEeprom(this.mac));
    this.output = o.output;
    this.resetRegisters();
  }

  /** Where transmitted frames go. */
  setOutput(sink: FrameSink | undefined): void {
    this.output = sink;
  }

  // ---- reset -----------------------------------------------------------------------------------

  /** Power-on / CTRL.RST values (manual 13.3): the receive address comes from the EEPROM. */
  private resetRegisters(): void {
    this.regs.fill(0);
    // CTRL starts at 0: the driver sets SLU, which reports a link status change.
    this.regs[R.PBA >> 2] = 0x30;
    this.regs[R.LEDCTL >> 2] = 0x07068302;
    this.regs[R.VET >> 2] = 0x8100;
    this.regs[R.RAL0 >> 2] = (this.mac[0] | (this.mac[1] << 8) | (this.mac[2] << 16) | (this.mac[3] << 24)) >>> 0;
    this.regs[R.RAH0 >> 2] = (this.mac[4] | (this.mac[5] << 8) | R.RAH_AV) >>> 0;
    this.phy.reset();
    this.ctx = emptyContext();
    this.txLen = 0; this.txPopts = 0; this.txTse = false; this.txOverflow = false;
    this.updateIrq();
  }

  override reset(): void {
    super.reset();
    this.eeprom.pins(false, false, false);
    this.resetRegisters();
  }

  // ---- register access -------------------------------------------------------------------------

  override mmioBar(bar: number): MmioHandler | undefined {
    if (bar !== 0) return undefined;
    this.mmio ??= {
      name: 'e1000-mmio',
      mmioRead: (off, size) => {
        const v = this.readReg(off & ~3);
        if (size === 4) return v;
        const sh = 8 * (off & 3);
        return (v >>> sh) & (size === 1 ? 0xff : 0xffff);
      },
      mmioWrite: (off, size, value) => {
        if (size === 4) { this.writeReg(off & ~3, value >>> 0); return; }
        // Partial writes merge into the register's current value (reads of clear-on-read
        // registers would lose state, so merge with the stored value instead).
        const a = off & ~3, sh = 8 * (off & 3), m = (size === 1 ? 0xff : 0xffff) << sh;
        this.writeReg(a, ((this.regs[a >> 2] & ~m) | ((value << sh) & m)) >>> 0);
      },
    };
    return this.mmio;
  }

  override ioBar(bar: number): PortDevice | undefined {
    if (bar !== 1) return undefined;
    this.io ??= {
      name: 'e1000-io',
      widths: 4 | 2 | 1,
      ioRead: (off, size) => {
        if (off === 0 && size === 4) return this.ioaddr >>> 0;
        if (off === 4 && size === 4) return this.readReg(this.ioaddr & 0x1fffc);
        return 0;
      },
      ioWrite: (off, size, value) => {
        if (off === 0 && size === 4) this.ioaddr = value & 0x1fffc;
        else if (off === 4 && size === 4) this.writeReg(this.ioaddr & 0x1fffc, value >>> 0);
      },
    };
    return this.io;
  }

  readReg(off: number): number {
    if (off >= E1000_MMIO_SIZE) return 0;
    const r = this.regs;
    switch (off) {
      case R.CTRL: return r[0];
      case R.STATUS: return R.STATUS_FD | R.STATUS_LU | R.STATUS_SPEED_1000 | R.STATUS_ASDV_1000;
      case R.EECD: {
        let v = r[R.EECD >> 2] & (R.EECD_SK | R.EECD_CS | R.EECD_DI | R.EECD_REQ);
        if (v & R.EECD_REQ) v |= R.EECD_GNT;
        if (this.eeprom.dataOut) v |= R.EECD_DO;
        return (v | R.EECD_PRES) >>> 0;
      }
      case R.EERD: case R.MDIC: case R.IMS: return r[off >> 2];
      case R.ICR: {
        const v = r[R.ICR >> 2];
        r[R.ICR >> 2] = 0;
        this.updateIrq();
        return v;
      }
      case R.TDT: case R.RDT: return r[off >> 2];
    }
    if (off >= R.STATS_START && off < R.STATS_END) {
      const v = r[off >> 2];
      r[off >> 2] = 0;
      return v;
    }
    if (isPlain(off)) return r[off >> 2];
    logOnce('debug', 'e1000', `rd-${off}`, `e1000: read of unmodelled register 0x${off.toString(16)} (reads 0)`);
    return 0;
  }

  writeReg(off: number, v: number): void {
    if (off >= E1000_MMIO_SIZE) return;
    const r = this.regs;
    switch (off) {
      case R.CTRL:
        if (v & R.CTRL_RST) { this.resetRegisters(); return; } // RST self-clears
        if (v & R.CTRL_PHY_RST) this.phy.reset();
        if ((v & R.CTRL_SLU) && !(r[0] & R.CTRL_SLU)) this.raise(R.ICR_LSC);
        r[0] = v & ~(R.CTRL_RST | R.CTRL_PHY_RST);
        return;
      case R.STATUS: return;
      case R.EECD: {
        r[R.EECD >> 2] = v & (R.EECD_SK | R.EECD_CS | R.EECD_DI | R.EECD_REQ);
        this.eeprom.pins((v & R.EECD_CS) !== 0, (v & R.EECD_SK) !== 0, (v & R.EECD_DI) !== 0);
        return;
      }
      case R.EERD: {
        if (!(v & R.EERD_START)) { r[R.EERD >> 2] = v & ~R.EERD_DONE; return; }
        const addr = (v >>> 8) & 0xff;
        const data = addr < this.eeprom.words.length ? this.eeprom.words[addr] : 0;
        r[R.EERD >> 2] = ((data << 16) | (addr << 8) | R.EERD_DONE) >>> 0;
        return;
      }
      case R.MDIC: this.mdic(v); return;
      case R.ICR: r[R.ICR >> 2] &= ~v; this.updateIrq(); return; // write one to clear
      case R.ICS: this.raise(v); return;
      case R.IMS: r[R.IMS >> 2] |= v; this.updateIrq(); return;
      case R.IMC: r[R.IMS >> 2] &= ~v; this.updateIrq(); return;
      case R.TDT: r[R.TDT >> 2] = v & 0xffff; this.transmit(); return;
      case R.TCTL: r[R.TCTL >> 2] = v; this.transmit(); return;
      case R.RDT: r[R.RDT >> 2] = v & 0xffff; return;
      case R.RDH: case R.TDH: r[off >> 2] = v & 0xffff; return;
      case R.RDLEN: case R.TDLEN: r[off >> 2] = v & 0xfff80; return; // 128-byte multiples, 20 bits
      case R.RDBAL: case R.TDBAL: r[off >> 2] = v & ~0xf; return;
    }
    if (off >= R.STATS_START && off < R.STATS_END) return;
    if (isPlain(off)) { r[off >> 2] = v; return; }
    logOnce('debug', 'e1000', `wr-${off}`, `e1000: write of unmodelled register 0x${off.toString(16)} ignored`);
  }

  private mdic(v: number): void {
    const reg = (v >>> 16) & 31, phyAddr = (v >>> 21) & 31, op = v & (3 << 26);
    let res = v & 0x3ffffff;
    if (phyAddr !== PHY_ADDR) res |= R.MDIC_ERROR;
    else if (op === R.MDIC_OP_READ) res = (res & ~0xffff) | this.phy.read(reg);
    else if (op === R.MDIC_OP_WRITE) this.phy.write(reg, v & 0xffff);
    else res |= R.MDIC_ERROR;
    this.regs[R.MDIC >> 2] = (res | R.MDIC_READY) >>> 0;
    if (v & R.MDIC_INT) this.raise(R.ICR_MDAC);
  }

  // ---- interrupts ------------------------------------------------------------------------------

  private raise(causes: number): void {
    this.regs[R.ICR >> 2] |= causes;
    this.updateIrq();
  }

  private updateIrq(): void {
    this.setIntx((this.regs[R.ICR >> 2] & this.regs[R.IMS >> 2]) !== 0);
  }

  private busMaster(): boolean {
    return (this.read16(PCI_COMMAND) & CMD_BUS_MASTER) !== 0;
  }

  private count(reg: number, n = 1): void {
    this.regs[reg >> 2] = Math.min(0xffffffff, this.regs[reg >> 2] + n) >>> 0;
  }

  /** Adds to a 64-bit octet counter split in two registers. */
  private count64(lo: number, n: number): void {
    const s = this.regs[lo >> 2] + n;
    this.regs[lo >> 2] = s >>> 0;
    if (s > 0xffffffff) this.count(lo + 4);
  }

  private ringBase(lo: number): number {
    // Above 2^53 the address is unrepresentable anyway; anything beyond RAM fails the DMA read.
    return this.regs[(lo + 4) >> 2] * 0x100000000 + this.regs[lo >> 2];
  }

  // ---- transmit --------------------------------------------------------------------------------

  private transmit(): void {
    const r = this.regs;
    if (!(r[R.TCTL >> 2] & R.TCTL_EN) || !this.busMaster()) return;
    const n = r[R.TDLEN >> 2] / 16;
    if (n === 0) return;
    const base = this.ringBase(R.TDBAL);
    let head = r[R.TDH >> 2], did = false;
    const tail = r[R.TDT >> 2];
    if (head >= n || tail >= n) {
      logOnce('warn', 'e1000', 'tx-ring', 'e1000: TX head/tail beyond the ring: transmit stopped');
      return;
    }
    for (let guard = 0; head !== tail && guard < n; guard++) {
      const addr = base + head * 16;
      const d = this.o.dma.read(addr, 16);
      if (!d) {
        logOnce('warn', 'e1000', 'tx-desc', `e1000: TX descriptor at 0x${addr.toString(16)} is outside RAM: transmit stopped`);
        break;
      }
      const cmd = d[11];
      this.txDescriptor(d, cmd);
      if (cmd & R.TXD_RS) this.o.dma.write(addr + 12, Uint8Array.of(d[12] | R.TXSTA_DD));
      head = (head + 1) % n;
      did = true;
    }
    r[R.TDH >> 2] = head;
    if (did) this.raise(R.ICR_TXDW | (head === tail ? R.ICR_TXQE : 0));
  }

  private txDescriptor(d: Uint8Array, cmd: number): void {
    const dv = new DataView(d.buffer, d.byteOffset, 16);
    if (cmd & R.TXD_DEXT) {
      const dtyp = (d[10] >> 4) & 0xf;
      if (dtyp === 0) {
        // Context descriptor: offload parameters for the packets that follow.
        this.ctx = {
          ipcss: d[0], ipcso: d[1], ipcse: dv.getUint16(2, true),
          tucss: d[4], tucso: d[5], tucse: dv.getUint16(6, true),
          paylen: dv.getUint32(8, true) & 0xfffff, tucmd: cmd, hdrlen: d[13], mss: dv.getUint16(14, true),
        };
        return;
      }
      if (dtyp !== 1) {
        logOnce('warn', 'e1000', `dtyp-${dtyp}`, `e1000: TX descriptor type ${dtyp} ignored`);
        return;
      }
      if (this.txLen === 0) { this.txPopts = d[13]; this.txTse = (cmd & R.TXD_TSE) !== 0; }
      this.txAppend(dv.getUint32(0, true) + dv.getUint32(4, true) * 0x100000000, dv.getUint32(8, true) & 0xfffff);
      if (cmd & R.TXD_EOP) this.txFinish(cmd, d);
      return;
    }
    // Legacy descriptor.
    if (this.txLen === 0) { this.txPopts = 0; this.txTse = false; }
    this.txAppend(dv.getUint32(0, true) + dv.getUint32(4, true) * 0x100000000, dv.getUint16(8, true));
    if (cmd & R.TXD_EOP) {
      if ((cmd & 0x04 /* IC */) && this.txLen > 0 && !this.txOverflow) {
        // Legacy checksum: from CSS to the end, stored at CSO.
        const css = d[13], cso = d[10];
        const c = emptyContext();
        c.tucss = css; c.tucso = cso;
        if (cso + 2 <= this.txLen && css < this.txLen) applyChecksums(this.txBuf.subarray(0, this.txLen), c, false, true);
      }
      this.txFinish(cmd, d);
    }
  }

  private txAppend(addr: number, len: number): void {
    if (len === 0 || this.txOverflow) return;
    if (this.txLen + len > MAX_TX_PACKET) { this.txOverflow = true; return; }
    const data = this.o.dma.read(addr, len);
    if (!data) {
      logOnce('warn', 'e1000', 'tx-buf', `e1000: TX buffer at 0x${addr.toString(16)} (+${len}) is outside RAM: packet dropped`);
      this.txOverflow = true;
      return;
    }
    this.txBuf.set(data, this.txLen);
    this.txLen += len;
  }

  private txFinish(cmd: number, d: Uint8Array): void {
    const len = this.txLen, bad = this.txOverflow;
    this.txLen = 0; this.txOverflow = false;
    if (bad || len < 14) return; // unreadable, oversized or runt: dropped
    const pkt = this.txBuf.slice(0, len);
    let frames: Uint8Array[];
    if (this.txTse) this.counters.tsoPackets++;
    else if (this.txPopts & R.POPTS_TXSM) this.counters.checksumPackets++;
    if (this.txTse) frames = segment(pkt, this.ctx, (this.txPopts & R.POPTS_IXSM) !== 0, (this.txPopts & R.POPTS_TXSM) !== 0);
    else {
      if (this.txPopts) applyChecksums(pkt, this.ctx, (this.txPopts & R.POPTS_IXSM) !== 0, (this.txPopts & R.POPTS_TXSM) !== 0);
      frames = [pkt];
    }
    const vlan = (cmd & R.TXD_VLE) !== 0 ? (d[14] | (d[15] << 8)) : -1;
    for (let f of frames) {
      if (vlan >= 0) {
        const t = new Uint8Array(f.length + 4);
        t.set(f.subarray(0, 12));
        const vet = this.regs[R.VET >> 2] & 0xffff;
        t[12] = vet >> 8; t[13] = vet & 0xff; t[14] = vlan >> 8; t[15] = vlan & 0xff;
        t.set(f.subarray(12), 16);
        f = t;
      }
      this.count(R.GPTC); this.count(R.TPT); this.count64(R.GOTCL, f.length + 4); this.count64(R.TOTL, f.length + 4);
      if (f[0] === 0xff && f[1] === 0xff && f[2] === 0xff && f[3] === 0xff && f[4] === 0xff && f[5] === 0xff) this.count(R.BPTC);
      else if (f[0] & 1) this.count(R.MPTC);
      this.output?.(f);
    }
  }

  // ---- receive ---------------------------------------------------------------------------------

  /** Whether the receive filter (RCTL, RAL/RAH, MTA) passes a frame for `dst`. */
  private accepts(f: Uint8Array): boolean {
    const rctl = this.regs[R.RCTL >> 2];
    if (rctl & R.RCTL_UPE) return true;
    const broadcast = f[0] === 0xff && f[1] === 0xff && f[2] === 0xff && f[3] === 0xff && f[4] === 0xff && f[5] === 0xff;
    if (broadcast) return (rctl & R.RCTL_BAM) !== 0;
    if (f[0] & 1) {
      if (rctl & R.RCTL_MPE) return true;
      // Multicast hash (MO = RCTL 13:12 picks which 12 address bits index the 4096-bit table).
      const mo = (rctl >>> 12) & 3;
      const w = f[4] | (f[5] << 8);
      const h = (w >>> [4, 3, 2, 0][mo]) & 0xfff;
      return ((this.regs[(R.MTA >> 2) + (h >>> 5)] >>> (h & 31)) & 1) !== 0;
    }
    for (let i = 0; i < 16; i++) {
      const lo = this.regs[(R.RAL0 >> 2) + 2 * i], hi = this.regs[(R.RAH0 >> 2) + 2 * i];
      if (!(hi & R.RAH_AV)) continue;
      if (f[0] === (lo & 0xff) && f[1] === ((lo >>> 8) & 0xff) && f[2] === ((lo >>> 16) & 0xff) && f[3] === (lo >>> 24)
        && f[4] === (hi & 0xff) && f[5] === ((hi >>> 8) & 0xff)) return true;
    }
    return false;
  }

  /** SwitchPort: a frame for this NIC. Returns false when it was dropped. */
  deliver(frame: Uint8Array): boolean {
    const r = this.regs;
    const rctl = r[R.RCTL >> 2];
    if (!(rctl & R.RCTL_EN) || frame.length < 14 || frame.length > MAX_RX_FRAME) return false;
    if (!this.accepts(frame)) return true; // filtered, as the wire would: not a drop
    // Frames on the switch carry no FCS: pad to the 60-byte minimum and append one unless
    // RCTL.SECRC asks the NIC to strip it (Linux's e1000 leaves SECRC clear and drops 4 bytes).
    const body = frame.length < 60 ? new Uint8Array(60) : frame;
    if (body !== frame) body.set(frame);
    const crc = (rctl & R.RCTL_SECRC) ? 0 : 4;
    const data = new Uint8Array(body.length + crc);
    data.set(body);
    if (crc) { const c = crc32(body); data[body.length] = c & 0xff; data[body.length + 1] = (c >>> 8) & 0xff; data[body.length + 2] = (c >>> 16) & 0xff; data[body.length + 3] = c >>> 24; }

    const n = r[R.RDLEN >> 2] / 16;
    const head = r[R.RDH >> 2], tail = r[R.RDT >> 2];
    const bufSize = R.rxBufferSize(rctl);
    const need = Math.ceil(data.length / bufSize);
    const free = n === 0 || head >= n || tail >= n ? 0 : (tail - head + n) % n;
    if (!this.busMaster() || need > free) {
      this.counters.rxDropped++;
      this.count(R.MPC); this.count(R.RNBC);
      this.raise(R.ICR_RXO);
      return false;
    }
    const base = this.ringBase(R.RDBAL);
    let h = head;
    for (let k = 0, off = 0; k < need; k++, off += bufSize) {
      const da = base + h * 16;
      const desc = this.o.dma.read(da, 16);
      const chunk = data.subarray(off, Math.min(off + bufSize, data.length));
      if (!desc) {
        logOnce('warn', 'e1000', 'rx-desc', `e1000: RX descriptor at 0x${da.toString(16)} is outside RAM: frame dropped`);
        r[R.RDH >> 2] = h;
        this.count(R.MPC);
        return false;
      }
      const dv = new DataView(desc.buffer, desc.byteOffset, 16);
      const buf = dv.getUint32(0, true) + dv.getUint32(4, true) * 0x100000000;
      const last = k === need - 1;
      let errors = 0;
      if (!this.o.dma.write(buf, chunk)) {
        logOnce('warn', 'e1000', 'rx-buf', `e1000: RX buffer at 0x${buf.toString(16)} is outside RAM`);
        errors = 0x80; // RXE: the data did not land
      }
      const wb = new Uint8Array(8);
      wb[0] = chunk.length & 0xff; wb[1] = chunk.length >> 8;
      wb[4] = R.RXSTA_DD | (last ? R.RXSTA_EOP : 0) | R.RXSTA_IXSM;
      wb[5] = errors;
      this.o.dma.write(da + 8, wb);
      h = (h + 1) % n;
    }
    r[R.RDH >> 2] = h;
    this.count(R.GPRC); this.count(R.TPR); this.count64(R.GORCL, data.length); this.count64(R.TORL, data.length);
    if (frame[0] & 1) this.count(frame[0] === 0xff ? R.BPRC : R.MPRC);
    let causes = R.ICR_RXT0;
    const left = (r[R.RDT >> 2] - h + n) % n;
    if (left <= (n >> (1 + ((rctl >>> 8) & 3)))) causes |= R.ICR_RXDMT0;
    this.raise(causes);
    return true;
  }

  // ---- state -----------------------------------------------------------------------------------

  override save(): E1000State {
    const regs: Array<[number, number]> = [];
    for (let i = 0; i < this.regs.length; i++) if (this.regs[i] !== 0) regs.push([i, this.regs[i]]);
    return {
      ...super.save(), regs, ioaddr: this.ioaddr, eeprom: this.eeprom.save(), phy: Array.from(this.phy.regs),
      ctx: { ...this.ctx }, txPacket: bytesToBase64(this.txBuf.subarray(0, this.txLen)),
      txPopts: this.txPopts, txTse: this.txTse, txOverflow: this.txOverflow,
    };
  }

  override restore(s: E1000State): void {
    if (!Array.isArray(s.regs) || !Array.isArray(s.phy) || s.phy.length !== 32) throw new Error('e1000: malformed saved state');
    const pkt = base64ToBytes(s.txPacket);
    if (pkt.length > MAX_TX_PACKET) throw new Error('e1000: saved TX packet too large');
    super.restore(s);
    this.regs.fill(0);
    for (const [i, v] of s.regs) if (i >= 0 && i < this.regs.length) this.regs[i] = v >>> 0;
    this.ioaddr = s.ioaddr & 0x1fffc;
    this.eeprom.restore(s.eeprom);
    this.phy.regs.set(s.phy.map((v) => v & 0xffff));
    const c = emptyContext();
    for (const k of Object.keys(c) as Array<keyof TxContext>) c[k] = (s.ctx?.[k] ?? 0) | 0;
    this.ctx = c;
    this.txBuf.set(pkt);
    this.txLen = pkt.length;
    this.txPopts = s.txPopts & 0xff; this.txTse = !!s.txTse; this.txOverflow = !!s.txOverflow;
    this.updateIrq();
  }
}

let crcTable: Uint32Array | undefined;
/** IEEE 802.3 CRC-32 (the Ethernet FCS), reflected polynomial EDB88320h. */
export function crc32(b: Uint8Array): number {
  if (!crcTable) {
    crcTable = new Uint32Array(256);
    for (let i = 0; i < 256; i++) {
      let c = i;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      crcTable[i] = c >>> 0;
    }
  }
  let c = 0xffffffff;
  for (let i = 0; i < b.length; i++) c = crcTable[(c ^ b[i]) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}
