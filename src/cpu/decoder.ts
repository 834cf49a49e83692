/**
 * The instruction decoder: prefixes, opcode, ModRM/SIB, displacement and immediates, producing
 * `Insn`s grouped into blocks. Which handler an opcode gets, and which operands it reads, is decided
 * by the opcode table (ops/table.ts); this file knows only the encoding rules common to all.
 *
 * Growing to x86-64 means adding REX here (extending reg/rm/index to 4 bits) and a 64-bit address
 * size; the Insn fields already hold register numbers up to 15.
 */
import type { Cpu } from './cpu.js';
import { Insn, ZERO_REG } from './insn.js';
import type { Block } from './blocks.js';
import { CS, DS, SS, VEC_GP } from './arch.js';
import { translate } from './mmu.js';
import { ONE_BYTE, TWO_BYTE, udHandler } from './ops/table.js';

const MAX_BLOCK_INSNS = 64;
const MAX_INSN_LEN = 15;

/** Thrown inside decode when an instruction would cross into the next page mid-block. */
class EndOfPage {}
const END_OF_PAGE = new EndOfPage();

export class Decoder {
  c!: Cpu;
  /** Linear and physical address of the block start, and the current offset from it. */
  lin0 = 0;
  phys0 = 0;
  pos = 0;
  insnStart = 0;
  /** Physical address of the following page, once an instruction needed it (-1 = not yet). */
  nextPagePhys = -1;
  /** Whether the instruction being decoded may fetch from the next page. */
  allowCross = false;
  crossed = false;
  o32 = false;
  a32 = false;
  /** Set by opcode decoders: this instruction ends the block / sets EIP itself. */
  endsBlock = false;
  isBranch = false;

  fetch8(): number {
    const off = this.pos - this.insnStart;
    if (off >= MAX_INSN_LEN) {
      // An over-long instruction faults when it is reached, not when an earlier one in the
      // same block is decoded: end the block before it unless it is the block's first.
      if (!this.allowCross) throw END_OF_PAGE;
      this.c.fault(VEC_GP, 0);
    }
    const inPage = (this.lin0 & 0xfff) + this.pos;
    let b: number;
    if (inPage < 0x1000) {
      b = this.c.mem.read(this.phys0 + this.pos, 1);
    } else {
      if (!this.allowCross) throw END_OF_PAGE;
      if (this.nextPagePhys < 0) {
        this.nextPagePhys = translate(this.c, ((this.lin0 & -4096) + 0x1000) | 0, 2, this.c.cpl === 3) & -4096;
      }
      this.crossed = true;
      b = this.c.mem.read(this.nextPagePhys + (inPage - 0x1000), 1);
    }
    // CS limit: every byte of an instruction must lie within the code segment.
    const eipByte = (this.eip0 + this.pos) >>> 0;
    const eipMasked = this.c.cs32 ? eipByte : eipByte & 0xffff;
    if (eipMasked > this.c.segLimit[CS]) {
      if (!this.allowCross) throw END_OF_PAGE;
      this.c.fault(VEC_GP, 0);
    }
    this.pos++;
    return b;
  }
  eip0 = 0;

  imm8(): number {
    return this.fetch8();
  }
  imm8s(): number {
    return (this.fetch8() << 24) >> 24;
  }
  imm16(): number {
    const lo = this.fetch8();
    return lo | (this.fetch8() << 8);
  }
  imm32(): number {
    const a = this.fetch8(), b = this.fetch8(), c = this.fetch8(), d = this.fetch8();
    return a | (b << 8) | (c << 16) | (d << 24);
  }
  /** An immediate of the operand size (16 or 32 bits). */
  immV(): number {
    return this.o32 ? this.imm32() : this.imm16();
  }

  /**
   * The absolute target of a relative branch whose displacement was the instruction's last field
   * (so the decoder position is the next instruction). 16-bit operand size wraps EIP at 64 KiB.
   */
  relTarget(disp: number): number {
    const t = (this.eip0 + this.pos + disp) | 0;
    return this.o32 ? t : t & 0xffff;
  }

  /** Ends the block after this instruction; EIP continues at the next instruction. */
  end(): void {
    this.endsBlock = true;
  }
  /** Ends the block after this instruction; the handler sets EIP itself. */
  branch(): void {
    this.endsBlock = true;
    this.isBranch = true;
  }

  /** Reads ModRM (and SIB/displacement) into `i`. */
  modrm(i: Insn): void {
    const m = this.fetch8();
    i.mod = m >> 6;
    i.reg = (m >> 3) & 7;
    i.rm = m & 7;
    if (i.mod === 3) return;
    if (this.a32) this.ea32(i);
    else this.ea16(i);
    i.seg = i.segOverride >= 0 ? i.segOverride : i.seg;
  }

  private ea16(i: Insn): void {
    const mod = i.mod, rm = i.rm;
    let disp = 0;
    if (mod === 0 && rm === 6) disp = this.imm16();
    else if (mod === 1) disp = this.imm8s();
    else if (mod === 2) disp = this.imm16();
    i.seg = rm === 2 || rm === 3 || (rm === 6 && mod !== 0) ? SS : DS;
    // BX+SI, BX+DI, BP+SI, BP+DI, SI, DI, BP (or disp16), BX.
    i.eaBase = EA16_BASE[rm];
    i.eaIndex = EA16_INDEX[rm];
    if (rm === 6 && mod === 0) i.eaBase = ZERO_REG;
    i.eaScale = 0;
    i.eaDisp = disp & 0xffff;
    i.eaMask = 0xffff;
  }

