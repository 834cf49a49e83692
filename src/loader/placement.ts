/**
 * Where a 32-bit direct boot puts things in guest memory, and the CPU state its entry needs
 * (Documentation/arch/x86/boot.rst, "32-bit boot protocol" and "kernel runtime start").
 *
 * Fixed low-memory layout (all inside conventional RAM, above the BIOS data area and below the
 * EBDA at 0x9fc00; Linux copies the zero page and command line out before it reuses low memory,
 * and its decompressor keeps KASLR away from both):
 *
 *   0x06000-0x0601f  boot GDT: null, null, __BOOT_CS (0x10) flat code, __BOOT_DS (0x18) flat data
 *   0x07000-0x07fff  initial stack (ESP = 0x8000; the kernel sets up its own almost at once)
 *   0x10000-0x10fff  zero page (struct boot_params); ESI points here
 *   0x20000-...      command line, NUL terminated (cmdline_size + 1 bytes; must end below 0x90000)
 *
 * The protected-mode kernel goes to pref_address (aligned to kernel_alignment) for a relocatable
 * kernel, else to code32_start (1 MiB); the caller may ask for code32_start with kernelAt. The
 * kernel then needs [runtime start, runtime start + init_size) of RAM, where the runtime start is
 * pref_address for a non-relocatable kernel and align_up(max(load address, pref_address),
 * kernel_alignment) for a relocatable one. The initrd goes as high as RAM and initrd_addr_max
 * allow, page aligned, clear of both kernel ranges.
 */
import { BootImageError } from './errors.js';
import { DEFAULT_LOAD_ADDRESS } from './protocol.js';
import type { BzImage } from './bzimage.js';
import { E820_RAM, FOUR_GIB, e820Containing, hexRange, pcE820, type E820Entry } from './e820.js';

export const BOOT_GDT_ADDR = 0x6000;
export const BOOT_GDT_LIMIT = 31;
export const BOOT_STACK_TOP = 0x8000;
export const ZERO_PAGE_ADDR = 0x10000;
export const CMDLINE_ADDR = 0x20000;
/** The command line must end below this. */
export const CMDLINE_LIMIT = 0x90000;
/** Selectors the 32-bit boot protocol requires. */
export const BOOT_CS = 0x10;
export const BOOT_DS = 0x18;
/** Raw flat 4 GiB descriptors (low dword, high dword): code execute/read, data read/write; G=1, D=1, accessed. */
export const BOOT_CODE_DESCRIPTOR: readonly [number, number] = [0x0000ffff, 0x00cf9b00];
export const BOOT_DATA_DESCRIPTOR: readonly [number, number] = [0x0000ffff, 0x00cf9300];

const MIB = 1048576;
const PAGE = 4096;
const alignUp = (n: number, a: number): number => Math.ceil(n / a) * a;
const alignDown = (n: number, a: number): number => Math.floor(n / a) * a;
const mib = (n: number): string => `${(n / MIB).toFixed(1)} MiB`;
const hex = (n: number): string => '0x' + n.toString(16);

/** The setup-header facts placement needs (a BzImage has them all). */
export type KernelFacts = Pick<BzImage, 'kernel' | 'relocatable' | 'prefAddress' | 'kernelAlignment' | 'initSize' | 'code32Start' | 'initrdAddrMax' | 'cmdlineSize'>;

export interface PlacementRequest {
  /** RAM size; the PC e820 map is built from it when `e820` is not given. */
  ramBytes?: number;
  /** The guest's memory map (RAM entries are where things may go). */
  e820?: readonly E820Entry[];
  /** Bytes of initrd (0 or absent: none). */
  initrdSize?: number;
  /** Command line length in bytes, without the NUL. */
  cmdlineLength?: number;
  /**
   * Where to load the protected-mode kernel: 'pref' (default: pref_address for relocatable
   * kernels, code32_start otherwise), 'code32' (code32_start, i.e. 1 MiB, as GRUB's 32-bit path
   * does; the kernel moves itself), or an explicit address (relocatable kernels only).
   */
  kernelAt?: 'pref' | 'code32' | number;
}

export interface SegmentState {
  selector: number;
  base: number;
  limit: number;
  /** The raw descriptor (low dword, high dword) this segment was loaded from. */
  descriptor: readonly [number, number];
}

/** CPU state at the 32-bit boot entry: protected mode, paging off, interrupts off, flat segments. */
export interface Boot32Entry {
  eip: number;
  /** ESI = the zero page; EBP, EDI, EBX must be 0 (the protocol says so); the rest are 0 too. */
  esi: number;
  esp: number;
  eax: number;
  ebx: number;
  ecx: number;
  edx: number;
  ebp: number;
  edi: number;
  /** Only the reserved bit 1: IF clear. */
  eflags: number;
  /** PE | ET: protected mode, paging off. */
  cr0: number;
  cr3: number;
  cr4: number;
  gdtBase: number;
  gdtLimit: number;
  idtBase: number;
  idtLimit: number;
  cs: SegmentState;
  ds: SegmentState;
  es: SegmentState;
  ss: SegmentState;
  fs: SegmentState;
  gs: SegmentState;
}

