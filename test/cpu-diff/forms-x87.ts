/**
 * x87 instruction forms: loads and stores in every format, arithmetic with memory and register
 * operands, compares (FCOM/FUCOM/FICOM/FCOMI), FCMOVcc, transcendental and other D9 Ex/Fx
 * operations, control (FLDCW/FNSTCW/FNSTSW/FNCLEX/FNINIT/FWAIT) and state images
 * (FNSTENV/FLDENV/FNSAVE/FRSTOR in both operand sizes, FXSAVE/FXRSTOR).
 *
 * Each form states the x87 condition codes it defines or leaves undefined (SDM "FPU Flags
 * Affected"), and a category for the precision tolerance hook. Implementation-specific parts of
 * the stored state images (instruction/data pointers and opcode, reserved fields, MXCSR_MASK) are
 * masked from the memory comparison.
 */
import {
  type Ctx, type Emit, type Form, type Fl, type X87Cat, fl, NOFL, emit, le, shuffle, mem, poke, pokeVal,
} from './gen.js';
import { bcdBytes, f32Bytes, f64Bytes, f80FromDouble, f80Value, fpValue, intBytes, intValue } from './fp.js';
import { CF, PF, ZF, OSZAPC, C0, C1, C2, C3, CC_ALL, EAX, DATA_ADDR } from './types.js';

const CCU: Fl = fl(0, C1, C0 | C2 | C3);
const CCX: Fl = fl(0, 0, CC_ALL);
const CMP: Fl = fl(0, CC_ALL);
const TRIG: Fl = fl(0, C1 | C2, C0 | C3);

type MemKind = 'f32' | 'f64' | 'f80' | 'i16' | 'i32' | 'i64' | 'bcd' | 'out';
const MEMSIZE: Record<MemKind, number> = { f32: 4, f64: 8, f80: 10, i16: 2, i32: 4, i64: 8, bcd: 10, out: 10 };

export function fillFp(ctx: Ctx, off: number, kind: MemKind): void {
  const { rng } = ctx;
  let b: number[];
  switch (kind) {
    case 'f32': b = f32Bytes(fpValue(rng).v); break;
    case 'f64': b = f64Bytes(fpValue(rng).v); break;
    case 'f80': b = f80Value(rng); break;
    case 'i16': b = intBytes(intValue(rng, 2), 2); break;
    case 'i32': b = intBytes(intValue(rng, 4), 4); break;
    case 'i64': b = intBytes(intValue(rng, 8), 8); break;
    case 'bcd': {
      const n = rng.range(1, 18);
      let d = '';
      for (let k = 0; k < n; k++) d += String(rng.int(10));
      b = bcdBytes(d, rng.bool(0.3));
      break;
    }
    default: b = Array.from({ length: 10 }, () => rng.int(256));
  }
  poke(ctx.data, off, b);
}

const forms: Form[] = [];
interface X { depth: number; push?: number; pop?: number; cc: Fl; cat: X87Cat; fl?: Fl; setDepth?: number; approx?: readonly number[] }
/**
 * A transcendental instruction (x.approx: the ST registers its results land in) ends its case:
 * the processor's results are only within one ulp of the correctly rounded ones (PRECISION.md), so
 * they are compared with that tolerance, which must not meet results computed from them.
 */
function x87info(x: X): Pick<Emit, 'cc' | 'x87' | 'fl' | 'terminal'> {
  const info: Pick<Emit, 'cc' | 'x87' | 'fl' | 'terminal'> = {
    cc: x.cc, fl: x.fl ?? NOFL, x87: { depth: x.depth, push: x.push ?? 0, pop: x.pop ?? 0, cat: x.cat, setDepth: x.setDepth, approx: x.approx },
  };
  if (x.cat === 'transcendental') info.terminal = true;
  return info;
}

