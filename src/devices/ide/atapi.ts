/**
 * The SCSI/MMC half of an ATAPI CD-ROM: what a 12-byte command packet (CDB) does to a read-only
 * medium of 2048-byte sectors, independent of how the packet and its data cross the ATA interface
 * (that is `ide-channel.ts`). References: SPC-3 (fixed sense data, INQUIRY, TEST UNIT READY,
 * REQUEST SENSE, MODE SENSE, PREVENT ALLOW MEDIUM REMOVAL), MMC-3/-5 (READ CAPACITY, READ(10/12),
 * READ TOC/PMA/ATIP formats 0 and 1, GET CONFIGURATION, GET EVENT STATUS NOTIFICATION (polled),
 * READ DISC INFORMATION, START STOP UNIT, MECHANISM STATUS, SET CD SPEED, the capabilities page
 * 2Ah), and ATA/ATAPI-6 for IDENTIFY PACKET DEVICE.
 *
 * The disc is one data track (track 1, session 1, from LBA 0) followed by the lead-out; the tray
 * is always closed with the medium present (no unit attention at power-on, no eject). Responses
 * are cut to the CDB's allocation length; anything unknown ends in CHECK CONDITION, ILLEGAL
 * REQUEST / INVALID COMMAND OPERATION CODE. Nothing in a CDB makes this throw.
 */
import type { BlockStore } from '../../pv/block/block-store.js';

export const CD_SECTOR = 2048;
export const ATAPI_MODEL = 'TSXEN CD-ROM';
/** The largest data-in transfer one command may ask for (larger: INVALID FIELD IN CDB). */
export const MAX_TRANSFER = 32 << 20;

// Sense keys and additional sense codes (ASC << 8 | ASCQ).
export const SK_NO_SENSE = 0, SK_NOT_READY = 2, SK_MEDIUM_ERROR = 3, SK_ILLEGAL_REQUEST = 5, SK_UNIT_ATTENTION = 6;
export const ASC_INVALID_OPCODE = 0x2000, ASC_LBA_OUT_OF_RANGE = 0x2100, ASC_INVALID_FIELD = 0x2400,
  ASC_SAVING_NOT_SUPPORTED = 0x3900, ASC_READ_ERROR = 0x1100;

export const MMC = {
  TEST_UNIT_READY: 0x00,
  REQUEST_SENSE: 0x03,
  INQUIRY: 0x12,
  MODE_SENSE_6: 0x1a,
  START_STOP_UNIT: 0x1b,
  PREVENT_ALLOW: 0x1e,
  READ_CAPACITY: 0x25,
  READ_10: 0x28,
  READ_TOC: 0x43,
  GET_CONFIGURATION: 0x46,
  GET_EVENT_STATUS: 0x4a,
  READ_DISC_INFO: 0x51,
  MODE_SENSE_10: 0x5a,
  READ_12: 0xa8,
  SET_CD_SPEED: 0xbb,
  MECHANISM_STATUS: 0xbd,
} as const;

/** What a command produced: data for the host (possibly empty) or a CHECK CONDITION. */
export type MmcResult = { ok: true; data: Uint8Array } | { ok: false };

export interface MmcState {
  sense: [number, number];
  prevent: boolean;
}

const be16 = (b: Uint8Array, o: number): number => (b[o] << 8) | b[o + 1];
const be32 = (b: Uint8Array, o: number): number => ((b[o] << 24) | (b[o + 1] << 16) | (b[o + 2] << 8) | b[o + 3]) >>> 0;
function put16(b: Uint8Array, o: number, v: number): void { b[o] = (v >>> 8) & 0xff; b[o + 1] = v & 0xff; }
function put32(b: Uint8Array, o: number, v: number): void { put16(b, o, (v >>> 16) & 0xffff); put16(b, o + 2, v & 0xffff); }
function ascii(b: Uint8Array, o: number, len: number, s: string): void {
  const p = s.padEnd(len, ' ');
  for (let i = 0; i < len; i++) b[o + i] = p.charCodeAt(i) & 0x7f;
}

/** The SCSI target of one ATAPI CD-ROM drive. */
export class MmcUnit {
  readonly sectors: number;
  /** Current sense: key, ASC << 8 | ASCQ. */
  sense: [number, number] = [SK_NO_SENSE, 0];
  /** PREVENT ALLOW MEDIUM REMOVAL's prevent bit. */
  prevent = false;

