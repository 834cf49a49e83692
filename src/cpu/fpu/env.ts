/**
 * The x87 state images in memory (SDM vol. 1, figures 8-9 to 8-12 and vol. 2, FXSAVE):
 * FSTENV/FLDENV environments in their four layouts (16/32-bit operand size, protected vs real
 * and virtual-8086 mode), FSAVE/FRSTOR (environment + eight 80-bit registers in stack order), and
 * the 512-byte FXSAVE/FXRSTOR area. These work on byte buffers; ops/x87.ts moves them to memory.
 */
import { readExt, writeExt } from './convert.js';
import type { Fpu } from './fpu.js';

export function envSize(o32: boolean): number {
  return o32 ? 28 : 14;
}

function w16(b: Uint8Array, off: number, v: number): void {
  b[off] = v;
  b[off + 1] = v >>> 8;
}
function w32(b: Uint8Array, off: number, v: number): void {
  b[off] = v;
  b[off + 1] = v >>> 8;
  b[off + 2] = v >>> 16;
  b[off + 3] = v >>> 24;
}
function r16(b: Uint8Array, off: number): number {
  return b[off] | (b[off + 1] << 8);
}
function r32(b: Uint8Array, off: number): number {
  return (b[off] | (b[off + 1] << 8) | (b[off + 2] << 16) | (b[off + 3] << 24)) >>> 0;
}

/**
 * FSTENV image. Protected mode keeps FIP/FDP as offsets with their selectors and (32-bit) the
 * opcode; real and virtual-8086 mode store 20/32-bit linear pointers split around the opcode.
 * Reserved upper halves read as FFFFh, as the processor writes them.
 */
export function storeEnv(f: Fpu, b: Uint8Array, o32: boolean, real: boolean): void {
  const fop = f.fop & 0x7ff;
  if (o32) {
    w32(b, 0, 0xffff0000 | f.fcw);
    w32(b, 4, 0xffff0000 | f.status);
    w32(b, 8, 0xffff0000 | f.tagWord);
    if (real) {
      const ip = (f.fcs << 4) + f.fip, dp = (f.fds << 4) + f.fdp;
      w32(b, 12, 0xffff0000 | (ip & 0xffff));
      w32(b, 16, (((ip >>> 16) << 12) & 0x0ffff000) | fop);
      w32(b, 20, 0xffff0000 | (dp & 0xffff));
      w32(b, 24, ((dp >>> 16) << 12) & 0x0ffff000);
    } else {
      w32(b, 12, f.fip);
      w32(b, 16, (f.fcs & 0xffff) | (fop << 16));
      w32(b, 20, f.fdp);
      w32(b, 24, 0xffff0000 | (f.fds & 0xffff));
    }
  } else {
    w16(b, 0, f.fcw);
    w16(b, 2, f.status);
    w16(b, 4, f.tagWord);
    if (real) {
      const ip = (f.fcs << 4) + f.fip, dp = (f.fds << 4) + f.fdp;
      w16(b, 6, ip);
      w16(b, 8, (((ip >>> 16) & 0xf) << 12) | fop);
      w16(b, 10, dp);
      w16(b, 12, ((dp >>> 16) & 0xf) << 12);
    } else {
      w16(b, 6, f.fip);
      w16(b, 8, f.fcs);
      w16(b, 10, f.fdp);
      w16(b, 12, f.fds);
    }
  }
}