/** A memory-operand x87 form. */
function xm(name: string, opcode: number, ext: number, kind: MemKind, x: X, o: { o16?: boolean; size?: number; align?: number } = {}): void {
  forms.push({
    name, group: 'x87',
    gen(ctx) {
      const size = o.size ?? MEMSIZE[kind];
      const m = mem(ctx, ext, { size, a16: true, align: o.align });
      if (kind !== 'out') fillFp(ctx, m.off, kind);
      const bytes = [...shuffle(ctx.rng, [...m.prefixes, ...(o.o16 ? [0x66] : [])]), opcode, ...m.modrm];
      return { bytes, need: m.need, ...x87info(x), cr2Loose: size > 8 };
    },
  });
}
/** A register x87 form: opcode, second byte base + i. */
function xr(name: string, b0: number, b1: number, x: (i: number) => X, withI = true): void {
  forms.push({
    name, group: 'x87',
    gen(ctx) {
      const i = withI ? ctx.rng.int(8) : 0;
      return { bytes: [b0, b1 + i], need: new Map(), ...x87info(x(i)) };
    },
  });
}

// Loads and stores
xm('fld m32real', 0xd9, 0, 'f32', { depth: 0, push: 1, cc: CCU, cat: 'exact' });
xm('fld m64real', 0xdd, 0, 'f64', { depth: 0, push: 1, cc: CCU, cat: 'exact' });
xm('fld m80real', 0xdb, 5, 'f80', { depth: 0, push: 1, cc: CCU, cat: 'arith' });
xm('fild m16int', 0xdf, 0, 'i16', { depth: 0, push: 1, cc: CCU, cat: 'exact' });
xm('fild m32int', 0xdb, 0, 'i32', { depth: 0, push: 1, cc: CCU, cat: 'exact' });
xm('fild m64int', 0xdf, 5, 'i64', { depth: 0, push: 1, cc: CCU, cat: 'arith' });
xm('fbld m80bcd', 0xdf, 4, 'bcd', { depth: 0, push: 1, cc: CCU, cat: 'arith' });
xm('fst m32real', 0xd9, 2, 'out', { depth: 1, cc: CCU, cat: 'arith' }, { size: 4 });
xm('fst m64real', 0xdd, 2, 'out', { depth: 1, cc: CCU, cat: 'exact' }, { size: 8 });
xm('fstp m32real', 0xd9, 3, 'out', { depth: 1, pop: 1, cc: CCU, cat: 'arith' }, { size: 4 });
xm('fstp m64real', 0xdd, 3, 'out', { depth: 1, pop: 1, cc: CCU, cat: 'exact' }, { size: 8 });
xm('fstp m80real', 0xdb, 7, 'out', { depth: 1, pop: 1, cc: CCU, cat: 'exact' }, { size: 10 });
xm('fist m16int', 0xdf, 2, 'out', { depth: 1, cc: CCU, cat: 'exact' }, { size: 2 });
xm('fist m32int', 0xdb, 2, 'out', { depth: 1, cc: CCU, cat: 'exact' }, { size: 4 });
xm('fistp m16int', 0xdf, 3, 'out', { depth: 1, pop: 1, cc: CCU, cat: 'exact' }, { size: 2 });
xm('fistp m32int', 0xdb, 3, 'out', { depth: 1, pop: 1, cc: CCU, cat: 'exact' }, { size: 4 });
xm('fistp m64int', 0xdf, 7, 'out', { depth: 1, pop: 1, cc: CCU, cat: 'exact' }, { size: 8 });
xm('fbstp m80bcd', 0xdf, 6, 'out', { depth: 1, pop: 1, cc: CCU, cat: 'exact' }, { size: 10 });
xr('fld st(i)', 0xd9, 0xc0, (i) => ({ depth: i + 1, push: 1, cc: CCU, cat: 'exact' }));
xr('fst st(i)', 0xdd, 0xd0, (i) => ({ depth: Math.max(1, i + 1), cc: CCU, cat: 'exact' }));
xr('fstp st(i)', 0xdd, 0xd8, (i) => ({ depth: Math.max(1, i + 1), pop: 1, cc: CCU, cat: 'exact' }));
xr('fxch st(i)', 0xd9, 0xc8, (i) => ({ depth: Math.max(2, i + 1), cc: CCU, cat: 'exact' }));
xr('ffree st(i)', 0xdd, 0xc0, (i) => ({ depth: i + 1, cc: CCX, cat: 'exact' }));

