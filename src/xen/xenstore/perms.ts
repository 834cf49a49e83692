/**
 * Node permissions (docs/misc/xenstore.txt, "Permissions"). A node has one or more entries
 * "<letter><domid>" with letter n (none), r (read), w (write) or b (both). The first entry names the
 * owner, who always has full access, and its letter is the access of every domain not listed.
 */
import { XsError } from './wire.js';

export const PERM_NONE = 0;
export const PERM_READ = 1;
export const PERM_WRITE = 2;
export const PERM_BOTH = 3;

export interface Perm {
  readonly dom: number;
  /** PERM_* bits. */
  readonly access: number;
}

/** The requester as the permission system sees it. */
export interface Who {
  readonly domid: number;
  /** Set by SET_TARGET: this domain acts for `target` (a device-model stub domain). */
  readonly target: number | undefined;
  readonly privileged: boolean;
}

const LETTERS = 'nrwb';

export function formatPerm(p: Perm): string {
  return LETTERS[p.access & 3] + String(p.dom);
}

/** Parses "r5"; throws EINVAL on anything else (domid must be a plain decimal 0..65535). */
export function parsePerm(s: string): Perm {
  const access = LETTERS.indexOf(s[0] ?? '');
  const num = s.slice(1);
  if (access < 0 || !/^[0-9]{1,5}$/.test(num)) throw new XsError('EINVAL');
  const dom = Number(num);
  if (dom > 0xffff) throw new XsError('EINVAL');
  return { dom, access };
}

export function ownerOf(perms: readonly Perm[]): number {
  return perms[0].dom;
}

/** The PERM_* bits `who` has on a node with `perms`. */
export function accessFor(perms: readonly Perm[], who: Who): number {
  if (who.privileged) return PERM_BOTH;
  const owner = perms[0].dom;
  if (who.domid === owner || (who.target !== undefined && who.target === owner)) return PERM_BOTH;
  let acc = 0;
  let listed = false;
  for (let i = 1; i < perms.length; i++) {
    const d = perms[i].dom;
    if (d === who.domid || (who.target !== undefined && d === who.target)) {
      acc |= perms[i].access;
      listed = true;
    }
  }
  return listed ? acc : perms[0].access;
}

export function permsEqual(a: readonly Perm[], b: readonly Perm[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i].dom !== b[i].dom || a[i].access !== b[i].access) return false;
  return true;
}

/** Owner dom0, no access for anyone else: the root's and the special watch names' default. */
export const DOM0_ONLY: readonly Perm[] = Object.freeze([{ dom: 0, access: PERM_NONE }]);
