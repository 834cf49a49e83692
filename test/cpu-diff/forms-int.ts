/**
 * The integer instruction forms: every P6 user-mode opcode that neither loads nor reads segment
 * registers, in each operand size, with register and memory operands, plus the privileged and
 * invalid encodings whose #GP/#UD is compared. Each form knows which flags it reads, defines and
 * leaves undefined (Intel SDM), including the operand-dependent cases (shift counts, SHLD/SHRD
 * with counts beyond 16 bits).
 *
 * Excluded by design: CPUID and RDTSC/RDPMC (differ by design), SYSENTER/SYSCALL/INT 80h (enter
 * the host kernel), ICEBP/INT1 (the host hypervisor reports its #DB with EIP at the instruction),
 * SGDT/SIDT/SLDT/STR/SMSW (UMIP-emulated by the host kernel), segment loads and far transfers, and
 * encodings the host decodes as later extensions (VEX/EVEX/XOP, TZCNT/LZCNT/POPCNT, RDRAND...).
 */
import type { Rng } from './prng.js';
import {
  type Ctx, type Emit, type Form, type Fl, fl, NOFL, emit, le, shuffle, osPrefix, mem, type Mem, pickDst, pickSrc,
  fullReg, wantVal, poke, pokeVal,
} from './gen.js';
import { CF, PF, AF, ZF, SF, OF, DF, OSZAPC, SZAPC, DATA_ADDR, DATA_SIZE, EAX, ECX, EDX, EBX, ESP, EBP, ESI, EDI } from './types.js';

const SZ: Array<16 | 32> = [16, 32];
const sfx = (size: number) => (size === 8 ? 'b' : size === 16 ? 'w' : 'd');

/** A ModRM r/m operand: a register or memory. */
interface RM { isMem: boolean; reg: number; m?: Mem; modrm: number[]; prefixes: number[]; need: Map<number, number> }

interface RMOpts { pMem?: number; dst?: boolean; avoid?: number[]; memOnly?: boolean; regOnly?: boolean; edge?: number; a16?: boolean; off?: number; size?: number; align?: number; seg?: boolean }

function rmOp(ctx: Ctx, regField: number, size: number, o: RMOpts = {}): RM {
  const isMem = o.memOnly ? true : o.regOnly ? false : ctx.rng.bool(o.pMem ?? 0.5);
  if (!isMem) {
    const reg = o.dst ? pickDst(ctx, size, o.avoid) : pickSrc(ctx, size, o.avoid);
    return { isMem, reg, modrm: [0xc0 | ((regField & 7) << 3) | reg], prefixes: [], need: new Map() };
  }
  const m = mem(ctx, regField, { size: o.size ?? size / 8, avoid: o.avoid, edge: o.edge, a16: o.a16 ?? true, off: o.off, align: o.align, seg: o.seg });
  return { isMem, reg: -1, m, modrm: m.modrm, prefixes: m.prefixes, need: m.need };
}

/** Fills a memory operand with an interesting value. */
function fillMem(ctx: Ctx, rm: RM, size: number): void {
  if (rm.isMem && rm.m) pokeVal(ctx.data, rm.m.off, ctx.rng.valSized(size), size / 8);
}

function imm(rng: Rng, size: number): number[] {
  return le(rng.valSized(size), size / 8);
}

/** Prefix bytes in random order (real decoders accept any order). */
function pfx(ctx: Ctx, ...groups: number[][]): number[] {
  return shuffle(ctx.rng, groups.flat());
}

function lockMaybe(ctx: Ctx, rm: RM, lockable: boolean): number[] {
  if (lockable && rm.isMem) return ctx.rng.bool(0.3) ? [0xf0] : [];
  return [];
}

const forms: Form[] = [];
function add(name: string, group: string, gen: (ctx: Ctx) => Emit, extra: Partial<Form> = {}): void {
  forms.push({ name, group, gen, ...extra });
}

// ---------------------------------------------------------------------------------------------
// ALU: add or adc sbb and sub xor cmp in all encodings
const ALU = ['add', 'or', 'adc', 'sbb', 'and', 'sub', 'xor', 'cmp'];
function aluFl(op: number): Fl {
  if (op === 1 || op === 4 || op === 6) return fl(0, OF | SF | ZF | PF | CF, AF);
  return fl(op === 2 || op === 3 ? CF : 0, OSZAPC);
}

/** op E,G / G,E forms. */
function eg(name: string, group: string, opcode: number[], size: number, order: 'EG' | 'GE', f: Fl | ((ctx: Ctx) => Fl), o: { lockable?: boolean; writes?: boolean; memOnly?: boolean; regOnly?: boolean } = {}): void {
  const writes = o.writes ?? true;
  add(name, group, (ctx) => {
    const g = order === 'GE' && writes ? pickDst(ctx, size) : pickSrc(ctx, size);
    const e = rmOp(ctx, g, size, { dst: order === 'EG' && writes, memOnly: o.memOnly, regOnly: o.regOnly });
    const need = new Map(e.need);
    wantVal(ctx, need, g, size);
    if (!e.isMem) wantVal(ctx, need, e.reg, size);
    fillMem(ctx, e, size);
    const bytes = [...pfx(ctx, osPrefix(size), e.prefixes, lockMaybe(ctx, e, !!o.lockable)), ...opcode, ...e.modrm];
    return { bytes, need, fl: typeof f === 'function' ? f(ctx) : f };
  });
}

/** op E,imm forms (ModRM with an opcode extension). */
function ei(name: string, group: string, opcode: number[], ext: number, size: number, immSize: number, f: Fl, o: { lockable?: boolean; writes?: boolean } = {}): void {
  const writes = o.writes ?? true;
  add(name, group, (ctx) => {
    const e = rmOp(ctx, ext, size, { dst: writes });
    const need = new Map(e.need);
    if (!e.isMem) wantVal(ctx, need, e.reg, size);
    fillMem(ctx, e, size);
    const bytes = [...pfx(ctx, osPrefix(size), e.prefixes, lockMaybe(ctx, e, !!o.lockable)), ...opcode, ...e.modrm, ...imm(ctx.rng, immSize)];
    return { bytes, need, fl: f };
  });
}

/** op E (single r/m operand, opcode extension). */
function e1(name: string, group: string, opcode: number[], ext: number, size: number, f: Fl, o: { lockable?: boolean; writes?: boolean; needAcc?: boolean } = {}): void {
  const writes = o.writes ?? true;
  add(name, group, (ctx) => {
    const e = rmOp(ctx, ext, size, { dst: writes, avoid: o.needAcc ? [EAX, EDX] : [] });
    const need = new Map(e.need);
    if (!e.isMem) wantVal(ctx, need, e.reg, size);
    if (o.needAcc) { wantVal(ctx, need, EAX, 32, 0.8); wantVal(ctx, need, EDX, 32, 0.5); }
    fillMem(ctx, e, size);
    const bytes = [...pfx(ctx, osPrefix(size), e.prefixes, lockMaybe(ctx, e, !!o.lockable)), ...opcode, ...e.modrm];
    return { bytes, need, fl: f };
  });
}

