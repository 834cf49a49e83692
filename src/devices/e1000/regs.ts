/**
 * Register offsets and bits of the Intel 8254x family (82540EM subset) as the Linux e1000 driver
 * uses them (Intel "PCI/PCI-X Family of Gigabit Ethernet Controllers Software Developer's Manual",
 * 317453, chapter 13). Offsets are into BAR 0; every register is 32 bits wide.
 */
export const CTRL = 0x0000, STATUS = 0x0008, EECD = 0x0010, EERD = 0x0014, CTRL_EXT = 0x0018;
export const MDIC = 0x0020, FCAL = 0x0028, FCAH = 0x002c, FCT = 0x0030, VET = 0x0038;
export const ICR = 0x00c0, ITR = 0x00c4, ICS = 0x00c8, IMS = 0x00d0, IMC = 0x00d8;
export const RCTL = 0x0100, FCTTV = 0x0170, TXCW = 0x0178, RXCW = 0x0180;
export const TCTL = 0x0400, TIPG = 0x0410, LEDCTL = 0x0e00, PBA = 0x1000;
export const RDBAL = 0x2800, RDBAH = 0x2804, RDLEN = 0x2808, RDH = 0x2810, RDT = 0x2818, RDTR = 0x2820, RADV = 0x282c;
export const TDBAL = 0x3800, TDBAH = 0x3804, TDLEN = 0x3808, TDH = 0x3810, TDT = 0x3818, TIDV = 0x3820, TXDCTL = 0x3828, TADV = 0x382c;
export const RXCSUM = 0x5000, MTA = 0x5200, RAL0 = 0x5400, RAH0 = 0x5404, VFTA = 0x5600;
export const WUC = 0x5800, WUFC = 0x5808, MANC = 0x5820;
/** Statistics block, clear on read. */
export const STATS_START = 0x4000, STATS_END = 0x4100;
export const MPC = 0x4010, GPRC = 0x4074, BPRC = 0x4078, MPRC = 0x407c, GPTC = 0x4080;
export const GORCL = 0x4088, GORCH = 0x408c, GOTCL = 0x4090, GOTCH = 0x4094, RNBC = 0x40a0;
export const TORL = 0x40c0, TORH = 0x40c4, TOTL = 0x40c8, TOTH = 0x40cc, TPR = 0x40d0, TPT = 0x40d4;
export const MPTC = 0x40f0, BPTC = 0x40f4;

export const CTRL_SLU = 1 << 6, CTRL_RST = 1 << 26, CTRL_PHY_RST = 1 << 31;
/** STATUS: full duplex, link up, speed 1000 (bits 7:6 = 10b), auto-detected speed 1000 (9:8). */
export const STATUS_FD = 1 << 0, STATUS_LU = 1 << 1, STATUS_SPEED_1000 = 2 << 6, STATUS_ASDV_1000 = 2 << 8;

export const EECD_SK = 1 << 0, EECD_CS = 1 << 1, EECD_DI = 1 << 2, EECD_DO = 1 << 3;
export const EECD_REQ = 1 << 6, EECD_GNT = 1 << 7, EECD_PRES = 1 << 8;
export const EERD_START = 1 << 0, EERD_DONE = 1 << 4;

export const MDIC_OP_WRITE = 1 << 26, MDIC_OP_READ = 2 << 26, MDIC_READY = 1 << 28, MDIC_INT = 1 << 29, MDIC_ERROR = 1 << 30;

export const ICR_TXDW = 1 << 0, ICR_TXQE = 1 << 1, ICR_LSC = 1 << 2, ICR_RXDMT0 = 1 << 4, ICR_RXO = 1 << 6, ICR_RXT0 = 1 << 7, ICR_MDAC = 1 << 9;

export const RCTL_EN = 1 << 1, RCTL_UPE = 1 << 3, RCTL_MPE = 1 << 4, RCTL_BAM = 1 << 15, RCTL_BSEX = 1 << 25, RCTL_SECRC = 1 << 26;
export const TCTL_EN = 1 << 1;
export const RAH_AV = 1 << 31;

/** Descriptor command bits (legacy CMD, context TUCMD and data DCMD share positions). */
export const TXD_EOP = 0x01, TXD_IFCS = 0x02, TXD_TSE = 0x04, TXD_RS = 0x08, TXD_DEXT = 0x20, TXD_VLE = 0x40, TXD_IDE = 0x80;
/** Context TUCMD: TCP (else UDP), IPv4 (else IPv6). */
export const TUCMD_TCP = 0x01, TUCMD_IP = 0x02;
/** Data descriptor POPTS: insert IP checksum, insert TCP/UDP checksum. */
export const POPTS_IXSM = 0x01, POPTS_TXSM = 0x02;
export const TXSTA_DD = 0x01;
export const RXSTA_DD = 0x01, RXSTA_EOP = 0x02, RXSTA_IXSM = 0x04;

/** RX buffer size from RCTL.BSIZE/BSEX (manual 13.4.22). */
export function rxBufferSize(rctl: number): number {
  const bsize = (rctl >>> 16) & 3;
  if (rctl & RCTL_BSEX) return [2048 /* reserved with BSEX; treat as 2048 */, 16384, 8192, 4096][bsize];
  return [2048, 1024, 512, 256][bsize];
}
