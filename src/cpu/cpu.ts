/**
 * The IA-32 processor (P6 class, with PAE and NX): register file, memory access through
 * segmentation and a software TLB, and the run loop over decoded blocks.
 *
 * The CPU knows nothing of devices or Xen. It reaches the machine through `PhysicalMemory` and the
 * small `CpuBus` interface, and returns from `run()` with an `Exit` saying why.
 *
 * Hot-path layout: general registers live in an Int32Array indexed by ModRM register number;
 * segment caches are typed arrays indexed by segment number; memory access is a TLB array read
 * plus a RAM array read. Faults are raised by throwing one preallocated sentinel, which costs
 * nothing on the path that does not throw.
 */
import type { PhysicalMemory } from '../memory/physical.js';
import {
  ARITH_FLAGS, CR0_PE, CR0_PG, CS, Exit, FLAG_1, FLAG_IF, FLAG_VM, SS, VEC_GP, VEC_SS,
} from './arch.js';
import { getCF, materialize, LazyOp } from './flags.js';
import { Insn } from './insn.js';
import { BlockCache, type Block } from './blocks.js';
import { compileBlock, COMPILE_THRESHOLD } from './block-compiler.js';
import { translate, type Access } from './mmu.js';
import { deliverPendingEvent, deliverException } from './interrupts.js';
import { segmentCheckSlow } from './segments.js';
import { Fpu } from './fpu/fpu.js';
import { MsrFile } from './msr.js';
import type { CpuidConfig } from './cpuid.js';
import './ops/index.js';

export interface CpuBus {
  ioRead(port: number, size: 1 | 2 | 4): number;
  ioWrite(port: number, size: 1 | 2 | 4, value: number): void;
  /** Interrupt acknowledge: the vector of the highest-priority pending interrupt, or -1. */
  acknowledgeInterrupt(): number;
}

/** Thrown (one shared instance) when an instruction faults; details are in the Cpu's exc* fields. */
export class CpuFault {
  readonly isCpuFault = true;
}
export const FAULT = new CpuFault();

const TLB_ENTRIES = 1 << 20;
const TLB_LIST_MAX = 1 << 16;
/** TLB entry bits below the page frame. */
export const TLB_VALID = 1, TLB_NX = 2, TLB_GLOBAL = 4;

export class Cpu {
  // ---- general state -------------------------------------------------------------------------
  /**
   * General registers by ModRM number (EAX..EDI); 16 slots so x86-64's R8-R15 fit later, and a
   * 17th (ZERO_REG) that is always 0, standing for an absent base or index in address formulas.
   */
  readonly regs = new Int32Array(17);
  eip = 0;
  /** EFLAGS, except that the bits in `lazy` are stale and must be computed from l*. */
  flags = FLAG_1;
  lazy = 0;
  lop: LazyOp = LazyOp.Logic;
  lbits = 32;
  lmask = -1;
  la = 0;
  lb = 0;
  lr = 0;

  // ---- segments: ES CS SS DS FS GS LDTR TR -----------------------------------------------------
  readonly segSel = new Int32Array(8);
  readonly segBase = new Int32Array(8);
  /** Byte-granular limit (0..0xFFFFFFFF), kept as a double so it compares unsigned. */
  readonly segLimit = new Float64Array(8);
  /** Descriptor bits 40..55 (type, S, DPL, P, AVL, L, D/B, G) as a 16-bit value; bit 7 = present. */
  readonly segAttr = new Int32Array(8);
  /**
   * The largest offset at which a read (R) or write (W) can start for the fast path, minus nothing:
   * an access [off, off+size-1] is allowed on the fast path if off+size-1 <= lim. -1 sends every
   * access to the slow path (null selector, non-readable/writable, expand-down).
   */
  readonly segRLim = new Float64Array(6);
  readonly segWLim = new Float64Array(6);
  /** CS.D / SS.B: default operand size and stack width in protected mode. */
  cs32 = false;
  ss32 = false;
  cpl = 0;