// Arithmetic: D8 m32real, DC m64real, DA m32int, DE m16int; register forms D8/DC/DE
const AR = ['add', 'mul', 'com', 'comp', 'sub', 'subr', 'div', 'divr'];
for (let n = 0; n < 8; n++) {
  const isCmp = n === 2 || n === 3;
  const cat: X87Cat = isCmp || n === 0 || n === 4 || n === 5 ? 'exact' : 'arith';
  const x: X = { depth: 1, pop: n === 3 ? 1 : 0, cc: isCmp ? CMP : CCU, cat: isCmp ? 'exact' : n === 1 || n >= 6 ? 'arith' : cat };
  xm(`f${AR[n]} m32real`, 0xd8, n, 'f32', x);
  xm(`f${AR[n]} m64real`, 0xdc, n, 'f64', x);
  xm(`fi${AR[n]} m32int`, 0xda, n, 'i32', x);
  xm(`fi${AR[n]} m16int`, 0xde, n, 'i16', x);
  xr(`f${AR[n]} st,st(i)`, 0xd8, 0xc0 + n * 8, (i) => ({ ...x, depth: Math.max(1, i + 1) }));
}
const DC_REG: Array<[string, number]> = [['fadd st(i),st', 0xc0], ['fmul st(i),st', 0xc8], ['fsubr st(i),st', 0xe0], ['fsub st(i),st', 0xe8], ['fdivr st(i),st', 0xf0], ['fdiv st(i),st', 0xf8]];
for (const [n, b] of DC_REG) {
  xr(n, 0xdc, b, (i) => ({ depth: Math.max(1, i + 1), cc: CCU, cat: 'arith' }));
  xr(n.replace(' st(i),st', 'p st(i),st'), 0xde, b, (i) => ({ depth: Math.max(1, i + 1), pop: 1, cc: CCU, cat: 'arith' }));
}
xr('fcompp', 0xde, 0xd9, () => ({ depth: 2, pop: 2, cc: CMP, cat: 'exact' }), false);
xr('fucom st(i)', 0xdd, 0xe0, (i) => ({ depth: Math.max(1, i + 1), cc: CMP, cat: 'exact' }));
xr('fucomp st(i)', 0xdd, 0xe8, (i) => ({ depth: Math.max(1, i + 1), pop: 1, cc: CMP, cat: 'exact' }));
xr('fucompp', 0xda, 0xe9, () => ({ depth: 2, pop: 2, cc: CMP, cat: 'exact' }), false);
const FCOMI_FL = fl(0, OSZAPC);
const CCI: Fl = fl(0, C1);
xr('fcomi st,st(i)', 0xdb, 0xf0, (i) => ({ depth: Math.max(1, i + 1), cc: CCI, cat: 'exact', fl: FCOMI_FL }));
xr('fucomi st,st(i)', 0xdb, 0xe8, (i) => ({ depth: Math.max(1, i + 1), cc: CCI, cat: 'exact', fl: FCOMI_FL }));
xr('fcomip st,st(i)', 0xdf, 0xf0, (i) => ({ depth: Math.max(1, i + 1), pop: 1, cc: CCI, cat: 'exact', fl: FCOMI_FL }));
xr('fucomip st,st(i)', 0xdf, 0xe8, (i) => ({ depth: Math.max(1, i + 1), pop: 1, cc: CCI, cat: 'exact', fl: FCOMI_FL }));
const FCMOV: Array<[string, number, number, number]> = [
  ['fcmovb', 0xda, 0xc0, CF], ['fcmove', 0xda, 0xc8, ZF], ['fcmovbe', 0xda, 0xd0, CF | ZF], ['fcmovu', 0xda, 0xd8, PF],
  ['fcmovnb', 0xdb, 0xc0, CF], ['fcmovne', 0xdb, 0xc8, ZF], ['fcmovnbe', 0xdb, 0xd0, CF | ZF], ['fcmovnu', 0xdb, 0xd8, PF],
];
for (const [n, b0, b1, r] of FCMOV) xr(`${n} st,st(i)`, b0, b1, (i) => ({ depth: Math.max(1, i + 1), cc: CCU, cat: 'exact', fl: fl(r, 0) }));

