/** Deterministic PRNG (sfc32 seeded through splitmix32) and the value distributions the generator draws from. */
export class Rng {
  private a: number; private b: number; private c: number; private d: number;
  constructor(seed: number) {
    let s = seed >>> 0;
    const next = () => {
      s = (s + 0x9e3779b9) >>> 0;
      let z = s;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
      return (z ^ (z >>> 16)) >>> 0;
    };
    this.a = next(); this.b = next(); this.c = next(); this.d = next();
    for (let k = 0; k < 12; k++) this.u32();
  }
  u32(): number {
    const t = (((this.a + this.b) >>> 0) + this.d) >>> 0;
    this.d = (this.d + 1) >>> 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) >>> 0;
    this.c = ((this.c << 21) | (this.c >>> 11)) >>> 0;
    this.c = (this.c + t) >>> 0;
    return t;
  }
  /** Uniform in [0, n). */
  int(n: number): number { return Math.floor((this.u32() / 4294967296) * n); }
  /** Uniform in [lo, hi] inclusive. */
  range(lo: number, hi: number): number { return lo + this.int(hi - lo + 1); }
  float(): number { return this.u32() / 4294967296; }
  bool(p = 0.5): boolean { return this.float() < p; }
  pick<T>(a: readonly T[]): T { return a[this.int(a.length)]; }
  /** An interesting 32-bit value: boundaries, small numbers, sparse bit patterns or uniform. */
  val32(): number {
    const r = this.int(10);
    if (r < 3) return this.u32() | 0;
    if (r < 5) return this.pick(EDGE32);
    if (r < 7) return this.int(256) * (this.bool() ? 1 : -1) | 0;
    if (r < 8) return (1 << this.int(32)) ^ (this.bool(0.3) ? (1 << this.int(32)) : 0) | 0;
    if (r < 9) return (this.u32() & 0xffff) | (this.bool() ? 0xffff0000 : 0);
    return (this.u32() & 0xff) | (this.u32() & 0xffffff00 & (this.bool() ? -1 : 0));
  }
  /** An interesting value of the given operand width, as a 32-bit number (upper bits random). */
  valSized(size: number): number {
    const v = this.val32();
    if (size === 32) return v;
    if (size === 16) return (this.pick(EDGE16.concat([v & 0xffff, v & 0xffff]))) | (this.u32() & 0xffff0000);
    return (this.pick(EDGE8.concat([v & 0xff, v & 0xff, v & 0xff]))) | (this.u32() & 0xffffff00);
  }
}

export const EDGE32 = [0, 1, 2, -1, -2, 0x7fffffff, 0x80000000 | 0, 0x80000001 | 0, 0x7f, 0x80, 0xff, 0x100, 0x7fff, 0x8000, 0xffff, 0x10000, 0x55555555, 0xaaaaaaaa | 0, 0x0f0f0f0f, 0x99];
export const EDGE16 = [0, 1, 2, 0xffff, 0xfffe, 0x7fff, 0x8000, 0x8001, 0x7f, 0x80, 0xff, 0x100, 0x5555, 0xaaaa, 0x0909, 0x9999];
export const EDGE8 = [0, 1, 2, 0xff, 0xfe, 0x7f, 0x80, 0x81, 0x09, 0x0f, 0x10, 0x99, 0x9a, 0x55, 0xaa, 0x06, 0x60];
