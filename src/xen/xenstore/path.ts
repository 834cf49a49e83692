/**
 * XenStore path rules (docs/misc/xenstore.txt): absolute "/a/b" or relative "a/b" (resolved against
 * the caller's /local/domain/<domid>), characters A-Z a-z 0-9 - / _ @ only, no empty path, no
 * doubled or trailing slash except the root, at most 3072 bytes absolute and 2048 relative.
 * Violations answer EINVAL.
 */
import { XsError, XENSTORE_ABS_PATH_MAX, XENSTORE_REL_PATH_MAX } from './wire.js';

/** The special watch paths Xen generates events for; they are not nodes of the tree. */
export const SPECIAL_INTRODUCE = '@introduceDomain';
export const SPECIAL_RELEASE = '@releaseDomain';

export function domainPath(domid: number): string {
  return `/local/domain/${domid}`;
}

function validChars(p: string): boolean {
  for (let i = 0; i < p.length; i++) {
    const c = p.charCodeAt(i);
    const ok =
      (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a) ||
      c === 0x2d /* - */ || c === 0x2f /* / */ || c === 0x5f /* _ */ || c === 0x40; /* @ */
    if (!ok) return false;
  }
  return true;
}

/** An absolute path that passes every rule. */
export function isValidAbsolute(p: string): boolean {
  if (p.length === 0 || p.length > XENSTORE_ABS_PATH_MAX || p[0] !== '/') return false;
  if (!validChars(p)) return false;
  if (p === '/') return true;
  if (p.endsWith('/') || p.includes('//')) return false;
  return true;
}

/**
 * Resolves a node path from a request. Paths beginning with "@" are special names, not nodes, so
 * they are refused here (callers that accept them check first).
 */
export function resolvePath(raw: string, domid: number): string {
  if (raw.length === 0 || raw[0] === '@') throw new XsError('EINVAL');
  if (raw[0] === '/') {
    if (!isValidAbsolute(raw)) throw new XsError('EINVAL');
    return raw;
  }
  if (raw.length > XENSTORE_REL_PATH_MAX) throw new XsError('EINVAL');
  const abs = domainPath(domid) + '/' + raw;
  if (!isValidAbsolute(abs)) throw new XsError('EINVAL');
  return abs;
}

/** A special watch name ("@..."): any valid characters and length, no slash rules beyond that. */
export function isValidSpecial(p: string): boolean {
  return p.length >= 2 && p[0] === '@' && p.length <= XENSTORE_ABS_PATH_MAX && validChars(p);
}

/** Parent of an absolute path; the root's parent is null. */
export function parentOf(p: string): string | null {
  if (p === '/') return null;
  const i = p.lastIndexOf('/');
  return i === 0 ? '/' : p.slice(0, i);
}

export function baseName(p: string): string {
  return p.slice(p.lastIndexOf('/') + 1);
}

export function childPath(parent: string, name: string): string {
  return parent === '/' ? '/' + name : parent + '/' + name;
}

/** True if `p` is `ancestor` or lies below it. */
export function isAtOrBelow(p: string, ancestor: string): boolean {
  return ancestor === '/' || p === ancestor || (p.length > ancestor.length && p.startsWith(ancestor) && p[ancestor.length] === '/');
}

/** Ancestors of `p` from the root down, excluding `p` itself. */
export function ancestorsOf(p: string): string[] {
  const out: string[] = [];
  for (let q = parentOf(p); q !== null; q = parentOf(q)) out.push(q);
  return out.reverse();
}
