/**
 * Intel 82371SB PIIX3 PCI-to-ISA bridge, function 0 (PIIX3 datasheet, order number 290550), at
 * PCI 00:01.0: vendor 8086h, device 7000h, class 060100h, a multi-function device (functions 1-3
 * are IDE, USB and, in our machine, the PIIX4-style power management function).
 *
 * Modelled: the PIRQ route control registers PIRQRC[A:D] (60h-63h: bit 7 IRQROUTEEN# disables the
 * route, bits 3:0 the ISA IRQ; 0-2, 8 and 13 are reserved) which steer the four PCI interrupt
 * lines onto ISA IRQs, and the Reset Control register at I/O 0CF9h (RCPU 0->1 resets the system:
 * a hard reset when SRST is set, a CPU-only soft reset otherwise). The other configuration
 * registers (IORT, XBCS, TOM, MBIRQ, APICBASE, SMI control...) hold their reset values and are
 * stored as written: nothing else in the machine depends on them.
 *
 * PIRQ levels come from the PCI bus (`setPirq`). Several PIRQs routed to one IRQ are wired-OR;
 * `isaIrq(irq, level)` reports each ISA IRQ the bridge drives, so the machine can feed the 8259A
 * (and the I/O APIC pin of the same number). Changing a route moves a live request with it.
 */
import { logOnce } from '../../base/log.js';
import type { PortDevice } from '../../bus/port-bus.js';
import { PciFunction, PCI_COMMAND, PCI_STATUS, type PciFunctionState } from './pci-function.js';

export const PIIX3_PIRQRC = 0x60;
/** IRQ numbers PIRQRC may not select (datasheet: reserved values). */
const RESERVED_IRQS = (1 << 0) | (1 << 1) | (1 << 2) | (1 << 8) | (1 << 13);
/** Reset Control register bits (I/O 0CF9h). */
export const RC_SRST = 1 << 1;
export const RC_RCPU = 1 << 2;

export interface Piix3Options {
  /** PIRQRC register `pirq` (0-3 = A-D) now holds `value`. */
  onRouteChange?: (pirq: number, value: number) => void;
  /** The level of ISA IRQ `irq` as driven by the PCI interrupt lines routed to it. */
  isaIrq?: (irq: number, level: boolean) => void;
  /** Reset Control: RCPU went 0 -> 1 (`hard` when SRST was set). */
  onReset?: (hard: boolean) => void;
}

export interface Piix3State extends PciFunctionState {
  pirqs: number;
  rc: number;
}

export class Piix3IsaBridge extends PciFunction {
  /** PIRQ input levels, bit per line (kept so a route change can move a live request). */
  private pirqs = 0;
  /** ISA IRQs currently driven high by routed PIRQs (derived). */
  private driven = 0;
  private rc = 0;
  private rcPort: PortDevice | undefined;

  constructor(private readonly opts: Piix3Options = {}) {
    super('piix3-isa', { vendorId: 0x8086, deviceId: 0x7000, revision: 0x00, classCode: 0x060100, headerType: 0x80 });
  }

  protected override resetConfig(): void {
    super.resetConfig();
    // PCICMD: I/O, memory and bus master are hardwired on for the bridge; SERR# enable writable.
    this.set16(PCI_COMMAND, 0x0007);
    this.setMask(PCI_COMMAND, 2, 0x0100);
    this.set16(PCI_STATUS, 0x0200);
    this.setMask(0x3c, 1, 0);
    for (let off = 0x40; off < 0x100; off++) this.wmask[off] = 0xff;
    this.config[0x4c] = 0x4d; // IORT
    this.config[0x4e] = 0x03; // XBCS
    for (let i = 0; i < 4; i++) {
      this.config[PIIX3_PIRQRC + i] = 0x80;
      this.wmask[PIIX3_PIRQRC + i] = 0x8f;
    }
    this.config[0x69] = 0x02; // TOM
    this.config[0x6a] = 0x00;
    this.config[0x70] = 0x80; // MBIRQ0
    this.config[0x71] = 0x80;
    this.config[0x76] = 0x0c; // MBDMA
    this.config[0x77] = 0x0c;
    this.config[0x78] = 0x02; // PCSC
    this.config[0xa0] = 0x08; // SMICNTL
    this.config[0xa8] = 0x0f; // FTMR
  }

