/**
 * Everything a machine needs for a 32-bit direct boot of a bzImage, in one pure call: the parsed
 * image, the placement, the memory writes (kernel, initrd, command line, zero page, boot GDT) and
 * the entry CPU state. The machine copies the writes into RAM and loads the state.
 */
import { parseBzImage, type BzImage } from './bzimage.js';
import { buildBootParams, encodeCmdline } from './boot-params.js';
import { bootGdt, planDirectBoot, type Boot32Entry, type BootPlacement, type PlacementRequest } from './placement.js';
import type { E820Entry } from './e820.js';

export interface DirectBootRequest {
  /** RAM size (the PC e820 map is built from it) unless `e820` is given. */
  ramBytes?: number;
  e820?: readonly E820Entry[];
  initrd?: Uint8Array;
  cmdline: string;
  kernelAt?: PlacementRequest['kernelAt'];
  /** Describe an 80x25 VGA text console to the kernel (default: no video). */
  vgaText?: boolean;
  acpiRsdpAddr?: number;
}

export interface MemoryWrite {
  addr: number;
  data: Uint8Array;
  what: 'kernel' | 'initrd' | 'cmdline' | 'zero page' | 'gdt';
}

export interface DirectBoot {
  bz: BzImage;
  placement: BootPlacement;
  writes: MemoryWrite[];
  entry: Boot32Entry;
}

export function prepareDirectBoot(image: Uint8Array, req: DirectBootRequest): DirectBoot {
  const bz = parseBzImage(image);
  const initrdSize = req.initrd?.length ?? 0;
  const cmdline = encodeCmdline(req.cmdline, bz);
  const placement = planDirectBoot(bz, { ramBytes: req.ramBytes, e820: req.e820, initrdSize, cmdlineLength: req.cmdline.length, kernelAt: req.kernelAt });
  const zeroPage = buildBootParams(bz, {
    cmdlineAddr: placement.cmdline,
    initrdAddr: placement.initrd,
    initrdSize,
    e820: placement.e820,
    kernelAddr: placement.kernel,
    vgaText: req.vgaText,
    acpiRsdpAddr: req.acpiRsdpAddr,
  });
  const writes: MemoryWrite[] = [
    { addr: placement.kernel, data: bz.kernel, what: 'kernel' },
    { addr: placement.cmdline, data: cmdline, what: 'cmdline' },
    { addr: placement.zeroPage, data: zeroPage, what: 'zero page' },
    { addr: placement.gdt, data: bootGdt(), what: 'gdt' },
  ];
  if (req.initrd && initrdSize > 0) writes.push({ addr: placement.initrd, data: req.initrd, what: 'initrd' });
  return { bz, placement, writes, entry: placement.entry };
}
