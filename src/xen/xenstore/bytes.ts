/**
 * Byte <-> string helpers for XenStore. The portable core has no TextEncoder, so these are ours.
 *
 * On the wire everything is bytes. Paths are ASCII (validated elsewhere); tokens and values may be
 * any bytes, so wire strings are converted as latin1 (one char per byte), which round-trips every
 * byte exactly. UTF-8 helpers exist for host code that wants to store human text as a value.
 */

/** One byte per char code (the low 8 bits); exact inverse of `latin1Decode`. */
export function latin1Encode(s: string): Uint8Array {
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i) & 0xff;
  return out;
}

export function latin1Decode(b: Uint8Array, start = 0, end = b.length): string {
  let s = '';
  // Chunked so a 4 KiB payload does not build one string per byte.
  for (let i = start; i < end; i += 1024) {
    s += String.fromCharCode.apply(null, Array.from(b.subarray(i, Math.min(end, i + 1024))));
  }
  return s;
}

export function utf8Encode(s: string): Uint8Array {
  const out: number[] = [];
  for (let i = 0; i < s.length; i++) {
    let c = s.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) {
      const d = s.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) {
        c = 0x10000 + ((c - 0xd800) << 10) + (d - 0xdc00);
        i++;
      }
    }
    if (c >= 0xd800 && c <= 0xdfff) c = 0xfffd; // lone surrogate
    if (c < 0x80) out.push(c);
    else if (c < 0x800) out.push(0xc0 | (c >> 6), 0x80 | (c & 63));
    else if (c < 0x10000) out.push(0xe0 | (c >> 12), 0x80 | ((c >> 6) & 63), 0x80 | (c & 63));
    else out.push(0xf0 | (c >> 18), 0x80 | ((c >> 12) & 63), 0x80 | ((c >> 6) & 63), 0x80 | (c & 63));
  }
  return Uint8Array.from(out);
}

/** Decodes UTF-8; malformed sequences become U+FFFD (guest values are untrusted). */
export function utf8Decode(b: Uint8Array): string {
  let s = '';
  let i = 0;
  while (i < b.length) {
    const c = b[i];
    let cp = 0xfffd;
    let n = 1;
    if (c < 0x80) cp = c;
    else if (c >= 0xc2 && c < 0xe0) n = 2;
    else if (c >= 0xe0 && c < 0xf0) n = 3;
    else if (c >= 0xf0 && c < 0xf5) n = 4;
    if (n > 1) {
      let v = c & (0xff >> (n + 1));
      let ok = i + n <= b.length;
      for (let k = 1; ok && k < n; k++) {
        const d = b[i + k];
        if ((d & 0xc0) !== 0x80) ok = false;
        else v = (v << 6) | (d & 63);
      }
      const min = n === 2 ? 0x80 : n === 3 ? 0x800 : 0x10000;
      if (ok && v >= min && v <= 0x10ffff && !(v >= 0xd800 && v <= 0xdfff)) cp = v;
      else n = 1;
    }
    s += String.fromCodePoint(cp);
    i += n;
  }
  return s;
}

/**
 * Splits a payload into NUL-terminated fields. `rest` holds any bytes after the last NUL
 * (an unterminated tail), so callers can tell "a|b|" from "a|b".
 */
export function splitFields(p: Uint8Array): { fields: string[]; rest: string | null } {
  const fields: string[] = [];
  let start = 0;
  for (let i = 0; i < p.length; i++) {
    if (p[i] === 0) {
      fields.push(latin1Decode(p, start, i));
      start = i + 1;
    }
  }
  return { fields, rest: start < p.length ? latin1Decode(p, start) : null };
}

/** Concatenates strings, each followed by a NUL, as latin1 bytes. */
export function joinFields(fields: readonly string[]): Uint8Array {
  let n = 0;
  for (const f of fields) n += f.length + 1;
  const out = new Uint8Array(n);
  let o = 0;
  for (const f of fields) {
    for (let i = 0; i < f.length; i++) out[o++] = f.charCodeAt(i) & 0xff;
    out[o++] = 0;
  }
  return out;
}

export function concatBytes(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a, 0);
  out.set(b, a.length);
  return out;
}
