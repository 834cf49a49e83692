/**
 * The node operations (READ, WRITE, MKDIR, RM, DIRECTORY, GET_PERMS, SET_PERMS) against a
 * `NodeView`, so the same code serves the live tree and a transaction's private view. Each check
 * follows docs/misc/xenstore.txt and the error choices of the reference daemon:
 *
 * - a missing node answers ENOENT if the nearest existing ancestor grants the access asked for,
 *   EACCES otherwise (so a domain cannot probe for nodes it could not see);
 * - creating a node needs write access to the nearest existing ancestor; new nodes inherit their
 *   parent's permissions, except that a node created by an unprivileged domain is owned by it;
 * - quota overruns answer ENOSPC; an unprivileged domain changing a node's owner gets EPERM.
 *
 * Operations return the change they made (for watches), or null if they changed nothing.
 */
import { type NodeView, type XsNode } from './tree.js';
import { type Perm, type Who, PERM_READ, PERM_WRITE, accessFor, ownerOf } from './perms.js';
import { XsError } from './wire.js';
import { baseName, childPath, parentOf } from './path.js';

/** Per-domain limits; 0 disables one. Names as GET_QUOTA knows them in the reference daemon. */
export interface XsQuota {
  /** Nodes owned by one domain. */
  nodes: number;
  /** Watches registered by one domain. */
  watches: number;
  /** Transactions open at once for one domain. */
  transactions: number;
  /** Bytes in one node's value. */
  nodeSize: number;
  /** Permission entries on one node. */
  perms: number;
}

/** The reference daemon's defaults. */
export const DEFAULT_QUOTA: Readonly<XsQuota> = Object.freeze({ nodes: 1000, watches: 128, transactions: 10, nodeSize: 2048, perms: 5 });

/** A modification, as watches see it. */
export interface Change {
  readonly path: string;
  /** The subtree at `path` was removed (watches below it fire with their own path). */
  readonly removed: boolean;
  /** Permissions the node had after the change (before it, for a removal). */
  readonly perms: readonly Perm[];
  /** For SET_PERMS: the permissions before, so a watcher that could read either way is told. */
  readonly oldPerms?: readonly Perm[];
}

export interface OpEnv {
  readonly who: Who;
  readonly quota: Readonly<XsQuota>;
}

const EMPTY = new Uint8Array(0);

/** The error for a missing node: ENOENT if the nearest existing ancestor grants `perm`, else EACCES. */
function missingError(view: NodeView, who: Who, path: string, perm: number): XsError {
  for (let p = parentOf(path); p !== null; p = parentOf(p)) {
    const n = view.get(p);
    if (n) return new XsError(accessFor(n.perms, who) & perm ? 'ENOENT' : 'EACCES');
  }
  return new XsError('ENOENT');
}

/** The node at `path` if `who` has `perm` on it; throws ENOENT/EACCES otherwise. */
export function lookup(view: NodeView, who: Who, path: string, perm: number): XsNode {
  const n = view.get(path);
  if (!n) throw missingError(view, who, path, perm);
  if (!(accessFor(n.perms, who) & perm)) throw new XsError('EACCES');
  return n;
}

function checkValueSize(env: OpEnv, value: Uint8Array): void {
  if (!env.who.privileged && env.quota.nodeSize > 0 && value.length > env.quota.nodeSize) throw new XsError('ENOSPC');
}

function inherit(parent: readonly Perm[], who: Who): readonly Perm[] {
  if (who.privileged) return parent;
  const p = parent.slice();
  p[0] = { dom: who.domid, access: parent[0].access };
  return p;
}

