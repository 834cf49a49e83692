/**
 * Builds differential test cases: a sequence of instruction forms laid out as one snippet, with the
 * registers and data each instruction needs (initial state for the first, flag-neutral MOV r,imm32
 * prologues for the rest), x87 stack loads where an instruction needs operands, forward branch
 * targets patched in, and the comparison masks that follow from the SDM's undefined results:
 * undefined EFLAGS and x87 condition codes are tracked through the sequence (along branches
 * too), and an instruction that would read an undefined flag gets a CMP that defines them first.
 */
import { Rng } from './prng.js';
import { type Ctx, type Emit, type Form, type X87Cat, le, poke } from './gen.js';
import { INT_FORMS } from './forms-int.js';
import { X87_FORMS } from './forms-x87.js';
import { f64Bytes, fpValue, intBytes, intValue } from './fp.js';
import { CODE_ADDR, DATA_ADDR, DATA_SIZE, ESP, OSZAPC, type SnippetCase, type SnippetRegs, REG_NAMES, C0, C1, C2, C3 } from './types.js';

export const ALL_FORMS: readonly Form[] = [...INT_FORMS, ...X87_FORMS];

/** One instruction of a case (with its fixer/prologue bytes), for masks and reports. */
export interface Item {
  name: string;
  /** Start of the item's bytes (fixer, prologue, then the instruction). */
  start: number;
  /** Start of the instruction itself. */
  insn: number;
  end: number;
  taintBefore: number;
  taintAfter: number;
  ccBefore: number;
  ccAfter: number;
  x87cat?: X87Cat;
  /** ST registers (after the instruction) holding a transcendental result: see compare.ts `hardwareFpu`. */
  x87approx?: readonly number[];
  cr2Loose?: boolean;
  note?: string;
}

export interface GenCase {
  seed: number;
  index: number;
  /** The form under test (the first instruction); the others are companions. */
  primary: string;
  snippet: SnippetCase;
  items: Item[];
  /** Undefined EFLAGS / condition codes at the terminator. */
  endTaint: number;
  endCcTaint: number;
  /** Bits of each register (eax..edi) not compared. */
  regMask: number[];
  /** Bits of each data byte not compared. */
  dataMask: Uint8Array;
  x87cats: Set<X87Cat>;
}

class Retry extends Error {}

const STACK_LO = 0x1000, STACK_HI = 0x1c00;

function initialFlags(rng: Rng): number {
  // Arithmetic flags and DF random, IF set, ID sometimes; TF, AC, NT clear.
  return (rng.u32() & (OSZAPC | 0x400)) | 0x202 | (rng.bool(0.3) ? 0x200000 : 0);
}

export interface BuildOptions {
  /** Forms companions are drawn from (default: all). */
  pool?: readonly Form[];
  /** Maximum instructions per case (default 6). */
  maxLen?: number;
}

export function buildCase(seed: number, index: number, primary: Form, opts: BuildOptions = {}): GenCase {
  const rng = new Rng((seed * 0x9e3779b1 + index * 0x85ebca77) >>> 0 ^ 0x5bd1e995);
  for (let attempt = 0; ; attempt++) {
    try {
      return tryBuild(rng, seed, index, primary, opts, attempt);
    } catch (e) {
      if (!(e instanceof Retry) || attempt > 20) throw e;
    }
  }
}

