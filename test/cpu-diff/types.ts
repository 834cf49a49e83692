/**
 * The snippet contract shared by the native runner and tsxen (mirrors
 * src/cpu/testing/user-snippet.ts, which the harness loads at run time so that it builds and its
 * native half runs even while the emulator side is absent or broken).
 */
export interface SnippetRegs { eax: number; ecx: number; edx: number; ebx: number; esp: number; ebp: number; esi: number; edi: number; eflags: number }
export interface SnippetCase {
  code: Uint8Array;
  data: Uint8Array;
  regs: SnippetRegs;
}
export interface FpuOutcome { fcw: number; fsw: number; ftw: number; st: Uint8Array }
export interface SnippetOutcome {
  regs: SnippetRegs;
  eip: number;
  data: Uint8Array;
  exception: null | { vector: number; errorCode: number; cr2?: number };
  fpu?: FpuOutcome;
}
export const CODE_ADDR = 0x40000000, DATA_ADDR = 0x50000000, DATA_SIZE = 0x2000;
export const CODE_SIZE = 0x4000;

export const REG_NAMES = ['eax', 'ecx', 'edx', 'ebx', 'esp', 'ebp', 'esi', 'edi'] as const;
export type RegName = (typeof REG_NAMES)[number];
export const EAX = 0, ECX = 1, EDX = 2, EBX = 3, ESP = 4, EBP = 5, ESI = 6, EDI = 7;

// EFLAGS bits
export const CF = 0x1, PF = 0x4, AF = 0x10, ZF = 0x40, SF = 0x80, TF = 0x100, IF = 0x200, DF = 0x400, OF = 0x800;
export const NT = 0x4000, RF = 0x10000, AC = 0x40000, ID = 0x200000;
export const OSZAPC = OF | SF | ZF | AF | PF | CF;
export const SZAPC = SF | ZF | AF | PF | CF;
// x87 status word condition codes
export const C0 = 0x100, C1 = 0x200, C2 = 0x400, C3 = 0x4000;
export const CC_ALL = C0 | C1 | C2 | C3;

export const VECTOR_NAMES: Record<number, string> = {
  0: '#DE', 1: '#DB', 3: '#BP', 4: '#OF', 5: '#BR', 6: '#UD', 7: '#NM', 13: '#GP', 14: '#PF', 16: '#MF', 17: '#AC', 19: '#XM',
};

export function hex(v: number, digits = 8): string {
  return (v >>> 0).toString(16).padStart(digits, '0');
}
export function hexBytes(b: ArrayLike<number>): string {
  return Array.from(b, (x) => x.toString(16).padStart(2, '0')).join(' ');
}
