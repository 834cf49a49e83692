/**
 * The 80-bit extended-precision format of the x87 registers (Intel SDM vol. 1, 4.2 and 8.2), held
 * exactly: a sign, the 15-bit biased exponent field and the 64-bit significand (explicit integer
 * bit J = bit 63) as two unsigned 32-bit halves. No JavaScript double ever stands in for a
 * register value, so loads, stores and arithmetic are bit exact.
 *
 * This file has the format itself (classification, special values, normalisation) and the one
 * rounding routine every operation ends with (`roundPack`), which implements precision control,
 * rounding control, gradual underflow and overflow with the x87's masked and unmasked responses.
 */

/** Exception flags, as in the status and control words (bits 0-5). */
export const IE = 1, DE = 2, ZE = 4, OE = 8, UE = 16, PE = 32;

/** Rounding control (FCW bits 11:10). */
export const RC_NEAREST = 0, RC_DOWN = 1, RC_UP = 2, RC_ZERO = 3;

/** Exponent bias of the extended format, and its normal exponent range. */
export const BIAS = 16383;
export const EMIN = -16382, EMAX = 16383;
/** The exponent adjustment of unmasked overflow/underflow results (SDM 4.9.1.4-5). */
export const WRAP = 24576;

const TWO32 = 4294967296;

export class F80 {
  /** 0 or 1. */
  sign = 0;
  /** Biased exponent field, 0..0x7FFF. */
  exp = 0;
  /** Significand bits 63..32 and 31..0, unsigned. */
  hi = 0;
  lo = 0;

  static of(sign: number, exp: number, hi: number, lo: number): F80 {
    const x = new F80();
    x.sign = sign;
    x.exp = exp;
    x.hi = hi >>> 0;
    x.lo = lo >>> 0;
    return x;
  }

  clone(): F80 {
    return F80.of(this.sign, this.exp, this.hi, this.lo);
  }
}

export function copy(dst: F80, src: F80): void {
  dst.sign = src.sign;
  dst.exp = src.exp;
  dst.hi = src.hi;
  dst.lo = src.lo;
}

export function set(dst: F80, sign: number, exp: number, hi: number, lo: number): void {
  dst.sign = sign;
  dst.exp = exp;
  dst.hi = hi >>> 0;
  dst.lo = lo >>> 0;
}

/** Operand classes. Denormal includes pseudo-denormals (exponent 0 with J set). */
export const enum Kind {
  Zero = 0,
  Normal = 1,
  Denormal = 2,
  Inf = 3,
  QNaN = 4,
  SNaN = 5,
  /** Unnormals, pseudo-infinities and pseudo-NaNs: invalid operands since the 387. */
  Unsupported = 6,
}

export function kind(x: F80): Kind {
  const e = x.exp;
  if (e === 0) return x.hi === 0 && x.lo === 0 ? Kind.Zero : Kind.Denormal;
  if ((x.hi & 0x80000000) === 0) return Kind.Unsupported;
  if (e === 0x7fff) {
    if ((x.hi & 0x7fffffff) === 0 && x.lo === 0) return Kind.Inf;
    return x.hi & 0x40000000 ? Kind.QNaN : Kind.SNaN;
  }
  return Kind.Normal;
}

export function isNaNKind(k: Kind): boolean {
  return k === Kind.QNaN || k === Kind.SNaN;
}

/** The real indefinite (default QNaN): negative, exponent all ones, significand C000...0. */
export function setIndefinite(x: F80): void {
  set(x, 1, 0x7fff, 0xc0000000, 0);
}
export function setInf(x: F80, sign: number): void {
  set(x, sign, 0x7fff, 0x80000000, 0);
}
export function setZero(x: F80, sign: number): void {
  set(x, sign, 0, 0, 0);
}

/** Tag classes of FSTENV/FSAVE: 0 valid, 1 zero, 2 special (NaN, infinity, denormal, unsupported). */
export function tagOf(x: F80): number {
  const k = kind(x);
  return k === Kind.Normal ? 0 : k === Kind.Zero ? 1 : 2;
}

// ---- unpacked operands ---------------------------------------------------------------------------
/** A finite non-zero operand with its significand normalised: value = sig * 2^(e - 63). */
export class Unp {
  sign = 0;
  e = 0;
  hi = 0;
  lo = 0;
}

