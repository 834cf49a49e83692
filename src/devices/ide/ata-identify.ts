/**
 * The 512-byte IDENTIFY DEVICE block of an ATA hard disk (ATA/ATAPI-6, T13 1410D, 8.15, table 27;
 * word numbers below are that table's). Only what the drive model implements is claimed: PIO modes
 * 0-4 (no multiword DMA or Ultra DMA: words 49 bit 8, 63 and 88 stay clear), LBA (28-bit and the
 * 48-bit feature set), READ/WRITE MULTIPLE up to `MAX_MULTIPLE` sectors per DRQ block, a volatile
 * write cache that FLUSH CACHE (EXT) empties, and the power management commands.
 *
 * Strings (serial, firmware, model) are ASCII, space padded, with the first character of each pair
 * in the high byte of its word (ATA-6 8.15.14 / figure 11).
 */

/** Sectors per DRQ block READ/WRITE MULTIPLE may use (word 47). */
export const MAX_MULTIPLE = 16;
export const ATA_MODEL = 'TSXEN HARDDISK';
export const ATA_FIRMWARE = '1.0';

export interface IdentifyParams {
  sectors: number;
  serial: string;
  /** Default geometry (words 1, 3, 6). */
  cylinders: number;
  heads: number;
  sectorsPerTrack: number;
  /** Current geometry (words 54-58; INITIALIZE DEVICE PARAMETERS), or heads = 0 when not valid. */
  curCylinders: number;
  curHeads: number;
  curSectorsPerTrack: number;
  /** READ/WRITE MULTIPLE sectors per block (0 = disabled). */
  multiple: number;
  writeCache: boolean;
  /** Drive position on the cable (word 93 is reported by the drive that is device 0 and 1 differently). */
  device: 0 | 1;
  /** The other device of the channel is present (device 0's word 93 bit 5: DASP- seen). */
  otherPresent: boolean;
  /** Multiword DMA modes 0-2 are supported (a bus master is attached); `dmaMode` is the one selected (0-2). */
  dma: boolean;
  dmaMode: number;
}

function putString(w: Uint16Array, first: number, words: number, s: string): void {
  const padded = s.padEnd(words * 2, ' ').slice(0, words * 2);
  for (let i = 0; i < words; i++) {
    w[first + i] = ((padded.charCodeAt(2 * i) & 0xff) << 8) | (padded.charCodeAt(2 * i + 1) & 0xff);
  }
}

/** The identify block as bytes (little-endian words), with the integrity word (255) filled in. */
export function identifyDevice(p: IdentifyParams): Uint8Array {
  const w = new Uint16Array(256);
  w[0] = 0x0040; // ATA device, fixed (bit 6, "not removable")
  w[1] = p.cylinders;
  w[2] = 0xc837; // specific configuration: device does not require SET FEATURES to spin up, identify complete
  w[3] = p.heads;
  w[6] = p.sectorsPerTrack;
  putString(w, 10, 10, p.serial);
  putString(w, 23, 4, ATA_FIRMWARE);
  putString(w, 27, 20, ATA_MODEL);
  w[47] = 0x8000 | MAX_MULTIPLE;
  w[49] = (1 << 11) | (1 << 9) | (p.dma ? 1 << 8 : 0); // IORDY supported, LBA supported, DMA
  w[50] = 0x4000;
  w[51] = 0x0200; // PIO data transfer cycle timing mode 2 (obsolete field)
  w[53] = 0x0003 | (1 << 2); // words 54-58, 64-70 and 88 valid
  if (p.curHeads > 0) {
    w[54] = p.curCylinders;
    w[55] = p.curHeads;
    w[56] = p.curSectorsPerTrack;
    const cap = Math.min(p.curCylinders * p.curHeads * p.curSectorsPerTrack, 0xffffffff);
    w[57] = cap & 0xffff;
    w[58] = cap >>> 16;
  }
  w[59] = p.multiple > 0 ? 0x0100 | p.multiple : 0;
  const lba28 = Math.min(p.sectors, 0x0fffffff);
  w[60] = lba28 & 0xffff;
  w[61] = lba28 >>> 16;
  if (p.dma) {
    w[63] = 0x0007 | (1 << (8 + p.dmaMode)); // multiword DMA modes 0-2 supported, one selected
    w[65] = 120; // minimum multiword DMA cycle time (ns)
    w[66] = 120; // recommended
  }
  w[64] = 0x0003; // PIO modes 3 and 4
  w[67] = 120; // minimum PIO cycle time without flow control (ns)
  w[68] = 120; // with IORDY
  w[80] = 0x0070; // ATA/ATAPI-4, -5, -6
  w[81] = 0x0000; // minor version not reported
  w[82] = (1 << 5) | (1 << 3); // write cache, power management
  w[83] = 0x4000 | (1 << 13) | (1 << 12) | (1 << 10); // FLUSH CACHE EXT, FLUSH CACHE, 48-bit address
  w[84] = 0x4000;
  w[85] = (p.writeCache ? 1 << 5 : 0) | (1 << 3);
  w[86] = (1 << 13) | (1 << 12) | (1 << 10);
  w[87] = 0x4000;
  // Hardware reset result: bit 14 one; device 0 in bits 7:0, device 1 in bits 12:8 (bit 0/8 one,
  // "determined by jumper" (01b), diagnostics passed (device 0 bit 3) / PDIAG- asserted (bit 11)).
  if (p.device === 0) w[93] = 0x4000 | 0x000b | (p.otherPresent ? (1 << 5) | (1 << 4) : 1 << 6);
  else w[93] = 0x4000 | 0x0b00;
  let n = p.sectors;
  for (let i = 100; i < 104; i++) {
    w[i] = n % 0x10000;
    n = Math.floor(n / 0x10000);
  }
  const out = new Uint8Array(512);
  for (let i = 0; i < 256; i++) {
    out[2 * i] = w[i] & 0xff;
    out[2 * i + 1] = w[i] >>> 8;
  }
  // Word 255: signature A5h, then a checksum making the sum of all 512 bytes 0 (mod 256).
  out[510] = 0xa5;
  let sum = 0;
  for (let i = 0; i < 511; i++) sum += out[i];
  out[511] = (256 - (sum & 0xff)) & 0xff;
  return out;
}

/** The identify string at words [first, first + words), trailing spaces removed (for tests and logs). */
export function identifyString(block: Uint8Array, first: number, words: number): string {
  let s = '';
  for (let i = first; i < first + words; i++) s += String.fromCharCode(block[2 * i + 1], block[2 * i]);
  return s.trimEnd();
}