/** op AL/eAX, imm. */
function ai(name: string, group: string, opcode: number, size: number, immSize: number, f: Fl): void {
  add(name, group, (ctx) => {
    const need = new Map<number, number>();
    wantVal(ctx, need, EAX, size);
    return { bytes: [...osPrefix(size), opcode, ...imm(ctx.rng, immSize)], need, fl: f };
  });
}

for (let op = 0; op < 8; op++) {
  const n = ALU[op], f = aluFl(op), lockable = op !== 7, writes = op !== 7;
  eg(`${n} Eb,Gb`, 'alu', [op * 8], 8, 'EG', f, { lockable, writes });
  for (const s of SZ) eg(`${n} E${sfx(s)},G${sfx(s)}`, 'alu', [op * 8 + 1], s, 'EG', f, { lockable, writes });
  eg(`${n} Gb,Eb`, 'alu', [op * 8 + 2], 8, 'GE', f, { writes });
  for (const s of SZ) eg(`${n} G${sfx(s)},E${sfx(s)}`, 'alu', [op * 8 + 3], s, 'GE', f, { writes });
  ai(`${n} AL,Ib`, 'alu', op * 8 + 4, 8, 8, f);
  for (const s of SZ) ai(`${n} ${s === 16 ? 'AX' : 'EAX'},I${sfx(s)}`, 'alu', op * 8 + 5, s, s, f);
  ei(`${n} Eb,Ib (80)`, 'alu', [0x80], op, 8, 8, f, { lockable, writes });
  ei(`${n} Eb,Ib (82)`, 'alu', [0x82], op, 8, 8, f, { lockable, writes });
  for (const s of SZ) ei(`${n} E${sfx(s)},I${sfx(s)} (81)`, 'alu', [0x81], op, s, s, f, { lockable, writes });
  for (const s of SZ) ei(`${n} E${sfx(s)},Ibs (83)`, 'alu', [0x83], op, s, 8, f, { lockable, writes });
}

// inc/dec, not/neg, test
const INCDEC = fl(0, OF | SF | ZF | AF | PF);
for (const s of SZ) {
  add(`inc r${s} (40+r)`, 'alu', (ctx) => { const r = pickDst(ctx, s); const need = new Map(); wantVal(ctx, need, r, s, 0.8); return { bytes: [...osPrefix(s), 0x40 + r], need, fl: INCDEC }; });
  add(`dec r${s} (48+r)`, 'alu', (ctx) => { const r = pickDst(ctx, s); const need = new Map(); wantVal(ctx, need, r, s, 0.8); return { bytes: [...osPrefix(s), 0x48 + r], need, fl: INCDEC }; });
}
e1('inc Eb', 'alu', [0xfe], 0, 8, INCDEC, { lockable: true });
e1('dec Eb', 'alu', [0xfe], 1, 8, INCDEC, { lockable: true });
for (const s of SZ) {
  e1(`inc E${sfx(s)}`, 'alu', [0xff], 0, s, INCDEC, { lockable: true });
  e1(`dec E${sfx(s)}`, 'alu', [0xff], 1, s, INCDEC, { lockable: true });
}
for (const s of [8, 16, 32]) {
  const op = s === 8 ? 0xf6 : 0xf7;
  e1(`not E${sfx(s)}`, 'alu', [op], 2, s, NOFL, { lockable: true });
  e1(`neg E${sfx(s)}`, 'alu', [op], 3, s, fl(0, OSZAPC), { lockable: true });
}
const LOGIC = fl(0, OF | SF | ZF | PF | CF, AF);
eg('test Eb,Gb', 'alu', [0x84], 8, 'EG', LOGIC, { writes: false });
for (const s of SZ) eg(`test E${sfx(s)},G${sfx(s)}`, 'alu', [0x85], s, 'EG', LOGIC, { writes: false });
ai('test AL,Ib', 'alu', 0xa8, 8, 8, LOGIC);
for (const s of SZ) ai(`test ${s === 16 ? 'AX' : 'EAX'},I${sfx(s)}`, 'alu', 0xa9, s, s, LOGIC);
for (const ext of [0, 1]) {
  ei(`test Eb,Ib (F6 /${ext})`, 'alu', [0xf6], ext, 8, 8, LOGIC, { writes: false });
  for (const s of SZ) ei(`test E${sfx(s)},I${sfx(s)} (F7 /${ext})`, 'alu', [0xf7], ext, s, s, LOGIC, { writes: false });
}

// ---------------------------------------------------------------------------------------------
// Multiply and divide
const MULFL = fl(0, OF | CF, SF | ZF | AF | PF);
for (const s of [8, 16, 32]) {
  const op = s === 8 ? 0xf6 : 0xf7;
  e1(`mul E${sfx(s)}`, 'muldiv', [op], 4, s, MULFL, { writes: false, needAcc: true });
  e1(`imul E${sfx(s)}`, 'muldiv', [op], 5, s, MULFL, { writes: false, needAcc: true });
}
for (const s of SZ) {
  eg(`imul G${sfx(s)},E${sfx(s)}`, 'muldiv', [0x0f, 0xaf], s, 'GE', MULFL);
  add(`imul G${sfx(s)},E${sfx(s)},I${sfx(s)}`, 'muldiv', (ctx) => {
    const g = pickDst(ctx, s), e = rmOp(ctx, g, s);
    const need = new Map(e.need);
    if (!e.isMem) wantVal(ctx, need, e.reg, s);
    fillMem(ctx, e, s);
    return { bytes: [...pfx(ctx, osPrefix(s), e.prefixes), 0x69, ...e.modrm, ...imm(ctx.rng, s)], need, fl: MULFL };
  });
  add(`imul G${sfx(s)},E${sfx(s)},Ibs`, 'muldiv', (ctx) => {
    const g = pickDst(ctx, s), e = rmOp(ctx, g, s);
    const need = new Map(e.need);
    if (!e.isMem) wantVal(ctx, need, e.reg, s);
    fillMem(ctx, e, s);
    return { bytes: [...pfx(ctx, osPrefix(s), e.prefixes), 0x6b, ...e.modrm, ...imm(ctx.rng, 8)], need, fl: MULFL };
  });
}

