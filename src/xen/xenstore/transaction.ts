/**
 * A transaction: a private view of the store that commits atomically or fails with EAGAIN.
 *
 * Conflict detection is per node, optimistic: the transaction does not copy the store at start.
 * It reads through to the live tree and remembers the generation of every live node version it
 * looks at (0 for "absent"), including nodes it only writes or removes. Its own changes go to an
 * overlay. At commit, if every remembered path still has the same generation (or is still absent),
 * then everything the transaction saw is exactly the live state, so applying the overlay now is
 * equivalent to running the whole transaction atomically at this instant: commit. Otherwise EAGAIN.
 *
 * Because a children list is part of its parent's version, DIRECTORY of a node conflicts with a
 * later child creation or removal, and a removal in the transaction (which visits the whole
 * subtree) conflicts with anything created under it meanwhile. Changes by others to nodes the
 * transaction never looked at do not conflict. Generations are unique per version (see tree.ts),
 * so a node removed and recreated meanwhile is a conflict too.
 *
 * Watches fire only at commit, from the changes recorded during the transaction.
 */
import { type NodeContent, type NodeView, type NodeTree, type XsNode } from './tree.js';
import { type Change } from './ops.js';
import { ownerOf } from './perms.js';

export class Transaction implements NodeView {
  /** Path -> this transaction's version (null = removed here). */
  readonly overlay = new Map<string, XsNode | null>();
  /** Path -> generation of the live version seen (0 = seen absent). */
  readonly observed = new Map<string, number>();
  /** Changes to report to watches at commit, in order. */
  readonly changes: Change[] = [];
  /** Owner -> nodes gained (or lost) in this view, for the node quota. */
  readonly ownedDelta = new Map<number, number>();

  constructor(
    readonly id: number,
    private readonly base: NodeTree,
  ) {}

  get(path: string): XsNode | undefined {
    const mine = this.overlay.get(path);
    if (mine !== undefined) return mine ?? undefined;
    const n = this.base.get(path);
    if (!this.observed.has(path)) this.observed.set(path, n ? n.gen : 0);
    return n;
  }

  put(path: string, node: NodeContent): void {
    const old = this.get(path);
    if (old) this.delta(ownerOf(old.perms), -1);
    this.delta(ownerOf(node.perms), 1);
    // Fresh generations from the store-wide counter keep DIRECTORY_PART's gencnt meaningful here.
    this.overlay.set(path, { value: node.value, perms: node.perms, children: node.children, gen: this.base.nextGen() });
  }

  remove(path: string): void {
    const old = this.get(path);
    if (!old) return;
    this.delta(ownerOf(old.perms), -1);
    this.overlay.set(path, null);
  }

  ownedCount(dom: number): number {
    return this.base.ownedCount(dom) + (this.ownedDelta.get(dom) ?? 0);
  }

  /** True if nothing this transaction looked at has changed in the live tree since. */
  stillValid(): boolean {
    for (const [path, gen] of this.observed) {
      if ((this.base.get(path)?.gen ?? 0) !== gen) return false;
    }
    return true;
  }

  /** Writes the overlay into the live tree (after `stillValid()`); each node gets a new generation. */
  apply(): void {
    for (const [path, node] of this.overlay) {
      if (node) this.base.put(path, node);
      else this.base.remove(path);
    }
  }

  private delta(dom: number, d: number): void {
    const n = (this.ownedDelta.get(dom) ?? 0) + d;
    if (n === 0) this.ownedDelta.delete(dom);
    else this.ownedDelta.set(dom, n);
  }
}