  private routesBefore = 0;

  override configWrite(offset: number, size: number, value: number): void {
    this.routesBefore = this.read32(PIIX3_PIRQRC);
    super.configWrite(offset, size, value);
  }

  protected override written(offset: number, size: number): void {
    if (offset >= PIIX3_PIRQRC + 4 || offset + size <= PIIX3_PIRQRC) return;
    const now = this.read32(PIIX3_PIRQRC);
    if (now === this.routesBefore) return;
    for (let p = 0; p < 4; p++) {
      const v = this.config[PIIX3_PIRQRC + p];
      if (v !== ((this.routesBefore >>> (8 * p)) & 0xff)) this.opts.onRouteChange?.(p, v);
    }
    this.updateIsa(true);
  }

  /** The ISA IRQ PIRQ `p` is routed to, or -1 (disabled or a reserved value). */
  route(p: number): number {
    const v = this.config[PIIX3_PIRQRC + p];
    if (v & 0x80) return -1;
    const irq = v & 0x0f;
    if (RESERVED_IRQS & (1 << irq)) {
      logOnce('info', 'piix3', `rsvd-irq-${p}-${irq}`, `PIRQ${'ABCD'[p]} routed to reserved IRQ ${irq}: ignored`);
      return -1;
    }
    return irq;
  }

  /** A PCI interrupt line changed (from the PCI bus's `pirqChanged`). */
  setPirq(p: number, level: boolean): void {
    if (level) this.pirqs |= 1 << p;
    else this.pirqs &= ~(1 << p);
    this.updateIsa(true);
  }

  private computeIsa(): number {
    let irqs = 0;
    for (let p = 0; p < 4; p++) {
      if ((this.pirqs & (1 << p)) === 0) continue;
      const irq = this.route(p);
      if (irq >= 0) irqs |= 1 << irq;
    }
    return irqs;
  }

  private updateIsa(notify: boolean): void {
    const irqs = this.computeIsa();
    const changed = irqs ^ this.driven;
    this.driven = irqs;
    if (!notify) return;
    for (let irq = 0; irq < 16; irq++) if (changed & (1 << irq)) this.opts.isaIrq?.(irq, (irqs & (1 << irq)) !== 0);
  }

  /** Whether PCI interrupts currently drive ISA IRQ `irq`. */
  drivesIsaIrq(irq: number): boolean {
    return (this.driven & (1 << irq)) !== 0;
  }

  // ---- Reset Control register, I/O 0CF9h ---------------------------------------------------------

  /**
   * A byte-wide port device for the Reset Control register; the PCI bus's 0CF8h port device
   * forwards byte accesses at 0CF9h (offset 1 relative to 0CF8h) to it, so it answers at offset 1
   * (and at 0, for registering it alone at 0CF9h).
   */
  resetControlPort(): PortDevice {
    if (this.rcPort) return this.rcPort;
    this.rcPort = {
      name: 'piix3-rc',
      ioRead: (off) => (off <= 1 ? this.rc : 0xff),
      ioWrite: (off, _size, v) => {
        if (off > 1) return;
        const rising = (v & RC_RCPU) !== 0 && (this.rc & RC_RCPU) === 0;
        this.rc = v & (RC_SRST | RC_RCPU);
        if (rising) {
          // RCPU is a trigger: clear it so the next 0 -> 1 is seen even without an intervening 0.
          this.rc &= ~RC_RCPU;
          this.opts.onReset?.((v & RC_SRST) !== 0);
        }
      },
    };
    return this.rcPort;
  }

  override reset(): void {
    super.reset();
    this.rc = 0;
    this.updateIsa(true);
    for (let p = 0; p < 4; p++) this.opts.onRouteChange?.(p, this.config[PIIX3_PIRQRC + p]);
  }

  override save(): Piix3State {
    return { ...super.save(), pirqs: this.pirqs, rc: this.rc };
  }

  override restore(s: Piix3State): void {
    super.restore(s);
    this.pirqs = s.pirqs;
    this.rc = s.rc;
    // The interrupt controllers saved their own input levels: rebuild ours without driving them.
    this.updateIsa(false);
    for (let p = 0; p < 4; p++) this.opts.onRouteChange?.(p, this.config[PIIX3_PIRQRC + p]);
  }
}
