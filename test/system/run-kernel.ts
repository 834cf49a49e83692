/**
 * Runs a system-test kernel: assembles test/system/<name>.asm with nasm (-f bin) into
 * build/system/<name>.bin, loads it at physical 0x8000 and starts it in real mode at 0000:8000 on a
 * bare CPU, and collects what it reports over I/O ports.
 *
 * Port protocol (see lib.inc):
 *   0xE9  write: one character of output (debug console)
 *   0xF4  write: exit code; the run ends
 *   0xF0  write: raise INTR with this vector (acknowledged once, then the line drops)
 *   0xF1  write: raise NMI
 *   0xF2  write: drop INTR (forget any queued vector)
 * Reads of other ports return all-ones.
 *
 * The run also ends on HLT with nothing that could wake it (IF=0 and no NMI, or nothing pending),
 * on a triple fault (Exit.Shutdown) or when the instruction budget is spent.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { PhysicalMemory } from '../../src/memory/physical.js';
import { Cpu, type CpuBus } from '../../src/cpu/cpu.js';
import { CS, Exit, FLAG_IF } from '../../src/cpu/arch.js';

/** Repository root (this file runs from dist/test/system/). */
export const ROOT = join(fileURLToPath(import.meta.url), '../../../..');
const SRC_DIR = join(ROOT, 'test/system');
const BUILD_DIR = join(ROOT, 'build/system');
export const LOAD_ADDR = 0x8000;

export interface KernelRun {
  /** Everything written to port 0xE9. */
  output: string;
  lines: string[];
  /** Names of checks reported as `PASS <name>`. */
  passed: string[];
  /** Lines starting with `FAIL`. */
  failed: string[];
  /** Value written to port 0xF4, or null if the kernel never wrote it. */
  exitCode: number | null;
  /** Why the run ended. */
  end: 'exit' | 'halt' | 'shutdown' | 'budget' | 'stuck';
  cpu: Cpu;
  mem: PhysicalMemory;
}

export interface RunOptions {
  ramBytes?: number;
  /** Instruction budget for the whole run. */
  budget?: number;
}

let nasmFound: boolean | null = null;
const NASM_MISSING = 'nasm is required to assemble the system-test kernels but was not found on PATH: install the nasm package';

function haveNasm(): boolean {
  if (nasmFound === null) {
    const r = spawnSync('nasm', ['-v'], { encoding: 'utf8' });
    nasmFound = !r.error && r.status === 0;
  }
  return nasmFound;
}

function requireNasm(): void {
  if (!haveNasm()) throw new Error(`${NASM_MISSING}${process.env.CI === 'true' ? ' (CI=true makes this a failure, not a skip)' : ''}`);
}

/**
 * The skip option of tests that assemble kernels: without nasm they are skipped with the reason on
 * a developer's machine; under CI (CI=true) they run and fail with a one-line message naming nasm.
 */
export function nasmSkip(): string | false {
  return haveNasm() || process.env.CI === 'true' ? false : NASM_MISSING;
}

/** Assembles `<name>.asm` (with lib.inc) and returns the binary. */
export function assemble(name: string): Uint8Array {
  requireNasm();
  mkdirSync(BUILD_DIR, { recursive: true });
  const src = join(SRC_DIR, `${name}.asm`);
  statSync(src);
  const out = join(BUILD_DIR, `${name}.bin`);
  try {
    const listing = join(BUILD_DIR, `${name}.lst`);
    execFileSync('nasm', ['-f', 'bin', '-w+all', '-I', `${SRC_DIR}/`, '-o', out, '-l', listing, src], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    });
  } catch (e) {
    const err = e as { stderr?: string; message: string };
    throw new Error(`nasm failed for ${name}.asm:\n${err.stderr ?? err.message}`);
  }
  return new Uint8Array(readFileSync(out));
}

/** The test devices on the port bus, with an INTR line driven by port writes. */
class TestBus implements CpuBus {
  output = '';
  exitCode: number | null = null;
  private readonly vectors: number[] = [];
  cpu!: Cpu;

  ioRead(_port: number, size: 1 | 2 | 4): number {
    return size === 4 ? -1 : (1 << (size * 8)) - 1;
  }

  ioWrite(port: number, _size: 1 | 2 | 4, value: number): void {
    switch (port) {
      case 0xe9:
        this.output += String.fromCharCode(value & 0xff);
        break;
      case 0xf4:
        this.exitCode = value & 0xff;
        this.cpu.requestStop();
        break;
      case 0xf0:
        this.vectors.push(value & 0xff);
        this.cpu.setIntr(true);
        break;
      case 0xf1:
        this.cpu.raiseNmi();
        break;
      case 0xf2:
        this.vectors.length = 0;
        this.cpu.setIntr(false);
        break;
    }
  }

  acknowledgeInterrupt(): number {
    const v = this.vectors.shift();
    if (this.vectors.length === 0) this.cpu.setIntr(false);
    return v ?? -1;
  }
}