  gdtBase = 0;
  gdtLimit = 0xffff;
  idtBase = 0;
  idtLimit = 0x3ff;

  // ---- control ---------------------------------------------------------------------------------
  cr0 = 0x60000010;
  cr2 = 0;
  cr3 = 0;
  cr4 = 0;
  efer = 0;
  readonly dr = new Int32Array(8);
  readonly msr: MsrFile;
  readonly fpu = new Fpu();
  /** Physical address mask: bit 20 cleared while the A20 gate is closed. */
  a20Mask = -1;

  // ---- events ----------------------------------------------------------------------------------
  /** The platform's INTR line (PIC or LAPIC output). */
  intrLine = false;
  nmiPending = false;
  /** Blocks NMIs from NMI delivery until the next IRET. */
  nmiBlocked = false;
  halted = false;
  /** Interrupt shadow after STI / MOV SS / POP SS: no interrupt before the next instruction. */
  inhibitIrq = false;
  /** When true, exceptions end run() with Exit.Exception instead of being delivered (tests). */
  interceptExceptions = false;
  excVector = 0;
  excCode = 0;
  excHasCode = false;
  /** Nesting guard for double/triple fault detection during delivery. */
  deliveringVector = -1;
  /** Instructions retired since reset. */
  icount = 0;
  exitReason: Exit = Exit.Budget;
  /**
   * Set by a block-ending handler that has set EIP itself (far transfer, INT, mode change), so the
   * run loop must not apply the block's fall-through EIP. Only a block's last instruction sets it.
   */
  stopBlock = false;
  /**
   * A REPE/REPNE CMPS/SCAS returned to the run loop part-way (string.ts REP_CHUNK): its EIP (the
   * resumed instruction may come from another block) and its EFLAGS from before its first
   * iteration, which a later fault restores.
   */
  repResume = false;
  repEip = 0;
  repFlags = 0;
  /** Index of the executing instruction within a compiled block (for fault rewind). */
  blockIndex = 0;
  /** Whether hot blocks get compiled bodies (block-compiler.ts); the interpreter is the fallback. */
  compileBlocks = true;
  /** Set to ask run() to return at the next block boundary. */
  stopRequested = false;
  /** Whether VMCALL/VMMCALL exit to the hypervisor (Xen guests) or raise #UD (bare metal). */
  vmcallEnabled = false;
  /** Extra CPUID leaves supplied by the machine (e.g. Xen's at 0x40000000). */
  cpuidHook: ((leaf: number, sub: number) => [number, number, number, number] | null) | null = null;
  cpuidConfig: CpuidConfig = { apic: false, fxsr: true };
  apicId = 0;
  /** Called on reset requests (triple fault, reset pin); the machine decides what that means. */
  onShutdown: (reason: string) => void = () => {};

  // ---- memory and TLB --------------------------------------------------------------------------
  readonly mem: PhysicalMemory;
  readonly ram8: Uint8Array;
  readonly ram32: Int32Array;
  readonly bus: CpuBus;
  private readonly tlbRS = new Int32Array(TLB_ENTRIES);
  private readonly tlbWS = new Int32Array(TLB_ENTRIES);
  private readonly tlbRU = new Int32Array(TLB_ENTRIES);
  private readonly tlbWU = new Int32Array(TLB_ENTRIES);
  /** The TLB pair for the current privilege (user pages need U/S permission). */
  tlbR: Int32Array;
  tlbW: Int32Array;
  private readonly tlbList = new Int32Array(TLB_LIST_MAX);
  private tlbCount = 0;
  private tlbOverflow = false;
  /**
   * 4 MiB linear regions holding entries filled from a large (4 MiB or 2 MiB) page. The TLB keeps
   * 4 KiB entries only, so INVLPG of any address in such a region drops the whole region, as the
   * architecture requires for a large page.
   */
  private readonly largeRegion = new Uint8Array(1024);
  /** Physical pages holding decoded code: writes there must invalidate blocks. */
  readonly codePage = new Uint8Array(TLB_ENTRIES);
  readonly blocks: BlockCache;

