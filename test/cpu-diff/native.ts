/**
 * Builds and drives the native runner (native/runner.c): the host processor executing snippets in
 * 32-bit user mode. The binary is built on demand into build/cpu-diff/ at the repository root.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createHash } from 'node:crypto';
import { CODE_ADDR, CODE_SIZE, DATA_SIZE, type SnippetCase, type SnippetOutcome } from './types.js';

/** Repository root: this file runs from dist/test/cpu-diff/ (or test/cpu-diff/ under a TS loader). */
export function repoRoot(): string {
  let d = dirname(fileURLToPath(import.meta.url));
  for (let k = 0; k < 6; k++) {
    if (existsSync(join(d, 'package.json')) && existsSync(join(d, 'test/cpu-diff/native/runner.c'))) return d;
    d = dirname(d);
  }
  throw new Error('cpu-diff: cannot find the repository root (test/cpu-diff/native/runner.c)');
}

export interface NativeBuild { ok: true; path: string }
export interface NativeUnavailable { ok: false; reason: string; /** The package that would provide what is missing. */ missing?: string }

let cached: NativeBuild | NativeUnavailable | null = null;

/**
 * Compiles the runner with gcc -m32 if the binary is missing or was built from other sources
 * (a hash of runner.c is kept next to it). Returns why not when 32-bit gcc or the host is unsuitable.
 */
export function buildNative(): NativeBuild | NativeUnavailable {
  if (cached) return cached;
  if (process.platform !== 'linux' || process.arch !== 'x64' && process.arch !== 'ia32') {
    return (cached = { ok: false, reason: `native runner needs x86 Linux (this is ${process.platform}/${process.arch})` });
  }
  const root = repoRoot();
  const src = join(root, 'test/cpu-diff/native/runner.c');
  const outDir = join(root, 'build/cpu-diff');
  const bin = join(outDir, 'runner');
  const stamp = bin + '.src-sha256';
  const srcText = readFileSync(src);
  const hash = createHash('sha256').update(srcText).update('gcc -m32 -O2 -static -fno-pie -no-pie').digest('hex');
  if (existsSync(bin) && existsSync(stamp) && readFileSync(stamp, 'utf8') === hash) return (cached = { ok: true, path: bin });
  mkdirSync(outDir, { recursive: true });
  const tmp = `${bin}.tmp-${process.pid}`;
  const args = ['-m32', '-O2', '-static', '-fno-pie', '-no-pie', '-Wall', '-o', tmp, src];
  const r = spawnSync('gcc', args, { encoding: 'utf8' });
  if (r.error || r.status !== 0) {
    const why = r.error ? String(r.error.message) : (r.stderr || '').trim().split('\n').slice(-3).join(' | ');
    return (cached = { ok: false, reason: `cannot build the native runner with gcc -m32 (install gcc-multilib): ${why}`, missing: 'gcc-multilib' });
  }
  renameSync(tmp, bin); // atomic: concurrent test processes may build at the same time
  writeFileSync(`${stamp}.tmp-${process.pid}`, hash);
  renameSync(`${stamp}.tmp-${process.pid}`, stamp);
  return (cached = { ok: true, path: bin });
}

/**
 * How tests that need the native runner treat its absence. On a developer's machine they are
 * skipped with the reason. Under CI (CI=true) a missing 32-bit gcc is not a skip: `skip` is false
 * and `require()`, called first in each test, fails it with a one-line message naming the package.
 * (A host that is not x86 Linux cannot run the native side at all and is always a skip.)
 */
export function nativeRequirement(): { skip: string | false; require(): void } {
  const nb = buildNative();
  if (nb.ok) return { skip: false, require() {} };
  if (process.env.CI === 'true' && nb.missing) {
    const msg = `cpu-diff: gcc -m32 cannot build the native runner: install ${nb.missing} (CI=true makes this a failure, not a skip)`;
    return { skip: false, require() { throw new Error(msg); } };
  }
  return { skip: nb.reason.split('\n')[0], require() {} };
}

/** What the native runner reports beyond the shared outcome (for diagnostics). */
export interface NativeOutcome extends SnippetOutcome {
  status: 'done' | 'exception' | 'timeout';
  signal: number;
  siCode: number;
  /** The host's full FXSAVE image of the final state (fpu is derived from it). */
  fxsave: Uint8Array | null;
}

