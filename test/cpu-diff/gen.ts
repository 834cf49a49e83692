/**
 * Building blocks for the instruction forms: the generation context, what a generated instruction
 * reports to the sequence builder (Emit), and encoders for ModRM memory operands whose effective
 * address lands where the generator wants it (inside the data region, straddling its end, or in the
 * unmapped pages around it).
 */
import type { Rng } from './prng.js';
import { DATA_ADDR, DATA_SIZE, ESP, EBP } from './types.js';

/** Flags an instruction reads, surely defines, and leaves undefined (Intel SDM). */
export interface Fl { r: number; w: number; u: number }
export const fl = (r: number, w: number, u = 0): Fl => ({ r, w, u });
export const NOFL: Fl = { r: 0, w: 0, u: 0 };

export interface Ctx {
  rng: Rng;
  /** The case's initial data region, which forms fill with their memory operands' contents. */
  data: Uint8Array;
  /** This instruction runs with the case's initial registers (its needs become initial values). */
  first: boolean;
  /** ESP before this instruction when statically known (first instruction only). */
  esp: number | null;
  /** A fresh, non-overlapping area of the data region, returned as an offset. */
  alloc(size: number, align?: number): number;
  /** Estimated x87 stack depth before the instruction. */
  fpDepth: number;
  /** x87 condition-code bits whose value is undefined before this instruction. */
  ccTaint: number;
}

export interface Emit {
  bytes: number[];
  /** Register values (full 32-bit) the instruction needs just before it runs. */
  need: Map<number, number>;
  fl: Fl;
  /** x87 condition codes: read / defined / left undefined. */
  cc?: Fl;
  /** x87 stack: entries needed, pushed, popped (for the builder's depth estimate and loads). */
  x87?: { depth: number; push: number; pop: number; cat: X87Cat; setDepth?: number; approx?: readonly number[] };
  /** Nothing may follow (the instruction left undefined results or transferred control away). */
  terminal?: boolean;
  /** Register bits whose value is undefined afterwards. */
  regMask?: Array<[number, number]>;
  /** Data bytes (offset, per-byte bit masks) whose value is undefined or implementation-specific afterwards. */
  dataMask?: Array<[number, number[]]>;
  /** Control transfer to a later point of the snippet: where to patch the target. */
  jump?: { rel?: { at: number; size: 1 | 4 }; abs?: number[]; dataAbs?: number[]; near?: boolean; call?: boolean };
  /** Which access of a multi-part operand faults first is implementation-specific: CR2 is not compared. */
  cr2Loose?: boolean;
  note?: string;
}

/**
 * How exactly tsxen's x87 is expected to match the hardware (for the tolerance hook). Only
 * 'transcendental' results are compared with a tolerance (compare.ts `hardwareFpu`); the other
 * categories are informative and compared exactly.
 */
export type X87Cat = 'exact' | 'arith' | 'transcendental' | 'const' | 'state';

export interface Form {
  name: string;
  group: string;
  gen(ctx: Ctx): Emit;
  /** Relative frequency in random sequences (default 1). */
  weight?: number;
  /** Only ever generated as the first instruction of a case (it needs its initial state). */
  firstOnly?: boolean;
}

export function emit(bytes: number[], extra: Partial<Emit> = {}): Emit {
  return { bytes, need: new Map(), fl: NOFL, ...extra };
}

export function le(v: number, size: number): number[] {
  const out: number[] = [];
  for (let k = 0; k < size; k++) out.push((v >>> (8 * k)) & 0xff);
  return out;
}

export function shuffle<T>(rng: Rng, a: T[]): T[] {
  for (let k = a.length - 1; k > 0; k--) {
    const j = rng.int(k + 1);
    [a[k], a[j]] = [a[j], a[k]];
  }
  return a;
}

export function osPrefix(size: number): number[] {
  return size === 16 ? [0x66] : [];
}

export interface MemOpts {
  size: number;
  /** Registers the address may not use (their values are needed for something else). */
  avoid?: Iterable<number>;
  /** Place the operand at this data offset instead of choosing one. */
  off?: number;
  /** Allow 16-bit addressing (0x67): the address then lies below 64 KiB, which faults. */
  a16?: boolean;
  /** Allow segment override prefixes (default yes). */
  seg?: boolean;
  /** Probability of an address at or across the region's edges (default 0.05). */
  edge?: number;
  /** Alignment of the chosen offset. */
  align?: number;
}

