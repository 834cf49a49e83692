/**
 * The decoded-block cache. A block is a straight run of decoded instructions starting at one
 * physical address and ending at a branch, a mode-changing instruction, a page boundary or a size
 * cap. Blocks are keyed by physical address and checked against the EIP and code size they were
 * decoded for. Writes to a physical page holding blocks (tracked in Cpu.codePage) drop the blocks
 * that overlap the written bytes; that is how self-modifying code stays correct.
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
  /** Physical address just past the last byte. */
  physEnd: number;
  endEip: number;
  /** True if execution continues at endEip after the last instruction (it is not a branch). */
  fallthrough: boolean;
  /** Decode mode: 1 when CS has a 32-bit default operand size. */
  mode: number;
  /** False once invalidated by a write; a stale reference must not run again. */
  valid: boolean;
  /** Whether the block is in the cache (instructions straddling pages are decoded each time). */
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
    if (b === undefined || b.eip0 !== eip || b.mode !== mode) {
      b = decodeBlock(c, eip, lin, phys, mode);
      this.decoded++;
      if (b.cached) this.insert(b);
    }
    if (prev !== null && b.cached) {
      prev.succB = prev.succA;
      prev.succA = b;
    }
    return b;
  }

  private insert(b: Block): void {
    const old = this.map.get(b.phys);
    if (old !== undefined) this.remove(old);
    this.map.set(b.phys, b);
    const page = b.phys >>> 12;
    let list = this.byPage.get(page);
    if (list === undefined) {
      list = [];
      this.byPage.set(page, list);
    }
    list.push(b);
    this.c.codePage[page] = 1;
  }

  private remove(b: Block): void {
    b.valid = false;
    if (this.map.get(b.phys) === b) this.map.delete(b.phys);
    const page = b.phys >>> 12;
    const list = this.byPage.get(page);
    if (list === undefined) return;
    const i = list.indexOf(b);
    if (i >= 0) list.splice(i, 1);
    if (list.length === 0) {
      this.byPage.delete(page);
      this.c.codePage[page] = 0;
    }
  }

  /** A write of `size` bytes at physical `p` hit a code page: drop the overlapping blocks. */
  invalidateWrite(p: number, size: number): void {
    const page = p >>> 12;
    const list = this.byPage.get(page);
    if (list === undefined) {
      this.c.codePage[page] = 0;
      return;
    }
    const end = p + size;
    let hit = false;
    for (let i = list.length - 1; i >= 0; i--) {
      const b = list[i];
      if (b.phys < end && p < b.physEnd) {
        b.valid = false;
        if (this.map.get(b.phys) === b) this.map.delete(b.phys);
        list.splice(i, 1);
        hit = true;
      }
    }
    if (list.length === 0) {
      this.byPage.delete(page);
      this.c.codePage[page] = 0;
    }
    // Known gap: if the running block itself was overwritten, its remaining decoded instructions
    // still run once (hardware would see new bytes after a jump). Linux patches code through
    // other mappings followed by a serialising jump, which this handles.
    void hit;
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
