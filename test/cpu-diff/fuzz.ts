/**
 * Long-running differential fuzzing of tsxen's CPU against the host processor.
 *
 *   node dist/test/cpu-diff/fuzz.js [--seed N] [--cases N] [--form NAME] [--group G] [--batch N]
 *                                    [--max-len N] [--show N] [--native-only] [--list] [--failing]
 *                                    [--x87 hardware|exact|double]
 *   node dist/test/cpu-diff/fuzz.js --replay SEED:INDEX --form 'EXACT FORM NAME'   (one case, verbose)
 *
 * --form selects forms whose name contains NAME (case-insensitive; repeatable), --group a form
 * group (alu, shift, x87, ...). Prints mismatches (first --show of them, default 20) and the
 * coverage per form; exits 1 when any case mismatched. x87 results are compared exactly except
 * for the one-ulp tolerance of transcendental results (--x87 hardware, the default, as in npm test:
 * compare.ts hardwareFpu); --x87 exact drops even that, --x87 double applies the provisional
 * double-precision tolerance (compare.ts doubleModelFpu).
 */
import { ALL_FORMS, buildCase, generate } from './generator.js';
import { buildNative, runNative } from './native.js';
import { loadTsxen, type RunSnippet } from './tsxen.js';
import { Coverage, caseHeader, mismatchReport, doubleModelFpu, exactFpu, hardwareFpu } from './compare.js';
import { runDifferential, reportMismatches, type CaseResult } from './harness.js';
import { hexBytes } from './types.js';

function args(argv: string[]): Map<string, string[]> {
  const m = new Map<string, string[]>();
  for (let k = 0; k < argv.length; k++) {
    const a = argv[k];
    if (!a.startsWith('--')) throw new Error(`unexpected argument ${a}`);
    const flag = ['--native-only', '--list', '--failing'].includes(a);
    const v = flag ? 'true' : argv[++k];
    if (v === undefined) throw new Error(`${a} needs a value`);
    m.set(a.slice(2), [...(m.get(a.slice(2)) ?? []), v]);
  }
  return m;
}

async function main(): Promise<number> {
  const a = args(process.argv.slice(2));
  const num = (k: string, d: number) => (a.has(k) ? Number(a.get(k)![0]) : d);
  const seed = num('seed', Date.now() % 1000000);
  const total = num('cases', 20000);
  const batch = num('batch', 2000);
  const show = num('show', 20);
  const maxLen = num('max-len', 6);
  let forms = ALL_FORMS.slice();
  const pats = (a.get('form') ?? []).map((s) => s.toLowerCase());
  if (pats.length) forms = forms.filter((f) => pats.some((p) => f.name.toLowerCase().includes(p)));
  const groups = a.get('group') ?? [];
  if (groups.length) forms = forms.filter((f) => groups.includes(f.group));
  if (a.has('list')) {
    for (const f of forms) console.log(`${f.group.padEnd(8)} ${f.name}`);
    console.log(`${forms.length} forms`);
    return 0;
  }
  if (!forms.length) { console.error('no forms selected'); return 2; }
  if (a.has('replay')) return replay(a.get('replay')![0], pats[0] ?? '', maxLen);
  const nb = buildNative();
  if (!nb.ok) { console.error(`cpu-diff: ${nb.reason}`); return 2; }
  const nativeOnly = a.has('native-only');
  let run: RunSnippet | null = null;
  if (!nativeOnly) {
    const t = await loadTsxen();
    if (!t.ok) { console.error(`cpu-diff: ${t.reason} (use --native-only to exercise the host side alone)`); return 2; }
    run = t.mod.runUserSnippet;
  }
  const x87 = a.get('x87')?.[0] ?? 'hardware';
  if (x87 !== 'hardware' && x87 !== 'exact' && x87 !== 'double') { console.error('--x87 is hardware, exact or double'); return 2; }
  const tolerance = x87 === 'double' ? doubleModelFpu : x87 === 'exact' ? exactFpu : hardwareFpu;
  console.log(`cpu-diff fuzz: seed ${seed}, ${total} cases over ${forms.length} forms${nativeOnly ? ' (native only)' : ''}`);
  const coverage = new Coverage();
  const mismatches: CaseResult[] = [];
  let timeouts = 0;
  const t0 = Date.now();
  for (let done = 0; done < total; done += batch) {
    const n = Math.min(batch, total - done);
    // Each batch is its own sub-seed so that any batch can be replayed with --seed/--cases.
    const cases = generate(seed + done, n, rotate(forms, done), { maxLen });
    if (nativeOnly) {
      const out = runNative(cases.map((c) => c.snippet));
      out.forEach((o, k) => {
        if (o.status === 'timeout') { timeouts++; console.log(`TIMEOUT seed ${seed + done} index ${k} form ${cases[k].primary}`); }
        coverage.add(cases[k].primary, o.status !== 'timeout', o);
      });
    } else {
      const r = runDifferential(cases, run!, { coverage, tolerance });
      mismatches.push(...r.mismatches);
    }
    process.stderr.write(`\r${Math.min(done + n, total)}/${total} cases, ${mismatches.length} mismatches, ${((Date.now() - t0) / 1000).toFixed(1)} s   `);
  }
  process.stderr.write('\n');
  if (mismatches.length) console.log(reportMismatches(mismatches, show) + '\n');
  console.log(coverage.report(forms.map((f) => f.name), a.has('failing')));
  if (mismatches.length) {
    const byField = new Map<string, number>();
    for (const m of mismatches) for (const d of m.diffs) { const k = d.field.replace(/ \(.*/, ''); byField.set(k, (byField.get(k) ?? 0) + 1); }
    console.log(`mismatching fields: ${[...byField].map(([k, v]) => `${k}:${v}`).join(' ')}`);
  }
  if (timeouts) console.log(`${timeouts} native timeouts`);
  return mismatches.length || timeouts ? 1 : 0;
}

async function replay(spec: string, formName: string, maxLen: number): Promise<number> {
  const [seed, index] = spec.split(':').map(Number);
  const form = ALL_FORMS.find((f) => f.name.toLowerCase() === formName);
  if (!form || !Number.isFinite(seed) || !Number.isFinite(index)) { console.error('--replay SEED:INDEX needs --form with the exact form name'); return 2; }
  const c = buildCase(seed, index, form, { maxLen });
  const [n] = runNative([c.snippet]);
  const t = await loadTsxen();
  if (!t.ok) { console.log(caseHeader(c)); console.log(JSON.stringify({ native: { ...n, data: undefined, fxsave: undefined } }, null, 1)); console.error(t.reason); return 2; }
  const r = runDifferential([c], t.mod.runUserSnippet, { native: [n] });
  const res = r.results[0];
  console.log(mismatchReport(c, res.native, res.tsxen, res.diffs, res.error).replace(/^MISMATCH/, res.diffs.length ? 'MISMATCH' : 'MATCH'));
  console.log(`code: ${hexBytes(c.snippet.code)}`);
  return res.diffs.length ? 1 : 0;
}

/** Starts the round-robin at a different form for each batch, so small batches still cover all. */
function rotate<T>(a: T[], by: number): T[] {
  const k = by % a.length;
  return [...a.slice(k), ...a.slice(0, k)];
}

main().then((code) => process.exit(code), (e) => { console.error(e); process.exit(2); });
