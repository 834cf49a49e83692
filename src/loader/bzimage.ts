/**
 * The Linux x86 boot protocol, image side (Documentation/arch/x86/boot.rst): parsing a bzImage's
 * setup header into a structured description with views of its parts: the real-mode setup code,
 * the protected-mode kernel, and the compressed payload inside it (what a PVH-style loader
 * decompresses itself). Pure functions over byte arrays; nothing is copied.
 *
 * For backward compatibility this module also re-exports the zero page, e820 and placement
 * helpers that used to live here (`buildZeroPage`, `pcE820`, `planBoot`).
 */

import { BootImageError } from './errors.js';
import { DEFAULT_LOAD_ADDRESS, HDRS_MAGIC, LOADED_HIGH, MIN_PROTOCOL, SETUP_HEADER_OFFSET, protocolString } from './protocol.js';

export { BootImageError };

export * from './protocol.js';

/** The fields of struct setup_header (offsets in the image / zero page in comments). */
export interface SetupHeader {
  /** 0x1f1: sectors of real-mode setup code after the boot sector (0 means 4). Already mapped. */
  setupSects: number;
  /** 0x1f2 */
  rootFlags: number;
  /** 0x1f4: size of the protected-mode code in 16-byte paragraphs. */
  syssize: number;
  /** 0x1fa */
  vidMode: number;
  /** 0x1fc */
  rootDev: number;
  /** 0x1fe: 0xAA55. */
  bootFlag: number;
  /** 0x206: boot protocol version, e.g. 0x020f for 2.15. */
  version: number;
  /** 0x20e: offset of the version string, minus 0x200 (0 if none). */
  kernelVersionOffset: number;
  /** 0x210 */
  typeOfLoader: number;
  /** 0x211: LOADED_HIGH | KASLR_FLAG | QUIET_FLAG | KEEP_SEGMENTS | CAN_USE_HEAP. */
  loadFlags: number;
  /** 0x214: default 32-bit entry = load address of the protected-mode code (0x100000). */
  code32Start: number;
  /** 0x22c: highest address the initrd may occupy (its last byte). */
  initrdAddrMax: number;
  /** 0x230: alignment a relocatable kernel wants (a power of two). */
  kernelAlignment: number;
  /** 0x234: relocatable_kernel != 0. */
  relocatable: boolean;
  /** 0x235: log2 of the minimum alignment (2.10+; 0 before). */
  minAlignment: number;
  /** 0x236: XLF_* flags (2.12+; 0 before). */
  xloadflags: number;
  /** 0x238: maximum command line length, not counting the terminating NUL. */
  cmdlineSize: number;
  /** 0x23c: hardware_subarch (0 = PC). */
  hardwareSubarch: number;
  /** 0x248: offset of the compressed payload from the start of the protected-mode code. */
  payloadOffset: number;
  /** 0x24c: length of the compressed payload. */
  payloadLength: number;
  /** 0x258: preferred load address (2.10+; DEFAULT_LOAD_ADDRESS before). */
  prefAddress: number;
  /** 0x260: bytes of linear memory from the runtime start the kernel needs before reading the memory map. */
  initSize: number;
  /** 0x264: EFI handover entry offset (2.11+). */
  handoverOffset: number;
  /** 0x268: kernel_info offset (2.15+). */
  kernelInfoOffset: number;
  /** End of the setup header: 0x202 + the byte at 0x201 (the jump over it). */
  headerEnd: number;
}

export type PayloadCompression = 'gzip' | 'xz' | 'lzma' | 'bzip2' | 'lzo' | 'lz4' | 'zstd' | 'none' | 'unknown';

export interface BzImage extends SetupHeader {
  /** The real-mode part: boot sector + setup code, (setupSects + 1) * 512 bytes; holds the header. */
  setup: Uint8Array;
  /** The protected-mode kernel (everything after the setup code), loaded at 1 MiB or pref_address. */
  kernel: Uint8Array;
  /** The compressed payload (a view into `kernel` at payloadOffset, payloadLength bytes). */
  payload: Uint8Array;
  /** The payload's compression, by magic. */
  compression: PayloadCompression;
  /** The kernel's version string ("6.1.0-... (builder) #1 SMP ..."), or null if it has none. */
  kernelVersion: string | null;
}

