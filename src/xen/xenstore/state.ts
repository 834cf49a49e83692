/**
 * Saved-state shapes and converters for the XenStore engine (plain, JSON-compatible values; see
 * src/base/snapshot.ts). Values are base64, permissions their wire strings ("r5").
 */
import { base64ToBytes, bytesToBase64 } from '../../base/snapshot.js';
import { type NodeTree, type XsNode } from './tree.js';
import { type Perm, formatPerm, parsePerm } from './perms.js';
import { type Change, type XsQuota } from './ops.js';
import { Transaction } from './transaction.js';
import { type Watch } from './watches.js';

export const XENSTORE_STATE_VERSION = 1;

export interface SavedNode {
  path: string;
  value: string;
  perms: string[];
  children: string[];
  gen: number;
}

export interface SavedChange {
  path: string;
  removed: boolean;
  perms: string[];
  oldPerms?: string[];
}

export interface SavedTransaction {
  id: number;
  /** This transaction's versions; node null = removed in it. */
  overlay: { path: string; node: SavedNode | null }[];
  observed: [string, number][];
  changes: SavedChange[];
  ownedDelta: [number, number][];
}

export interface SavedConnection {
  key: string;
  domid: number;
  watches: Watch[];
  transactions: SavedTransaction[];
}

export interface XenStoreState {
  version: number;
  gen: number;
  nextTxId: number;
  quota: XsQuota;
  /** Parents before children. */
  nodes: SavedNode[];
  special: { name: string; perms: string[] }[];
  domains: { domid: number; shutdownReported: boolean }[];
  targets: [number, number][];
  connections: SavedConnection[];
}

export function savePerms(p: readonly Perm[]): string[] {
  return p.map(formatPerm);
}

/** Parses saved permissions; throws a plain Error (a corrupt snapshot is a host problem). */
export function loadPerms(s: readonly string[]): Perm[] {
  if (!Array.isArray(s) || s.length === 0) throw new Error('xenstore state: node without permissions');
  try {
    return s.map(parsePerm);
  } catch {
    throw new Error(`xenstore state: bad permissions ${JSON.stringify(s)}`);
  }
}

export function saveNode(path: string, n: XsNode): SavedNode {
  return { path, value: bytesToBase64(n.value), perms: savePerms(n.perms), children: n.children.slice(), gen: n.gen };
}

export function loadNode(s: SavedNode): XsNode {
  return { value: base64ToBytes(s.value), perms: loadPerms(s.perms), children: s.children.slice(), gen: s.gen };
}

function saveChange(c: Change): SavedChange {
  const out: SavedChange = { path: c.path, removed: c.removed, perms: savePerms(c.perms) };
  if (c.oldPerms) out.oldPerms = savePerms(c.oldPerms);
  return out;
}

function loadChange(s: SavedChange): Change {
  return s.oldPerms
    ? { path: s.path, removed: s.removed, perms: loadPerms(s.perms), oldPerms: loadPerms(s.oldPerms) }
    : { path: s.path, removed: s.removed, perms: loadPerms(s.perms) };
}

export function saveTransaction(t: Transaction): SavedTransaction {
  return {
    id: t.id,
    overlay: [...t.overlay].map(([path, n]) => ({ path, node: n ? saveNode(path, n) : null })),
    observed: [...t.observed],
    changes: t.changes.map(saveChange),
    ownedDelta: [...t.ownedDelta],
  };
}

export function loadTransaction(s: SavedTransaction, base: NodeTree): Transaction {
  const t = new Transaction(s.id, base);
  for (const o of s.overlay) t.overlay.set(o.path, o.node ? loadNode(o.node) : null);
  for (const [p, g] of s.observed) t.observed.set(p, g);
  for (const c of s.changes) t.changes.push(loadChange(c));
  for (const [d, n] of s.ownedDelta) t.ownedDelta.set(d, n);
  return t;
}