function tryBuild(rng: Rng, seed: number, index: number, primary: Form, opts: BuildOptions, attempt: number): GenCase {
  const pool = (opts.pool ?? ALL_FORMS).filter((f) => !f.firstOnly);
  const data = new Uint8Array(DATA_SIZE);
  const fillKind = rng.int(4);
  for (let k = 0; k < DATA_SIZE; k += 4) {
    const v = fillKind === 0 ? 0 : rng.u32();
    data[k] = v; data[k + 1] = v >>> 8; data[k + 2] = v >>> 16; data[k + 3] = v >>> 24;
  }
  const regs: number[] = Array.from({ length: 8 }, () => rng.val32());
  regs[ESP] = (DATA_ADDR + 0x1400 + rng.int(0x500)) & (rng.bool(0.95) ? ~3 : ~0);
  if (rng.bool(0.01)) regs[ESP] = DATA_ADDR + rng.int(8); // pushes fault
  const eflags = initialFlags(rng);

  // Non-overlapping areas for memory operands, outside the stack zone.
  const used: Array<[number, number]> = [];
  const alloc = (size: number, align = 1): number => {
    for (let t = 0; t < 30; t++) {
      const zoneHi = rng.bool(0.8) ? STACK_LO : DATA_SIZE;
      const zoneLo = zoneHi === STACK_LO ? 0 : STACK_HI;
      if (zoneHi - zoneLo < size) continue;
      let o = zoneLo + rng.int(zoneHi - zoneLo - size + 1);
      o -= o % align;
      if (o < zoneLo) continue;
      if (used.every(([a, b]) => o + size <= a || o >= b)) { used.push([o, o + size]); return o; }
    }
    const o = rng.int(STACK_LO - Math.min(size, STACK_LO));
    return o - (o % align);
  };

  const n = opts.maxLen === 1 ? 1 : rng.pick([1, 1, 2, 2, 3, 3, 4, 5, opts.maxLen ?? 6]);
  const code: number[] = [];
  const items: Item[] = [];
  const regMask = new Array<number>(8).fill(0);
  const dataMask = new Uint8Array(DATA_SIZE);
  const x87cats = new Set<X87Cat>();
  const pending = new Map<number, { taint: number; cc: number }>();
  const patches: Array<{ kind: 'rel' | 'abs' | 'data'; at: number; size: number; from: number; target: number }> = [];
  let taint = 0, cc = 0, depth = 0;

  for (let k = 0; k < n; k++) {
    const form = k === 0 ? primary : pickCompanion(rng, pool, primary);
    const p = pending.get(k);
    if (p) { taint |= p.taint; cc |= p.cc; }
    const ctx: Ctx = { rng, data, first: k === 0, esp: k === 0 ? regs[ESP] : null, alloc, fpDepth: depth, ccTaint: cc };
    const e: Emit = form.gen(ctx);
    const start = code.length;
    const taintBefore = taint, ccBefore = cc;
    // x87 operands: load the stack up to what the instruction needs (sometimes not: underflow).
    if (e.x87 && depth < e.x87.depth && !rng.bool(0.04)) {
      while (depth < e.x87.depth) {
        code.push(...fpLoad(rng, data, alloc));
        depth++;
      }
      cc = (cc & ~C1) | C0 | C2 | C3;
    }
    // A read of an undefined flag: define all arithmetic flags first (CMP r32, imm32).
    if (e.fl.r & taint) {
      code.push(0x81, 0xf8 | rng.int(8), ...le(rng.val32(), 4));
      taint &= ~OSZAPC;
    }
    if (k === 0) {
      for (const [r, v] of e.need) if (r !== ESP) regs[r] = v;
    } else {
      for (const [r, v] of e.need) if (r !== ESP) code.push(0xb8 + r, ...le(v, 4));
    }
    const insn = code.length;
    code.push(...e.bytes);
    const end = code.length;
    const taintAfter = (taint & ~e.fl.w) | e.fl.u;
    const ccAfter = e.cc ? (cc & ~e.cc.w) | e.cc.u : cc;
    if (e.jump) {
      const target = e.jump.near ? k + 1 + (rng.bool(0.3) ? 1 : 0) : k + 1 + rng.int(n - k);
      const pt = pending.get(target) ?? { taint: 0, cc: 0 };
      pending.set(target, { taint: pt.taint | taintAfter, cc: pt.cc | ccAfter });
      if (e.jump.rel) patches.push({ kind: 'rel', at: insn + e.jump.rel.at, size: e.jump.rel.size, from: end, target });
      for (const a of e.jump.abs ?? []) patches.push({ kind: 'abs', at: insn + a, size: 4, from: end, target });
      for (const d of e.jump.dataAbs ?? []) patches.push({ kind: 'data', at: d, size: 4, from: end, target });
    }
    for (const [r, bits] of e.regMask ?? []) regMask[r] |= bits;
    for (const [o, bits] of e.dataMask ?? []) bits.forEach((b, j) => { if (o + j >= 0 && o + j < DATA_SIZE) dataMask[o + j] |= b; });
    if (e.x87) {
      x87cats.add(e.x87.cat);
      depth = e.x87.setDepth ?? Math.max(0, Math.min(8, depth + e.x87.push) - e.x87.pop);
    }
    items.push({ name: form.name, start, insn, end, taintBefore, taintAfter, ccBefore, ccAfter, x87cat: e.x87?.cat, x87approx: e.x87?.approx, cr2Loose: e.cr2Loose, note: e.note });
    taint = taintAfter;
    cc = ccAfter;
    if (e.terminal) break;
  }
  const last = pending.get(items.length) ?? { taint: 0, cc: 0 };
  for (const [t, p] of pending) if (t >= items.length) { last.taint |= p.taint; last.cc |= p.cc; }
  const endTaint = taint | last.taint, endCcTaint = cc | last.cc;

  // Resolve branch targets.
  const targetOf = (t: number) => (t < items.length ? items[t].start : code.length);
  for (const p of patches) {
    const tgt = targetOf(p.target);
    if (p.kind === 'rel') {
      const disp = tgt - p.from;
      if (p.size === 1 && (disp < -128 || disp > 127)) throw new Retry();
      code.splice(p.at, p.size, ...le(disp, p.size));
    } else if (p.kind === 'abs') {
      code.splice(p.at, 4, ...le(CODE_ADDR + tgt, 4));
    } else {
      poke(data, p.at, le(CODE_ADDR + tgt, 4));
    }
  }
  void attempt;
  const r: SnippetRegs = { eax: 0, ecx: 0, edx: 0, ebx: 0, esp: 0, ebp: 0, esi: 0, edi: 0, eflags };
  REG_NAMES.forEach((nm, k) => { r[nm] = regs[k] | 0; });
  return {
    seed, index, primary: primary.name,
    snippet: { code: Uint8Array.from(code), data, regs: r },
    items, endTaint, endCcTaint, regMask, dataMask, x87cats,
  };
}