const big = (v: bigint, bits: number) => BigInt.asUintN(bits, v);
/** Dividend and divisor for DIV/IDIV: mostly valid quotients, sometimes overflow or zero (#DE). */
function divOperands(rng: Rng, s: number, signed: boolean): { dividend: bigint; divisor: bigint } {
  const S = BigInt(s);
  const r = rng.float();
  if (r < 0.06) return { dividend: big(BigInt(rng.u32()) << 32n | BigInt(rng.u32()), 2 * s), divisor: 0n };
  if (r < 0.18) {
    // Random (usually overflowing) or the signed -2^(2s-1) / -1 corner.
    if (signed && rng.bool(0.3)) return { dividend: 1n << (2n * S - 1n), divisor: big(-1n, s) };
    return { dividend: big(BigInt(rng.u32()) << 32n | BigInt(rng.u32()), 2 * s), divisor: big(BigInt(rng.valSized(s)), s) };
  }
  const rnd = (bits: number) => BigInt.asUintN(bits, BigInt(rng.u32()) << 32n | BigInt(rng.u32()));
  if (!signed) {
    let d = rng.bool(0.3) ? BigInt(rng.range(1, 12)) : rnd(rng.range(1, s));
    if (d === 0n) d = 1n;
    const q = rnd(rng.range(0, s)), rem = rnd(s) % d;
    return { dividend: q * d + rem, divisor: d };
  }
  let d = BigInt.asIntN(s, rng.bool(0.3) ? BigInt(rng.range(-12, 12)) : rnd(rng.range(1, s)));
  if (d === 0n) d = -1n;
  const qb = rng.range(0, s - 1);
  let q = BigInt.asIntN(s, rnd(qb));
  if (rng.bool()) q = -q;
  const ad = d < 0n ? -d : d;
  let rem = rnd(s) % ad;
  let dividend = q * d;
  if (dividend < 0n || (dividend === 0n && rng.bool())) rem = -rem;
  dividend += rem;
  // Check the quotient fits (truncating division).
  const qq = dividend / d;
  if (qq < -(1n << (S - 1n)) || qq >= (1n << (S - 1n))) dividend = q * d;
  return { dividend: big(dividend, 2 * s), divisor: big(d, s) };
}

for (const s of [8, 16, 32]) {
  for (const signed of [false, true]) {
    const op = s === 8 ? 0xf6 : 0xf7, ext = signed ? 7 : 6, n = signed ? 'idiv' : 'div';
    add(`${n} E${sfx(s)}`, 'muldiv', (ctx) => {
      const { rng } = ctx;
      const e = rmOp(ctx, ext, s, { dst: false, avoid: s === 8 ? [EAX] : [EAX, EDX] });
      const need = new Map(e.need);
      const { dividend, divisor } = divOperands(rng, s, signed);
      const hiRand = rng.u32();
      if (s === 8) need.set(EAX, Number(dividend & 0xffffn) | (hiRand & 0xffff0000));
      else if (s === 16) {
        need.set(EAX, Number(dividend & 0xffffn) | (hiRand & 0xffff0000));
        need.set(EDX, Number((dividend >> 16n) & 0xffffn) | (rng.u32() & 0xffff0000));
      } else {
        need.set(EAX, Number(dividend & 0xffffffffn) | 0);
        need.set(EDX, Number((dividend >> 32n) & 0xffffffffn) | 0);
      }
      if (e.isMem) pokeVal(ctx.data, e.m!.off, Number(divisor & 0xffffffffn), s / 8);
      else if (s === 8) need.set(e.reg & 3, ((Number(divisor) & 0xff) << (e.reg >= 4 ? 8 : 0)) | (rng.u32() & (e.reg >= 4 ? 0xffff00ff : 0xffffff00)));
      else need.set(e.reg, Number(divisor) | (s === 16 ? rng.u32() & 0xffff0000 : 0));
      return { bytes: [...pfx(ctx, osPrefix(s), e.prefixes), op, ...e.modrm], need, fl: fl(0, 0, OSZAPC) };
    });
  }
}

// ---------------------------------------------------------------------------------------------
// Shifts and rotates
const SHIFT = ['rol', 'ror', 'rcl', 'rcr', 'shl', 'shr', 'sal', 'sar'];
function shiftFl(op: number, count: number, size: number): Fl {
  const c = count & 31;
  if (c === 0) return NOFL;
  const one = c === 1;
  if (op <= 1) return fl(0, CF | (one ? OF : 0), one ? 0 : OF);
  if (op <= 3) return fl(CF, CF | (one ? OF : 0), one ? 0 : OF);
  const w = SF | ZF | PF | (one ? OF : 0);
  let u = AF | (one ? 0 : OF);
  let wc = CF;
  if (op !== 7 && c >= size) { u |= CF; wc = 0; }
  return fl(0, w | wc, u);
}
function shiftCount(rng: Rng, size: number): number {
  return rng.pick([0, 1, 1, 2, rng.range(2, 7), size - 1, size, size + 1, rng.range(8, 31), rng.int(256), 32, 33, 9, 17]);
}
for (let op = 0; op < 8; op++) {
  for (const s of [8, 16, 32]) {
    const base = s === 8 ? 0 : 1;
    for (const how of ['Ib', '1', 'CL'] as const) {
      const opcode = (how === 'Ib' ? 0xc0 : how === '1' ? 0xd0 : 0xd2) + base;
      add(`${SHIFT[op]} E${sfx(s)},${how}`, 'shift', (ctx) => {
        const { rng } = ctx;
        const count = how === '1' ? 1 : shiftCount(rng, s);
        const avoid = how === 'CL' ? [ECX] : [];
        const e = rmOp(ctx, op, s, { dst: true, avoid });
        const need = new Map(e.need);
        if (how === 'CL') need.set(ECX, (rng.u32() & 0xffffff00) | count);
        if (!e.isMem) wantVal(ctx, need, e.reg, s, 0.8);
        fillMem(ctx, e, s);
        const bytes = [...pfx(ctx, osPrefix(s), e.prefixes), opcode, ...e.modrm, ...(how === 'Ib' ? [count] : [])];
        return { bytes, need, fl: shiftFl(op, count, s) };
      });
    }
  }
}