  constructor(mem: PhysicalMemory, bus: CpuBus) {
    this.mem = mem;
    this.ram8 = mem.u8;
    this.ram32 = mem.i32;
    this.bus = bus;
    this.tlbR = this.tlbRS;
    this.tlbW = this.tlbWS;
    this.msr = new MsrFile(this);
    this.blocks = new BlockCache(this);
    this.reset();
  }

  /** Power-on / RESET state (SDM vol. 3, table 9-1): real mode at F000:FFF0. */
  reset(): void {
    this.regs.fill(0);
    this.regs[2] = 0x00000633; // EDX: family 6, model 3, stepping 3 signature
    this.flags = FLAG_1;
    this.lazy = 0;
    this.cr0 = 0x60000010;
    this.cr2 = this.cr3 = this.cr4 = this.efer = 0;
    this.dr.fill(0);
    this.dr[6] = 0xffff0ff0 | 0;
    this.dr[7] = 0x400;
    // Reset descriptor caches: base = selector * 16, 64 KiB limits, present read/write.
    this.segAttr.fill(0);
    for (let s = 0; s < 6; s++) {
      this.segLimit[s] = 0xffff;
      this.loadRealSeg(s, 0);
    }
    this.segSel[CS] = 0xf000;
    this.segBase[CS] = 0xffff0000 | 0;
    this.segAttr[6] = this.segAttr[7] = 0;
    this.segAttr[6] = 0x82;
    this.segAttr[7] = 0x8b;
    this.segLimit[6] = this.segLimit[7] = 0xffff;
    this.segBase[6] = this.segBase[7] = 0;
    this.segSel[6] = this.segSel[7] = 0;
    this.eip = 0xfff0;
    this.gdtBase = this.idtBase = 0;
    this.gdtLimit = this.idtLimit = 0xffff;
    this.cs32 = this.ss32 = false;
    this.setCpl(0);
    this.intrLine = false;
    this.nmiPending = this.nmiBlocked = this.halted = this.inhibitIrq = false;
    this.deliveringVector = -1;
    this.a20Mask = -1;
    this.fpu.reset();
    this.msr.reset();
    this.flushTlb(true);
    this.blocks.clear();
  }

  // ---- modes -----------------------------------------------------------------------------------
  get protectedMode(): boolean {
    return (this.cr0 & CR0_PE) !== 0;
  }
  get v86(): boolean {
    return (this.flags & FLAG_VM) !== 0;
  }
  get paging(): boolean {
    return (this.cr0 & CR0_PG) !== 0;
  }

  setCpl(cpl: number): void {
    this.cpl = cpl;
    if (cpl === 3) {
      this.tlbR = this.tlbRU;
      this.tlbW = this.tlbWU;
    } else {
      this.tlbR = this.tlbRS;
      this.tlbW = this.tlbWS;
    }
  }

  /** Loads a segment register the real-mode / v86 way: base = selector * 16. */
  loadRealSeg(seg: number, sel: number): void {
    sel &= 0xffff;
    this.segSel[seg] = sel;
    this.segBase[seg] = sel << 4;
    if (this.v86 || !this.protectedMode) {
      // Real mode keeps the cached limit and attributes (that is what makes "unreal mode" work),
      // except in v86 mode, where they are fixed.
      if (this.v86) {
        this.segLimit[seg] = 0xffff;
        this.segAttr[seg] = seg === CS ? 0xfb : 0xf3;
      } else if (this.segAttr[seg] === 0) {
        this.segLimit[seg] = 0xffff;
        this.segAttr[seg] = seg === CS ? 0x9b : 0x93;
      }
    }
    if (seg < 6) this.updateSegFast(seg);
    if (seg === CS) this.cs32 = !this.v86 && this.protectedMode && (this.segAttr[CS] & 0x4000) !== 0;
    if (seg === SS) this.ss32 = !this.v86 && this.protectedMode && (this.segAttr[SS] & 0x4000) !== 0;
  }