/** Creates `path` and any missing ancestors; `path` must not exist. */
function create(view: NodeView, env: OpEnv, path: string, value: Uint8Array): Change {
  const { who, quota } = env;
  const missing: string[] = [path];
  let top = parentOf(path)!;
  let anc = view.get(top);
  while (!anc) {
    missing.push(top);
    top = parentOf(top)!;
    anc = view.get(top);
  }
  missing.reverse();
  if (!(accessFor(anc.perms, who) & PERM_WRITE)) throw new XsError('EACCES');
  if (!who.privileged && quota.nodes > 0 && view.ownedCount(who.domid) + missing.length > quota.nodes) {
    throw new XsError('ENOSPC');
  }
  view.put(top, { value: anc.value, perms: anc.perms, children: [...anc.children, baseName(missing[0])] });
  let perms = anc.perms;
  for (let i = 0; i < missing.length; i++) {
    perms = inherit(perms, who);
    const last = i === missing.length - 1;
    view.put(missing[i], { value: last ? value : EMPTY, perms, children: last ? [] : [baseName(missing[i + 1])] });
  }
  return { path, removed: false, perms };
}

export function opRead(view: NodeView, env: OpEnv, path: string): Uint8Array {
  return lookup(view, env.who, path, PERM_READ).value;
}

export function opDirectory(view: NodeView, env: OpEnv, path: string): readonly string[] {
  return lookup(view, env.who, path, PERM_READ).children;
}

export function opGetPerms(view: NodeView, env: OpEnv, path: string): readonly Perm[] {
  return lookup(view, env.who, path, PERM_READ).perms;
}

export function opWrite(view: NodeView, env: OpEnv, path: string, value: Uint8Array): Change {
  checkValueSize(env, value);
  const n = view.get(path);
  if (!n) return create(view, env, path, value);
  if (!(accessFor(n.perms, env.who) & PERM_WRITE)) throw new XsError('EACCES');
  view.put(path, { value, perms: n.perms, children: n.children });
  return { path, removed: false, perms: n.perms };
}

export function opMkdir(view: NodeView, env: OpEnv, path: string): Change | null {
  const n = view.get(path);
  if (!n) return create(view, env, path, EMPTY);
  if (!(accessFor(n.perms, env.who) & PERM_WRITE)) throw new XsError('EACCES');
  return null;
}

export function opRm(view: NodeView, env: OpEnv, path: string): Change | null {
  if (path === '/') throw new XsError('EINVAL');
  const n = view.get(path);
  if (!n) {
    // Removing what is already gone is fine, as long as the parent exists.
    const err = missingError(view, env.who, path, PERM_WRITE);
    if (err.code === 'ENOENT' && view.get(parentOf(path)!)) return null;
    throw err;
  }
  if (!(accessFor(n.perms, env.who) & PERM_WRITE)) throw new XsError('EACCES');
  const stack = [path];
  while (stack.length) {
    const p = stack.pop()!;
    const node = view.get(p);
    if (!node) continue;
    for (const c of node.children) stack.push(childPath(p, c));
    view.remove(p);
  }
  const parentPath = parentOf(path)!;
  const parent = view.get(parentPath)!;
  const name = baseName(path);
  view.put(parentPath, { value: parent.value, perms: parent.perms, children: parent.children.filter((c) => c !== name) });
  return { path, removed: true, perms: n.perms };
}

/** May `who` change the permissions of a node with `perms` (owner, its device model, or dom0)? */
export function mayChangePerms(perms: readonly Perm[], who: Who): boolean {
  const owner = ownerOf(perms);
  return who.privileged || who.domid === owner || (who.target !== undefined && who.target === owner);
}

/** Checks a new permission list against the quota and owner rules; used for nodes and special names. */
export function checkNewPerms(env: OpEnv, old: readonly Perm[], perms: readonly Perm[]): void {
  if (perms.length === 0) throw new XsError('EINVAL');
  if (!env.who.privileged && env.quota.perms > 0 && perms.length > env.quota.perms) throw new XsError('ENOSPC');
  if (!mayChangePerms(old, env.who)) throw new XsError('EACCES');
  if (!env.who.privileged && ownerOf(perms) !== ownerOf(old)) throw new XsError('EPERM');
}

export function opSetPerms(view: NodeView, env: OpEnv, path: string, perms: readonly Perm[]): Change {
  const n = lookup(view, env.who, path, PERM_WRITE);
  checkNewPerms(env, n.perms, perms);
  view.put(path, { value: n.value, perms, children: n.children });
  return { path, removed: false, perms, oldPerms: n.perms };
}
