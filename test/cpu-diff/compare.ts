/**
 * Compares a native outcome with tsxen's under a case's masks, and formats mismatch and coverage
 * reports.
 */
import { type GenCase, itemAt, masksAt } from './generator.js';
import type { NativeOutcome } from './native.js';
import { CODE_ADDR, DATA_SIZE, REG_NAMES, RF, VECTOR_NAMES, hex, hexBytes, type SnippetOutcome, type FpuOutcome } from './types.js';

export interface Diff { field: string; native: string; tsxen: string }

/**
 * Tolerance hook for x87 results: receives the differences found under exact comparison and
 * returns those that still count (drop the ones the FPU's precision model allows). The case's
 * items carry each instruction's x87 category ('exact', 'arith', 'transcendental', 'const',
 * 'state'). The default (`hardwareFpu`, below) allows only the documented one-ulp differences of
 * transcendental results; `exactFpu` keeps everything.
 */
export type FpuTolerance = (c: GenCase, diffs: Diff[], native: NativeOutcome, tsxen: SnippetOutcome) => Diff[];
export const exactFpu: FpuTolerance = (_c, d) => d;

function excName(e: SnippetOutcome['exception']): string {
  if (!e) return 'none';
  return `${VECTOR_NAMES[e.vector] ?? `vector ${e.vector}`}(${hex(e.errorCode, 1)})${e.cr2 !== undefined ? ` cr2=${hex(e.cr2)}` : ''}`;
}

/** ST(i) is non-empty according to the abridged tag and TOP. */
function stValid(f: FpuOutcome, i: number): boolean {
  const top = (f.fsw >> 11) & 7;
  return ((f.ftw >> ((top + i) & 7)) & 1) === 1;
}

export function compareOutcomes(c: GenCase, n: NativeOutcome, t: SnippetOutcome, tol: FpuTolerance = hardwareFpu): Diff[] {
  const d: Diff[] = [];
  if (n.status === 'timeout') return [{ field: 'native', native: 'timed out (runaway snippet: a generator bug)', tsxen: '' }];
  const ne = n.exception, te = t.exception;
  let loose = false;
  if (ne && te && ne.vector === 14 && te.vector === 14 && ne.cr2 !== te.cr2 && itemAt(c, n.eip >>> 0)?.cr2Loose) {
    loose = ne.errorCode === te.errorCode;
  }
  if (!loose && excName(ne) !== excName(te)) d.push({ field: 'exception', native: excName(ne), tsxen: excName(te) });
  if ((n.eip >>> 0) !== (t.eip >>> 0)) d.push({ field: 'eip', native: hex(n.eip), tsxen: hex(t.eip) });
  const m = masksAt(c, ne === null, n.eip >>> 0);
  REG_NAMES.forEach((r, k) => {
    const x = (n.regs[r] ^ t.regs[r]) & ~c.regMask[k];
    if (x) d.push({ field: r, native: hex(n.regs[r]), tsxen: hex(t.regs[r]) });
  });
  const fx = (n.regs.eflags ^ t.regs.eflags) & ~(m.flags | RF);
  if (fx) d.push({ field: `eflags (differing bits ${hex(fx, 1)}${m.flags ? `, undefined ${hex(m.flags, 1)} masked` : ''})`, native: hex(n.regs.eflags), tsxen: hex(t.regs.eflags) });
  const bad: number[] = [];
  for (let k = 0; k < DATA_SIZE; k++) if ((n.data[k] ^ t.data[k]) & ~c.dataMask[k]) bad.push(k);
  if (bad.length) {
    const runs: string[] = [];
    for (let j = 0; j < bad.length && runs.length < 4; ) {
      let e = j;
      while (e + 1 < bad.length && bad[e + 1] === bad[e] + 1) e++;
      const a = bad[j], b = bad[e] + 1;
      const lo = Math.max(0, a - (a % 4)), hi = Math.min(DATA_SIZE, Math.max(b, lo + 4));
      runs.push(`[+${hex(lo, 4)}..${hex(hi, 4)})`);
      j = e + 1;
    }
    const first = bad[0], lo = first - (first % 4), hi = Math.min(DATA_SIZE, lo + 16);
    d.push({
      field: `data (${bad.length} bytes: ${runs.join(' ')}${bad.length > 4 ? ' ...' : ''})`,
      native: `+${hex(lo, 4)}: ${hexBytes(n.data.subarray(lo, hi))}`, tsxen: `+${hex(lo, 4)}: ${hexBytes(t.data.subarray(lo, hi))}`,
    });
  }
  if (n.fpu && t.fpu) {
    const nf = n.fpu, tf = t.fpu;
    if (nf.fcw !== tf.fcw) d.push({ field: 'fpu.fcw', native: hex(nf.fcw, 4), tsxen: hex(tf.fcw, 4) });
    const sx = (nf.fsw ^ tf.fsw) & ~m.cc;
    if (sx) d.push({ field: `fpu.fsw (differing bits ${hex(sx, 4)})`, native: hex(nf.fsw, 4), tsxen: hex(tf.fsw, 4) });
    if (nf.ftw !== tf.ftw) d.push({ field: 'fpu.ftw', native: hex(nf.ftw, 2), tsxen: hex(tf.ftw, 2) });
    for (let i = 0; i < 8; i++) {
      if (!stValid(nf, i) || !stValid(tf, i)) continue;
      const a = nf.st.subarray(i * 10, i * 10 + 10), b = tf.st.subarray(i * 10, i * 10 + 10);
      if (a.some((v, j) => v !== b[j])) d.push({ field: `fpu.st${i}`, native: f80Str(a), tsxen: f80Str(b) });
    }
  } else if (n.fpu && !t.fpu && c.x87cats.size) {
    d.push({ field: 'fpu', native: 'reported', tsxen: 'not reported' });
  }
  return c.x87cats.size ? tol(c, d, n, t) : d;
}