  /** Recomputes the fast-path limits of a data/code segment from its cached descriptor. */
  updateSegFast(seg: number): void {
    const attr = this.segAttr[seg];
    const lim = this.segLimit[seg];
    let r = lim, w = lim;
    const present = (attr & 0x80) !== 0;
    const isCode = (attr & 0x08) !== 0;
    if (!this.protectedMode || this.v86) {
      // Real and v86 mode: only the limit matters (type checks don't apply).
      r = w = lim;
    } else if (!present || (attr & 0x10) === 0) {
      r = w = -1;
    } else if (isCode) {
      r = attr & 0x02 ? lim : -1;
      w = -1;
    } else if (attr & 0x04) {
      r = w = -1; // expand-down: slow path
    } else {
      w = attr & 0x02 ? lim : -1;
    }
    this.segRLim[seg] = r;
    this.segWLim[seg] = w;
  }

  // ---- EFLAGS ----------------------------------------------------------------------------------
  getFlags(): number {
    if (this.lazy) materialize(this);
    return this.flags;
  }

  /** Writes EFLAGS bits in `mask` (the caller decides what the current mode lets it change). */
  setFlagsMasked(value: number, mask: number): void {
    if (this.lazy) materialize(this);
    this.flags = ((this.flags & ~mask) | (value & mask) | FLAG_1) & 0x3f7fd7 | FLAG_1;
  }

  // ---- faults ----------------------------------------------------------------------------------
  /** Raises exception `vector` (with an error code when `code` is given) and aborts the instruction. */
  fault(vector: number, code?: number): never {
    this.excVector = vector;
    this.excHasCode = code !== undefined;
    this.excCode = code ?? 0;
    throw FAULT;
  }

  /** #GP(0) or #SS(0) depending on the segment, as limit violations require. */
  segLimitFault(seg: number): never {
    return this.fault(seg === SS ? VEC_SS : VEC_GP, 0);
  }

  // ---- segmented access ------------------------------------------------------------------------
  /** Linear address of a read of `size` bytes at `seg:off`, after the segment checks. */
  linR(seg: number, off: number, size: number): number {
    const u = off >>> 0;
    if (u + size - 1 > this.segRLim[seg]) segmentCheckSlow(this, seg, u, size, false);
    return (this.segBase[seg] + u) | 0;
  }

  linW(seg: number, off: number, size: number): number {
    const u = off >>> 0;
    if (u + size - 1 > this.segWLim[seg]) segmentCheckSlow(this, seg, u, size, true);
    return (this.segBase[seg] + u) | 0;
  }

  /**
   * Linear address of a read-modify-write operand. Hardware checks write access before the read,
   * so a fault on the operand reports W=1: the segment write check is followed by a write-intent
   * translation when the write TLB cannot already vouch for the whole operand.
   */
  linRmw(seg: number, off: number, size: number): number {
    const lin = this.linW(seg, off, size);
    if ((this.tlbW[lin >>> 12] & TLB_VALID) === 0 || (lin & 0xfff) + size > 0x1000) {
      const user = this.cpl === 3;
      translate(this, lin, 1, user);
      if ((lin & 0xfff) + size > 0x1000) translate(this, (lin + size - 1) & -4096, 1, user);
    }
    return lin;
  }

  read8(seg: number, off: number): number {
    return this.rd8(this.linR(seg, off, 1));
  }
  read16(seg: number, off: number): number {
    return this.rd16(this.linR(seg, off, 2));
  }
  read32(seg: number, off: number): number {
    return this.rd32(this.linR(seg, off, 4));
  }
  write8(seg: number, off: number, v: number): void {
    this.wr8(this.linW(seg, off, 1), v);
  }
  write16(seg: number, off: number, v: number): void {
    this.wr16(this.linW(seg, off, 2), v);
  }
  write32(seg: number, off: number, v: number): void {
    this.wr32(this.linW(seg, off, 4), v);
  }