export interface Mem {
  /** ModRM, SIB and displacement bytes. */
  modrm: number[];
  /** Address-size and segment prefixes. */
  prefixes: number[];
  need: Map<number, number>;
  /** Data offset of the operand (may be outside [0, DATA_SIZE) for faulting accesses). */
  off: number;
  /** The operand lies wholly inside the data region. */
  inside: boolean;
  a16: boolean;
}

const SEGS = [0x3e, 0x26, 0x36, 0x2e]; // ds es ss cs

export function segPrefix(rng: Rng): number[] {
  const r = rng.float();
  if (r < 0.08) return [0x3e];
  if (r < 0.16) return [0x26];
  if (r < 0.23) return [0x36];
  if (r < 0.26) return [0x2e];
  if (r < 0.27) return [rng.pick(SEGS), rng.pick(SEGS)];
  return [];
}

/** Chooses where an operand of `size` bytes goes. */
export function chooseOffset(ctx: Ctx, size: number, edge = 0.05, align = 1): number {
  const { rng } = ctx;
  const r = rng.float();
  if (r < edge * 0.6) return DATA_SIZE - (size > 1 ? rng.range(1, size - 1) : rng.range(0, 1) ? 0 : 1); // straddles or ends at the edge
  if (r < edge) return rng.pick([-size, -1, DATA_SIZE, DATA_SIZE + rng.int(64), -1 - rng.int(64), -rng.range(1, Math.max(1, size - 1))]);
  return ctx.alloc(size, align);
}

/**
 * A memory operand at a chosen place, encoded with a random 32-bit addressing form (or 16-bit
 * addressing when allowed). The registers it uses are returned as needs.
 */
export function mem(ctx: Ctx, regField: number, o: MemOpts): Mem {
  const { rng } = ctx;
  const avoid = new Set(o.avoid ?? []);
  const off = o.off ?? chooseOffset(ctx, o.size, o.edge ?? 0.05, o.align ?? 1);
  const inside = off >= 0 && off + o.size <= DATA_SIZE;
  const ea = (DATA_ADDR + off) >>> 0;
  const prefixes: number[] = o.seg === false ? [] : segPrefix(rng);
  const need = new Map<number, number>();
  const rf = (regField & 7) << 3;
  if (o.a16 && rng.bool(0.05)) {
    // 16-bit addressing: [bx+si], [bx+di], [bp+si], [bp+di], [si], [di], [bp]/disp16, [bx]
    prefixes.push(0x67);
    const mod = rng.int(3), rm = rng.int(8);
    const modrm = [(mod << 6) | rf | rm];
    if (mod === 1) modrm.push(rng.int(256));
    else if (mod === 2 || (mod === 0 && rm === 6)) modrm.push(...le(rng.u32(), 2));
    return { modrm, prefixes, need, off, inside: false, a16: true };
  }
  const free = [0, 1, 2, 3, 5, 6, 7].filter((r) => !avoid.has(r));
  const disp8 = () => (rng.bool(0.2) ? 0 : rng.range(-128, 127));
  const disp32 = () => (rng.bool(0.5) ? rng.range(-4096, 4096) : rng.u32() | 0);
  const mode = free.length === 0 ? 0 : rng.int(free.length >= 2 ? 7 : 4);
  if (mode === 0) {
    // [disp32]
    return { modrm: [rf | 5, ...le(ea, 4)], prefixes, need, off, inside, a16: false };
  }
  if (mode <= 3) {
    // [base], [base+disp8], [base+disp32] without SIB
    const base = rng.pick(free);
    let mod = mode - 1;
    if (mod === 0 && base === EBP) mod = 1;
    const d = mod === 0 ? 0 : mod === 1 ? (mode === 1 ? 0 : disp8()) : disp32();
    need.set(base, (ea - d) | 0);
    const modrm = [(mod << 6) | rf | base];
    if (mod === 1) modrm.push(d & 0xff);
    if (mod === 2) modrm.push(...le(d, 4));
    return { modrm, prefixes, need, off, inside, a16: false };
  }
  // SIB forms
  const scale = rng.int(4);
  const useEsp = ctx.esp !== null && !avoid.has(ESP) && rng.bool(0.25);
  let base = useEsp ? ESP : rng.bool(0.1) ? -1 : rng.pick(free); // -1: no base (mod 00, base 101)
  const idxChoices = free.filter((r) => r !== base);
  let index = idxChoices.length && rng.bool(0.85) ? rng.pick(idxChoices) : 4; // 4: no index
  let mod = base === -1 ? 0 : rng.int(3);
  if (base === EBP && mod === 0) mod = 1;
  if (base === -1 && index === 4) index = idxChoices.length ? idxChoices[0] : 4;
  let d = base === -1 || mod === 2 ? disp32() : mod === 1 ? disp8() : 0;
  let idxVal = 0;
  if (index !== 4) {
    const r = rng.int(4);
    idxVal = r === 0 ? rng.int(64) : r === 1 ? -rng.int(64) : r === 2 ? rng.u32() | 0 : rng.int(4096);
  }
  let baseVal = 0;
  if (base === ESP) {
    // ESP is fixed: solve for the index (or displacement).
    const rest = (ea - ctx.esp! ) | 0;
    if (index !== 4) {
      idxVal = rng.int(64);
      d = (rest - (idxVal << scale)) | 0;
      if (mod === 1 && (d < -128 || d > 127)) mod = 2;
      if (mod === 0 && d !== 0) mod = 2;
    } else {
      d = rest;
      mod = d === 0 ? 0 : d >= -128 && d <= 127 ? 1 : 2;
    }
  } else if (base === -1) {
    d = (ea - (idxVal << scale)) | 0;
  } else {
    baseVal = (ea - d - (idxVal << scale)) | 0;
    need.set(base, baseVal);
  }
  if (index !== 4) need.set(index, idxVal);
  const modrm = [(mod << 6) | rf | 4, (scale << 6) | ((index & 7) << 3) | (base === -1 ? 5 : base)];
  if (base === -1 || mod === 2) modrm.push(...le(d, 4));
  else if (mod === 1) modrm.push(d & 0xff);
  return { modrm, prefixes, need, off, inside, a16: false };
}