/** Unpacks a finite non-zero value (normal, denormal or pseudo-denormal). */
export function unpack(x: F80, u: Unp): void {
  let hi = x.hi, lo = x.lo;
  let e = x.exp === 0 ? EMIN : x.exp - BIAS;
  if ((hi & 0x80000000) === 0) {
    if (hi === 0) {
      hi = lo;
      lo = 0;
      e -= 32;
    }
    const z = Math.clz32(hi);
    if (z !== 0) {
      hi = ((hi << z) | (lo >>> (32 - z))) >>> 0;
      lo = (lo << z) >>> 0;
      e -= z;
    }
  }
  u.sign = x.sign;
  u.e = e;
  u.hi = hi >>> 0;
  u.lo = lo >>> 0;
}

/**
 * Writes the exact value sign * K * 2^lsb (K a 64-bit integer kh:kl) as an extended value. The
 * caller guarantees it is representable: lsb >= -16445 and the exponent no larger than EMAX
 * (or already adjusted by WRAP). Results below the normal range become denormals.
 */
export function fromK(out: F80, sign: number, kh: number, kl: number, lsb: number): void {
  out.sign = sign;
  if (kh === 0 && kl === 0) {
    out.exp = 0;
    out.hi = out.lo = 0;
    return;
  }
  let n = 0;
  if (kh === 0) {
    kh = kl;
    kl = 0;
    n = 32;
  }
  const z = Math.clz32(kh);
  if (z !== 0) {
    kh = ((kh << z) | (kl >>> (32 - z))) >>> 0;
    kl = (kl << z) >>> 0;
  }
  n += z;
  const lead = lsb + 63 - n;
  if (lead >= EMIN) {
    out.exp = lead + BIAS;
    out.hi = kh >>> 0;
    out.lo = kl >>> 0;
    return;
  }
  // Denormal: shift right so that the field's bit 63 has weight 2^EMIN.
  const s = EMIN - lead;
  out.exp = 0;
  if (s >= 32) {
    out.hi = 0;
    out.lo = kh >>> (s - 32);
  } else {
    out.lo = ((kl >>> s) | (kh << (32 - s))) >>> 0;
    out.hi = kh >>> s;
  }
}

// ---- rounding ------------------------------------------------------------------------------------
/** The arithmetic context of one instruction: FCW fields in, exception flags and C1 out. */
export class Ctx {
  /** Significand bits for precision-controlled results (24, 53 or 64). */
  prec = 64;
  rc = RC_NEAREST;
  /** FCW exception masks (bits 0-5; a set bit masks the exception). */
  masks = 0x3f;
  /** Exceptions detected so far (IE..PE, and SF for stack faults). */
  flags = 0;
  /** The last rounding increased the magnitude (reported in C1). */
  up = false;
  /** C1 to commit with the flags: 0 or 1, or -1 to leave it unchanged. */
  c1 = -1;

  /** Loads the control word's fields and clears the outputs. */
  begin(fcw: number): void {
    const pc = (fcw >> 8) & 3;
    this.prec = pc === 0 ? 24 : pc === 2 ? 53 : 64;
    this.rc = (fcw >> 10) & 3;
    this.masks = fcw & 0x3f;
    this.flags = 0;
    this.up = false;
    this.c1 = -1;
  }

  /** Records `flags`; true when all of them are masked (the masked response applies). */
  raise(flags: number): boolean {
    this.flags |= flags;
    return (flags & ~this.masks & 0x3f) === 0;
  }
}

// Outputs of `round` (module scope: cheaper than allocating a result object).
let rKh = 0, rKl = 0, rInexact = false, rUp = false, rCarry = false;

/**
 * Shifts the 96-bit value w0:w1:w2 (plus `sticky` below it) right by `d` (>= 32) bits and rounds
 * the result to an integer according to `rc` and `sign`. Sets rKh:rKl, rInexact, rUp, and rCarry
 * when the increment overflowed 64 bits.
 */