const u64 = (dv: DataView, o: number): number => dv.getUint32(o, true) + dv.getUint32(o + 4, true) * 4294967296;
const hex = (n: number): string => '0x' + n.toString(16);

/**
 * Parses a bzImage. Throws BootImageError naming the problem for anything that is not a bzImage
 * this loader can boot: too short, no 0xAA55 boot flag, no "HdrS", protocol older than 2.06, a
 * zImage (LOADED_HIGH clear), setup or payload running past the end of the file, and so on.
 */
export function parseBzImage(img: Uint8Array): BzImage {
  if (img.length < 0x264) throw new BootImageError(`kernel image is too short (${img.length} bytes) to hold a boot sector and setup header`);
  const dv = new DataView(img.buffer, img.byteOffset, img.byteLength);
  const bootFlag = dv.getUint16(0x1fe, true);
  if (bootFlag !== 0xaa55) throw new BootImageError(`kernel image has no boot signature (0xAA55 at 0x1FE, found ${hex(bootFlag)}): not a bzImage`);
  if (dv.getUint32(0x202, true) !== HDRS_MAGIC) throw new BootImageError('kernel image has no "HdrS" magic at 0x202: not a Linux bzImage (or a pre-2.00 kernel)');
  const version = dv.getUint16(0x206, true);
  if (version < MIN_PROTOCOL) throw new BootImageError(`boot protocol ${protocolString(version)} is too old (need ${protocolString(MIN_PROTOCOL)} or later)`);
  if (img[0x200] !== 0xeb) throw new BootImageError(`setup header does not start with a short jump at 0x200 (found ${hex(img[0x200])})`);
  const headerEnd = 0x202 + img[0x201];
  if (headerEnd < 0x23c) throw new BootImageError(`setup header is ${headerEnd - SETUP_HEADER_OFFSET} bytes, too short for protocol ${protocolString(version)}`);

  const setupSects = img[0x1f1] || 4;
  const setupLen = (setupSects + 1) * 512;
  if (headerEnd > setupLen) throw new BootImageError(`setup header (ends at ${hex(headerEnd)}) runs past the setup code (${setupLen} bytes)`);
  if (img.length <= setupLen) throw new BootImageError(`kernel image is truncated: it ends inside its ${setupLen}-byte setup code (${img.length} bytes)`);
  const loadFlags = img[0x211];
  if ((loadFlags & LOADED_HIGH) === 0) throw new BootImageError('kernel is a zImage (LOADED_HIGH clear in loadflags): only bzImage kernels are supported');

  const kernel = img.subarray(setupLen);
  const syssize = dv.getUint32(0x1f4, true);
  if (syssize * 16 > kernel.length) {
    throw new BootImageError(`kernel image is truncated: syssize says ${syssize * 16} bytes of protected-mode code, the file has ${kernel.length}`);
  }
  const has = (end: number): boolean => headerEnd >= end;
  const v = (min: number): boolean => version >= min;
  const relocatable = img[0x234] !== 0;
  const kernelAlignment = dv.getUint32(0x230, true);
  if (relocatable && (kernelAlignment === 0 || (kernelAlignment & (kernelAlignment - 1)) !== 0)) {
    throw new BootImageError(`relocatable kernel has an invalid kernel_alignment ${hex(kernelAlignment)} (not a power of two)`);
  }
  const payloadOffset = v(0x0208) && has(0x250) ? dv.getUint32(0x248, true) : 0;
  const payloadLength = v(0x0208) && has(0x250) ? dv.getUint32(0x24c, true) : 0;
  if (payloadOffset + payloadLength > kernel.length) {
    throw new BootImageError(`compressed payload (offset ${hex(payloadOffset)}, ${payloadLength} bytes) runs past the protected-mode code (${kernel.length} bytes)`);
  }
  const prefAddress = v(0x020a) && has(0x260) ? u64(dv, 0x258) : DEFAULT_LOAD_ADDRESS;
  const initSize = v(0x020a) && has(0x264) ? dv.getUint32(0x260, true) : 0;
  if (v(0x020a) && initSize === 0) throw new BootImageError('setup header has init_size 0: the kernel does not say how much memory it needs');
  const payload = kernel.subarray(payloadOffset, payloadOffset + payloadLength);

  return {
    setupSects,
    rootFlags: dv.getUint16(0x1f2, true),
    syssize,
    vidMode: dv.getUint16(0x1fa, true),
    rootDev: dv.getUint16(0x1fc, true),
    bootFlag,
    version,
    kernelVersionOffset: dv.getUint16(0x20e, true),
    typeOfLoader: img[0x210],
    loadFlags,
    code32Start: dv.getUint32(0x214, true),
    initrdAddrMax: dv.getUint32(0x22c, true),
    kernelAlignment,
    relocatable,
    minAlignment: v(0x020a) ? img[0x235] : 0,
    xloadflags: v(0x020c) && has(0x238) ? dv.getUint16(0x236, true) : 0,
    cmdlineSize: dv.getUint32(0x238, true),
    hardwareSubarch: v(0x0207) && has(0x240) ? dv.getUint32(0x23c, true) : 0,
    payloadOffset,
    payloadLength,
    prefAddress,
    initSize,
    handoverOffset: v(0x020b) && has(0x268) ? dv.getUint32(0x264, true) : 0,
    kernelInfoOffset: v(0x020f) && has(0x26c) ? dv.getUint32(0x268, true) : 0,
    headerEnd,
    setup: img.subarray(0, setupLen),
    kernel,
    payload,
    compression: detectCompression(payload),
    kernelVersion: readVersionString(img, dv.getUint16(0x20e, true), setupLen),
  };
}