  constructor(readonly store: BlockStore) {
    if (store.size % CD_SECTOR !== 0 || store.size < CD_SECTOR) throw new Error(`CD-ROM image size ${store.size} is not a positive multiple of 2048`);
    this.sectors = store.size / CD_SECTOR;
  }

  powerOn(): void {
    this.sense = [SK_NO_SENSE, 0];
    this.prevent = false;
  }

  save(): MmcState {
    return { sense: [this.sense[0], this.sense[1]], prevent: this.prevent };
  }

  restore(s: MmcState): void {
    this.sense = [s.sense[0] & 0xf, s.sense[1] & 0xffff];
    this.prevent = !!s.prevent;
  }

  private check(key: number, asc: number): MmcResult {
    this.sense = [key, asc];
    return { ok: false };
  }

  private good(data: Uint8Array, alloc = data.length): MmcResult {
    this.sense = [SK_NO_SENSE, 0];
    return { ok: true, data: data.length > alloc ? data.slice(0, alloc) : data };
  }

  /** Runs the command in `cdb` (12 bytes). */
  execute(cdb: Uint8Array): MmcResult {
    switch (cdb[0]) {
      case MMC.TEST_UNIT_READY: return this.good(new Uint8Array(0));
      case MMC.REQUEST_SENSE: {
        const b = new Uint8Array(18);
        b[0] = 0x70; // current error, fixed format
        b[2] = this.sense[0];
        b[7] = 10;
        b[12] = this.sense[1] >> 8;
        b[13] = this.sense[1] & 0xff;
        return this.good(b, cdb[4]);
      }
      case MMC.INQUIRY: {
        if (cdb[1] & 1) return this.check(SK_ILLEGAL_REQUEST, ASC_INVALID_FIELD); // no vital product data pages
        const b = new Uint8Array(36);
        b[0] = 0x05; // CD/DVD device
        b[1] = 0x80; // removable
        b[2] = 0x00;
        b[3] = 0x21; // ATAPI version 2, response data format 1 (as ATAPI drives report)
        b[4] = 31;
        ascii(b, 8, 8, 'TSXEN');
        ascii(b, 16, 16, ATAPI_MODEL);
        ascii(b, 32, 4, '1.0');
        return this.good(b, be16(cdb, 3));
      }
      case MMC.MODE_SENSE_6: case MMC.MODE_SENSE_10: return this.modeSense(cdb);
      case MMC.START_STOP_UNIT: case MMC.SET_CD_SPEED: return this.good(new Uint8Array(0));
      case MMC.PREVENT_ALLOW:
        this.prevent = (cdb[4] & 1) !== 0;
        return this.good(new Uint8Array(0));
      case MMC.READ_CAPACITY: {
        const b = new Uint8Array(8);
        put32(b, 0, this.sectors - 1);
        put32(b, 4, CD_SECTOR);
        return this.good(b);
      }
      case MMC.READ_10: return this.read(be32(cdb, 2), be16(cdb, 7));
      case MMC.READ_12: return this.read(be32(cdb, 2), be32(cdb, 6));
      case MMC.READ_TOC: return this.readToc(cdb);
      case MMC.GET_CONFIGURATION: return this.getConfiguration(cdb);
      case MMC.GET_EVENT_STATUS: {
        if (!(cdb[1] & 1)) return this.check(SK_ILLEGAL_REQUEST, ASC_INVALID_FIELD); // asynchronous: not supported
        const media = (cdb[4] & 0x10) !== 0;
        const b = new Uint8Array(media ? 8 : 4);
        put16(b, 0, b.length - 2);
        b[2] = media ? 0x04 : 0x80; // media class, or no event available (NEA)
        b[3] = 0x10; // supported classes: media
        if (media) b[5] = 0x02; // no change, media present, tray closed
        return this.good(b, be16(cdb, 7));
      }
      case MMC.READ_DISC_INFO: {
        if (cdb[1] & 7) return this.check(SK_ILLEGAL_REQUEST, ASC_INVALID_FIELD);
        const b = new Uint8Array(34);
        put16(b, 0, 32);
        b[2] = 0x0e; // last session complete, disc finalized, not erasable
        b[3] = 1; // first track
        b[4] = 1; // sessions (LSB)
        b[5] = 1; // first track in last session
        b[6] = 1; // last track in last session
        b[8] = 0x00; // CD-DA or CD-ROM disc
        put32(b, 16, 0xffffffff); // last session lead-in start: none
        put32(b, 20, 0xffffffff); // last possible lead-out start: none
        return this.good(b, be16(cdb, 7));
      }
      case MMC.MECHANISM_STATUS: {
        const b = new Uint8Array(8); // no fault, no changer, idle, tray closed, LBA 0, no slots
        return this.good(b, be16(cdb, 8));
      }
      default:
        return this.check(SK_ILLEGAL_REQUEST, ASC_INVALID_OPCODE);
    }
  }

