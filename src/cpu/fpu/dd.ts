/**
 * Double-double arithmetic (a value is hi + lo, |lo| <= ulp(hi)/2, about 106 bits) and the
 * elementary functions the x87 transcendental instructions need, on reduced arguments: sin, cos,
 * atan, log and expm1. Accurate to roughly 2^-100 relative, which lets the 64-bit results be
 * rounded correctly (and C1 reported) in all but near-tie cases.
 *
 * Results are returned in the module variables `H` and `L` (no allocation). Algorithms: Dekker's
 * and Knuth's error-free transformations; Taylor/atanh series evaluated by Horner's rule.
 */

/** Result of the last operation. */
export let H = 0, L = 0;

const SPLIT = 134217729; // 2^27 + 1

/** Sets H:L = a + b exactly (Knuth). */
function twoSum(a: number, b: number): void {
  const s = a + b;
  const bb = s - a;
  H = s;
  L = a - (s - bb) + (b - bb);
}

/** Sets H:L = a + b normalised, assuming |a| >= |b| or a = 0. */
function fastTwoSum(a: number, b: number): void {
  const s = a + b;
  H = s;
  L = b - (s - a);
}

/** Sets H:L = a * b exactly (Dekker, no FMA). */
function twoProd(a: number, b: number): void {
  const p = a * b;
  let c = SPLIT * a;
  const ah = c - (c - a), al = a - ah;
  c = SPLIT * b;
  const bh = c - (c - b), bl = b - bh;
  H = p;
  L = ah * bh - p + ah * bl + al * bh + al * bl;
}

export function add(ah: number, al: number, bh: number, bl: number): void {
  twoSum(ah, bh);
  const s = H, e = L + al + bl;
  fastTwoSum(s, e);
}

export function mul(ah: number, al: number, bh: number, bl: number): void {
  twoProd(ah, bh);
  const p = H, e = L + (ah * bl + al * bh);
  fastTwoSum(p, e);
}

export function div(ah: number, al: number, bh: number, bl: number): void {
  const q1 = ah / bh;
  // r = a - q1 * b
  mul(bh, bl, q1, 0);
  add(ah, al, -H, -L);
  const rh = H, rl = L;
  const q2 = rh / bh;
  mul(bh, bl, q2, 0);
  add(rh, rl, -H, -L);
  const q3 = H / bh;
  fastTwoSum(q1, q2);
  add(H, L, q3, 0);
}

// ---- constants -------------------------------------------------------------------------------------
/** pi, ln 2, 1/ln 2 as double-doubles. */
export const PI_H = 3.141592653589793, PI_L = 1.2246467991473532e-16;
export const LN2_H = 0.6931471805599453, LN2_L = 2.3190468138462996e-17;
export const LOG2E_H = 1.4426950408889634, LOG2E_L = 2.0355273740931033e-17;

/** 1/n! for n = 0..30 as double-doubles, built once. */
const INV_FACT_H: number[] = [1], INV_FACT_L: number[] = [0];
for (let n = 1; n <= 30; n++) {
  div(INV_FACT_H[n - 1], INV_FACT_L[n - 1], n, 0);
  INV_FACT_H.push(H);
  INV_FACT_L.push(L);
}
/** 1/(2k+1) for k = 0..30. */
const INV_ODD_H: number[] = [], INV_ODD_L: number[] = [];
for (let k = 0; k <= 30; k++) {
  div(1, 0, 2 * k + 1, 0);
  INV_ODD_H.push(H);
  INV_ODD_L.push(L);
}

// ---- functions -------------------------------------------------------------------------------------
/** sin(x) for |x| <= pi/4: x * sum_k (-1)^k x^2k / (2k+1)!, k <= 13. */
export function sin(xh: number, xl: number): void {
  mul(xh, xl, xh, xl);
  const zh = H, zl = L;
  let sh = -INV_FACT_H[27], sl = -INV_FACT_L[27];
  for (let k = 12; k >= 0; k--) {
    mul(sh, sl, zh, zl);
    const neg = k & 1;
    add(neg ? -INV_FACT_H[2 * k + 1] : INV_FACT_H[2 * k + 1], neg ? -INV_FACT_L[2 * k + 1] : INV_FACT_L[2 * k + 1], H, L);
    sh = H;
    sl = L;
  }
  mul(sh, sl, xh, xl);
}