export interface BootPlacement {
  /** Load address of the protected-mode kernel (= the 32-bit entry point). */
  kernel: number;
  kernelEnd: number;
  /** What the kernel needs before it reads the memory map: [runtimeStart, runtimeEnd). */
  runtimeStart: number;
  runtimeEnd: number;
  /** The initrd (0 and 0 when there is none). */
  initrd: number;
  initrdEnd: number;
  zeroPage: number;
  cmdline: number;
  gdt: number;
  stackTop: number;
  /** The memory map the plan was made against (hand it to buildBootParams). */
  e820: E820Entry[];
  entry: Boot32Entry;
}

/** The 32-byte boot GDT to place at BOOT_GDT_ADDR: null, null, flat code (0x10), flat data (0x18). */
export function bootGdt(): Uint8Array {
  const gdt = new Uint8Array(BOOT_GDT_LIMIT + 1);
  const dv = new DataView(gdt.buffer);
  dv.setUint32(BOOT_CS, BOOT_CODE_DESCRIPTOR[0], true);
  dv.setUint32(BOOT_CS + 4, BOOT_CODE_DESCRIPTOR[1], true);
  dv.setUint32(BOOT_DS, BOOT_DATA_DESCRIPTOR[0], true);
  dv.setUint32(BOOT_DS + 4, BOOT_DATA_DESCRIPTOR[1], true);
  return gdt;
}

/** The register state for entering `kernel` with the zero page at `zeroPage`. */
export function boot32Entry(kernel: number, zeroPage = ZERO_PAGE_ADDR, gdt = BOOT_GDT_ADDR, stackTop = BOOT_STACK_TOP): Boot32Entry {
  const seg = (selector: number, descriptor: readonly [number, number]): SegmentState => ({ selector, base: 0, limit: 0xffffffff, descriptor });
  const data = (): SegmentState => seg(BOOT_DS, BOOT_DATA_DESCRIPTOR);
  return {
    eip: kernel,
    esi: zeroPage,
    esp: stackTop,
    eax: 0,
    ebx: 0,
    ecx: 0,
    edx: 0,
    ebp: 0,
    edi: 0,
    eflags: 0x2,
    cr0: 0x11,
    cr3: 0,
    cr4: 0,
    gdtBase: gdt,
    gdtLimit: BOOT_GDT_LIMIT,
    idtBase: 0,
    idtLimit: 0,
    cs: seg(BOOT_CS, BOOT_CODE_DESCRIPTOR),
    ds: data(),
    es: data(),
    ss: data(),
    fs: data(),
    gs: data(),
  };
}

