/**
 * The "zero page" (struct boot_params, 4 KiB) for a 32-bit direct boot of a bzImage, filled in
 * as a boot loader would (Documentation/arch/x86/boot.rst, "32-bit boot protocol"): the image's
 * setup header copied to 0x1f1, plus the loader's fields, the e820 map and a minimal screen_info.
 * Pure: explicit inputs in, a fresh Uint8Array out.
 */
import { BootImageError } from './errors.js';
import { CAN_USE_HEAP, LOADED_HIGH, QUIET_FLAG, SETUP_HEADER_OFFSET, XLF_CAN_BE_LOADED_ABOVE_4G, protocolString } from './protocol.js';
import type { BzImage } from './bzimage.js';
import { E820_MAX_ENTRIES, E820_RAM, FOUR_GIB, type E820Entry } from './e820.js';

export const BOOT_PARAMS_SIZE = 4096;

/** Offsets in struct boot_params (arch/x86/include/uapi/asm/bootparam.h). */
export const BP = {
  // screen_info (0x000, 64 bytes)
  origX: 0x00,
  origY: 0x01,
  extMemK: 0x02,
  origVideoMode: 0x06,
  origVideoCols: 0x07,
  origVideoEgaBx: 0x0a,
  origVideoLines: 0x0e,
  origVideoIsVGA: 0x0f,
  origVideoPoints: 0x10,
  acpiRsdpAddr: 0x070,
  extRamdiskImage: 0x0c0,
  extRamdiskSize: 0x0c4,
  extCmdLinePtr: 0x0c8,
  altMemK: 0x1e0,
  e820Entries: 0x1e8,
  sentinel: 0x1ef,
  // setup_header (0x1f1)
  typeOfLoader: 0x210,
  loadFlags: 0x211,
  code32Start: 0x214,
  ramdiskImage: 0x218,
  ramdiskSize: 0x21c,
  heapEndPtr: 0x224,
  cmdLinePtr: 0x228,
  hardwareSubarch: 0x23c,
  setupData: 0x250,
  e820Table: 0x2d0,
} as const;

/** Size of one struct boot_e820_entry: u64 addr, u64 size, u32 type, packed. */
export const E820_ENTRY_SIZE = 20;

export interface BootParamsOptions {
  /** Guest-physical address of the NUL-terminated command line (cmd_line_ptr). */
  cmdlineAddr: number;
  /** Where the initrd was loaded (ramdisk_image) and its size; omit or 0 for none. */
  initrdAddr?: number;
  initrdSize?: number;
  /** The memory map (at most 128 entries). */
  e820: readonly E820Entry[];
  /** Where the protected-mode kernel was loaded; written to code32_start when given. */
  kernelAddr?: number;
  /** heap_end_ptr (offset from the real-mode code, minus 0x200). Default 0xde00. */
  heapEndPtr?: number;
  /** type_of_loader; default 0xff ("undefined" boot loader). */
  typeOfLoader?: number;
  /** Describe an 80x25 colour VGA text console in screen_info (default: no video, all zero). */
  vgaText?: boolean;
  /** acpi_rsdp_addr (protocol 2.14+): where the ACPI RSDP is, if not found by the BIOS scan. */
  acpiRsdpAddr?: number;
  /** setup_data chain head (protocol 2.09+): guest-physical address of the first node. */
  setupData?: number;
}

const lo32 = (n: number): number => n % FOUR_GIB;
const hi32 = (n: number): number => Math.floor(n / FOUR_GIB);

function setU64(dv: DataView, o: number, n: number): void {
  dv.setUint32(o, lo32(n), true);
  dv.setUint32(o + 4, hi32(n), true);
}

function checkAddr(n: number, what: string): void {
  if (!Number.isSafeInteger(n) || n < 0) throw new BootImageError(`${what} ${n} is not a valid address`);
}

/** The bytes to place at cmd_line_ptr: the command line (8-bit characters) and a NUL. */
export function encodeCmdline(cmdline: string, bz: Pick<BzImage, 'cmdlineSize'>): Uint8Array {
  if (cmdline.length > bz.cmdlineSize) {
    throw new BootImageError(`kernel command line is ${cmdline.length} bytes; this kernel accepts at most ${bz.cmdlineSize}`);
  }
  const out = new Uint8Array(cmdline.length + 1);
  for (let k = 0; k < cmdline.length; k++) {
    const c = cmdline.charCodeAt(k);
    if (c === 0 || c > 0xff) throw new BootImageError(`kernel command line has an unsupported character (code ${c}) at ${k}`);
    out[k] = c;
  }
  return out;
}