// D9 E0..FF
const D9: Array<[string, number, X]> = [
  ['fchs', 0xe0, { depth: 1, cc: CCU, cat: 'exact' }],
  ['fabs', 0xe1, { depth: 1, cc: CCU, cat: 'exact' }],
  ['ftst', 0xe4, { depth: 1, cc: CMP, cat: 'exact' }],
  ['fxam', 0xe5, { depth: 0, cc: CMP, cat: 'exact' }],
  ['fld1', 0xe8, { depth: 0, push: 1, cc: CCU, cat: 'exact' }],
  ['fldl2t', 0xe9, { depth: 0, push: 1, cc: CCU, cat: 'const' }],
  ['fldl2e', 0xea, { depth: 0, push: 1, cc: CCU, cat: 'const' }],
  ['fldpi', 0xeb, { depth: 0, push: 1, cc: CCU, cat: 'const' }],
  ['fldlg2', 0xec, { depth: 0, push: 1, cc: CCU, cat: 'const' }],
  ['fldln2', 0xed, { depth: 0, push: 1, cc: CCU, cat: 'const' }],
  ['fldz', 0xee, { depth: 0, push: 1, cc: CCU, cat: 'exact' }],
  ['fyl2x', 0xf1, { depth: 2, pop: 1, cc: CCU, cat: 'transcendental', approx: [0] }],
  ['fptan', 0xf2, { depth: 1, push: 1, cc: TRIG, cat: 'transcendental', approx: [1] }],
  ['fpatan', 0xf3, { depth: 2, pop: 1, cc: CCU, cat: 'transcendental', approx: [0] }],
  ['fxtract', 0xf4, { depth: 1, push: 1, cc: CCU, cat: 'exact' }],
  ['fprem1', 0xf5, { depth: 2, cc: CMP, cat: 'arith' }],
  ['fdecstp', 0xf6, { depth: 0, cc: CCU, cat: 'exact' }],
  ['fincstp', 0xf7, { depth: 0, cc: CCU, cat: 'exact' }],
  ['fprem', 0xf8, { depth: 2, cc: CMP, cat: 'arith' }],
  ['fsqrt', 0xfa, { depth: 1, cc: CCU, cat: 'arith' }],
  ['fsincos', 0xfb, { depth: 1, push: 1, cc: TRIG, cat: 'transcendental', approx: [0, 1] }],
  ['frndint', 0xfc, { depth: 1, cc: CCU, cat: 'exact' }],
  ['fscale', 0xfd, { depth: 2, cc: CCU, cat: 'arith' }],
  ['fsin', 0xfe, { depth: 1, cc: TRIG, cat: 'transcendental', approx: [0] }],
  ['fcos', 0xff, { depth: 1, cc: TRIG, cat: 'transcendental', approx: [0] }],
  ['fnop', 0xd0, { depth: 0, cc: CCX, cat: 'exact' }],
];
for (const [n, b, x] of D9) xr(n, 0xd9, b, () => x, false);
// F2XM1 and FYL2XP1 are undefined outside their argument ranges (|x| <= 1, |x| < 1 - sqrt(2)/2):
// the form loads its own in-range ST(0).
for (const [n, b, lim, x] of [['f2xm1', 0xf0, 1, { depth: 0, push: 1, cc: CCU, cat: 'transcendental', approx: [0] }], ['fyl2xp1', 0xf9, 0.29, { depth: 1, cc: CCU, cat: 'transcendental', approx: [0] }]] as const) {
  forms.push({
    name: n, group: 'x87',
    gen(ctx) {
      const { rng } = ctx;
      const off = ctx.alloc(8);
      const v = rng.pick([0, -0, lim, -lim, 0.5, -0.25, 1 / 1024, (rng.float() * 2 - 1) * lim]);
      poke(ctx.data, off, f64Bytes(v));
      return { bytes: [0xdd, 0x05, ...le(DATA_ADDR + off, 4), 0xd9, b], need: new Map(), ...x87info(x as X), note: `st0 = ${v}` };
    },
  });
}

