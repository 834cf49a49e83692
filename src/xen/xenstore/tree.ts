/**
 * The store's nodes, as a flat map from absolute path to an immutable node version.
 *
 * A node is never changed in place: every change stores a new version with a fresh generation
 * number from one store-wide counter. A generation therefore names one version of one node, which
 * is what transactions check at commit (see transaction.ts), and what DIRECTORY_PART reports.
 * Children lists belong to the parent's version, so adding or removing a child is a change of the
 * parent too.
 */
import { type Perm, DOM0_ONLY, ownerOf } from './perms.js';

export interface XsNode {
  readonly value: Uint8Array;
  readonly perms: readonly Perm[];
  /** Leaf names, in creation order (the order DIRECTORY reports). */
  readonly children: readonly string[];
  readonly gen: number;
}

export type NodeContent = Omit<XsNode, 'gen'>;

/** What the node operations work on: the live tree, or a transaction's private view of it. */
export interface NodeView {
  get(path: string): XsNode | undefined;
  /** Stores a new version of a node; the view assigns its generation. */
  put(path: string, node: NodeContent): void;
  /** Removes one node (not its children: callers remove the subtree node by node). */
  remove(path: string): void;
  /** How many nodes `dom` owns as this view sees them (the per-domain node quota). */
  ownedCount(dom: number): number;
}

export class NodeTree implements NodeView {
  private readonly nodes = new Map<string, XsNode>();
  private readonly owned = new Map<number, number>();
  private gen = 0;

  constructor() {
    this.reset();
  }

  /** An empty store: just "/", owned by dom0. */
  reset(): void {
    this.nodes.clear();
    this.owned.clear();
    this.gen = 0;
    this.put('/', { value: new Uint8Array(0), perms: DOM0_ONLY, children: [] });
  }

  nextGen(): number {
    return ++this.gen;
  }

  get currentGen(): number {
    return this.gen;
  }

  get size(): number {
    return this.nodes.size;
  }

  get(path: string): XsNode | undefined {
    return this.nodes.get(path);
  }

  put(path: string, node: NodeContent): void {
    this.putWithGen(path, node, this.nextGen());
  }

  remove(path: string): void {
    const old = this.nodes.get(path);
    if (!old) return;
    this.nodes.delete(path);
    this.count(ownerOf(old.perms), -1);
  }

  ownedCount(dom: number): number {
    return this.owned.get(dom) ?? 0;
  }

  /** Every node, parents before children (the order saved state lists them in). */
  *walk(): Generator<[string, XsNode]> {
    // Iterative: a hostile guest can build a chain ~1500 levels deep.
    const stack = ['/'];
    while (stack.length) {
      const path = stack.pop()!;
      const n = this.nodes.get(path);
      if (!n) continue;
      yield [path, n];
      for (let i = n.children.length - 1; i >= 0; i--) stack.push(path === '/' ? '/' + n.children[i] : path + '/' + n.children[i]);
    }
  }

  /** Restore: installs a node version with its saved generation. */
  putWithGen(path: string, node: NodeContent, gen: number): void {
    const old = this.nodes.get(path);
    if (old) this.count(ownerOf(old.perms), -1);
    this.nodes.set(path, { value: node.value, perms: node.perms, children: node.children, gen });
    this.count(ownerOf(node.perms), 1);
  }

  /** Restore: continues the generation counter where the saved store left it. */
  setGen(gen: number): void {
    this.gen = gen;
  }

  /** Restore: drops every node including the root (the caller reinstalls them). */
  clearAll(): void {
    this.nodes.clear();
    this.owned.clear();
  }

  private count(dom: number, d: number): void {
    const n = (this.owned.get(dom) ?? 0) + d;
    if (n === 0) this.owned.delete(dom);
    else this.owned.set(dom, n);
  }
}