/** Builds the 4 KiB zero page for `bz` (see BootParamsOptions for what the loader provides). */
export function buildBootParams(bz: BzImage, o: BootParamsOptions): Uint8Array {
  const zp = new Uint8Array(BOOT_PARAMS_SIZE);
  const dv = new DataView(zp.buffer);
  // The setup header, exactly as long as the image says (0x202 + the jump's displacement).
  zp.set(bz.setup.subarray(SETUP_HEADER_OFFSET, bz.headerEnd), SETUP_HEADER_OFFSET);

  const above4G = (bz.xloadflags & XLF_CAN_BE_LOADED_ABOVE_4G) !== 0;
  zp[BP.typeOfLoader] = o.typeOfLoader ?? 0xff;
  // Keep LOADED_HIGH (and QUIET if the image had it); KASLR_FLAG is the decompressor's own and
  // KEEP_SEGMENTS is obsolete, so both start clear. The heap is usable.
  zp[BP.loadFlags] = (bz.loadFlags & (LOADED_HIGH | QUIET_FLAG)) | CAN_USE_HEAP;
  dv.setUint16(BP.heapEndPtr, o.heapEndPtr ?? 0xde00, true);

  if (o.kernelAddr !== undefined) {
    checkAddr(o.kernelAddr, 'kernel load address');
    if (o.kernelAddr >= FOUR_GIB) throw new BootImageError('kernel load address must be below 4 GiB for a 32-bit boot');
    dv.setUint32(BP.code32Start, o.kernelAddr, true);
  }

  checkAddr(o.cmdlineAddr, 'command line address');
  if (o.cmdlineAddr >= FOUR_GIB && !above4G) throw new BootImageError('command line above 4 GiB, but the kernel cannot take it there');
  dv.setUint32(BP.cmdLinePtr, lo32(o.cmdlineAddr), true);
  dv.setUint32(BP.extCmdLinePtr, hi32(o.cmdlineAddr), true);

  const initrdSize = o.initrdSize ?? 0;
  const initrdAddr = initrdSize > 0 ? (o.initrdAddr ?? 0) : 0;
  if (initrdSize > 0) {
    checkAddr(initrdAddr, 'initrd address');
    if (!Number.isSafeInteger(initrdSize)) throw new BootImageError(`initrd size ${initrdSize} is invalid`);
    if (initrdAddr % 4096 !== 0) throw new BootImageError(`initrd address 0x${initrdAddr.toString(16)} is not page aligned`);
    if (initrdAddr + initrdSize - 1 > bz.initrdAddrMax && !above4G) {
      throw new BootImageError(`initrd ends at 0x${(initrdAddr + initrdSize - 1).toString(16)}, above this kernel's initrd_addr_max 0x${bz.initrdAddrMax.toString(16)}`);
    }
  }
  dv.setUint32(BP.ramdiskImage, lo32(initrdAddr), true);
  dv.setUint32(BP.ramdiskSize, lo32(initrdSize), true);
  dv.setUint32(BP.extRamdiskImage, hi32(initrdAddr), true);
  dv.setUint32(BP.extRamdiskSize, hi32(initrdSize), true);

  if (o.setupData !== undefined && o.setupData !== 0) {
    checkAddr(o.setupData, 'setup_data address');
    if (bz.version < 0x0209) throw new BootImageError(`setup_data needs boot protocol 2.09; this kernel has ${protocolString(bz.version)}`);
    setU64(dv, BP.setupData, o.setupData);
  }
  if (o.acpiRsdpAddr !== undefined && o.acpiRsdpAddr !== 0) {
    checkAddr(o.acpiRsdpAddr, 'ACPI RSDP address');
    if (bz.version < 0x020e) throw new BootImageError(`acpi_rsdp_addr needs boot protocol 2.14; this kernel has ${protocolString(bz.version)}`);
    setU64(dv, BP.acpiRsdpAddr, o.acpiRsdpAddr);
  }

  // The memory map.
  if (o.e820.length > E820_MAX_ENTRIES) throw new BootImageError(`memory map has ${o.e820.length} entries; the zero page holds ${E820_MAX_ENTRIES}`);
  zp[BP.e820Entries] = o.e820.length;
  o.e820.forEach((e, k) => {
    const off = BP.e820Table + k * E820_ENTRY_SIZE;
    setU64(dv, off, e.addr);
    setU64(dv, off + 8, e.size);
    dv.setUint32(off + 16, e.type, true);
  });
  // The legacy memory sizes (E801 / int 15h AH=88h): RAM contiguous from 1 MiB, in KiB.
  const ext = o.e820.find((e) => e.type === E820_RAM && e.addr <= 0x100000 && e.addr + e.size > 0x100000);
  const extK = ext ? Math.floor((Math.min(ext.addr + ext.size, FOUR_GIB) - 0x100000) / 1024) : 0;
  dv.setUint32(BP.altMemK, extK, true);
  dv.setUint16(BP.extMemK, Math.min(extK, 0xffff), true);

  if (o.vgaText) {
    zp[BP.origVideoMode] = 3;
    zp[BP.origVideoCols] = 80;
    zp[BP.origVideoLines] = 25;
    zp[BP.origVideoIsVGA] = 1;
    dv.setUint16(BP.origVideoEgaBx, 0x0003, true);
    dv.setUint16(BP.origVideoPoints, 16, true);
  }
  return zp;
}

/**
 * The first loader's zero page builder, kept for existing callers: `layout` gives the command line
 * and initrd addresses (and the kernel's, written to code32_start).
 */
export function buildZeroPage(
  bz: BzImage,
  layout: { cmdline: number; initrd: number; kernel?: number },
  initrdSize: number,
  e820: readonly E820Entry[],
): Uint8Array {
  return buildBootParams(bz, { cmdlineAddr: layout.cmdline, initrdAddr: layout.initrd, initrdSize, e820, kernelAddr: layout.kernel });
}