const MAGIC_CASE = 0x45534143, MAGIC_OUT = 0x4354554f;

export function encodeCases(cases: readonly SnippetCase[]): Buffer {
  let total = 0;
  for (const c of cases) total += 44 + c.code.length + DATA_SIZE;
  const buf = Buffer.alloc(total);
  let o = 0;
  for (const c of cases) {
    if (c.code.length >= CODE_SIZE) throw new Error('snippet too long');
    if (c.data.length !== DATA_SIZE) throw new Error('data region must be DATA_SIZE bytes');
    const r = c.regs;
    for (const v of [MAGIC_CASE, c.code.length, r.eax, r.ecx, r.edx, r.ebx, r.esp, r.ebp, r.esi, r.edi, r.eflags]) {
      buf.writeUInt32LE(v >>> 0, o);
      o += 4;
    }
    buf.set(c.code, o);
    o += c.code.length;
    buf.set(c.data, o);
    o += DATA_SIZE;
  }
  return buf;
}

export function decodeOutcomes(cases: readonly SnippetCase[], out: Buffer): NativeOutcome[] {
  const res: NativeOutcome[] = [];
  let o = 0;
  const u32 = () => { const v = out.readUInt32LE(o); o += 4; return v; };
  for (const c of cases) {
    if (o + 4 > out.length) throw new Error(`native runner output ended after ${res.length} of ${cases.length} cases`);
    if (u32() !== MAGIC_OUT) throw new Error(`native runner output is out of sync at case ${res.length}`);
    const status = u32();
    const vector = u32(), errorCode = u32(), cr2 = u32(), eip = u32(), signal = u32(), siCode = u32();
    const g = [u32(), u32(), u32(), u32(), u32(), u32(), u32(), u32(), u32()].map((v) => v | 0);
    const regs = { eax: g[0], ecx: g[1], edx: g[2], ebx: g[3], esp: g[4], ebp: g[5], esi: g[6], edi: g[7], eflags: g[8] };
    const fxValid = u32();
    const fx = new Uint8Array(out.subarray(o, o + 512));
    o += 512;
    const data = new Uint8Array(c.data);
    const nruns = u32();
    for (let k = 0; k < nruns; k++) {
      const off = out.readUInt16LE(o), len = out.readUInt16LE(o + 2);
      o += 4;
      data.set(out.subarray(o, o + len), off);
      o += len;
    }
    let fpu: SnippetOutcome['fpu'];
    if (fxValid) {
      const st = new Uint8Array(80);
      for (let i = 0; i < 8; i++) st.set(fx.subarray(32 + i * 16, 32 + i * 16 + 10), i * 10);
      fpu = { fcw: fx[0] | (fx[1] << 8), fsw: fx[2] | (fx[3] << 8), ftw: fx[4], st };
    }
    const exception = status === 1 ? { vector, errorCode, ...(vector === 14 ? { cr2 } : {}) } : null;
    res.push({
      status: status === 0 ? 'done' : status === 1 ? 'exception' : 'timeout',
      regs, eip: status === 0 ? (CODE_ADDR + c.code.length + 1) >>> 0 : eip, data, exception, fpu,
      signal, siCode, fxsave: fxValid ? fx : null,
    });
  }
  return res;
}

/** Runs a batch of cases on the host processor. */
export function runNative(cases: readonly SnippetCase[], opts: { bin?: string; timeoutMs?: number } = {}): NativeOutcome[] {
  if (cases.length === 0) return [];
  let path = opts.bin;
  if (!path) {
    const b = buildNative();
    if (!b.ok) throw new Error(b.reason);
    path = b.path;
  }
  const input = encodeCases(cases);
  const r = spawnSync(path, opts.timeoutMs ? [String(opts.timeoutMs)] : [], { input, maxBuffer: 1 << 30, timeout: 60_000 + cases.length * 50 });
  if (r.error) throw r.error;
  if (r.status !== 0) throw new Error(`native runner failed (status ${r.status}, signal ${r.signal}): ${r.stderr.toString().trim()}`);
  return decodeOutcomes(cases, r.stdout);
}
