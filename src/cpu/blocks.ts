/**
 * The decoded-block cache. A block is a straight run of decoded instructions starting at one
 * physical address and ending at a branch, a mode-changing instruction, a page boundary or a size
 * cap. Blocks are keyed by physical address and checked against the EIP and code size they were
 * decoded for. Writes to a physical page holding blocks (tracked in Cpu.codePage) drop the blocks
 * that overlap the written bytes; that is how self-modifying code stays correct.
 *
 * An instruction may straddle a page boundary; the decoder then ends the block with it (only a
 * block's first instruction may cross). Such a block is registered under both physical pages, so
 * a write to either invalidates it, and each lookup checks that the second linear page still maps
 * to the physical page it was decoded from.
 *
 * This is the unit a JIT will later replace: a block with a compiled body runs that instead.
 */
import type { Cpu } from './cpu.js';
import { TLB_NX, TLB_VALID } from './cpu.js';
import type { Insn } from './insn.js';
import { CS } from './arch.js';
import { translate } from './mmu.js';
import { decodeBlock } from './decoder.js';
import type { CompiledBlock } from './block-compiler.js';

export interface Block {
  insns: Insn[];
  eip0: number;
  phys: number;
  /** Physical address just past the last byte (on the first page). */
  physEnd: number;
  /**
   * When the block's instruction continues on the next linear page: the physical address where
   * those bytes start (a page base) and just past them; -1 otherwise.
   */
  phys2: number;
  phys2End: number;
  endEip: number;
  /** True if execution continues at endEip after the last instruction (it is not a branch). */
  fallthrough: boolean;
  /** Decode mode: 1 when CS has a 32-bit default operand size. */
  mode: number;
  /** False once invalidated by a write; a stale reference must not run again. */
  valid: boolean;
  /** Whether the block is in the cache (false only for tests' throwaway decodes). */
  cached: boolean;
  /**
   * The blocks that last followed this one (two slots: taken and not-taken branch). Following a
   * link skips the hash lookup; a link is used only if the successor is still valid and starts at
   * the same EIP and physical address, so it can never run stale code.
   */
  succA: Block | null;
  succB: Block | null;
  /** Times interpreted; at COMPILE_THRESHOLD the block gets a compiled body. */
  runs: number;
  compiled: CompiledBlock | null;
}

export class BlockCache {
  private readonly map = new Map<number, Block>();
  private readonly byPage = new Map<number, Block[]>();
  /** Blocks decoded, for statistics. */
  decoded = 0;

  constructor(private readonly c: Cpu) {}

  /** Finds or decodes the block at CS:EIP. `prev` is the block that just ran, if any. */
  lookup(prev: Block | null): Block {
    const c = this.c;
    const eip = c.eip;
    const lin = (c.segBase[CS] + eip) | 0;
    const e = c.tlbR[lin >>> 12];
    const phys = (e & (TLB_VALID | TLB_NX)) === TLB_VALID ? (e & -4096) | (lin & 0xfff) : translate(c, lin, 2, c.cpl === 3);
    const mode = c.cs32 ? 1 : 0;
    if (prev !== null) {
      const a = prev.succA;
      if (a !== null && a.phys === phys && a.eip0 === eip && a.valid && a.mode === mode) return a;
      const b = prev.succB;
      if (b !== null && b.phys === phys && b.eip0 === eip && b.valid && b.mode === mode) {
        prev.succB = a;
        prev.succA = b;
        return b;
      }
    }
    let b = this.map.get(phys);
    if (b === undefined || b.eip0 !== eip || b.mode !== mode || (b.phys2 >= 0 && !this.secondPageSame(b, lin))) {
      b = decodeBlock(c, eip, lin, phys, mode);
      this.decoded++;
      if (b.cached) this.insert(b);
    }
    // A page-straddling block is never linked: following a link would skip the check that its
    // second page still maps where it did.
    if (prev !== null && b.cached && b.phys2 < 0) {
      prev.succB = prev.succA;
      prev.succA = b;
    }
    return b;
  }

  /** Whether the linear page after `lin`'s still maps to the physical page `b` was decoded from. */
  private secondPageSame(b: Block, lin: number): boolean {
    const c = this.c;
    const lin2 = ((lin & -4096) + 0x1000) | 0;
    const e = c.tlbR[lin2 >>> 12];
    const p2 = (e & (TLB_VALID | TLB_NX)) === TLB_VALID ? e & -4096 : translate(c, lin2, 2, c.cpl === 3) & -4096;
    return p2 === b.phys2;
  }

  private insert(b: Block): void {
    const old = this.map.get(b.phys);
    if (old !== undefined) this.remove(old);
    this.map.set(b.phys, b);
    this.register(b.phys >>> 12, b);
    if (b.phys2 >= 0) this.register(b.phys2 >>> 12, b);
  }

  private register(page: number, b: Block): void {
    let list = this.byPage.get(page);
    if (list === undefined) {
      list = [];
      this.byPage.set(page, list);
    }
    list.push(b);
    this.c.codePage[page] = 1;
  }

  private unregister(page: number, b: Block): void {
    const list = this.byPage.get(page);
    if (list === undefined) return;
    const i = list.indexOf(b);
    if (i >= 0) list.splice(i, 1);
    if (list.length === 0) {
      this.byPage.delete(page);
      this.c.codePage[page] = 0;
    }
  }

  private remove(b: Block): void {
    b.valid = false;
    if (this.map.get(b.phys) === b) this.map.delete(b.phys);
    this.unregister(b.phys >>> 12, b);
    if (b.phys2 >= 0) this.unregister(b.phys2 >>> 12, b);
  }

  /** A write of `size` bytes at physical `p` (within one page) hit a code page: drop the overlapping blocks. */
  invalidateWrite(p: number, size: number): void {
    const page = p >>> 12;
    const list = this.byPage.get(page);
    if (list === undefined) {
      this.c.codePage[page] = 0;
      return;
    }
    const end = p + size;
    for (let i = list.length - 1; i >= 0; i--) {
      const b = list[i];
      // (An invalid entry is the second listing of a block whose two pages are one frame.)
      if (!b.valid || (b.phys < end && p < b.physEnd) || (b.phys2 >= 0 && b.phys2 < end && p < b.phys2End)) {
        b.valid = false;
        if (this.map.get(b.phys) === b) this.map.delete(b.phys);
        list.splice(i, 1);
        // A straddling block is also listed under its other page.
        if (b.phys2 >= 0) {
          const other = (b.phys >>> 12 === page ? b.phys2 : b.phys) >>> 12;
          if (other !== page) this.unregister(other, b);
        }
      }
    }
    if (list.length === 0) {
      this.byPage.delete(page);
      this.c.codePage[page] = 0;
    }
    // Known gap: if the running block itself was overwritten, its remaining decoded instructions
    // still run once (hardware would see new bytes after a jump). Linux patches code through
    // other mappings followed by a serialising jump, which this handles.
  }

  clear(): void {
    for (const b of this.map.values()) b.valid = false;
    this.map.clear();
    for (const page of this.byPage.keys()) this.c.codePage[page] = 0;
    this.byPage.clear();
  }

  get size(): number {
    return this.map.size;
  }
}