/** FLDENV image (the inverse of storeEnv); ES/B follow the loaded flags and masks. */
export function loadEnv(f: Fpu, b: Uint8Array, o32: boolean, real: boolean): void {
  let fcw: number, fsw: number, ftw: number;
  if (o32) {
    fcw = r16(b, 0);
    fsw = r16(b, 4);
    ftw = r16(b, 8);
    if (real) {
      f.fip = (r16(b, 12) | (((r32(b, 16) >>> 12) & 0xffff) << 16)) | 0;
      f.fop = r32(b, 16) & 0x7ff;
      f.fdp = (r16(b, 20) | (((r32(b, 24) >>> 12) & 0xffff) << 16)) | 0;
      f.fcs = f.fds = 0;
    } else {
      f.fip = r32(b, 12) | 0;
      f.fcs = r16(b, 16);
      f.fop = (r32(b, 16) >>> 16) & 0x7ff;
      f.fdp = r32(b, 20) | 0;
      f.fds = r16(b, 24);
    }
  } else {
    fcw = r16(b, 0);
    fsw = r16(b, 2);
    ftw = r16(b, 4);
    if (real) {
      f.fip = r16(b, 6) | ((r16(b, 8) >>> 12) << 16);
      f.fop = r16(b, 8) & 0x7ff;
      f.fdp = r16(b, 10) | ((r16(b, 12) >>> 12) << 16);
      f.fcs = f.fds = 0;
    } else {
      f.fip = r16(b, 6);
      f.fcs = r16(b, 8);
      f.fdp = r16(b, 10);
      f.fds = r16(b, 12);
    }
  }
  f.fcw = (fcw & 0x1f3f) | 0x40;
  f.tagWord = ftw;
  f.status = fsw; // re-evaluates ES/B against the new masks
}

/** FSAVE image: the environment, then ST(0)..ST(7) as 80-bit values. */
export function storeState(f: Fpu, b: Uint8Array, o32: boolean, real: boolean): void {
  storeEnv(f, b, o32, real);
  const base = envSize(o32);
  for (let k = 0; k < 8; k++) writeExt(f.st(k), b, base + k * 10);
}

/** FRSTOR image; the registers are in stack order relative to the loaded TOP. */
export function loadState(f: Fpu, b: Uint8Array, o32: boolean, real: boolean): void {
  loadEnv(f, b, o32, real);
  const base = envSize(o32);
  for (let k = 0; k < 8; k++) readExt(b, base + k * 10, f.st(k));
}

/** The MXCSR bits this processor supports (no DAZ), as reported in MXCSR_MASK. */
export const MXCSR_MASK = 0xffbf;
export const MXCSR_DEFAULT = 0x1f80;

/**
 * FXSAVE image, bytes 0-287 (the legacy x87 area, MXCSR, and an all-zero XMM area since there is no
 * SSE); bytes 288-511 are not written. Registers are in stack order with six zero bytes each.
 */
export function fxsaveImage(f: Fpu, b: Uint8Array): void {
  b.fill(0, 0, 288);
  w16(b, 0, f.fcw);
  w16(b, 2, f.status);
  b[4] = f.abridgedTag;
  w16(b, 6, f.fop & 0x7ff);
  w32(b, 8, f.fip);
  w16(b, 12, f.fcs);
  w32(b, 16, f.fdp);
  w16(b, 20, f.fds);
  w32(b, 24, MXCSR_DEFAULT);
  w32(b, 28, MXCSR_MASK);
  for (let k = 0; k < 8; k++) writeExt(f.st(k), b, 32 + k * 16);
}

/** Whether an FXRSTOR image may be loaded: MXCSR must not set reserved bits (#GP otherwise). */
export function fxrstorValid(b: Uint8Array): boolean {
  return (r32(b, 24) & ~MXCSR_MASK) === 0;
}

/** FXRSTOR: the x87 part of the image (MXCSR has no effect without SSE). */
export function fxrstorImage(f: Fpu, b: Uint8Array): void {
  f.fcw = (r16(b, 0) & 0x1f3f) | 0x40;
  f.status = r16(b, 2);
  f.fop = r16(b, 6) & 0x7ff;
  f.fip = r32(b, 8) | 0;
  f.fcs = r16(b, 12);
  f.fdp = r32(b, 16) | 0;
  f.fds = r16(b, 20);
  for (let k = 0; k < 8; k++) readExt(b, 32 + k * 16, f.st(k));
  f.abridgedTag = b[4];
}
