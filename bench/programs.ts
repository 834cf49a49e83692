/**
 * Guest programs for the CPU benchmark, as machine code with the assembly beside each byte group.
 * Each ends with `out 0xf4, al` (exit port) followed by `hlt`.
 */
export interface BenchProgram {
  name: string;
  code: number[];
  /** Guest instructions executed, from the loop structure (checked against the CPU's count). */
  instructions: number;
}

const EXIT = [0xe6, 0xf4, 0xf4]; // out 0xf4, al; hlt

/** Integer loop: ecx iterations of add/xor/shl-free arithmetic and a conditional branch. */
export function integerLoop(iterations: number): BenchProgram {
  const code = [
    0xb9, ...u32(iterations), // mov ecx, N
    0x31, 0xc0, //               xor eax, eax
    0x31, 0xdb, //               xor ebx, ebx
    // loop:
    0x01, 0xc8, //               add eax, ecx
    0x31, 0xc3, //               xor ebx, eax
    0x8d, 0x54, 0x18, 0x01, //   lea edx, [eax+ebx+1]
    0x49, //                     dec ecx
    0x75, 0xf5, //               jnz loop
    ...EXIT,
  ];
  return { name: 'integer loop', code, instructions: 3 + iterations * 5 + 1 };
}

/** Memory copy: rep-free word copy loop over a 64 KiB buffer, repeated. */
export function memoryLoop(iterations: number): BenchProgram {
  const code = [
    0xba, ...u32(iterations), // mov edx, N
    // outer:
    0xbe, ...u32(0x100000), //   mov esi, 0x100000
    0xbf, ...u32(0x200000), //   mov edi, 0x200000
    0xb9, ...u32(16384), //      mov ecx, 16384
    // inner:
    0x8b, 0x06, //               mov eax, [esi]
    0x89, 0x07, //               mov [edi], eax
    0x83, 0xc6, 0x04, //         add esi, 4
    0x83, 0xc7, 0x04, //         add edi, 4
    0x49, //                     dec ecx
    0x75, 0xf3, //               jnz inner
    0x4a, //                     dec edx
    0x75, 0xe3, //               jnz outer
    ...EXIT,
  ];
  return { name: 'memory copy loop', code, instructions: 1 + iterations * (3 + 16384 * 6 + 2) + 1 };
}

function u32(v: number): number[] {
  return [v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, (v >>> 24) & 0xff];
}