function round(w0: number, w1: number, w2: number, sticky: boolean, d: number, sign: number, rc: number): void {
  let s0 = w0, s1 = w1, s2 = w2, st = sticky;
  let n = d - 1;
  if (n >= 96) {
    st = st || (s0 | s1 | s2) !== 0;
    s0 = s1 = s2 = 0;
  } else {
    while (n >= 32) {
      if (s2 !== 0) st = true;
      s2 = s1;
      s1 = s0;
      s0 = 0;
      n -= 32;
    }
    if (n > 0) {
      if ((s2 << (32 - n)) !== 0) st = true;
      s2 = ((s2 >>> n) | (s1 << (32 - n))) >>> 0;
      s1 = ((s1 >>> n) | (s0 << (32 - n))) >>> 0;
      s0 = s0 >>> n;
    }
  }
  const r = s2 & 1;
  let kh = ((s0 << 31) | (s1 >>> 1)) >>> 0;
  let kl = ((s1 << 31) | (s2 >>> 1)) >>> 0;
  const inexact = r !== 0 || st;
  let inc: boolean;
  switch (rc) {
    case RC_NEAREST: inc = r !== 0 && (st || (kl & 1) !== 0); break;
    case RC_DOWN: inc = inexact && sign !== 0; break;
    case RC_UP: inc = inexact && sign === 0; break;
    default: inc = false;
  }
  let carry = false;
  if (inc) {
    kl = (kl + 1) >>> 0;
    if (kl === 0) {
      kh = (kh + 1) >>> 0;
      carry = kh === 0;
    }
  }
  rCarry = carry;
  rKh = kh;
  rKl = kl;
  rInexact = inexact;
  rUp = inc;
}

/** Whether K (rKh:rKl) has reached 2^p. */
function carried(p: number): boolean {
  if (p === 64) return rCarry;
  return p >= 32 ? (rKh >>> (p - 32)) !== 0 : rKh !== 0 || (rKl >>> p) !== 0;
}

/**
 * Rounds sign * W * 2^(e - 95), W = w0:w1:w2 a 96-bit integer with bit 95 set and `sticky` standing
 * for non-zero bits below it, to `p` significant bits within the exponent range [emin, emax], and
 * writes it to `out` as an extended value. Sets PE/UE/OE in ctx.flags and ctx.up.
 *
 * `reg` marks a register destination: there, unmasked overflow/underflow deliver the rounded result
 * with its exponent adjusted by -/+ WRAP (SDM 4.9.1.4). For memory destinations an unmasked
 * overflow or underflow stores nothing: the caller sees OE/UE unmasked in ctx.flags and must not
 * write `out`. Returns false in that case.
 */
export function roundPack(
  ctx: Ctx, out: F80, sign: number, e: number, w0: number, w1: number, w2: number, sticky: boolean,
  p: number, emin: number, emax: number, reg: boolean,
): boolean {
  // Round with an unbounded exponent first: that decides overflow and tininess (after rounding).
  round(w0, w1, w2, sticky, 96 - p, sign, ctx.rc);
  let lsb = e - (p - 1);
  if (carried(p)) {
    // K = 2^p: becomes 2^(p-1) one place higher.
    rKh = p > 32 ? (1 << (p - 33)) >>> 0 : 0;
    rKl = p > 32 ? 0 : (1 << (p - 1)) >>> 0;
    lsb++;
  }
  const lead = lsb + p - 1;
  if (lead > emax) {
    if (reg && (ctx.masks & OE) === 0 && lead - WRAP <= EMAX) {
      ctx.flags |= OE | (rInexact ? PE : 0);
      ctx.up = rUp;
      fromK(out, sign, rKh, rKl, lsb - WRAP);
      return true;
    }
    if (reg && (ctx.masks & OE) === 0) {
      // Too large even for the wrapped exponent (only FSCALE gets here): infinity, as measured.
      ctx.flags |= OE | PE;
      ctx.up = true;
      setInf(out, sign);
      return true;
    }
    if ((ctx.masks & OE) === 0) {
      ctx.flags |= OE;
      return false;
    }
    ctx.flags |= OE | PE;
    const rc = ctx.rc;
    const toInf = rc === RC_NEAREST || (rc === RC_UP && sign === 0) || (rc === RC_DOWN && sign !== 0);
    ctx.up = toInf;
    if (toInf) setInf(out, sign);
    else maxFinite(out, sign, p, emax);
    return true;
  }
  if (lead < emin) {
    if ((ctx.masks & UE) === 0) {
      if (!reg) {
        ctx.flags |= UE;
        return false;
      }
      if (lead + WRAP < emin) {
        // Too small even for the wrapped exponent (only FSCALE gets here): a signed zero.
        ctx.flags |= UE | PE;
        ctx.up = false;
        setZero(out, sign);
        return true;
      }
      ctx.flags |= UE | (rInexact ? PE : 0);
      ctx.up = rUp;
      fromK(out, sign, rKh, rKl, lsb + WRAP);
      return true;
    }
    // Masked underflow: denormalise (round again at the lowest place the format has).
    const dlsb = emin - (p - 1);
    round(w0, w1, w2, sticky, dlsb - e + 95, sign, ctx.rc);
    if (rInexact) ctx.flags |= UE | PE;
    ctx.up = rUp;
    fromK(out, sign, rKh, rKl, dlsb);
    return true;
  }
  if (rInexact) ctx.flags |= PE;
  ctx.up = rUp;
  fromK(out, sign, rKh, rKl, lsb);
  return true;
}