// 287-era no-ops still decoded by later FPUs
for (const [n, b] of [['fneni (nop)', 0xe0], ['fndisi (nop)', 0xe1], ['fnsetpm (nop)', 0xe4]] as const) xr(n, 0xdb, b, () => ({ depth: 0, cc: CCX, cat: 'exact' }), false);

// Control
function ccRead(ctx: Ctx): Pick<Emit, 'terminal'> { return ctx.ccTaint ? { terminal: true } : {}; }
forms.push({ name: 'fnclex', group: 'x87', gen: (ctx) => emit([...(ctx.rng.bool(0.3) ? [0x9b] : []), 0xdb, 0xe2], x87info({ depth: 0, cc: CCX, cat: 'state' })) });
forms.push({ name: 'fninit', group: 'x87', gen: (ctx) => emit([...(ctx.rng.bool(0.3) ? [0x9b] : []), 0xdb, 0xe3], x87info({ depth: 0, cc: CMP, cat: 'state', setDepth: 0 })) });
forms.push({ name: 'fwait', group: 'x87', gen: () => emit([0x9b], x87info({ depth: 0, cc: CCX, cat: 'state' })) });
/** A control word: usually all exceptions masked, random precision and rounding; sometimes unmasked. */
function controlWord(ctx: Ctx): number {
  const { rng } = ctx;
  let cw = 0x037f & ~0x0f00;
  cw |= rng.pick([3, 3, 2, 0, 1]) << 8; // PC
  cw |= rng.int(4) << 10; // RC
  if (rng.bool(0.2)) cw &= ~(rng.int(64) & 0x1f); // unmask some (never PE)
  if (rng.bool(0.05)) cw &= ~0x20;
  if (rng.bool(0.1)) cw ^= rng.u32() & 0xf0c0; // reserved bits
  return cw;
}
forms.push({
  name: 'fldcw m16', group: 'x87',
  gen(ctx) {
    const m = mem(ctx, 5, { size: 2, a16: true });
    pokeVal(ctx.data, m.off, controlWord(ctx), 2);
    return { bytes: [...m.prefixes, 0xd9, ...m.modrm], need: m.need, ...x87info({ depth: 0, cc: CCX, cat: 'state' }) };
  },
});
forms.push({
  name: 'fnstcw m16', group: 'x87',
  gen(ctx) {
    const m = mem(ctx, 7, { size: 2, a16: true });
    return { bytes: [...(ctx.rng.bool(0.3) ? [0x9b] : []), ...m.prefixes, 0xd9, ...m.modrm], need: m.need, ...x87info({ depth: 0, cc: CCX, cat: 'state' }) };
  },
});
forms.push({
  name: 'fnstsw m16', group: 'x87',
  gen(ctx) {
    const m = mem(ctx, 7, { size: 2, a16: true });
    const e: Emit = { bytes: [...(ctx.rng.bool(0.3) ? [0x9b] : []), ...m.prefixes, 0xdd, ...m.modrm], need: m.need, ...x87info({ depth: 0, cc: CCX, cat: 'state' }), ...ccRead(ctx) };
    if (ctx.ccTaint) e.dataMask = [[m.off, [0, ctx.ccTaint >> 8]]];
    return e;
  },
});
forms.push({
  name: 'fnstsw ax', group: 'x87',
  gen(ctx) {
    const e: Emit = { bytes: [...(ctx.rng.bool(0.3) ? [0x9b] : []), 0xdf, 0xe0], need: new Map(), ...x87info({ depth: 0, cc: CCX, cat: 'state' }), ...ccRead(ctx) };
    if (ctx.ccTaint) e.regMask = [[EAX, ctx.ccTaint]];
    return e;
  },
});

