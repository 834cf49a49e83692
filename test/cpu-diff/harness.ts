/** Runs generated cases on the host and on tsxen, and collects mismatches and coverage. */
import { type GenCase } from './generator.js';
import { runNative, type NativeOutcome } from './native.js';
import type { RunSnippet } from './tsxen.js';
import { compareOutcomes, Coverage, type Diff, type FpuTolerance, hardwareFpu, mismatchReport } from './compare.js';
import type { SnippetOutcome } from './types.js';

export interface CaseResult { c: GenCase; native: NativeOutcome; tsxen: SnippetOutcome | null; diffs: Diff[]; error?: string }

export interface DiffRun { results: CaseResult[]; mismatches: CaseResult[]; coverage: Coverage }

export function runDifferential(cases: GenCase[], tsxen: RunSnippet, opts: { tolerance?: FpuTolerance; coverage?: Coverage; native?: NativeOutcome[] } = {}): DiffRun {
  const native = opts.native ?? runNative(cases.map((c) => c.snippet));
  const coverage = opts.coverage ?? new Coverage();
  const results: CaseResult[] = [];
  const mismatches: CaseResult[] = [];
  cases.forEach((c, k) => {
    const n = native[k];
    let t: SnippetOutcome | null = null, error: string | undefined, diffs: Diff[];
    try {
      t = tsxen({ code: c.snippet.code, data: new Uint8Array(c.snippet.data), regs: { ...c.snippet.regs } });
      diffs = compareOutcomes(c, n, t, opts.tolerance ?? hardwareFpu);
    } catch (e) {
      error = (e as Error).stack?.split('\n').slice(0, 3).join(' / ') ?? String(e);
      diffs = [{ field: 'tsxen', native: n.exception ? 'exception' : 'completed', tsxen: `threw ${(e as Error).message}` }];
    }
    const r: CaseResult = { c, native: n, tsxen: t, diffs, error };
    results.push(r);
    if (diffs.length) mismatches.push(r);
    coverage.add(c.primary, diffs.length === 0, n);
  });
  return { results, mismatches, coverage };
}

export function reportMismatches(m: CaseResult[], limit = 20): string {
  return m.slice(0, limit).map((r) => mismatchReport(r.c, r.native, r.tsxen, r.diffs, r.error)).join('\n\n') + (m.length > limit ? `\n\n... and ${m.length - limit} more mismatches` : '');
}