/** The largest finite value with p significant bits and exponent emax. */
function maxFinite(out: F80, sign: number, p: number, emax: number): void {
  let kh: number, kl: number;
  if (p === 64) {
    kh = kl = 0xffffffff;
  } else if (p > 32) {
    kh = (2 ** (p - 32) - 1) >>> 0;
    kl = 0xffffffff;
  } else {
    kh = 0;
    kl = (2 ** p - 1) >>> 0;
  }
  fromK(out, sign, kh, kl, emax - (p - 1));
}

/** Rounds a finite non-zero unpacked value to the register format with `p` bits (no extra bits). */
export function roundUnp(ctx: Ctx, out: F80, u: Unp, p: number): boolean {
  return roundPack(ctx, out, u.sign, u.e, u.hi, u.lo, 0, false, p, EMIN, EMAX, true);
}

/**
 * Normalises the 96-bit value w0:w1:w2 (not zero) so bit 95 is set and rounds it (exponent `e` is
 * that of bit 95 before normalisation) into a register with `p` bits.
 */
export function normRoundPack(
  ctx: Ctx, out: F80, sign: number, e: number, w0: number, w1: number, w2: number, sticky: boolean, p: number,
): boolean {
  while (w0 === 0) {
    w0 = w1;
    w1 = w2;
    w2 = 0;
    e -= 32;
  }
  const z = Math.clz32(w0);
  if (z !== 0) {
    w0 = ((w0 << z) | (w1 >>> (32 - z))) >>> 0;
    w1 = ((w1 << z) | (w2 >>> (32 - z))) >>> 0;
    w2 = (w2 << z) >>> 0;
    e -= z;
  }
  return roundPack(ctx, out, sign, e, w0, w1, w2, sticky, p, EMIN, EMAX, true);
}

// ---- conversions with JavaScript numbers (transcendentals, tests) -----------------------------------
const f64 = new Float64Array(1);
const u32 = new Uint32Array(f64.buffer);

/** Writes the exact value of a double (times 2^scale, rounded to the register format if needed). */
export function fromNumber(ctx: Ctx, out: F80, d: number, scale = 0): boolean {
  if (Number.isNaN(d)) {
    setIndefinite(out);
    return true;
  }
  const sign = d < 0 || Object.is(d, -0) ? 1 : 0;
  if (d === 0) {
    setZero(out, sign);
    return true;
  }
  if (!Number.isFinite(d)) {
    setInf(out, sign);
    return true;
  }
  f64[0] = d;
  const bhi = u32[1], blo = u32[0];
  let e = (bhi >>> 20) & 0x7ff;
  let hi = (((bhi & 0xfffff) << 11) | (blo >>> 21)) >>> 0;
  const lo = (blo << 11) >>> 0;
  if (e === 0) e = 1;
  else hi = (hi | 0x80000000) >>> 0;
  // value = (hi:lo) * 2^(e - 1023 - 63): bit 63 of hi:lo (bit 95 of the 96-bit word) weighs 2^(e - 1023).
  return normRoundPack(ctx, out, sign, e - 1023 + scale, hi, lo, 0, false, 64);
}

/** The value as a double (rounded to nearest); finite values beyond double range become 0 or inf. */
export function toNumber(x: F80): number {
  const k = kind(x);
  const s = x.sign ? -1 : 1;
  switch (k) {
    case Kind.Zero: return s * 0;
    case Kind.Inf: return s * Infinity;
    case Kind.Normal: case Kind.Denormal: {
      const m = x.hi * TWO32 + x.lo; // one rounding to 53 bits
      const e = (x.exp === 0 ? 1 : x.exp) - BIAS - 63;
      const half = Math.trunc(e / 2);
      return s * m * 2 ** half * 2 ** (e - half);
    }
    default: return NaN;
  }
}

/** Splits a finite non-zero value into a double mantissa in [1, 2) and a binary exponent. */
export function toMantExp(x: F80, u: Unp): number {
  unpack(x, u);
  return (u.hi * TWO32 + u.lo) / 2 ** 63;
}
