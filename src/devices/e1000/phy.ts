/**
 * The 82540EM's integrated copper PHY, reached through MDIC: Linux's e1000_detect_gig_phy accepts
 * the Marvell 88E1011 ID (M88E1011_I_PHY_ID 01410C20h, revision nibble masked) for the 82540, at
 * PHY address 1. The link is always up at 1000 Mb/s full duplex with autonegotiation complete:
 * BMSR reports it, the 1000BASE-T status a capable partner, and the M88 specific status register
 * (11h) the resolved speed/duplex that e1000_config_mac_to_phy reads.
 */
export const PHY_ADDR = 1;
const BMCR = 0, BMSR = 1, ID1 = 2, ID2 = 3, ANAR = 4, ANLPAR = 5, ANER = 6, GCR = 9, GSR = 10, ESR = 15;
const M88_PSCR = 0x10, M88_PSSR = 0x11, M88_EPSCR = 0x14;
const BMCR_RESET = 0x8000, BMCR_ANRESTART = 0x0200, BMCR_ANENABLE = 0x1000;

export class M88Phy {
  readonly regs = new Uint16Array(32);

  constructor() {
    this.reset();
  }

  reset(): void {
    const r = this.regs;
    r.fill(0);
    r[BMCR] = BMCR_ANENABLE | 0x0140; // autoneg on, 1000 Mb/s, full duplex
    // 100BASE-TX FD/HD, 10 FD/HD, extended status, preamble suppression, AN complete, AN ability, link, extended caps.
    r[BMSR] = 0x796d;
    r[ID1] = 0x0141;
    r[ID2] = 0x0c20;
    r[ANAR] = 0x01e1;
    r[ANLPAR] = 0xc5e1; // partner: 10/100 FD/HD, pause, ack, next page
    r[ANER] = 0x000f;
    r[GCR] = 0x0300;
    r[GSR] = 0x3c00; // partner 1000 FD/HD, local and remote receiver OK
    r[ESR] = 0x3000; // 1000BASE-T FD/HD capable
    r[M88_PSCR] = 0x0068;
    r[M88_PSSR] = 0xac00; // 1000 Mb/s, full duplex, speed/duplex resolved, link up
    r[M88_EPSCR] = 0x0d60;
  }

  read(reg: number): number {
    return this.regs[reg & 31];
  }

  write(reg: number, value: number): void {
    reg &= 31;
    value &= 0xffff;
    switch (reg) {
      case BMCR:
        if (value & BMCR_RESET) { this.reset(); return; }
        // Restart autonegotiation completes at once; the bit self-clears.
        this.regs[BMCR] = value & ~(BMCR_RESET | BMCR_ANRESTART);
        return;
      case BMSR: case ID1: case ID2: case ANLPAR: case ANER: case GSR: case ESR: case M88_PSSR:
        return; // read-only
      default:
        this.regs[reg] = value;
    }
  }
}