// State images
/** Masks of implementation-specific bytes: [offset, length]. */
const ENV32_MASK: Array<[number, number]> = [[2, 2], [6, 2], [10, 2], [12, 16]];
const ENV16_MASK: Array<[number, number]> = [[6, 8]];
const FSW_AT = { 32: 4, 16: 2 } as const;
/**
 * tsxen's CPU has FXSR but not SSE: MXCSR and the XMM registers are then not part of the state the
 * image must reproduce, and FXRSTOR need not check MXCSR's reserved bits. Set when SSE arrives.
 */
export const COMPARE_SSE_STATE = false;
const FX_MASK: Array<[number, number]> = [[5, 19], [28, 4], ...Array.from({ length: 8 }, (_, k) => [32 + 16 * k + 10, 6] as [number, number]), [288, 224],
  ...(COMPARE_SSE_STATE ? [] : [[24, 4], [160, 128]] as Array<[number, number]>)];

function maskRanges(off: number, ranges: Array<[number, number]>, ccTaint: number, fswAt: number): Array<[number, number[]]> {
  const out: Array<[number, number[]]> = ranges.map(([o, n]) => [off + o, new Array(n).fill(0xff)]);
  if (ccTaint) out.push([off + fswAt, [0, ccTaint >> 8]]);
  return out;
}

function envImage(ctx: Ctx, o16: boolean, withRegs: boolean): number[] {
  const { rng } = ctx;
  const cw = controlWord(ctx);
  let sw = rng.u32() & 0x7fff & ~0x80;
  if (rng.bool(0.7)) sw &= ~0x3f; // usually no pending exceptions
  if (sw & ~cw & 0x3f) sw |= 0x80; // ES reflects unmasked pending exceptions
  let tw = 0;
  const top = (sw >> 11) & 7;
  const depth = rng.int(9);
  for (let p = 0; p < 8; p++) {
    const st = (p - top) & 7;
    const t = st < depth ? rng.pick([0, 0, 0, 1, 2]) : 3;
    tw |= t << (2 * p);
  }
  const b: number[] = o16
    ? [...le(cw, 2), ...le(sw, 2), ...le(tw, 2), ...le(rng.u32(), 4), ...le(rng.u32(), 4)]
    : [...le(cw | 0xffff0000, 4), ...le(sw | 0xffff0000, 4), ...le(tw | 0xffff0000, 4), ...le(rng.u32(), 4), ...le(rng.u32(), 4), ...le(rng.u32(), 4), ...le(rng.u32(), 4)];
  if (withRegs) for (let k = 0; k < 8; k++) b.push(...(rng.bool(0.8) ? f80FromDouble(fpValue(rng).v) : f80Value(rng)));
  return b;
}