  private ea32(i: Insn): void {
    const mod = i.mod;
    let base = i.rm, index = -1, scale = 0;
    if (base === 4) {
      const sib = this.fetch8();
      scale = sib >> 6;
      index = (sib >> 3) & 7;
      if (index === 4) index = -1;
      base = sib & 7;
      if (base === 5 && mod === 0) base = -1;
    } else if (base === 5 && mod === 0) {
      base = -1;
    }
    let disp = 0;
    if (mod === 1) disp = this.imm8s();
    else if (mod === 2 || base === -1) disp = this.imm32();
    i.seg = base === 4 || base === 5 ? SS : DS;
    i.eaBase = base < 0 ? ZERO_REG : base;
    i.eaIndex = index < 0 ? ZERO_REG : index;
    i.eaScale = index < 0 ? 0 : scale;
    i.eaDisp = disp;
    i.eaMask = -1;
  }
}

const Z = ZERO_REG;
const EA16_BASE = [3, 3, 5, 5, 6, 7, 5, 3];
const EA16_INDEX = [6, 7, 6, 7, Z, Z, Z, Z];

/**
 * LOCK is valid only on the read-modify-write instructions the SDM lists, with a memory
 * destination; anywhere else it raises #UD. Checked here once for every opcode.
 */
function lockable(i: Insn): boolean {
  if (i.mod === 3 || i.op === 0x90) return false;
  const op = i.op;
  if (op < 0x40) return (op & 7) <= 1 && (op >> 3) !== 7; // ADD OR ADC SBB AND SUB XOR Eb/Ev,G
  switch (op) {
    case 0x80: case 0x81: case 0x82: case 0x83: return i.reg !== 7;
    case 0x86: case 0x87: return true;
    case 0xf6: case 0xf7: return i.reg === 2 || i.reg === 3;
    case 0xfe: case 0xff: return i.reg <= 1;
    case 0x1ab: case 0x1b3: case 0x1bb: case 0x1b0: case 0x1b1: case 0x1c0: case 0x1c1: return true;
    case 0x1ba: return i.reg >= 5;
    case 0x1c7: return i.reg === 1;
    default: return false;
  }
}

const dec = new Decoder();

/** Decodes one instruction at the decoder's position. */
function decodeOne(d: Decoder, i: Insn, mode: number): void {
  d.insnStart = d.pos;
  d.o32 = mode === 1;
  d.a32 = mode === 1;
  d.endsBlock = false;
  d.isBranch = false;
  i.segOverride = -1;
  i.rep = 0;
  i.lock = false;
  for (;;) {
    const b = d.fetch8();
    switch (b) {
      case 0x26: i.segOverride = 0; continue;
      case 0x2e: i.segOverride = 1; continue;
      case 0x36: i.segOverride = 2; continue;
      case 0x3e: i.segOverride = 3; continue;
      case 0x64: i.segOverride = 4; continue;
      case 0x65: i.segOverride = 5; continue;
      case 0x66: d.o32 = mode !== 1; continue;
      case 0x67: d.a32 = mode !== 1; continue;
      case 0xf0: i.lock = true; continue;
      case 0xf2: i.rep = 2; continue;
      case 0xf3: i.rep = 1; continue;
      case 0x0f: {
        const b2 = d.fetch8();
        i.op = 0x100 | b2;
        i.o32 = d.o32;
        i.a32 = d.a32;
        i.seg = DS;
        TWO_BYTE[b2](d, i);
        if (i.lock && !lockable(i)) i.exec = udHandler;
        return;
      }
      default:
        i.op = b;
        i.o32 = d.o32;
        i.a32 = d.a32;
        i.seg = DS;
        ONE_BYTE[b](d, i);
        if (i.lock && !lockable(i)) i.exec = udHandler;
        return;
    }
  }
}

/**
 * Decodes a block starting at `eip` (linear `lin`, physical `phys`). Faults raised while decoding
 * the first instruction propagate (they are that instruction's fetch faults); later instructions
 * that cannot be decoded simply end the block before them.
 */
export function decodeBlock(c: Cpu, eip: number, lin: number, phys: number, mode: number): Block {
  const d = dec;
  d.c = c;
  d.lin0 = lin;
  d.phys0 = phys;
  d.eip0 = eip;
  d.pos = 0;
  d.nextPagePhys = -1;
  d.crossed = false;
  const insns: Insn[] = [];
  let fallthrough = true;
  let endEip = eip;
  for (;;) {
    const i = new Insn();
    const first = insns.length === 0;
    d.allowCross = first;
    const start = d.pos;
    try {
      decodeOne(d, i, mode);
    } catch (e) {
      if (e === END_OF_PAGE && !first) {
        d.pos = start;
        break;
      }
      throw e;
    }
    i.len = d.pos - start;
    i.eip = mode === 1 ? (eip + start) | 0 : (eip + start) & 0xffff;
    i.next = mode === 1 ? (eip + d.pos) | 0 : (eip + d.pos) & 0xffff;
    insns.push(i);
    endEip = i.next;
    if (d.isBranch) {
      fallthrough = false;
      break;
    }
    if (d.endsBlock || d.crossed || insns.length >= MAX_BLOCK_INSNS) break;
    if ((lin & 0xfff) + d.pos >= 0x1000) break;
  }
  return {
    insns,
    eip0: eip,
    phys,
    physEnd: d.crossed ? (phys & -4096) + 0x1000 : phys + d.pos,
    phys2: d.crossed ? d.nextPagePhys : -1,
    phys2End: d.crossed ? d.nextPagePhys + ((lin & 0xfff) + d.pos - 0x1000) : -1,
    endEip,
    fallthrough,
    mode,
    valid: true,
    cached: true,
    succA: null,
    succB: null,
    runs: 0,
    compiled: null,
  };
}