/** An 80-bit value as hex and approximate decimal. */
export function f80Str(b: Uint8Array): string {
  const se = b[8] | (b[9] << 8);
  let mant = 0n;
  for (let k = 7; k >= 0; k--) mant = (mant << 8n) | BigInt(b[k]);
  const exp = se & 0x7fff, neg = se >> 15;
  let approx: string;
  if (exp === 0x7fff) approx = mant << 1n === 0n ? `${neg ? '-' : '+'}inf` : (mant >> 62n) === 3n ? 'qnan' : 'snan';
  else approx = String((neg ? -1 : 1) * Number(mant) * Math.pow(2, exp - 16383 - 63));
  return `${hex(se, 4)}:${mant.toString(16).padStart(16, '0')} (${approx})`;
}

function regsStr(r: SnippetOutcome['regs']): string {
  return `${REG_NAMES.map((n) => `${n}=${hex(r[n])}`).join(' ')} eflags=${hex(r.eflags)}`;
}

function outcomeStr(o: SnippetOutcome): string {
  const lines = [`  exception ${excName(o.exception)}  eip=${hex(o.eip)} (+${hex(o.eip - CODE_ADDR, 1)})`, `  ${regsStr(o.regs)}`];
  if (o.fpu) {
    const st: string[] = [];
    for (let i = 0; i < 8; i++) if (stValid(o.fpu, i)) st.push(`st${i}=${f80Str(o.fpu.st.subarray(i * 10, i * 10 + 10))}`);
    lines.push(`  fcw=${hex(o.fpu.fcw, 4)} fsw=${hex(o.fpu.fsw, 4)} ftw=${hex(o.fpu.ftw, 2)} ${st.join(' ')}`);
  }
  return lines.join('\n');
}

export function caseHeader(c: GenCase): string {
  const code = c.snippet.code;
  const lines = [`case seed=${c.seed} index=${c.index} form "${c.primary}"  (replay: node dist/test/cpu-diff/fuzz.js --replay ${c.seed}:${c.index} --form '${c.primary}')`];
  for (const it of c.items) {
    const pre = it.insn > it.start ? `${hexBytes(code.subarray(it.start, it.insn))} | ` : '';
    lines.push(`  +${hex(it.start, 3)} ${it.name.padEnd(28)} ${pre}${hexBytes(code.subarray(it.insn, it.end))}${it.note ? `  ; ${it.note}` : ''}`);
  }
  lines.push(`  initial: ${regsStr(c.snippet.regs)}`);
  return lines.join('\n');
}