for (const o16 of [false, true]) {
  const envSize = o16 ? 14 : 28, saveSize = envSize + 80, tag = o16 ? ' (o16)' : '';
  const px = o16 ? [0x66] : [];
  forms.push({
    name: `fnstenv m${envSize}${tag}`, group: 'x87',
    gen(ctx) {
      const m = mem(ctx, 6, { size: envSize, a16: true });
      return {
        bytes: [...(ctx.rng.bool(0.3) ? [0x9b] : []), ...shuffle(ctx.rng, [...m.prefixes, ...px]), 0xd9, ...m.modrm], need: m.need,
        ...x87info({ depth: 0, cc: CCX, cat: 'state' }), cr2Loose: true, dataMask: maskRanges(m.off, o16 ? ENV16_MASK : ENV32_MASK, ctx.ccTaint, FSW_AT[o16 ? 16 : 32]), ...ccRead(ctx),
      };
    },
  });
  forms.push({
    name: `fldenv m${envSize}${tag}`, group: 'x87',
    gen(ctx) {
      const m = mem(ctx, 4, { size: envSize, a16: true });
      poke(ctx.data, m.off, envImage(ctx, o16, false));
      return { bytes: [...shuffle(ctx.rng, [...m.prefixes, ...px]), 0xd9, ...m.modrm], need: m.need, ...x87info({ depth: 0, cc: CMP, cat: 'state' }), cr2Loose: true };
    },
  });
  forms.push({
    name: `fnsave m${saveSize}${tag}`, group: 'x87',
    gen(ctx) {
      const m = mem(ctx, 6, { size: saveSize, a16: true });
      return {
        bytes: [...(ctx.rng.bool(0.3) ? [0x9b] : []), ...shuffle(ctx.rng, [...m.prefixes, ...px]), 0xdd, ...m.modrm], need: m.need,
        ...x87info({ depth: 0, cc: CMP, cat: 'state', setDepth: 0 }), cr2Loose: true, dataMask: maskRanges(m.off, o16 ? ENV16_MASK : ENV32_MASK, ctx.ccTaint, FSW_AT[o16 ? 16 : 32]), ...ccRead(ctx),
      };
    },
  });
  forms.push({
    name: `frstor m${saveSize}${tag}`, group: 'x87',
    gen(ctx) {
      const m = mem(ctx, 4, { size: saveSize, a16: true });
      poke(ctx.data, m.off, envImage(ctx, o16, true));
      return { bytes: [...shuffle(ctx.rng, [...m.prefixes, ...px]), 0xdd, ...m.modrm], need: m.need, ...x87info({ depth: 0, cc: CMP, cat: 'state', setDepth: 3 }), cr2Loose: true };
    },
  });
}
forms.push({
  name: 'fxsave m512', group: 'x87',
  gen(ctx) {
    const m = mem(ctx, 0, { size: 512, align: ctx.rng.bool(0.92) ? 16 : 1, a16: true });
    return {
      bytes: [...m.prefixes, 0x0f, 0xae, ...m.modrm], need: m.need, ...x87info({ depth: 0, cc: NOFL, cat: 'state' }), cr2Loose: true,
      dataMask: maskRanges(m.off, FX_MASK, ctx.ccTaint, 2), ...ccRead(ctx),
    };
  },
});
forms.push({
  name: 'fxrstor m512', group: 'x87',
  gen(ctx) {
    const { rng } = ctx;
    const m = mem(ctx, 1, { size: 512, align: rng.bool(0.92) ? 16 : 1, a16: true });
    const env = envImage(ctx, true, true);
    const img = new Array<number>(512).fill(0).map(() => rng.int(256));
    const cw = env[0] | (env[1] << 8), sw = env[2] | (env[3] << 8), tw = env[4] | (env[5] << 8);
    let ftw = 0;
    for (let p = 0; p < 8; p++) if (((tw >> (2 * p)) & 3) !== 3) ftw |= 1 << p;
    img.splice(0, 6, ...le(cw, 2), ...le(sw, 2), ftw, rng.bool(0.9) ? 0 : rng.int(256));
    let mxcsr = (rng.u32() & 0xffbf) | (rng.bool(0.7) ? 0x1f80 : 0);
    if (COMPARE_SSE_STATE && rng.bool(0.05)) mxcsr |= 1 << rng.range(16, 31); // reserved bit: #GP
    img.splice(24, 4, ...le(mxcsr, 4));
    for (let k = 0; k < 8; k++) img.splice(32 + 16 * k, 10, ...env.slice(14 + 10 * k, 24 + 10 * k));
    poke(ctx.data, m.off, img);
    return { bytes: [...m.prefixes, 0x0f, 0xae, ...m.modrm], need: m.need, ...x87info({ depth: 0, cc: CMP, cat: 'state', setDepth: 3 }), cr2Loose: true };
  },
});

export const X87_FORMS: readonly Form[] = forms;