/** cos(x) for |x| <= pi/4: sum_k (-1)^k x^2k / (2k)!, k <= 14. */
export function cos(xh: number, xl: number): void {
  mul(xh, xl, xh, xl);
  const zh = H, zl = L;
  let sh = INV_FACT_H[28], sl = INV_FACT_L[28];
  for (let k = 13; k >= 0; k--) {
    mul(sh, sl, zh, zl);
    const neg = k & 1;
    add(neg ? -INV_FACT_H[2 * k] : INV_FACT_H[2 * k], neg ? -INV_FACT_L[2 * k] : INV_FACT_L[2 * k], H, L);
    sh = H;
    sl = L;
  }
}

/** expm1(x) = e^x - 1 for |x| <= 0.7: sum x^n / n!, n >= 1. */
export function expm1(xh: number, xl: number): void {
  let sh = INV_FACT_H[28], sl = INV_FACT_L[28];
  for (let n = 27; n >= 1; n--) {
    mul(sh, sl, xh, xl);
    add(INV_FACT_H[n], INV_FACT_L[n], H, L);
    sh = H;
    sl = L;
  }
  mul(sh, sl, xh, xl);
}

/** atanh-style odd series sum x^(2k+1) / (2k+1) (sign -1 alternating for atan). */
function oddSeries(xh: number, xl: number, alternate: boolean, terms: number): void {
  mul(xh, xl, xh, xl);
  const zh = H, zl = L;
  let sh = INV_ODD_H[terms], sl = INV_ODD_L[terms];
  for (let k = terms - 1; k >= 0; k--) {
    mul(sh, sl, zh, zl);
    if (alternate) add(INV_ODD_H[k], INV_ODD_L[k], -H, -L);
    else add(INV_ODD_H[k], INV_ODD_L[k], H, L);
    sh = H;
    sl = L;
  }
  mul(sh, sl, xh, xl);
}

/** atan(k/8) for k = 0..8, built once by the series (its argument reduced by the half-angle rule). */
const ATAN_TAB_H: number[] = [], ATAN_TAB_L: number[] = [];

/** atan(x) for |x| <= 1. */
export function atan(xh: number, xl: number): void {
  const neg = xh < 0;
  if (neg) {
    xh = -xh;
    xl = -xl;
  }
  // atan(x) = atan(c) + atan((x - c) / (1 + x c)), c = k/8 nearest to x: |reduced| <= 1/16.
  const k = Math.round(xh * 8);
  const c = k / 8;
  add(xh, xl, -c, 0);
  const nh = H, nl = L;
  mul(xh, xl, c, 0);
  add(1, 0, H, L);
  div(nh, nl, H, L);
  oddSeries(H, L, true, 14);
  add(ATAN_TAB_H[k], ATAN_TAB_L[k], H, L);
  if (neg) {
    H = -H;
    L = -L;
  }
}

for (let k = 0; k <= 8; k++) {
  // atan(t) = 2 atan(t / (1 + sqrt(1 + t^2))): two halvings bring k/8 <= 1 below 0.2.
  let th = k / 8, tl = 0;
  for (let n = 0; n < 2; n++) {
    mul(th, tl, th, tl);
    add(1, 0, H, L);
    sqrt(H, L);
    add(1, 0, H, L);
    div(th, tl, H, L);
    th = H;
    tl = L;
  }
  oddSeries(th, tl, true, 30);
  ATAN_TAB_H.push(H * 4);
  ATAN_TAB_L.push(L * 4);
}

/** sqrt(x) for x > 0 (one Newton step on the double square root). */
export function sqrt(xh: number, xl: number): void {
  const s = Math.sqrt(xh);
  twoProd(s, s);
  add(xh, xl, -H, -L);
  const corr = H / (2 * s);
  fastTwoSum(s, corr);
}

/**
 * log(x) for x > 0 given as m * 2^e with m = mh + ml in [1, 2): e ln2 + 2 atanh((m - 1) / (m + 1)),
 * with m first brought into [sqrt(1/2), sqrt(2)].
 */
export function logScaled(mh: number, ml: number, e: number): void {
  if (mh > Math.SQRT2) {
    mh /= 2;
    ml /= 2;
    e++;
  }
  add(mh, ml, -1, 0);
  const nh = H, nl = L;
  add(mh, ml, 1, 0);
  div(nh, nl, H, L);
  oddSeries(H, L, false, 22);
  const lh = H * 2, ll = L * 2;
  if (e === 0) {
    H = lh;
    L = ll;
    return;
  }
  mul(LN2_H, LN2_L, e, 0);
  add(H, L, lh, ll);
}

/** log(1 + x) for |x| < 1/2: 2 atanh(x / (2 + x)). */
export function log1p(xh: number, xl: number): void {
  add(2, 0, xh, xl);
  div(xh, xl, H, L);
  oddSeries(H, L, false, 24);
  H *= 2;
  L *= 2;
}