/** Instructions that always end a case (faults, traps) are rarely companions. */
const ENDERS = new Set(['priv', 'ud', 'int']);
const groupCache = new WeakMap<readonly Form[], { all: Form[]; byGroup: Map<string, Form[]> }>();
function pickCompanion(rng: Rng, pool: readonly Form[], primary: Form): Form {
  let g = groupCache.get(pool);
  if (!g) {
    const all = pool.filter((f) => !ENDERS.has(f.group));
    const byGroup = new Map<string, Form[]>();
    for (const f of all) byGroup.set(f.group, [...(byGroup.get(f.group) ?? []), f]);
    groupCache.set(pool, (g = { all, byGroup }));
  }
  if (rng.bool(0.03) || !g.all.length) return rng.pick(pool);
  const same = g.byGroup.get(primary.group);
  return same && rng.bool(0.4) ? rng.pick(same) : rng.pick(g.all);
}

/** An x87 stack load for operands: FLD m64 / FILD m32 / FLD1 / FLDZ. */
function fpLoad(rng: Rng, data: Uint8Array, alloc: (n: number) => number): number[] {
  const r = rng.int(10);
  if (r === 0) return [0xd9, 0xe8];
  if (r === 1) return [0xd9, 0xee];
  const off = alloc(8);
  if (r < 4) {
    poke(data, off, intBytes(intValue(rng, 4), 4));
    return [0xdb, 0x05, ...le(DATA_ADDR + off, 4)];
  }
  poke(data, off, f64Bytes(fpValue(rng).v));
  return [0xdd, 0x05, ...le(DATA_ADDR + off, 4)];
}

/** Flags (EFLAGS) and condition codes not compared for an outcome ending at `eip`. */
export function masksAt(c: GenCase, done: boolean, eip: number): { flags: number; cc: number } {
  if (done) return { flags: c.endTaint, cc: c.endCcTaint };
  const off = eip - CODE_ADDR;
  let flags = 0, cc = 0, hit = false;
  for (const it of c.items) {
    if (off >= it.start && off <= it.end) {
      flags |= it.taintBefore | it.taintAfter;
      cc |= it.ccBefore | it.ccAfter;
      hit = true;
    }
  }
  if (!hit) {
    flags = c.endTaint; cc = c.endCcTaint;
    for (const it of c.items) { flags |= it.taintBefore | it.taintAfter; cc |= it.ccBefore | it.ccAfter; }
  }
  return { flags, cc };
}

/** The item whose instruction bytes contain `eip` (a fault is reported at its start, or after a WAIT prefix). */
export function itemAt(c: GenCase, eip: number): Item | undefined {
  const off = eip - CODE_ADDR;
  return c.items.find((it) => off >= it.insn && off < it.end);
}

/** Cases covering every form: the i-th case tests form i mod N. */
export function generate(seed: number, count: number, forms: readonly Form[] = ALL_FORMS, opts: BuildOptions = {}): GenCase[] {
  const out: GenCase[] = [];
  for (let i = 0; i < count; i++) out.push(buildCase(seed, i, forms[i % forms.length], opts));
  return out;
}
