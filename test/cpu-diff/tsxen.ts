/**
 * Loads tsxen's half of the contract (src/cpu/testing/user-snippet.ts) at run time. The import is
 * dynamic so that the harness builds, and its native half runs, even when that module is absent.
 */
import type { SnippetCase, SnippetOutcome } from './types.js';

export type RunSnippet = (c: SnippetCase) => SnippetOutcome;
export interface TsxenModule { runUserSnippet: RunSnippet; CODE_ADDR: number; DATA_ADDR: number; DATA_SIZE: number }

// A variable specifier keeps tsc from resolving (and requiring) the module at build time.
const SPECIFIER = '../../src/cpu/testing/user-snippet.js';

export async function loadTsxen(): Promise<{ ok: true; mod: TsxenModule } | { ok: false; reason: string }> {
  try {
    const spec: string = SPECIFIER;
    const mod = (await import(spec)) as Partial<TsxenModule>;
    if (typeof mod.runUserSnippet !== 'function') return { ok: false, reason: `${SPECIFIER} does not export runUserSnippet` };
    return { ok: true, mod: mod as TsxenModule };
  } catch (e) {
    return { ok: false, reason: `cannot load ${SPECIFIER}: ${(e as Error).message}` };
  }
}
