/**
 * The Linux x86 boot protocol (Documentation/arch/x86/boot.rst): parsing a bzImage's setup header
 * and building the "zero page" (struct boot_params) for a 32-bit direct boot, as a boot loader
 * would. Pure functions over byte arrays.
 */

export interface BzImage {
  /** Boot protocol version, e.g. 0x020f. */
  version: number;
  setupSects: number;
  /** The real-mode setup code (first (setup_sects + 1) * 512 bytes), holding the setup header. */
  setup: Uint8Array;
  /** The protected-mode kernel, loaded at 1 MiB (or pref_address for relocatable kernels). */
  kernel: Uint8Array;
  loadFlags: number;
  code32Start: number;
  initrdAddrMax: number;
  kernelAlignment: number;
  relocatable: boolean;
  cmdlineSize: number;
  prefAddress: number;
  initSize: number;
  payloadOffset: number;
  payloadLength: number;
}

export class BootImageError extends Error {}

export function parseBzImage(img: Uint8Array): BzImage {
  if (img.length < 0x250) throw new BootImageError(`kernel image is too short (${img.length} bytes) to hold a setup header`);
  const dv = new DataView(img.buffer, img.byteOffset, img.byteLength);
  if (dv.getUint16(0x1fe, true) !== 0xaa55) throw new BootImageError('kernel image has no boot signature (0xAA55 at 0x1FE): not a bzImage');
  if (dv.getUint32(0x202, true) !== 0x53726448) throw new BootImageError('kernel image has no "HdrS" setup header: not a Linux bzImage');
  const version = dv.getUint16(0x206, true);
  if (version < 0x0206) throw new BootImageError(`boot protocol ${(version >> 8)}.${(version & 0xff).toString().padStart(2, '0')} is too old (need 2.06 or later)`);
  const setupSects = img[0x1f1] || 4;
  const setupLen = (setupSects + 1) * 512;
  if (img.length <= setupLen) throw new BootImageError('kernel image ends inside its setup code');
  const loadFlags = img[0x211];
  if ((loadFlags & 1) === 0) throw new BootImageError('kernel is not a bzImage (LOADED_HIGH clear): zImage kernels are not supported');
  return {
    version,
    setupSects,
    setup: img.subarray(0, setupLen),
    kernel: img.subarray(setupLen),
    loadFlags,
    code32Start: dv.getUint32(0x214, true),
    initrdAddrMax: dv.getUint32(0x22c, true),
    kernelAlignment: dv.getUint32(0x230, true),
    relocatable: img[0x234] !== 0,
    cmdlineSize: version >= 0x0206 ? dv.getUint32(0x238, true) : 255,
    prefAddress: version >= 0x020a ? dv.getUint32(0x258, true) : 0x100000,
    initSize: version >= 0x020a ? dv.getUint32(0x260, true) : 0,
    payloadOffset: version >= 0x0208 ? dv.getUint32(0x248, true) : 0,
    payloadLength: version >= 0x0208 ? dv.getUint32(0x24c, true) : 0,
  };
}

export interface E820Entry {
  addr: number;
  size: number;
  type: number;
}

export const E820_RAM = 1, E820_RESERVED = 2, E820_ACPI = 3, E820_NVS = 4;

/** The memory map of a PC with `ramBytes` of RAM below 4 GiB (callers keep RAM under the PCI hole). */
export function pcE820(ramBytes: number, extraReserved: E820Entry[] = []): E820Entry[] {
  return [
    { addr: 0, size: 0x9fc00, type: E820_RAM },
    { addr: 0x9fc00, size: 0x400, type: E820_RESERVED },
    { addr: 0xf0000, size: 0x10000, type: E820_RESERVED },
    { addr: 0x100000, size: ramBytes - 0x100000, type: E820_RAM },
    ...extraReserved,
  ];
}

export interface BootLayout {
  zeroPage: number;
  cmdline: number;
  kernel: number;
  initrd: number;
}

/**
 * Where things go in guest memory: zero page at 0x10000 and the command line after it (low RAM
 * the kernel does not claim early), the kernel at 1 MiB, the initrd as high as the kernel allows.
 */
export function planBoot(bz: BzImage, ramBytes: number, initrdSize: number, cmdline: string): BootLayout {
  const kernel = 0x100000;
  const kernelEnd = kernel + Math.max(bz.initSize, bz.kernel.length);
  if (kernelEnd + 0x100000 > ramBytes) throw new BootImageError(`not enough memory: the kernel needs about ${Math.ceil((kernelEnd + 0x100000) / 1048576)} MiB`);
  if (cmdline.length + 1 > bz.cmdlineSize) throw new BootImageError(`kernel command line is ${cmdline.length} bytes; this kernel accepts ${bz.cmdlineSize - 1}`);
  let initrd = 0;
  if (initrdSize > 0) {
    const top = Math.min(ramBytes, (bz.initrdAddrMax >>> 0) + 1);
    initrd = Math.floor((top - initrdSize) / 4096) * 4096;
    if (initrd < kernelEnd) throw new BootImageError(`not enough memory for the initrd (${Math.ceil(initrdSize / 1048576)} MiB) above the kernel`);
  }
  return { zeroPage: 0x10000, cmdline: 0x11000, kernel, initrd };
}

/** Builds the 4 KiB zero page: the image's setup header plus what the boot loader fills in. */
export function buildZeroPage(bz: BzImage, layout: BootLayout, initrdSize: number, e820: E820Entry[]): Uint8Array {
  const zp = new Uint8Array(4096);
  const dv = new DataView(zp.buffer);
  // The setup header runs from 0x1F1 to 0x202 + the byte at 0x201 (its length).
  const hdrEnd = 0x202 + bz.setup[0x201];
  zp.set(bz.setup.subarray(0x1f1, hdrEnd), 0x1f1);
  zp[0x210] = 0xff; // type_of_loader: undefined boot loader
  zp[0x211] = (bz.loadFlags & ~0x20) | 0x80; // CAN_USE_HEAP; keep LOADED_HIGH
  dv.setUint16(0x224, 0xde00, true); // heap_end_ptr
  dv.setUint32(0x228, layout.cmdline, true);
  dv.setUint32(0x218, layout.initrd, true);
  dv.setUint32(0x21c, initrdSize, true);
  if (e820.length > 128) throw new BootImageError('too many memory map entries');
  zp[0x1e8] = e820.length;
  e820.forEach((e, k) => {
    const o = 0x2d0 + k * 20;
    dv.setUint32(o, e.addr % 4294967296, true);
    dv.setUint32(o + 4, Math.floor(e.addr / 4294967296), true);
    dv.setUint32(o + 8, e.size % 4294967296, true);
    dv.setUint32(o + 12, Math.floor(e.size / 4294967296), true);
    dv.setUint32(o + 16, e.type, true);
  });
  return zp;
}