/** The NUL-terminated printable string at kernel_version + 0x200 inside the setup code, or null. */
function readVersionString(img: Uint8Array, offset: number, setupLen: number): string | null {
  if (offset === 0) return null;
  const start = offset + 0x200;
  let s = '';
  for (let p = start; p < setupLen && p < start + 256; p++) {
    const c = img[p];
    if (c === 0) return s.length ? s : null;
    if (c < 0x20 || c > 0x7e) return null;
    s += String.fromCharCode(c);
  }
  return null;
}

/**
 * The compression of a kernel payload, told by its leading magic bytes (detection only):
 * gzip 1f 8b, xz fd 37 7a 58 5a 00, bzip2 "BZh1".."BZh9", lzo 89 "LZO" 00 0d 0a 1a 0a,
 * lz4 (Linux uses the legacy frame 02 21 4c 18; the modern frame 04 22 4d 18 is also recognised),
 * zstd 28 b5 2f fd, lzma (the "lzma alone" header Linux uses: properties byte 0x5d and a dictionary
 * size that is a multiple of 64 KiB, so bytes 1-2 are zero), and an uncompressed ELF vmlinux
 * (CONFIG_KERNEL_UNCOMPRESSED) as 'none'.
 */
export function detectCompression(b: Uint8Array): PayloadCompression {
  const at = (...bytes: number[]): boolean => b.length >= bytes.length && bytes.every((x, k) => b[k] === x);
  if (at(0x1f, 0x8b)) return 'gzip';
  if (at(0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00)) return 'xz';
  if (at(0x42, 0x5a, 0x68) && b.length > 3 && b[3] >= 0x31 && b[3] <= 0x39) return 'bzip2';
  if (at(0x89, 0x4c, 0x5a, 0x4f, 0x00, 0x0d, 0x0a, 0x1a, 0x0a)) return 'lzo';
  if (at(0x02, 0x21, 0x4c, 0x18) || at(0x04, 0x22, 0x4d, 0x18)) return 'lz4';
  if (at(0x28, 0xb5, 0x2f, 0xfd)) return 'zstd';
  if (at(0x7f, 0x45, 0x4c, 0x46)) return 'none';
  if (b.length >= 13 && b[0] === 0x5d && b[1] === 0x00 && b[2] === 0x00) return 'lzma';
  return 'unknown';
}

/**
 * The uncompressed size that Linux's build appends to the payload (the last 4 bytes, little
 * endian, for every compression: size_append in the kernel's build). 0 if the payload is shorter.
 */
export function payloadUncompressedSize(bz: BzImage): number {
  const p = bz.payload;
  if (p.length < 4) return 0;
  return (p[p.length - 4] | (p[p.length - 3] << 8) | (p[p.length - 2] << 16) | (p[p.length - 1] << 24)) >>> 0;
}

// Backward-compatible names (the first version of the loader kept everything in this module).
export { buildZeroPage } from './boot-params.js';
export { pcE820, E820_RAM, E820_RESERVED, E820_ACPI, E820_NVS, type E820Entry } from './e820.js';
export { planBoot, type BootLayout } from './placement.js';
