/**
 * Virtual disk names ("xvda", "xvdb1", "sdc", "hda2", "d0p1") and their "virtual-device" numbers,
 * per xen docs/man/xen-vbd-interface.7 (the encoding libxl writes and Linux blkfront decodes):
 *
 *   202 << 8 | disk << 4 | part     xvd, disk 0..15, partition 0..15
 *   1 << 28 | disk << 8 | part      xvd (or sd, d<N>p<M>) beyond that: disk < 2^20, partition 0..255
 *   8 << 8 | disk << 4 | part       sd, disk 0..15, partition 0..15
 *   3 << 8 | disk << 6 | part       hd, disk 0..1 (hda, hdb), partition 0..63
 *   22 << 8 | (disk-2) << 6 | part  hd, disk 2..3 (hdc, hdd), partition 0..63
 *
 * Disk letters count bijectively in base 26: a = 0, z = 25, aa = 26. The number is also the
 * device's directory name under device/vbd/. HVM and PVH Linux guests bind only xvd-style
 * (major 202 or extended) numbers as PV disks.
 */

export interface VdevInfo {
  /** The "virtual-device" number. */
  number: number;
  /** The Linux-style name, normalised ("xvda"). */
  name: string;
  disk: number;
  partition: number;
}

const MAX_EXT_DISK = (1 << 20) - 1;

function lettersToIndex(s: string): number {
  let n = 0;
  for (const ch of s) n = n * 26 + (ch.charCodeAt(0) - 96);
  return n - 1;
}

/** Parses a disk name; null if it is not one xen-vbd-interface.7 defines. */
export function parseVdev(raw: string): VdevInfo | null {
  let m = /^(xvd|sd|hd)([a-z]{1,4})([0-9]{0,3})$/.exec(raw);
  let kind: string, disk: number, part: number;
  if (m) {
    kind = m[1];
    disk = lettersToIndex(m[2]);
    if (m[3].length > 1 && m[3][0] === '0') return null;
    part = m[3] === '' ? 0 : Number(m[3]);
    if (m[3] === '0') return null; // partition numbers start at 1; "xvda" is the whole disk
  } else if ((m = /^d(0|[1-9][0-9]{0,6})(?:p(0|[1-9][0-9]{0,2}))?$/.exec(raw))) {
    kind = 'd';
    disk = Number(m[1]);
    part = m[2] === undefined ? 0 : Number(m[2]);
  } else {
    return null;
  }
  let number: number;
  if (kind === 'hd') {
    if (disk > 3 || part > 63) return null;
    number = disk < 2 ? (3 << 8) | (disk << 6) | part : (22 << 8) | ((disk - 2) << 6) | part;
  } else if (kind === 'sd' && disk < 16 && part < 16) {
    number = (8 << 8) | (disk << 4) | part;
  } else if ((kind === 'xvd' || kind === 'd') && disk < 16 && part < 16) {
    number = (202 << 8) | (disk << 4) | part;
  } else {
    if (disk > MAX_EXT_DISK || part > 255) return null;
    number = (1 << 28) + disk * 256 + part;
  }
  return { number, name: raw, disk, partition: part };
}