/** Plans a 32-bit direct boot of `bz`. Throws BootImageError with the reason when it cannot fit. */
export function planDirectBoot(bz: KernelFacts, req: PlacementRequest): BootPlacement {
  let e820: E820Entry[];
  if (req.e820) e820 = req.e820.map((e) => ({ ...e }));
  else if (req.ramBytes !== undefined) e820 = pcE820(req.ramBytes);
  else throw new BootImageError('placement needs the RAM size or a memory map');
  const initrdSize = req.initrdSize ?? 0;
  const cmdlineLength = req.cmdlineLength ?? 0;
  if (!Number.isSafeInteger(initrdSize) || initrdSize < 0) throw new BootImageError(`initrd size ${initrdSize} is invalid`);
  if (!Number.isSafeInteger(cmdlineLength) || cmdlineLength < 0) throw new BootImageError(`command line length ${cmdlineLength} is invalid`);

  // Low memory: GDT, stack, zero page, command line.
  if (cmdlineLength > bz.cmdlineSize) throw new BootImageError(`kernel command line is ${cmdlineLength} bytes; this kernel accepts at most ${bz.cmdlineSize}`);
  if (CMDLINE_ADDR + cmdlineLength + 1 > CMDLINE_LIMIT) throw new BootImageError(`kernel command line of ${cmdlineLength} bytes does not fit below ${hex(CMDLINE_LIMIT)}`);
  const low: [number, number, string][] = [
    [BOOT_GDT_ADDR, BOOT_GDT_LIMIT + 1, 'boot GDT'],
    [BOOT_STACK_TOP - PAGE, PAGE, 'boot stack'],
    [ZERO_PAGE_ADDR, PAGE, 'zero page'],
    [CMDLINE_ADDR, cmdlineLength + 1, 'command line'],
  ];
  for (const [addr, size, what] of low) {
    if (!e820Containing(e820, addr, size)) throw new BootImageError(`the memory map has no RAM for the ${what} at ${hexRange({ addr, size })}`);
  }

  // The kernel: load address and runtime range.
  const code32 = bz.code32Start || DEFAULT_LOAD_ADDRESS;
  const at = req.kernelAt ?? 'pref';
  let kernel: number;
  if (typeof at === 'number') {
    if (!Number.isSafeInteger(at) || at < MIB || at % PAGE !== 0) throw new BootImageError(`kernel load address ${hex(at)} must be page aligned and at or above 1 MiB`);
    if (!bz.relocatable && at !== code32) throw new BootImageError(`kernel is not relocatable: it must be loaded at ${hex(code32)}, not ${hex(at)}`);
    kernel = at;
  } else if (at === 'pref' && bz.relocatable) {
    kernel = alignUp(Math.max(bz.prefAddress, MIB), bz.kernelAlignment || PAGE);
  } else {
    kernel = code32;
  }
  const kernelEnd = kernel + bz.kernel.length;
  if (kernelEnd > FOUR_GIB) throw new BootImageError('kernel would be loaded above 4 GiB');
  const runtimeStart = bz.relocatable ? alignUp(Math.max(kernel, bz.prefAddress), bz.kernelAlignment || PAGE) : bz.prefAddress;
  // Protocols before 2.10 do not state init_size: assume four times the compressed kernel.
  const runtimeEnd = runtimeStart + (bz.initSize || 4 * bz.kernel.length);
  const ramTop = lowRamEnd(e820);
  for (const [start, end, what] of [
    [kernel, kernelEnd, `the kernel image (${mib(bz.kernel.length)} at ${hex(kernel)})`],
    [runtimeStart, runtimeEnd, `the kernel's working memory (init_size ${mib(runtimeEnd - runtimeStart)} from ${hex(runtimeStart)})`],
  ] as const) {
    if (!e820Containing(e820, start, end - start)) {
      throw new BootImageError(`not enough memory: ${what} needs RAM up to ${mib(end)}, but RAM from 1 MiB ends at ${mib(ramTop)}`);
    }
  }

  // The initrd: as high as allowed, clear of the kernel.
  let initrd = 0;
  let initrdEnd = 0;
  if (initrdSize > 0) {
    const limit = Math.min(bz.initrdAddrMax + 1, FOUR_GIB);
    const busyStart = Math.min(kernel, runtimeStart);
    const busyEnd = Math.max(kernelEnd, runtimeEnd);
    const ram = e820.filter((e) => e.type === E820_RAM && e.addr + e.size > MIB).sort((a, b) => b.addr - a.addr);
    for (const e of ram) {
      const bottom = Math.max(e.addr, MIB);
      let top = Math.min(e.addr + e.size, limit);
      let cand = alignDown(top - initrdSize, PAGE);
      if (cand < busyEnd && cand + initrdSize > busyStart) {
        top = Math.min(top, busyStart);
        cand = alignDown(top - initrdSize, PAGE);
      }
      if (cand >= bottom && cand + initrdSize <= top) {
        initrd = cand;
        break;
      }
    }
    if (initrd === 0) {
      throw new BootImageError(
        `not enough memory for the initrd (${mib(initrdSize)}): it must lie below ${mib(limit)} (initrd_addr_max) in RAM ` +
          `clear of the kernel at ${mib(busyStart)}-${mib(busyEnd)}; RAM from 1 MiB ends at ${mib(ramTop)}`,
      );
    }
    initrdEnd = initrd + initrdSize;
  }

  return {
    kernel,
    kernelEnd,
    runtimeStart,
    runtimeEnd,
    initrd,
    initrdEnd,
    zeroPage: ZERO_PAGE_ADDR,
    cmdline: CMDLINE_ADDR,
    gdt: BOOT_GDT_ADDR,
    stackTop: BOOT_STACK_TOP,
    e820,
    entry: boot32Entry(kernel),
  };
}

/** End of the RAM entry that contains 1 MiB (0 if none). */
function lowRamEnd(e820: readonly E820Entry[]): number {
  const e = e820Containing(e820, MIB, 1);
  return e ? e.addr + e.size : 0;
}

/** The first loader's layout, kept for existing callers. */
export interface BootLayout {
  zeroPage: number;
  cmdline: number;
  kernel: number;
  initrd: number;
}

/**
 * The first loader's planner, kept for existing callers: the PC map for `ramBytes`, the kernel at
 * code32_start (1 MiB; callers enter at code32_start), the initrd as high as allowed.
 */
export function planBoot(bz: KernelFacts, ramBytes: number, initrdSize: number, cmdline: string): BootLayout & BootPlacement {
  return planDirectBoot(bz, { ramBytes, initrdSize, cmdlineLength: cmdline.length, kernelAt: 'code32' });
}