/** A destination register: any byte register, or any 16/32-bit register except (E)SP. */
export function pickDst(ctx: Ctx, size: number, avoid: Iterable<number> = []): number {
  const a = new Set(avoid);
  const c = [0, 1, 2, 3, 4, 5, 6, 7].filter((r) => !(size !== 8 && r === ESP) && !a.has(size === 8 ? r & 3 : r));
  return ctx.rng.pick(c.length ? c : [0]);
}
export function pickSrc(ctx: Ctx, size: number, avoid: Iterable<number> = []): number {
  const a = new Set(avoid);
  const c = [0, 1, 2, 3, 4, 5, 6, 7].filter((r) => !a.has(size === 8 ? r & 3 : r) && !(size === 32 && r === ESP && a.has(ESP)));
  return ctx.rng.pick(c.length ? c : [0]);
}
/** The full register holding a register operand of the given size. */
export function fullReg(r: number, size: number): number {
  return size === 8 ? r & 3 : r;
}

/** Asks for an interesting value in a register operand (unless its value is already fixed). */
export function wantVal(ctx: Ctx, need: Map<number, number>, r: number, size: number, p = 0.6): void {
  const full = fullReg(r, size);
  if (full === ESP || need.has(full) || !ctx.rng.bool(p)) return;
  let v = ctx.rng.valSized(size === 8 ? 8 : size);
  if (size === 8 && r >= 4) v = ((ctx.rng.valSized(8) & 0xff) << 8) | (ctx.rng.u32() & 0xffff00ff);
  need.set(full, v | 0);
}

/** Writes a value into the initial data (only the bytes inside the region). */
export function poke(data: Uint8Array, off: number, bytes: ArrayLike<number>): void {
  for (let k = 0; k < bytes.length; k++) {
    const o = off + k;
    if (o >= 0 && o < DATA_SIZE) data[o] = bytes[k] & 0xff;
  }
}
export function pokeVal(data: Uint8Array, off: number, v: number, size: number): void {
  poke(data, off, le(v, size));
}