  private read(lba: number, count: number): MmcResult {
    if (lba >= this.sectors || lba + count > this.sectors) return this.check(SK_ILLEGAL_REQUEST, ASC_LBA_OUT_OF_RANGE);
    if (count * CD_SECTOR > MAX_TRANSFER) return this.check(SK_ILLEGAL_REQUEST, ASC_INVALID_FIELD);
    const b = new Uint8Array(count * CD_SECTOR);
    try {
      this.store.read(lba * CD_SECTOR, b);
    } catch {
      return this.check(SK_MEDIUM_ERROR, ASC_READ_ERROR);
    }
    return this.good(b);
  }

  private modeSense(cdb: Uint8Array): MmcResult {
    const ten = cdb[0] === MMC.MODE_SENSE_10;
    const pc = cdb[2] >> 6, page = cdb[2] & 0x3f;
    if (pc === 3) return this.check(SK_ILLEGAL_REQUEST, ASC_SAVING_NOT_SUPPORTED);
    const changeable = pc === 1;
    const pages: number[][] = [];
    // Read error recovery page (01h): default retry behaviour.
    if (page === 0x01 || page === 0x3f) pages.push([0x01, 0x06, 0, changeable ? 0 : 5, 0, 0, 0, 0]);
    if (page === 0x2a || page === 0x3f) {
      const p = new Array(20).fill(0);
      p[0] = 0x2a; p[1] = 18;
      if (!changeable) {
        p[4] = 0x00; // no audio play, no multisession claims
        p[6] = 0x29 | (this.prevent ? 0x02 : 0); // tray loading, eject supported, lock supported, lock state
        p[8] = 706 >> 8; p[9] = 706 & 0xff; // maximum read speed 4x (kB/s)
        p[14] = 706 >> 8; p[15] = 706 & 0xff; // current read speed
      }
      pages.push(p);
    }
    if (pages.length === 0) return this.check(SK_ILLEGAL_REQUEST, ASC_INVALID_FIELD);
    const body = pages.flat();
    const hdr = ten ? 8 : 4;
    const b = new Uint8Array(hdr + body.length);
    b.set(body, hdr);
    if (ten) {
      put16(b, 0, b.length - 2);
      b[2] = 0x01; // 120 mm CD-ROM data only
    } else {
      b[0] = b.length - 1;
      b[1] = 0x01;
    }
    return this.good(b, ten ? be16(cdb, 7) : cdb[4]);
  }

  private readToc(cdb: Uint8Array): MmcResult {
    const msf = (cdb[1] & 0x02) !== 0;
    // The format field, or the older SFF-8020 one in the control byte's vendor bits.
    let format = cdb[2] & 0x0f;
    if (format === 0) format = cdb[9] >> 6;
    const alloc = be16(cdb, 7);
    const addr = (b: Uint8Array, o: number, lba: number) => {
      if (!msf) return put32(b, o, lba);
      const f = lba + 150;
      b[o] = 0;
      b[o + 1] = Math.min(255, Math.floor(f / (75 * 60)));
      b[o + 2] = Math.floor(f / 75) % 60;
      b[o + 3] = f % 75;
    };
    if (format === 0) {
      const start = cdb[6];
      if (start > 1 && start !== 0xaa) return this.check(SK_ILLEGAL_REQUEST, ASC_INVALID_FIELD);
      const tracks: Array<[number, number]> = [];
      if (start <= 1) tracks.push([1, 0]);
      tracks.push([0xaa, this.sectors]);
      const b = new Uint8Array(4 + 8 * tracks.length);
      put16(b, 0, b.length - 2);
      b[2] = 1; b[3] = 1;
      tracks.forEach(([t, lba], i) => {
        const o = 4 + 8 * i;
        b[o + 1] = 0x14; // ADR 1 (Q sub-channel position), control 4 (data track)
        b[o + 2] = t;
        addr(b, o + 4, lba);
      });
      return this.good(b, alloc);
    }
    if (format === 1) {
      const b = new Uint8Array(12);
      put16(b, 0, 10);
      b[2] = 1; b[3] = 1; // first and last complete session
      b[5] = 0x14;
      b[6] = 1; // first track in the last session
      addr(b, 8, 0);
      return this.good(b, alloc);
    }
    return this.check(SK_ILLEGAL_REQUEST, ASC_INVALID_FIELD);
  }