/** Assembles and runs a kernel to its end. */
export function runKernel(name: string, opts: RunOptions = {}): KernelRun {
  const image = assemble(name);
  const mem = new PhysicalMemory(opts.ramBytes ?? 32 << 20);
  const bus = new TestBus();
  const cpu = new Cpu(mem, bus);
  bus.cpu = cpu;
  mem.load(LOAD_ADDR, image);
  cpu.reset();
  cpu.loadRealSeg(CS, 0);
  cpu.eip = LOAD_ADDR;
  let left = opts.budget ?? 50_000_000;
  let end: KernelRun['end'] = 'budget';
  while (left > 0) {
    const before = cpu.icount;
    const exit = cpu.run(Math.min(left, 1_000_000));
    left -= Math.max(1, cpu.icount - before);
    if (bus.exitCode !== null) {
      end = 'exit';
      break;
    }
    if (exit === Exit.Shutdown) {
      end = 'shutdown';
      break;
    }
    if (exit === Exit.Halt) {
      const canWake = (cpu.nmiPending && !cpu.nmiBlocked) || (cpu.intrLine && (cpu.getFlags() & FLAG_IF) !== 0);
      if (canWake) continue;
      end = (cpu.getFlags() & FLAG_IF) === 0 ? 'halt' : 'stuck';
      break;
    }
  }
  const output = bus.output;
  const lines = output.split('\n').map((l) => l.replace(/\r$/, '')).filter((l) => l.length > 0);
  return {
    output,
    lines,
    passed: lines.filter((l) => l.startsWith('PASS ')).map((l) => l.slice(5).trim()),
    failed: lines.filter((l) => l.startsWith('FAIL')),
    exitCode: bus.exitCode,
    end,
    cpu,
    mem,
  };
}

/** Reporting macros of the kernels and the suffixes they append to a check's name. */
const CHECK_MACROS: Record<string, string[]> = {
  PASS: [''],
  CHECK: [''],
  EXPECT: [''],
  EXPECT_ZF: [''],
  EXPECT_FRAME: [''],
  EXPECT_FAULT: [' (vector)', ' (error code)'],
  PRIV: [' (vector)', ' (error code)'],
  EXPECT_PF: [' (vector)', ' (error code)', ' (cr2)'],
};

/**
 * The names of the checks a kernel's source makes (the quoted names on its reporting-macro lines),
 * so a test can insist that every one of them reported PASS.
 */
export function checksInSource(name: string): string[] {
  const src = readFileSync(join(SRC_DIR, `${name}.asm`), 'utf8');
  const names: string[] = [];
  let inMacro = false;
  for (const raw of src.split('\n')) {
    const line = raw.replace(/;.*$/, '').trim();
    if (/^%macro\b/i.test(line)) inMacro = true;
    if (/^%endmacro\b/i.test(line)) {
      inMacro = false;
      continue;
    }
    if (inMacro) continue;
    const m = /^([A-Z_]+)\b(.*)$/.exec(line);
    if (m === null) continue;
    const suffixes = CHECK_MACROS[m[1]];
    if (suffixes === undefined) continue;
    const quoted = [...m[2].matchAll(/'([^']*)'/g)].map((q) => q[1]).join('');
    if (quoted === '') continue;
    for (const s of suffixes) names.push(quoted + s);
  }
  return names;
}

/**
 * The common verdict: the kernel reached DONE and exited with 0, printed no FAIL line, and printed
 * every named check (so a check skipped by a wild jump cannot pass silently).
 */
export function verdict(r: KernelRun, expected: string[], known: string[] = []): string[] {
  const problems: string[] = [];
  const isKnown = (line: string) =>
    known.some((k) => line === `FAIL ${k}` || line.startsWith(`FAIL ${k} got=`));
  for (const f of r.failed) if (!isKnown(f)) problems.push(f);
  if (r.end !== 'exit' || r.exitCode !== 0) problems.push(`kernel ended by ${r.end}, exit code ${r.exitCode}`);
  if (!r.lines.includes('DONE')) problems.push('kernel did not reach DONE');
  for (const name of expected) {
    if (!r.passed.includes(name) && !known.includes(name)) problems.push(`missing PASS ${name}`);
  }
  return problems;
}

/**
 * Runs a kernel as one test that must be clean, plus one todo test per known failure (a bug owned
 * elsewhere, recorded with its reason): the todo test passes once the bug is fixed.
 */
export function kernelTest(
  test: (name: string, opts: { todo?: string; skip?: string | false }, fn: () => void) => unknown,
  title: string,
  name: string,
  known: Record<string, string> = {},
  opts: RunOptions = {},
): void {
  let run: KernelRun | null = null;
  const get = () => (run ??= runKernel(name, opts));
  const skip = nasmSkip();
  test(title, { skip }, () => {
    const r = get();
    const problems = verdict(r, checksInSource(name), Object.keys(known));
    if (problems.length > 0) throw new Error(`${problems.join('\n')}\n--- output ---\n${r.output}`);
  });
  for (const [check, reason] of Object.entries(known)) {
    test(`${name}: ${check}`, { todo: reason, skip }, () => {
      const r = get();
      if (r.passed.includes(check)) return;
      throw new Error(r.failed.find((f) => f.startsWith(`FAIL ${check}`)) ?? 'not reported');
    });
  }
}