export function mismatchReport(c: GenCase, n: NativeOutcome, t: SnippetOutcome | null, diffs: Diff[], error?: string): string {
  const lines = [`MISMATCH ${caseHeader(c)}`];
  lines.push('native:', outcomeStr(n));
  if (t) lines.push('tsxen:', outcomeStr(t));
  if (error) lines.push(`tsxen error: ${error}`);
  for (const x of diffs) lines.push(`  ${x.field}: native ${x.native}  tsxen ${x.tsxen}`);
  return lines.join('\n');
}

export interface FormStats { cases: number; matched: number; done: number; exceptions: Map<string, number> }

export class Coverage {
  readonly forms = new Map<string, FormStats>();
  add(form: string, matched: boolean, n: NativeOutcome): void {
    let s = this.forms.get(form);
    if (!s) this.forms.set(form, (s = { cases: 0, matched: 0, done: 0, exceptions: new Map() }));
    s.cases++;
    if (matched) s.matched++;
    if (n.exception === null) s.done++;
    else {
      const k = VECTOR_NAMES[n.exception.vector] ?? String(n.exception.vector);
      s.exceptions.set(k, (s.exceptions.get(k) ?? 0) + 1);
    }
  }
  report(allForms: readonly string[], onlyFailing = false): string {
    const lines = [`${'form'.padEnd(40)} ${'cases'.padStart(6)} ${'match'.padStart(6)} ${'done'.padStart(5)}  native exceptions`];
    let tc = 0, tm = 0;
    for (const name of allForms) {
      const s = this.forms.get(name) ?? { cases: 0, matched: 0, done: 0, exceptions: new Map() };
      tc += s.cases; tm += s.matched;
      if (onlyFailing && s.matched === s.cases && s.cases > 0) continue;
      const ex = [...s.exceptions].map(([k, v]) => `${k}:${v}`).join(' ');
      lines.push(`${name.padEnd(40)} ${String(s.cases).padStart(6)} ${String(s.matched).padStart(6)} ${String(s.done).padStart(5)}  ${ex}`);
    }
    const untested = allForms.filter((f) => !this.forms.get(f)?.cases).length;
    lines.push(`total: ${tc} cases, ${tm} matched, ${tc - tm} mismatched; ${allForms.length} forms, ${untested} not run`);
    return lines.join('\n');
  }
}

/**
 * Position of a finite 80-bit value on the extended grid (consecutive representable values of the
 * same sign differ by 1), or null for NaNs, infinities, unnormals and pseudo-denormals.
 */
function f80Ordinal(b: Uint8Array): bigint | null {
  const se = b[8] | (b[9] << 8), exp = se & 0x7fff;
  let mant = 0n;
  for (let k = 7; k >= 0; k--) mant = (mant << 8n) | BigInt(b[k]);
  const j = mant >> 63n;
  if (exp === 0x7fff || (exp !== 0 && j === 0n) || (exp === 0 && j === 1n)) return null;
  return exp === 0 ? mant : (BigInt(exp) << 63n) + (mant - (1n << 63n));
}

/**
 * The default x87 tolerance, for the one place where exact agreement with the processor is not
 * achievable: FSIN, FCOS, FSINCOS, FPTAN, FPATAN, F2XM1, FYL2X and FYL2XP1. tsxen returns their
 * correctly rounded results; the processor rounds an internal approximation whose error reaches
 * almost one ulp (src/cpu/fpu/PRECISION.md), so its result can be the other neighbour of the true
 * value, and C1 (round-up) follows its approximation, not the true value. When the case ran to its
 * end and its last item is one of these instructions (they end their cases, so nothing computes
 * with their results), exactly these differences are allowed:
 *  - in the ST registers that received its results (Item.x87approx), the same sign and at most one
 *    unit in the last place apart (finite values only: NaNs, infinities and special encodings
 *    stay exact);
 *  - in FSW, C1 alone, when both status words report PE, every such register holds a finite
 *    value on both sides (so the instruction delivered computed results: not a stack fault's
 *    indefinite, nor a NaN), and, for FSIN/FCOS/FSINCOS/FPTAN, C2 is clear (the operand was in
 *    range and was reduced).
 * Everything else, including every other instruction's results and C1, is compared exactly.
 */
