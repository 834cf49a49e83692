/**
 * The built-in self-test guest: a few hundred bytes of 32-bit code that computes 1 + ... + 100000
 * in a loop, checks the (wrapped) result, prints a verdict on the debug port and exits through the
 * exit port with 0 on success. It is what `tsxen selftest` runs; it needs no guest files.
 */
const LOAD = 0x10000;
const SUM = 5000050000 % 4294967296;

export function selfTestProgram(): { code: Uint8Array; load: number } {
  const ok = ascii('tsxen self-test: CPU ok (sum 1..100000 correct)\n');
  const fail = ascii('tsxen self-test: FAIL (wrong sum)\n');
  // Code layout (offsets in comments); messages follow the code.
  const codeLen = 0x35;
  const okAddr = LOAD + codeLen, failAddr = okAddr + ok.length;
  const code = [
    0xb9, ...u32(100000), //        00 mov ecx, 100000
    0x31, 0xc0, //                  05 xor eax, eax
    0x01, 0xc8, //                  07 add eax, ecx
    0x49, //                        09 dec ecx
    0x75, 0xfb, //                  0a jnz 07
    0x3d, ...u32(SUM), //           0c cmp eax, SUM
    0x0f, 0x95, 0xc3, //            11 setne bl
    0xbe, ...u32(okAddr), //        14 mov esi, ok
    0x84, 0xdb, //                  19 test bl, bl
    0x74, 0x05, //                  1b jz 22
    0xbe, ...u32(failAddr), //      1d mov esi, fail
    0x8a, 0x06, //                  22 mov al, [esi]
    0x46, //                        24 inc esi
    0x84, 0xc0, //                  25 test al, al
    0x74, 0x04, //                  27 jz 2d
    0xe6, 0xe9, //                  29 out 0xe9, al
    0xeb, 0xf5, //                  2b jmp 22
    0x88, 0xd8, //                  2d mov al, bl
    0xe6, 0xf4, //                  2f out 0xf4, al
    0xf4, //                        31 hlt
    0x90, 0x90, 0x90, //            32 padding
  ];
  if (code.length !== codeLen) throw new Error('self-test program layout is off');
  return { code: Uint8Array.from([...code, ...ok, ...fail]), load: LOAD };
}

function ascii(s: string): number[] {
  const out: number[] = [];
  for (let k = 0; k < s.length; k++) out.push(s.charCodeAt(k));
  out.push(0);
  return out;
}

function u32(v: number): number[] {
  return [v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, (v >>> 24) & 0xff];
}