// SHLD/SHRD
for (const s of SZ) {
  for (const [n, opIb] of [['shld', 0xa4], ['shrd', 0xac]] as const) {
    for (const how of ['Ib', 'CL'] as const) {
      add(`${n} E${sfx(s)},G${sfx(s)},${how}`, 'shift', (ctx) => {
        const { rng } = ctx;
        const count = shiftCount(rng, s);
        const g = pickSrc(ctx, s, how === 'CL' ? [ECX] : []);
        const e = rmOp(ctx, g, s, { dst: true, avoid: how === 'CL' ? [ECX] : [] });
        const need = new Map(e.need);
        if (how === 'CL') need.set(ECX, (rng.u32() & 0xffffff00) | count);
        wantVal(ctx, need, g, s, 0.8);
        if (!e.isMem) wantVal(ctx, need, e.reg, s, 0.8);
        fillMem(ctx, e, s);
        const bytes = [...pfx(ctx, osPrefix(s), e.prefixes), 0x0f, opIb + (how === 'CL' ? 1 : 0), ...e.modrm, ...(how === 'Ib' ? [count] : [])];
        const c = count & 31;
        if (c === 0) return { bytes, need, fl: NOFL };
        if (c > s) {
          // Result and flags undefined: mask the destination and end the case here.
          const out: Emit = { bytes, need, fl: fl(0, 0, OSZAPC), terminal: true };
          if (e.isMem) out.dataMask = [[e.m!.off, [0xff, 0xff]]];
          else out.regMask = [[e.reg, 0xffff]];
          return out;
        }
        return { bytes, need, fl: fl(0, SF | ZF | PF | CF | (c === 1 ? OF : 0), AF | (c === 1 ? 0 : OF)) };
      });
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Bit test and scan, byte swap
const BT = ['bt', 'bts', 'btr', 'btc'];
const BTFL = fl(0, CF, OF | SF | AF | PF);
for (let k = 0; k < 4; k++) {
  for (const s of SZ) {
    add(`${BT[k]} E${sfx(s)},G${sfx(s)}`, 'bit', (ctx) => {
      const { rng } = ctx;
      const g = pickSrc(ctx, s);
      const area = ctx.alloc(96, 1);
      const e = rmOp(ctx, g, s, { dst: k !== 0, avoid: [fullReg(g, s)], off: area + 32 + rng.int(16), edge: 0 });
      const need = new Map(e.need);
      // The bit offset reaches beyond the operand for memory destinations (a bit string).
      const bitoff = e.isMem ? (rng.bool(0.3) ? rng.int(s) : rng.range(-256, 511)) : rng.bool(0.5) ? rng.int(s) : rng.val32();
      need.set(fullReg(g, s), s === 16 ? (bitoff & 0xffff) | (rng.u32() & 0xffff0000) : bitoff | 0);
      if (e.isMem) poke(ctx.data, area, Array.from({ length: 96 }, () => rng.int(256)));
      else wantVal(ctx, need, e.reg, s);
      const bytes = [...pfx(ctx, osPrefix(s), e.prefixes, lockMaybe(ctx, e, k !== 0)), 0x0f, 0xa3 + k * 8, ...e.modrm];
      return { bytes, need, fl: BTFL };
    });
    ei(`${BT[k]} E${sfx(s)},Ib`, 'bit', [0x0f, 0xba], 4 + k, s, 8, BTFL, { lockable: k !== 0, writes: k !== 0 });
  }
}
for (const s of SZ) {
  // BSF/BSR: the destination with a zero source is unchanged on this host (AMD documents it;
  // Intel calls it undefined) and compared; the flags other than ZF are undefined.
  eg(`bsf G${sfx(s)},E${sfx(s)}`, 'bit', [0x0f, 0xbc], s, 'GE', fl(0, ZF, CF | OF | SF | AF | PF));
  eg(`bsr G${sfx(s)},E${sfx(s)}`, 'bit', [0x0f, 0xbd], s, 'GE', fl(0, ZF, CF | OF | SF | AF | PF));
}
add('bswap r32', 'bit', (ctx) => {
  const r = pickDst(ctx, 32), need = new Map();
  wantVal(ctx, need, r, 32, 0.9);
  return { bytes: [0x0f, 0xc8 + r], need, fl: NOFL };
});

// ---------------------------------------------------------------------------------------------
// Data movement
eg('mov Eb,Gb', 'mov', [0x88], 8, 'EG', NOFL);
for (const s of SZ) eg(`mov E${sfx(s)},G${sfx(s)}`, 'mov', [0x89], s, 'EG', NOFL);
eg('mov Gb,Eb', 'mov', [0x8a], 8, 'GE', NOFL);
for (const s of SZ) eg(`mov G${sfx(s)},E${sfx(s)}`, 'mov', [0x8b], s, 'GE', NOFL);
ei('mov Eb,Ib', 'mov', [0xc6], 0, 8, 8, NOFL);
for (const s of SZ) ei(`mov E${sfx(s)},I${sfx(s)}`, 'mov', [0xc7], 0, s, s, NOFL);
add('mov r8,Ib (B0+r)', 'mov', (ctx) => emit([0xb0 + ctx.rng.int(8), ctx.rng.valSized(8) & 0xff]));
for (const s of SZ) add(`mov r${s},I${sfx(s)} (B8+r)`, 'mov', (ctx) => emit([...osPrefix(s), 0xb8 + pickDst(ctx, s), ...imm(ctx.rng, s)]));
for (const s of [8, 16, 32]) {
  for (const store of [false, true]) {
    add(`mov ${store ? `moffs${s},${s === 8 ? 'AL' : 'eAX'}` : `${s === 8 ? 'AL' : 'eAX'},moffs${s}`}`, 'mov', (ctx) => {
      const { rng } = ctx;
      const m = mem(ctx, 0, { size: s / 8 });
      const off = m.off;
      const need = new Map<number, number>();
      if (!store) pokeVal(ctx.data, off, rng.valSized(s), s / 8);
      else wantVal(ctx, need, EAX, s);
      const opcode = (store ? 0xa2 : 0xa0) + (s === 8 ? 0 : 1);
      const seg = m.prefixes.filter((p) => p !== 0x67);
      return { bytes: [...pfx(ctx, osPrefix(s), seg), opcode, ...le(DATA_ADDR + off, 4)], need, fl: NOFL };
    });
  }
}
for (const [n, op, ss] of [['movzx', 0xb6, 8], ['movzx', 0xb7, 16], ['movsx', 0xbe, 8], ['movsx', 0xbf, 16]] as const) {
  for (const s of SZ) {
    add(`${n} G${sfx(s)},E${sfx(ss)}`, 'mov', (ctx) => {
      const g = pickDst(ctx, s), e = rmOp(ctx, g, ss);
      const need = new Map(e.need);
      if (!e.isMem) wantVal(ctx, need, e.reg, ss);
      fillMem(ctx, e, ss);
      return { bytes: [...pfx(ctx, osPrefix(s), e.prefixes), 0x0f, op, ...e.modrm], need, fl: NOFL };
    });
  }
}
eg('xchg Eb,Gb', 'mov', [0x86], 8, 'EG', NOFL, { lockable: true });
for (const s of SZ) eg(`xchg E${sfx(s)},G${sfx(s)}`, 'mov', [0x87], s, 'EG', NOFL, { lockable: true });
for (const s of SZ) {
  add(`xchg eAX,r${s} (90+r)`, 'mov', (ctx) => {
    const r = pickDst(ctx, s, [EAX]), need = new Map();
    wantVal(ctx, need, r, s); wantVal(ctx, need, EAX, s);
    return { bytes: [...osPrefix(s), 0x90 + r], need, fl: NOFL };
  });
}
for (const s of SZ) {
  for (const a16 of [false, true]) {
    add(`lea G${sfx(s)},M${a16 ? ' (addr16)' : ''}`, 'mov', (ctx) => {
      const { rng } = ctx;
      const g = pickDst(ctx, s);
      if (a16) {
        const mod = rng.int(3), rm = rng.int(8);
        const modrm = [(mod << 6) | (g << 3) | rm];
        if (mod === 1) modrm.push(rng.int(256));
        else if (mod === 2 || (mod === 0 && rm === 6)) modrm.push(...le(rng.u32(), 2));
        const need = new Map<number, number>();
        for (const r of [EBX, EBP, ESI, EDI]) wantVal(ctx, need, r, 16, 0.7);
        return { bytes: [...pfx(ctx, osPrefix(s), [0x67]), 0x8d, ...modrm], need, fl: NOFL };
      }
      const m = mem(ctx, g, { size: 1, edge: 0.3 });
      return { bytes: [...pfx(ctx, osPrefix(s), m.prefixes), 0x8d, ...m.modrm], need: m.need, fl: NOFL };
    });
  }
}
for (const s of SZ) {
  add(s === 16 ? 'cbw' : 'cwde', 'mov', (ctx) => { const need = new Map(); wantVal(ctx, need, EAX, s, 0.9); return { bytes: [...osPrefix(s), 0x98], need, fl: NOFL }; });
  add(s === 16 ? 'cwd' : 'cdq', 'mov', (ctx) => { const need = new Map(); wantVal(ctx, need, EAX, s, 0.9); return { bytes: [...osPrefix(s), 0x99], need, fl: NOFL }; });
}
add('xlat', 'mov', (ctx) => {
  const { rng } = ctx;
  const al = rng.int(256);
  const area = ctx.alloc(256 + 16);
  poke(ctx.data, area, Array.from({ length: 256 }, () => rng.int(256)));
  const target = rng.bool(0.95) ? area + al : DATA_SIZE - rng.int(4);
  const need = new Map<number, number>([[EAX, (rng.u32() & 0xffffff00) | al], [EBX, (DATA_ADDR + target - al) | 0]]);
  return { bytes: [...pfx(ctx, rng.bool(0.3) ? [rng.pick([0x26, 0x2e, 0x36, 0x3e])] : []), 0xd7], need, fl: NOFL };
});

// ---------------------------------------------------------------------------------------------
// Flags
add('cmc', 'flags', () => emit([0xf5], { fl: fl(CF, CF) }));
add('clc', 'flags', () => emit([0xf8], { fl: fl(0, CF) }));
add('stc', 'flags', () => emit([0xf9], { fl: fl(0, CF) }));
add('cld', 'flags', () => emit([0xfc], { fl: fl(0, DF) }));
add('std', 'flags', () => emit([0xfd], { fl: fl(0, DF) }));
add('sahf', 'flags', (ctx) => { const need = new Map(); wantVal(ctx, need, EAX, 16, 0.9); return { bytes: [0x9e], need, fl: fl(0, SZAPC) }; });
add('lahf', 'flags', () => emit([0x9f], { fl: fl(SZAPC, 0) }));
add('salc', 'flags', () => emit([0xd6], { fl: fl(CF, 0) }));
for (const s of SZ) {
  add(s === 16 ? 'pushf (o16)' : 'pushfd', 'flags', () => emit([...osPrefix(s), 0x9c], { fl: fl(OSZAPC, 0) }));
  // POPF with a pushed value: TF and AC stay clear; IF, IOPL, VM, VIF, VIP, RF, NT and ID are
  // random to compare what CPL 3 can and cannot change.
  add(s === 16 ? 'popf (o16)' : 'popfd', 'flags', (ctx) => {
    const v = (ctx.rng.u32() & 0x003f7fd7 & ~0x40100) | 2;
    const push = s === 16 ? [0x66, 0x68, ...le(v, 2)] : [0x68, ...le(v, 4)];
    return emit([...push, ...osPrefix(s), 0x9d], { fl: fl(0, OSZAPC | DF) });
  });
}

// ---------------------------------------------------------------------------------------------
// Stack
for (const s of SZ) {
  add(`push r${s} (50+r)`, 'stack', (ctx) => { const r = ctx.rng.int(8), need = new Map(); wantVal(ctx, need, r, s); return { bytes: [...osPrefix(s), 0x50 + r], need, fl: NOFL }; });
  add(`pop r${s} (58+r)`, 'stack', (ctx) => emit([...osPrefix(s), 0x58 + pickDst(ctx, s)]));
  add(`push I${sfx(s)}`, 'stack', (ctx) => emit([...osPrefix(s), 0x68, ...imm(ctx.rng, s)]));
  add(`push Ibs (o${s})`, 'stack', (ctx) => emit([...osPrefix(s), 0x6a, ctx.rng.valSized(8) & 0xff]));
  add(`push E${sfx(s)}`, 'stack', (ctx) => {
    const e = rmOp(ctx, 6, s, { memOnly: ctx.rng.bool(0.7), avoid: [ESP] });
    fillMem(ctx, e, s);
    return { bytes: [...pfx(ctx, osPrefix(s), e.prefixes), 0xff, ...e.modrm], need: e.need, fl: NOFL };
  });
  add(`pop E${sfx(s)}`, 'stack', (ctx) => {
    const e = rmOp(ctx, 0, s, { dst: true, pMem: 0.7 });
    return { bytes: [...pfx(ctx, osPrefix(s), e.prefixes), 0x8f, ...e.modrm], need: e.need, fl: NOFL };
  });
  add(s === 16 ? 'pusha' : 'pushad', 'stack', (ctx) => {
    const need = new Map<number, number>();
    for (let r = 0; r < 8; r++) wantVal(ctx, need, r, 32, 0.3);
    return { bytes: [...osPrefix(s), 0x60], need, fl: NOFL };
  });
  add(s === 16 ? 'popa' : 'popad', 'stack', () => emit([...osPrefix(s), 0x61]));
  add(`enter Iw,Ib (o${s})`, 'stack', (ctx) => {
    const { rng } = ctx;
    const size = rng.pick([0, 4, 8, rng.int(64), rng.int(512), rng.int(0x10000)]);
    const level = rng.pick([0, 0, 1, 2, rng.range(2, 31), rng.int(256)]);
    const need = new Map<number, number>([[EBP, (DATA_ADDR + 0x1000 + rng.int(0x800)) & ~(rng.bool(0.8) ? 3 : 0)]]);
    return { bytes: [...osPrefix(s), 0xc8, ...le(size, 2), level], need, fl: NOFL };
  });
  add(`leave (o${s})`, 'stack', (ctx) => {
    const { rng } = ctx;
    const e = rng.bool(0.95) ? DATA_ADDR + 0x1000 + rng.int(0xc00) : DATA_ADDR + DATA_SIZE - rng.int(4);
    return { bytes: [...osPrefix(s), 0xc9], need: new Map([[EBP, e | 0]]), fl: NOFL };
  });
}

// ---------------------------------------------------------------------------------------------
// Conditions: setcc, cmovcc, jcc
const CC = ['o', 'no', 'b', 'ae', 'e', 'ne', 'be', 'a', 's', 'ns', 'p', 'np', 'l', 'ge', 'le', 'g'];
const CCFL = [OF, OF, CF, CF, ZF, ZF, CF | ZF, CF | ZF, SF, SF, PF, PF, SF | OF, SF | OF, ZF | SF | OF, ZF | SF | OF];
for (let c = 0; c < 16; c++) {
  add(`set${CC[c]} Eb`, 'cond', (ctx) => {
    const e = rmOp(ctx, ctx.rng.int(8), 8, { dst: true });
    return { bytes: [...pfx(ctx, e.prefixes), 0x0f, 0x90 + c, ...e.modrm], need: e.need, fl: fl(CCFL[c], 0) };
  });
  for (const s of SZ) {
    add(`cmov${CC[c]} G${sfx(s)},E${sfx(s)}`, 'cond', (ctx) => {
      const g = pickDst(ctx, s), e = rmOp(ctx, g, s);
      const need = new Map(e.need);
      wantVal(ctx, need, g, s);
      if (!e.isMem) wantVal(ctx, need, e.reg, s);
      fillMem(ctx, e, s);
      return { bytes: [...pfx(ctx, osPrefix(s), e.prefixes), 0x0f, 0x40 + c, ...e.modrm], need, fl: fl(CCFL[c], 0) };
    });
  }
  add(`j${CC[c]} rel8`, 'branch', () => emit([0x70 + c, 0], { fl: fl(CCFL[c], 0), jump: { rel: { at: 1, size: 1 }, near: true } }));
  add(`j${CC[c]} rel32`, 'branch', () => emit([0x0f, 0x80 + c, 0, 0, 0, 0], { fl: fl(CCFL[c], 0), jump: { rel: { at: 2, size: 4 } } }));
}

// ---------------------------------------------------------------------------------------------
// Unconditional transfers (targets inside the snippet)
add('jmp rel8', 'branch', () => emit([0xeb, 0], { jump: { rel: { at: 1, size: 1 }, near: true } }));
add('jmp rel32', 'branch', () => emit([0xe9, 0, 0, 0, 0], { jump: { rel: { at: 1, size: 4 } } }));
add('call rel32', 'branch', () => emit([0xe8, 0, 0, 0, 0], { jump: { rel: { at: 1, size: 4 }, call: true } }));
add('call next; pop r32', 'branch', (ctx) => emit([0xe8, 0, 0, 0, 0, 0x58 + pickDst(ctx, 32)]));
add('push imm32; ret', 'branch', (ctx) => emit([0x68, 0, 0, 0, 0, ...(ctx.rng.bool(0.2) ? [0xf3] : []), 0xc3], { jump: { abs: [1] } }));
add('push imm32; ret Iw', 'branch', (ctx) => emit([0x68, 0, 0, 0, 0, 0xc2, ...le(ctx.rng.pick([0, 2, 4, 8, ctx.rng.int(64)]), 2)], { jump: { abs: [1] } }));
add('jmp r32', 'branch', (ctx) => { const r = pickDst(ctx, 32); return emit([0xb8 + r, 0, 0, 0, 0, 0xff, 0xe0 + r], { jump: { abs: [1] } }); });
add('call r32', 'branch', (ctx) => { const r = pickDst(ctx, 32); return emit([0xb8 + r, 0, 0, 0, 0, 0xff, 0xd0 + r], { jump: { abs: [1] }, }); });
for (const [n, ext] of [['jmp', 4], ['call', 2]] as const) {
  add(`${n} m32`, 'branch', (ctx) => {
    const m = mem(ctx, ext, { size: 4, edge: 0, avoid: [ESP] });
    return { bytes: [...pfx(ctx, m.prefixes.filter((p) => p !== 0x67)), 0xff, ...m.modrm], need: m.need, fl: NOFL, jump: { dataAbs: [m.off] } };
  });
}
const LOOPS = ['loopne', 'loope', 'loop', 'jecxz'];
const LOOPFL = [ZF, ZF, 0, 0];
for (let k = 0; k < 4; k++) {
  for (const a16 of [false, true]) {
    add(`${a16 ? LOOPS[k].replace('ecx', 'cx') + ' (addr16)' : LOOPS[k]} rel8 (forward)`, 'branch', (ctx) => {
      const { rng } = ctx;
      const c = rng.pick([0, 1, 2, 3, 0x10000, 0x10001, rng.u32()]);
      return emit([...(a16 ? [0x67] : []), 0xe0 + k, 0], { need: new Map([[ECX, c | 0]]), fl: fl(LOOPFL[k], 0), jump: { rel: { at: a16 ? 2 : 1, size: 1 }, near: true } });
    });
  }
}
const LOOPBODY = [[0x01, 0xd8], [0x11, 0xd0], [0x40], [0xd1, 0xe2], [0x31, 0xf0], [0x4f], [0x29, 0xc3], [0x19, 0xfa], [0xf7, 0xd6]];
for (let k = 0; k < 3; k++) {
  add(`${LOOPS[k]} rel8 (backward loop)`, 'branch', (ctx) => {
    const { rng } = ctx;
    const n = rng.range(1, 20);
    const body: number[] = [];
    // ADC/SBB in the body read, on the first iteration, the CF from before the loop.
    let readsCF = false;
    for (let j = rng.range(1, 3); j > 0; j--) {
      const insn = rng.pick(LOOPBODY);
      if (insn[0] === 0x11 || insn[0] === 0x19) readsCF = true;
      body.push(...insn);
    }
    body.push(0x83, 0xf8, rng.int(4)); // cmp eax, imm8: defines the flags the loop condition reads
    const disp = -(body.length + 2);
    return emit([0xb9, ...le(n, 4), ...body, 0xe0 + k, disp & 0xff], { fl: fl(readsCF ? CF : 0, OSZAPC) });
  });
}

// ---------------------------------------------------------------------------------------------
// String instructions with and without REP
const STR: Array<[string, number, 'rep' | 'repcc' | 'none']> = [['movs', 0xa4, 'rep'], ['cmps', 0xa6, 'repcc'], ['stos', 0xaa, 'rep'], ['lods', 0xac, 'rep'], ['scas', 0xae, 'repcc']];
for (const [n, op, repKind] of STR) {
  for (const s of [8, 16, 32]) {
    const reps: Array<[string, number[]]> = [['', []], ...(repKind === 'rep' ? [['rep ', [0xf3]]] : [['repe ', [0xf3]], ['repne ', [0xf2]]]) as Array<[string, number[]]>];
    for (const [rn, rp] of reps) {
      add(`${rn}${n}${sfx(s)}`, 'string', (ctx) => {
        const { rng } = ctx;
        const w = s / 8;
        const count = rp.length ? (rng.bool(0.03) ? 0x10000 + rng.int(3) : rng.pick([0, 1, 2, 3, rng.range(1, 16), rng.range(1, 16)])) : rng.int(3);
        const span = Math.max(count & 0xffff, 1) * w;
        const srcArea = ctx.alloc(2 * span + 16), dstArea = ctx.alloc(2 * span + 16);
        const srcOff = srcArea + span + rng.int(4), dstOff = dstArea + span + rng.int(4);
        const src = Array.from({ length: 2 * span + 16 }, () => rng.int(256));
        poke(ctx.data, srcArea, src);
        // For compares, make a prefix of the destination equal to the source so REPE runs on.
        const dst = Array.from({ length: 2 * span + 16 }, (_, k) => (rng.bool(0.8) ? src[k] : rng.int(256)));
        poke(ctx.data, dstArea, dst);
        const need = new Map<number, number>();
        let esi = DATA_ADDR + srcOff, edi = DATA_ADDR + dstOff;
        if (rng.bool(0.04)) edi = DATA_ADDR + DATA_SIZE - rng.int(3 * w); // runs off the region: #PF part-way
        if (rng.bool(0.02)) esi = DATA_ADDR - rng.int(2 * w) - 1;
        if (n !== 'stos' && n !== 'scas') need.set(ESI, esi | 0);
        if (n !== 'lods') need.set(EDI, edi | 0);
        if (rp.length) need.set(ECX, count | 0);
        if (n === 'stos' || n === 'scas') wantVal(ctx, need, EAX, s, 0.8);
        if (n === 'scas' && rng.bool(0.5)) need.set(EAX, src[0] | (src[1] << 8) | (src[2] << 16) | (src[3] << 24));
        const seg = (n === 'movs' || n === 'cmps' || n === 'lods') && rng.bool(0.2) ? [rng.pick([0x26, 0x2e, 0x36, 0x3e])] : [];
        let a16: number[] = [];
        if (rng.bool(0.04)) { a16 = [0x67]; if (rp.length) need.set(ECX, (rng.u32() & 0xffff0000) | (rng.bool(0.7) ? 0 : 1)); }
        const bytes = [...pfx(ctx, osPrefix(s), seg, a16, rp), op + (s === 8 ? 0 : 1)];
        const cmp = n === 'cmps' || n === 'scas';
        const cx = need.get(ECX) ?? 1;
        const runs = !rp.length || (a16.length ? (cx & 0xffff) !== 0 : cx !== 0);
        // With 16-bit addressing both CMPS operands fault: the processor reads ES:DI first (measured),
        // so CR2 is compared as for any other access.
        return { bytes, need, fl: cmp && runs ? fl(0, OSZAPC) : NOFL };
      });
    }
  }
}
// I/O string and port instructions: #GP at CPL 3 with IOPL 0 and no I/O bitmap
for (const [n, b] of [['insb', [0x6c]], ['insd', [0x6d]], ['outsb', [0x6e]], ['outsd', [0x6f]], ['rep insb', [0xf3, 0x6c]], ['rep outsd', [0xf3, 0x6f]],
  ['in al,Ib', [0xe4, 0x60]], ['in eax,Ib', [0xe5, 0x40]], ['out Ib,al', [0xe6, 0x80]], ['out Ib,eax', [0xe7, 0x70]], ['in al,dx', [0xec]], ['in ax,dx', [0x66, 0xed]],
  ['out dx,al', [0xee]], ['out dx,eax', [0xef]]] as Array<[string, number[]]>) {
  add(n, 'priv', (ctx) => emit(b, { need: new Map([[EDX, ctx.rng.val32()], [EDI, DATA_ADDR + 0x100], [ESI, DATA_ADDR + 0x200], [ECX, 2]]) }));
}

// ---------------------------------------------------------------------------------------------
// Atomics
for (const s of [8, 16, 32]) {
  add(`cmpxchg E${sfx(s)},G${sfx(s)}`, 'atomic', (ctx) => {
    const { rng } = ctx;
    const g = pickSrc(ctx, s);
    const e = rmOp(ctx, g, s, { dst: true, avoid: [EAX] });
    const need = new Map(e.need);
    const acc = rng.valSized(s);
    need.set(EAX, acc);
    wantVal(ctx, need, g, s);
    const equal = rng.bool(0.5);
    if (e.isMem) pokeVal(ctx.data, e.m!.off, equal ? acc : rng.valSized(s), s / 8);
    else if (!need.has(fullReg(e.reg, s))) need.set(fullReg(e.reg, s), equal && (s !== 8 || e.reg < 4) ? acc : rng.valSized(s));
    const bytes = [...pfx(ctx, osPrefix(s), e.prefixes, lockMaybe(ctx, e, true)), 0x0f, s === 8 ? 0xb0 : 0xb1, ...e.modrm];
    return { bytes, need, fl: fl(0, OSZAPC) };
  });
  eg(`xadd E${sfx(s)},G${sfx(s)}`, 'atomic', [0x0f, s === 8 ? 0xc0 : 0xc1], s, 'EG', fl(0, OSZAPC), { lockable: true });
}
add('cmpxchg8b m64', 'atomic', (ctx) => {
  const { rng } = ctx;
  const m = mem(ctx, 1, { size: 8, avoid: [EAX, EDX, ECX, EBX] });
  const lo = rng.val32(), hi = rng.val32();
  pokeVal(ctx.data, m.off, lo, 4); pokeVal(ctx.data, m.off + 4, hi, 4);
  const need = new Map(m.need);
  const equal = rng.bool(0.5);
  need.set(EAX, equal ? lo : rng.val32()); need.set(EDX, equal ? hi : rng.val32());
  need.set(EBX, rng.val32()); need.set(ECX, rng.val32());
  return { bytes: [...pfx(ctx, m.prefixes, rng.bool(0.3) ? [0xf0] : []), 0x0f, 0xc7, ...m.modrm], need, fl: fl(0, ZF) };
});

// ---------------------------------------------------------------------------------------------
// BCD and ASCII adjust
const DAA = fl(AF | CF, SZAPC, OF), AAA = fl(AF, AF | CF, OF | SF | ZF | PF), AAM = fl(0, SF | ZF | PF, OF | AF | CF);
for (const [n, op, f] of [['daa', 0x27, DAA], ['das', 0x2f, DAA], ['aaa', 0x37, AAA], ['aas', 0x3f, AAA]] as const) {
  add(n, 'bcd', (ctx) => { const need = new Map(); wantVal(ctx, need, EAX, 16, 0.9); return { bytes: [op], need, fl: f }; });
}
for (const [n, op] of [['aam', 0xd4], ['aad', 0xd5]] as const) {
  add(`${n} Ib`, 'bcd', (ctx) => {
    const need = new Map(); wantVal(ctx, need, EAX, 16, 0.9);
    return { bytes: [op, ctx.rng.pick([10, 10, 10, 0, 1, 16, 0xff, ctx.rng.int(256)])], need, fl: AAM };
  });
}

// ---------------------------------------------------------------------------------------------
// Misc: bound, arpl, nop, interrupts
for (const s of SZ) {
  add(`bound G${sfx(s)},M${sfx(s)}&${sfx(s)}`, 'misc', (ctx) => {
    const { rng } = ctx;
    const g = pickSrc(ctx, s);
    const m = mem(ctx, g, { size: (s / 8) * 2, avoid: [fullReg(g, s)] });
    const need = new Map(m.need);
    const idx = rng.valSized(s);
    need.set(g, idx);
    const sx = (v: number) => (s === 16 ? (v << 16) >> 16 : v | 0);
    const i = sx(idx);
    let lo: number, hi: number;
    const r = rng.float();
    if (r < 0.6) { lo = i - rng.int(100); hi = i + rng.int(100); }
    else if (r < 0.7) { lo = i; hi = i; }
    else if (r < 0.8) { lo = i + 1; hi = i + rng.int(100) + 1; }
    else if (r < 0.9) { lo = i - rng.int(100) - 1; hi = i - 1; }
    else { lo = rng.valSized(s); hi = rng.valSized(s); }
    pokeVal(ctx.data, m.off, lo, s / 8); pokeVal(ctx.data, m.off + s / 8, hi, s / 8);
    return { bytes: [...pfx(ctx, osPrefix(s), m.prefixes), 0x62, ...m.modrm], need, fl: NOFL };
  });
}
add('arpl Ew,Gw', 'misc', (ctx) => {
  const g = pickSrc(ctx, 16), e = rmOp(ctx, g, 16, { dst: true });
  const need = new Map(e.need);
  wantVal(ctx, need, g, 16, 0.9);
  if (!e.isMem) wantVal(ctx, need, e.reg, 16, 0.9);
  fillMem(ctx, e, 16);
  return { bytes: [...pfx(ctx, e.prefixes), 0x63, ...e.modrm], need, fl: fl(0, ZF) };
});
add('nop', 'misc', () => emit([0x90]));
add('pause', 'misc', () => emit([0xf3, 0x90]));
for (const s of SZ) add(`nop E${sfx(s)} (0F 1F /0)`, 'misc', (ctx) => { const e = rmOp(ctx, 0, s); return { bytes: [...pfx(ctx, osPrefix(s), e.prefixes), 0x0f, 0x1f, ...e.modrm], need: e.need, fl: NOFL }; });
add('int3 (mid-snippet)', 'int', () => emit([0xcc], { terminal: true }));
add('int 3 (CD 03)', 'int', () => emit([0xcd, 0x03], { terminal: true }));
add('int 4 (CD 04)', 'int', () => emit([0xcd, 0x04], { terminal: true }));
add('int Ib (#GP)', 'int', (ctx) => emit([0xcd, ctx.rng.pick([0, 1, 2, 5, 6, 7, 8, 13, 14, 0x10, 0x20, 0x21, 0x2e, 0x41, 0x81, 0xf0, 0xff])]));
add('into', 'int', () => emit([0xce], { fl: fl(OF, 0) }));
// A prefix run making the instruction longer than 15 bytes: #GP(0); exactly 15 is fine.
add('15-byte instruction', 'misc', (ctx) => emit([...Array.from({ length: 14 }, () => ctx.rng.pick([0x3e, 0x26, 0x36, 0x66, 0x67])), 0x90]));
add('16-byte instruction (#GP)', 'misc', (ctx) => emit([...Array.from({ length: 15 }, () => ctx.rng.pick([0x3e, 0x26, 0x36, 0x2e])), 0x90]));

// ---------------------------------------------------------------------------------------------
// Privileged at CPL 3 (#GP(0)) and invalid encodings (#UD)
const PRIV: Array<[string, number[]]> = [
  ['hlt', [0xf4]], ['cli', [0xfa]], ['sti', [0xfb]], ['clts', [0x0f, 0x06]], ['invd', [0x0f, 0x08]], ['wbinvd', [0x0f, 0x09]],
  ['mov r32,cr0', [0x0f, 0x20, 0xc0]], ['mov cr3,r32', [0x0f, 0x22, 0xd8]], ['mov r32,dr7', [0x0f, 0x21, 0xf8]], ['mov dr0,r32', [0x0f, 0x23, 0xc0]],
  ['wrmsr', [0x0f, 0x30]], ['rdmsr', [0x0f, 0x32]], ['sysexit', [0x0f, 0x35]], ['lldt r16', [0x0f, 0x00, 0xd0]], ['ltr r16', [0x0f, 0x00, 0xd8]],
  ['lmsw r16', [0x0f, 0x01, 0xf0]],
];
for (const [n, b] of PRIV) add(n, 'priv', () => emit(b));
for (const [n, ext] of [['lgdt m', 2], ['lidt m', 3], ['invlpg m', 7]] as const) {
  add(n, 'priv', (ctx) => { const m = mem(ctx, ext, { size: 6 }); return { bytes: [...m.prefixes, 0x0f, 0x01, ...m.modrm], need: m.need, fl: NOFL }; });
}
const UD: Array<[string, (r: Rng) => number[]]> = [
  ['ud2', () => [0x0f, 0x0b]],
  ['ud1 (0F B9)', (r) => [0x0f, 0xb9, 0xc0 | r.int(64)]],
  ['ud0 (0F FF)', (r) => [0x0f, 0xff, 0xc0 | r.int(64)]],
  ['FE /2-7', (r) => [0xfe, 0xc0 | (r.range(2, 7) << 3) | r.int(8)]],
  ['FF /7', (r) => [0xff, 0xf8 | r.int(8)]],
  ['lea with register operand', (r) => [0x8d, 0xc0 | r.int(64)]],
  ['C6/C7 /1-7', (r) => [r.pick([0xc6, 0xc7]), 0xc0 | (r.range(1, 6) << 3) | r.int(8), 0, 0, 0, 0]],
  ['0F BA /0-3', (r) => [0x0f, 0xba, 0xc0 | (r.int(4) << 3) | r.int(8), r.int(256)]],
  ['cmpxchg8b register', (r) => [0x0f, 0xc7, 0xc8 | r.int(8)]],
  ['rsm', () => [0x0f, 0xaa]],
  ['0F 04/0A/0C/0E/36/39', (r) => [0x0f, r.pick([0x04, 0x0a, 0x0c, 0x0e, 0x36, 0x39])]],
  ['0F A6/A7', (r) => [0x0f, r.pick([0xa6, 0xa7]), 0xc0 | r.int(64)]],
  ['mov tr (0F 24/26)', (r) => [0x0f, r.pick([0x24, 0x26]), 0xc0 | r.int(64)]],
  ['0F B8 without F3', (r) => [0x0f, 0xb8, 0xc0 | r.int(64)]],
  ['lock on a register destination', (r) => [0xf0, r.pick([0x01, 0x09, 0x21, 0x29, 0x31, 0x87]), 0xc0 | r.int(64)]],
  ['lock on a non-lockable instruction', (r) => [0xf0, ...r.pick([[0x90], [0x8b, 0x03], [0x89, 0x03], [0x39, 0x03], [0x85, 0x03], [0x0f, 0xa3, 0x03], [0xf6, 0x03, 0x01], [0xd6], [0x0f, 0x45, 0x03]])]],
];
for (const [n, g] of UD) add(n, 'ud', (ctx) => emit(g(ctx.rng), { need: new Map([[EBX, DATA_ADDR + 0x100]]) }));

export const INT_FORMS: readonly Form[] = forms;