export const hardwareFpu: FpuTolerance = (c, diffs, n, t) => {
  const last = c.items[c.items.length - 1];
  if (!last?.x87approx || n.exception !== null || t.exception !== null || !n.fpu || !t.fpu) return diffs;
  const nf = n.fpu, tf = t.fpu;
  const approx = last.x87approx;
  const reg = (f: FpuOutcome, i: number) => f.st.subarray(i * 10, i * 10 + 10);
  const computed = approx.every((i) => stValid(nf, i) && stValid(tf, i) && f80Ordinal(reg(nf, i)) !== null && f80Ordinal(reg(tf, i)) !== null);
  const trig = /^f(sin|cos|sincos|ptan)$/.test(last.name);
  return diffs.filter((d) => {
    const st = /^fpu\.st(\d)$/.exec(d.field);
    if (st) {
      const i = Number(st[1]);
      if (!approx.includes(i)) return true;
      const a = reg(nf, i), b = reg(tf, i);
      const oa = f80Ordinal(a), ob = f80Ordinal(b);
      if (oa === null || ob === null || (a[9] & 0x80) !== (b[9] & 0x80)) return true;
      return oa - ob > 1n || ob - oa > 1n;
    }
    if (d.field.startsWith('fpu.fsw')) {
      const PE = 0x20, C1 = 0x200, C2 = 0x400;
      return (nf.fsw ^ tf.fsw) !== C1 || (nf.fsw & tf.fsw & PE) === 0 || !computed || (trig && ((nf.fsw | tf.fsw) & C2) !== 0);
    }
    return true;
  });
};

/** An 80-bit value rounded to the nearest double (NaN for NaNs and unsupported encodings). */
export function f80ToDouble(b: Uint8Array): number {
  const se = b[8] | (b[9] << 8), exp = se & 0x7fff, sign = se >> 15 ? -1 : 1;
  let mant = 0n;
  for (let k = 7; k >= 0; k--) mant = (mant << 8n) | BigInt(b[k]);
  if (exp === 0x7fff) return mant << 1n === 0n ? sign * Infinity : NaN;
  if (exp !== 0 && !(mant >> 63n)) return NaN; // unnormal
  return sign * Number(mant) * Math.pow(2, (exp === 0 ? 1 : exp) - 16383 - 63);
}

/**
 * Provisional, opt-in tolerance for a double-based x87 (src/cpu/fpu/PRECISION.md): register
 * values must equal the host's rounded to double (within 2^-50 relative for transcendental
 * instructions), and the status word may differ in C1 (round-up) and in the precision, underflow
 * and denormal flags. Memory differences are kept. Until the lead fixes the model the default
 * stays exact comparison.
 */
export const doubleModelFpu: FpuTolerance = (c, diffs, n, t) => {
  const transcendental = c.items.some((it) => it.x87cat === 'transcendental');
  return diffs.filter((d) => {
    const st = /^fpu\.st(\d)$/.exec(d.field);
    if (st && n.fpu && t.fpu) {
      const i = Number(st[1]);
      const a = f80ToDouble(n.fpu.st.subarray(i * 10, i * 10 + 10)), b = f80ToDouble(t.fpu.st.subarray(i * 10, i * 10 + 10));
      if (Object.is(a, b) || (Number.isNaN(a) && Number.isNaN(b))) return false;
      if (transcendental && Math.abs(a - b) <= Math.max(Math.abs(a), Math.abs(b)) * 2 ** -50) return false;
      return true;
    }
    if (d.field.startsWith('fpu.fsw') && n.fpu && t.fpu) {
      const m = masksAt(c, n.exception === null, n.eip >>> 0);
      return ((n.fpu.fsw ^ t.fpu.fsw) & ~m.cc & ~(0x200 | 0x20 | 0x10 | 0x2)) !== 0;
    }
    return true;
  });
};