  private getConfiguration(cdb: Uint8Array): MmcResult {
    const rt = cdb[1] & 3;
    const startFeature = be16(cdb, 2);
    if (rt === 3) return this.check(SK_ILLEGAL_REQUEST, ASC_INVALID_FIELD);
    // [feature code, version/persistent/current byte, additional data]
    const features: Array<[number, number, number[]]> = [
      [0x0000, 0x03, [0x00, 0x08, 0x01, 0x00]], // profile list: CD-ROM, current
      [0x0001, 0x0b, [0, 0, 0, 2, 0, 0, 0, 0]], // core: ATAPI, version 2, persistent, current
      [0x0002, 0x07, [0x00, 0, 0, 0]], // morphing (required by core version 2): no async events
      [0x0003, 0x03, [0x29, 0, 0, 0]], // removable medium: tray, eject, lock
      [0x0010, 0x01, [0, 0, 0x08, 0x00, 0x00, 0x01, 0, 0]], // random readable: 2048-byte blocks, blocking 1
      [0x001e, 0x09, [0, 0, 0, 0]], // CD read, version 2 (no C2/CD-Text)
    ];
    const chosen = features.filter(([code]) => (rt === 2 ? code === startFeature : code >= startFeature));
    const parts: number[] = [];
    for (const [code, flags, data] of chosen) parts.push(code >> 8, code & 0xff, flags, data.length, ...data);
    const b = new Uint8Array(8 + parts.length);
    put32(b, 0, b.length - 4);
    put16(b, 6, 0x0008); // current profile: CD-ROM
    b.set(parts, 8);
    return this.good(b, be16(cdb, 7));
  }
}

/** Serial, firmware and DMA capability of the IDENTIFY PACKET DEVICE data. */
export interface IdentifyPacketParams {
  serial: string;
  dma: boolean;
  /** Multiword DMA mode selected (0-2). */
  dmaMode: number;
  device: 0 | 1;
  otherPresent: boolean;
}

function putIdString(w: Uint16Array, first: number, words: number, s: string): void {
  const p = s.padEnd(words * 2, ' ');
  for (let i = 0; i < words; i++) w[first + i] = ((p.charCodeAt(2 * i) & 0xff) << 8) | (p.charCodeAt(2 * i + 1) & 0xff);
}

/** The 512-byte IDENTIFY PACKET DEVICE block (ATA/ATAPI-6 8.16): only what is implemented. */
export function identifyPacketDevice(p: IdentifyPacketParams): Uint8Array {
  const w = new Uint16Array(256);
  // ATAPI (10b), CD-ROM device type 05h, removable, DRQ within 3 ms of PACKET (no interrupt), 12-byte packets.
  w[0] = 0x8000 | (0x05 << 8) | 0x0080;
  putIdString(w, 10, 10, p.serial);
  putIdString(w, 23, 4, '1.0');
  putIdString(w, 27, 20, ATAPI_MODEL);
  w[49] = (1 << 11) | (1 << 9) | (p.dma ? 1 << 8 : 0); // IORDY, LBA, DMA
  w[53] = 0x0006; // words 64-70 and 88 valid
  if (p.dma) {
    w[63] = 0x0007 | (1 << (8 + (p.dmaMode & 3)));
    w[65] = 120;
    w[66] = 120;
  }
  w[64] = 0x0003; // PIO modes 3 and 4
  w[67] = 120;
  w[68] = 120;
  w[80] = 0x0070; // ATA/ATAPI-4 to -6
  w[82] = (1 << 4) | (1 << 3); // PACKET, power management
  w[83] = 0x4000;
  w[84] = 0x4000;
  w[85] = (1 << 4) | (1 << 3);
  w[86] = 0;
  w[87] = 0x4000;
  if (p.device === 0) w[93] = 0x4000 | 0x000b | (p.otherPresent ? (1 << 5) | (1 << 4) : 1 << 6);
  else w[93] = 0x4000 | 0x0b00;
  const out = new Uint8Array(512);
  for (let i = 0; i < 256; i++) { out[2 * i] = w[i] & 0xff; out[2 * i + 1] = w[i] >>> 8; }
  return out;
}