  // ---- stack -----------------------------------------------------------------------------------
  push32(v: number): void {
    const sp = this.ss32 ? this.regs[4] - 4 : (this.regs[4] - 4) & 0xffff;
    this.write32(SS, sp, v);
    if (this.ss32) this.regs[4] = sp;
    else this.regs[4] = (this.regs[4] & ~0xffff) | sp;
  }
  push16(v: number): void {
    const sp = this.ss32 ? this.regs[4] - 2 : (this.regs[4] - 2) & 0xffff;
    this.write16(SS, sp, v);
    if (this.ss32) this.regs[4] = sp;
    else this.regs[4] = (this.regs[4] & ~0xffff) | sp;
  }
  pop32(): number {
    const sp = this.ss32 ? this.regs[4] : this.regs[4] & 0xffff;
    const v = this.read32(SS, sp);
    this.adjustSp(4);
    return v;
  }
  pop16(): number {
    const sp = this.ss32 ? this.regs[4] : this.regs[4] & 0xffff;
    const v = this.read16(SS, sp);
    this.adjustSp(2);
    return v;
  }
  /** Reads the stack at ESP+delta without popping (for instructions that pop only after checks). */
  peek32(delta: number): number {
    const sp = this.ss32 ? this.regs[4] + delta : (this.regs[4] + delta) & 0xffff;
    return this.read32(SS, sp);
  }
  peek16(delta: number): number {
    const sp = this.ss32 ? this.regs[4] + delta : (this.regs[4] + delta) & 0xffff;
    return this.read16(SS, sp);
  }
  adjustSp(delta: number): void {
    if (this.ss32) this.regs[4] = this.regs[4] + delta;
    else this.regs[4] = (this.regs[4] & ~0xffff) | ((this.regs[4] + delta) & 0xffff);
  }

  // ---- linear access through the TLB -----------------------------------------------------------
  rd8(lin: number): number {
    const e = this.tlbR[lin >>> 12];
    if (e & TLB_VALID) return this.ram8[(e & -4096) | (lin & 0xfff)];
    return this.rdSlow(lin, 1, this.cpl === 3);
  }

  rd16(lin: number): number {
    const e = this.tlbR[lin >>> 12];
    if (e & TLB_VALID && (lin & 0xfff) !== 0xfff) {
      const p = (e & -4096) | (lin & 0xfff);
      return this.ram8[p] | (this.ram8[p + 1] << 8);
    }
    return this.rdSlow(lin, 2, this.cpl === 3);
  }

  rd32(lin: number): number {
    const e = this.tlbR[lin >>> 12];
    if (e & TLB_VALID && (lin & 0xfff) <= 0xffc) {
      const p = (e & -4096) | (lin & 0xfff);
      if ((p & 3) === 0) return this.ram32[p >> 2];
      const m = this.ram8;
      return m[p] | (m[p + 1] << 8) | (m[p + 2] << 16) | (m[p + 3] << 24);
    }
    return this.rdSlow(lin, 4, this.cpl === 3);
  }

  wr8(lin: number, v: number): void {
    const e = this.tlbW[lin >>> 12];
    if (e & TLB_VALID) {
      const p = (e & -4096) | (lin & 0xfff);
      if (this.codePage[p >>> 12]) this.blocks.invalidateWrite(p, 1);
      this.ram8[p] = v;
      return;
    }
    this.wrSlow(lin, 1, v, this.cpl === 3);
  }

