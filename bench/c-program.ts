/**
 * The compiled-C benchmark program (bench/c/workload.c): builds it with gcc -m32 into a flat
 * binary for tsxen's bare machine and into a native executable, and runs both. Needs gcc with
 * 32-bit support (Debian's gcc-multilib); without it the caller reports the benchmark as skipped.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Flat32Machine } from '../src/machine/flat32.js';
import { parseElf } from '../src/loader/elf.js';

const root = join(fileURLToPath(import.meta.url), '../../..');
const src = join(root, 'bench/c/workload.c');
const out = join(root, 'build/bench');
export const LOAD_ADDR = 0x10000;

export interface CBuild {
  flat: Uint8Array;
  /** Entry point (_start) inside the flat image. */
  entry: number;
  native: string;
}

/** Builds both forms; throws with gcc's first error line if the toolchain is missing. */
export function buildCBenchmark(rounds = 8): CBuild {
  mkdirSync(out, { recursive: true });
  const tag = `r${rounds}`;
  const elf = join(out, `workload-${tag}.elf`), bin = join(out, `workload-${tag}.bin`), native = join(out, `workload-${tag}-native`);
  const common = ['-m32', '-O2', '-fno-tree-loop-distribute-patterns', `-DROUNDS=${rounds}`];
  try {
    execFileSync('gcc', [...common, '-DFREESTANDING', '-ffreestanding', '-fno-pic', '-fno-pie', '-no-pie', '-fno-stack-protector',
      '-fno-asynchronous-unwind-tables', '-nostdlib', '-static', `-Wl,-Ttext=0x${LOAD_ADDR.toString(16)}`, '-Wl,-e,_start',
      '-Wl,--build-id=none', '-o', elf, src], { stdio: ['ignore', 'ignore', 'pipe'] });
    execFileSync('objcopy', ['-O', 'binary', elf, bin]);
    execFileSync('gcc', [...common, '-o', native, src], { stdio: ['ignore', 'ignore', 'pipe'] });
  } catch (e) {
    const msg = String((e as { stderr?: Buffer }).stderr ?? (e as Error).message).split('\n').find((l) => l.trim()) ?? 'gcc failed';
    throw new Error(`cannot build the C benchmark with gcc -m32 (install gcc-multilib): ${msg.trim()}`);
  }
  return { flat: new Uint8Array(readFileSync(bin)), entry: parseElf(new Uint8Array(readFileSync(elf))).entry, native };
}

export interface CRun {
  checksum: string;
  seconds: number;
  instructions: number;
}

export function runOnTsxen({ flat, entry }: CBuild): CRun {
  let text = '';
  const m = new Flat32Machine({ ramBytes: 8 << 20, onOutput: (b) => { text += String.fromCharCode(b); } });
  m.load(flat, LOAD_ADDR);
  m.cpu.eip = entry; // the stack stays just below the image
  const t0 = performance.now();
  m.run(50_000_000_000);
  const seconds = (performance.now() - t0) / 1000;
  if (m.exitCode !== 0) throw new Error(`C benchmark did not exit cleanly on tsxen (exit ${m.exitCode}, output '${text}')`);
  return { checksum: text.trim(), seconds, instructions: m.cpu.icount };
}

export function runNative(path: string): CRun {
  const [checksum, secs] = execFileSync(path).toString().trim().split(' ');
  return { checksum, seconds: Number(secs), instructions: 0 };
}
