/** Constants of the Linux x86 boot protocol (Documentation/arch/x86/boot.rst). */

// loadflags (setup header offset 0x211)
export const LOADED_HIGH = 0x01;
export const KASLR_FLAG = 0x02;
export const QUIET_FLAG = 0x20;
export const KEEP_SEGMENTS = 0x40;
export const CAN_USE_HEAP = 0x80;

// xloadflags (0x236, protocol 2.12+)
export const XLF_KERNEL_64 = 0x01;
export const XLF_CAN_BE_LOADED_ABOVE_4G = 0x02;
export const XLF_EFI_HANDOVER_32 = 0x04;
export const XLF_EFI_HANDOVER_64 = 0x08;
export const XLF_EFI_KEXEC = 0x10;
export const XLF_5LEVEL = 0x20;
export const XLF_5LEVEL_ENABLED = 0x40;

/** Offset of the setup header in the image and in struct boot_params. */
export const SETUP_HEADER_OFFSET = 0x1f1;
/** "HdrS", little-endian, at 0x202. */
export const HDRS_MAGIC = 0x53726448;
/** The oldest protocol accepted: 2.06 (cmdline_size, 32-bit boot with a reliable header). */
export const MIN_PROTOCOL = 0x0206;
/** Where a non-relocatable bzImage's protected-mode code must be loaded. */
export const DEFAULT_LOAD_ADDRESS = 0x100000;

/** Human form of a protocol version: 0x020f -> "2.15". */
export function protocolString(version: number): string {
  return `${version >> 8}.${(version & 0xff).toString().padStart(2, '0')}`;
}