  wr16(lin: number, v: number): void {
    const e = this.tlbW[lin >>> 12];
    if (e & TLB_VALID && (lin & 0xfff) !== 0xfff) {
      const p = (e & -4096) | (lin & 0xfff);
      if (this.codePage[p >>> 12]) this.blocks.invalidateWrite(p, 2);
      this.ram8[p] = v;
      this.ram8[p + 1] = v >> 8;
      return;
    }
    this.wrSlow(lin, 2, v, this.cpl === 3);
  }

  wr32(lin: number, v: number): void {
    const e = this.tlbW[lin >>> 12];
    if (e & TLB_VALID && (lin & 0xfff) <= 0xffc) {
      const p = (e & -4096) | (lin & 0xfff);
      if (this.codePage[p >>> 12]) this.blocks.invalidateWrite(p, 4);
      if ((p & 3) === 0) this.ram32[p >> 2] = v;
      else {
        const m = this.ram8;
        m[p] = v;
        m[p + 1] = v >> 8;
        m[p + 2] = v >> 16;
        m[p + 3] = v >> 24;
      }
      return;
    }
    this.wrSlow(lin, 4, v, this.cpl === 3);
  }

  /** Supervisor-privilege accesses made by the processor itself (descriptor tables, TSS). */
  sysRd8(lin: number): number {
    return this.rdSlow(lin, 1, false);
  }
  sysRd16(lin: number): number {
    return this.rdSlow(lin, 2, false);
  }
  sysRd32(lin: number): number {
    return this.rdSlow(lin, 4, false);
  }
  sysWr8(lin: number, v: number): void {
    this.wrSlow(lin, 1, v, false);
  }
  sysWr16(lin: number, v: number): void {
    this.wrSlow(lin, 2, v, false);
  }
  sysWr32(lin: number, v: number): void {
    this.wrSlow(lin, 4, v, false);
  }

  /** Translates a linear address (raising #PF) and returns the physical address. */
  translate(lin: number, access: Access, user: boolean): number {
    return translate(this, lin, access, user);
  }

  rdSlow(lin: number, size: number, user: boolean): number {
    if (((lin & 0xfff) + size) > 0x1000) {
      // Page-crossing: both pages must be translated before anything is read.
      const p0 = translate(this, lin, 0, user);
      const p1 = translate(this, (lin + size - 1) & -4096, 0, user);
      let v = 0;
      for (let k = 0; k < size; k++) {
        const l = (lin + k) | 0;
        const p = (l & -4096) === (lin & -4096) ? p0 + k : p1 + (l & 0xfff);
        v |= this.mem.read(p, 1) << (8 * k);
      }
      return v;
    }
    const p = translate(this, lin, 0, user);
    return this.mem.read(p, size as 1 | 2 | 4);
  }

  wrSlow(lin: number, size: number, v: number, user: boolean): void {
    if (((lin & 0xfff) + size) > 0x1000) {
      const p0 = translate(this, lin, 1, user);
      const p1 = translate(this, (lin + size - 1) & -4096, 1, user);
      for (let k = 0; k < size; k++) {
        const l = (lin + k) | 0;
        const p = (l & -4096) === (lin & -4096) ? p0 + k : p1 + (l & 0xfff);
        this.physWrite(p, 1, (v >> (8 * k)) & 0xff);
      }
      return;
    }
    const p = translate(this, lin, 1, user);
    this.physWrite(p, size, v);
  }

  physWrite(p: number, size: number, v: number): void {
    if (this.codePage[p >>> 12]) this.blocks.invalidateWrite(p, size);
    this.mem.write(p, size as 1 | 2 | 4, v);
  }

  /**
   * `len` bytes at physical `p` were written behind the CPU's back (a PV backend into a granted
   * page, DMA, the hypervisor): code decoded from them must go, as for the CPU's own writes.
   */
  physWritten(p: number, len: number): void {
    const end = p + len;
    for (let page = p >>> 12; page * 4096 < end; page++) {
      if (!this.codePage[page]) continue;
      const from = Math.max(p, page * 4096), to = Math.min(end, page * 4096 + 4096);
      this.blocks.invalidateWrite(from, to - from);
    }
  }

  /**
   * Writes `bytes` at physical `p` from outside the CPU (DMA, firmware interfaces, the hypercall
   * page): RAM pages in bulk, anything else (MMIO, shadowed ROM) through the memory map byte by
   * byte; decoded code over the target is dropped either way.
   */
  writePhysBytes(p: number, bytes: Uint8Array): void {
    let k = 0;
    while (k < bytes.length) {
      const a = p + k;
      const n = Math.min(bytes.length - k, 4096 - (a & 0xfff));
      if (this.mem.isRam(a)) this.mem.u8.set(bytes.subarray(k, k + n), a);
      else for (let j = 0; j < n; j++) this.mem.write(a + j, 1, bytes[k + j]);
      k += n;
    }
    this.physWritten(p, bytes.length);
  }

  // ---- TLB maintenance (called by the MMU) ------------------------------------------------------
  /**
   * Records a translation: `user` selects the table set, `writable` also fills the write table,
   * `large` says it came from a 4 MiB / 2 MiB page.
   */
  tlbFill(lin: number, phys: number, user: boolean, writable: boolean, nx: boolean, global: boolean, large = false): void {
    const vpn = lin >>> 12;
    if (!this.mem.isRam(phys)) return; // MMIO is never cached: it always takes the slow path
    if (large) this.largeRegion[lin >>> 22] = 1;
    const e = (phys & -4096) | TLB_VALID | (nx ? TLB_NX : 0) | (global ? TLB_GLOBAL : 0);
    if (user) {
      this.tlbRU[vpn] = e;
      if (writable) this.tlbWU[vpn] = e;
    } else {
      this.tlbRS[vpn] = e;
      if (writable) this.tlbWS[vpn] = e;
    }
    if (this.tlbCount < TLB_LIST_MAX) this.tlbList[this.tlbCount++] = vpn;
    else this.tlbOverflow = true;
  }

  /** Drops cached translations; global ones survive unless `all` (CR4.PGE semantics). */
  flushTlb(all: boolean): void {
    if (all) this.largeRegion.fill(0);
    if (this.tlbOverflow) {
      if (!all) {
        // Rebuild from scratch keeping only globals is costly to track; dropping them is allowed
        // (a TLB may always forget), just slower.
      }
      this.tlbRS.fill(0);
      this.tlbWS.fill(0);
      this.tlbRU.fill(0);
      this.tlbWU.fill(0);
      this.tlbCount = 0;
      this.tlbOverflow = false;
      return;
    }
    let keep = 0;
    for (let i = 0; i < this.tlbCount; i++) {
      const vpn = this.tlbList[i];
      if (!all && ((this.tlbRS[vpn] | this.tlbRU[vpn]) & TLB_GLOBAL)) {
        this.tlbList[keep++] = vpn;
        continue;
      }
      this.tlbRS[vpn] = this.tlbWS[vpn] = this.tlbRU[vpn] = this.tlbWU[vpn] = 0;
    }
    this.tlbCount = keep;
  }

  /** INVLPG: forget one page's translation in every table (the whole region for a large page). */
  flushTlbPage(lin: number): void {
    const vpn = lin >>> 12;
    this.tlbRS[vpn] = this.tlbWS[vpn] = this.tlbRU[vpn] = this.tlbWU[vpn] = 0;
    const region = lin >>> 22;
    if (this.largeRegion[region]) {
      this.largeRegion[region] = 0;
      const start = region << 10, end = start + 1024;
      this.tlbRS.fill(0, start, end);
      this.tlbWS.fill(0, start, end);
      this.tlbRU.fill(0, start, end);
      this.tlbWU.fill(0, start, end);
    }
  }

  /** Opens or closes the A20 gate (from port 0x92 or the keyboard controller). */
  setA20(enabled: boolean): void {
    const m = enabled ? -1 : ~(1 << 20);
    if (m === this.a20Mask) return;
    this.a20Mask = m;
    this.flushTlb(true);
    this.blocks.clear();
  }

  // ---- events from the platform ----------------------------------------------------------------
  setIntr(level: boolean): void {
    this.intrLine = level;
  }
  raiseNmi(): void {
    this.nmiPending = true;
  }
  /** Asks run() to return at the next block boundary (thread-safe enough for a single thread). */
  requestStop(): void {
    this.stopRequested = true;
  }

  // ---- the run loop ----------------------------------------------------------------------------
  /**
   * Executes up to about `budget` instructions (whole blocks, so it may overshoot by one block)
   * and returns why it stopped.
   */
  run(budget: number): Exit {
    const end = this.icount + budget;
    this.exitReason = Exit.Budget;
    this.stopRequested = false;
    // The block that just ran: its successor links let the next lookup skip the hash map.
    let prev: Block | null = null;
    // Declared outside the try so the fault handler knows which instruction faulted.
    let blk: Block | null = null;
    let k = 0;
    for (;;) {
      try {
        for (;;) {
          if (this.inhibitIrq) {
            this.inhibitIrq = false;
            // The shadow of STI / MOV SS / POP SS covers exactly one instruction: with an event
            // waiting, run only that instruction so the event is taken right after it.
            if (this.nmiPending || (this.intrLine && this.flags & FLAG_IF)) {
              blk = null;
              blk = this.blocks.lookup(null);
              k = 0;
              this.stopBlock = false;
              const i: Insn = blk.insns[0];
              i.exec(this, i);
              if (!this.stopBlock && (blk.insns.length > 1 || blk.fallthrough)) this.eip = i.next;
              this.icount++;
              prev = null;
              if (this.exitReason !== Exit.Budget || this.stopRequested) return this.exitOrStop();
              continue;
            }
          } else if (this.nmiPending || (this.intrLine && this.flags & FLAG_IF) || this.halted) {
            if (deliverPendingEvent(this)) {
              prev = null;
              continue;
            }
            if (this.halted) return Exit.Halt;
          }
          if (this.icount >= end) return Exit.Budget;
          blk = null;
          blk = this.blocks.lookup(prev);
          const insns = blk.insns;
          const n = insns.length;
          this.stopBlock = false;
          // Only a block's last instruction may change EIP or the CPU mode (the decoder ends blocks
          // there), so the loop needs no per-instruction check. stopBlock means "EIP already set".
          if (blk.compiled !== null) {
            k = -1;
            blk.compiled(this);
          } else {
            for (k = 0; k < n; k++) {
              const i: Insn = insns[k];
              i.exec(this, i);
            }
            if (++blk.runs === COMPILE_THRESHOLD && this.compileBlocks && blk.cached) blk.compiled = compileBlock(insns);
          }
          if (!this.stopBlock && blk.fallthrough) this.eip = blk.endEip;
          this.icount += n;
          prev = blk;
          if (this.exitReason !== Exit.Budget || this.stopRequested) return this.exitOrStop();
        }
      } catch (e) {
        if (e !== FAULT) throw e;
        prev = null;
        if (blk !== null) {
          if (k < 0) k = this.blockIndex; // compiled block: it recorded the instruction index
          this.eip = blk.insns[k].eip;
          this.icount += k;
        }
        if (this.interceptExceptions) {
          this.exitReason = Exit.Exception;
          return Exit.Exception;
        }
        deliverException(this);
        if (this.exitReason !== Exit.Budget || this.stopRequested) return this.exitOrStop();
      }
    }
  }

  private exitOrStop(): Exit {
    return this.stopRequested && this.exitReason === Exit.Budget ? Exit.Stop : this.exitReason;
  }

  /** Arithmetic helper used by handlers that need the carry in (ADC/SBB/RCL/RCR). */
  carry(): number {
    return getCF(this);
  }
}

export { ARITH_FLAGS, CR0_PE, CS, SS };
