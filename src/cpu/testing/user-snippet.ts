/**
 * Runs a snippet of user-mode code on a fresh tsxen CPU in the same environment the native
 * differential runner gives it (flat 32-bit, CPL 3, paging with only the code and data regions
 * mapped), and reports the architectural outcome. This is the tsxen half of the differential
 * test against the host processor (test/cpu-diff).
 */
import { PhysicalMemory } from '../../memory/physical.js';
import { Cpu, type CpuBus } from '../cpu.js';
import { CR0_PE, CR0_PG, CR0_NE, CR0_WP, CR0_ET, CS, DS, ES, Exit, FS, GS, SS, TR, FLAG_IF } from '../arch.js';
import { decodeDescriptor, loadCache } from '../segments.js';

export interface SnippetRegs { eax: number; ecx: number; edx: number; ebx: number; esp: number; ebp: number; esi: number; edi: number; eflags: number }
export interface SnippetCase {
  code: Uint8Array;
  data: Uint8Array;
  regs: SnippetRegs;
}
export interface SnippetOutcome {
  regs: SnippetRegs;
  eip: number;
  data: Uint8Array;
  exception: null | { vector: number; errorCode: number; cr2?: number };
  fpu?: { fcw: number; fsw: number; ftw: number; st: Uint8Array };
}
export const CODE_ADDR = 0x40000000, DATA_ADDR = 0x50000000, DATA_SIZE = 0x2000;

const PD = 0x1000, PT_CODE = 0x2000, PT_DATA = 0x3000, GDT = 0x4000, TSS = 0x5000, IDT = 0x6000, PT_LOW = 0x7000;
const CODE_PHYS = 0x10000, DATA_PHYS = 0x20000;
const CODE_PAGES = 4;
const REG_ORDER = ['eax', 'ecx', 'edx', 'ebx', 'esp', 'ebp', 'esi', 'edi'] as const;
/** Flags user code can set with POPF (no IF/IOPL at CPL 3, no VM/RF). */
const USER_FLAGS = 0x00240dd5 | 0x100;

const nullBus: CpuBus = {
  ioRead: (_p, size) => (size === 4 ? -1 : (1 << (size * 8)) - 1),
  ioWrite: () => {},
  acknowledgeInterrupt: () => -1,
};

let shared: { mem: PhysicalMemory; cpu: Cpu } | null = null;

function desc(base: number, limit: number, access: number, flags: number): [number, number] {
  const lo = ((base & 0xffff) << 16) | (limit & 0xffff);
  const hi = (base & 0xff000000) | ((flags & 0xf) << 20) | (limit & 0xf0000) | ((access & 0xff) << 8) | ((base >>> 16) & 0xff);
  return [lo | 0, hi | 0];
}

function setup(): { mem: PhysicalMemory; cpu: Cpu } {
  if (shared) return shared;
  const mem = new PhysicalMemory(1 << 20);
  const cpu = new Cpu(mem, nullBus);
  shared = { mem, cpu };
  return shared;
}

/** Linear address of a system table whose physical address is `phys` (0x4000-0x6FFF). */
function sysLin(phys: number): number {
  return (0xffff0000 + (phys - GDT)) | 0;
}

function w32(mem: PhysicalMemory, a: number, v: number): void {
  mem.write(a, 4, v);
}

export function runUserSnippet(tc: SnippetCase, budget = 100000): SnippetOutcome {
  const { mem, cpu } = setup();
  mem.u8.fill(0);
  // Page tables: code pages user read-only, data pages user read-write.
  w32(mem, PD + (CODE_ADDR >>> 22) * 4, PT_CODE | 0x7);
  w32(mem, PD + (DATA_ADDR >>> 22) * 4, PT_DATA | 0x7);
  for (let k = 0; k < CODE_PAGES; k++) w32(mem, PT_CODE + k * 4, (CODE_PHYS + k * 0x1000) | 0x5);
  for (let k = 0; k < DATA_SIZE / 0x1000; k++) w32(mem, PT_DATA + k * 4, (DATA_PHYS + k * 0x1000) | 0x7);
  // The system tables (GDT, TSS, IDT) are mapped supervisor-only at the top of the address space,
  // where generated snippets practically never point (user accesses there would report a
  // protection fault where the host reports not-present).
  w32(mem, PD + 0x3ff * 4, PT_LOW | 0x3);
  for (const a of [GDT, TSS, IDT]) w32(mem, PT_LOW + ((sysLin(a) >>> 12) & 0x3ff) * 4, a | 0x3);
  // No I/O bitmap (its offset lies past the TSS limit), as for a Linux process without ioperm().
  mem.write(TSS + 0x66, 2, 0x68);
  // Trap gates like Linux's: INT3 and INTO may be raised from ring 3, every other vector not.
  for (let v = 0; v < 256; v++) {
    const dpl = v === 3 || v === 4 ? 3 : 0;
    w32(mem, IDT + v * 8, (0x08 << 16) | 0x1000);
    w32(mem, IDT + v * 8 + 4, 0x8f00 | (dpl << 13));
  }
  const code = new Uint8Array(tc.code.length + 1);
  code.set(tc.code);
  code[tc.code.length] = 0xcc; // int3 terminator
  if (code.length > CODE_PAGES * 0x1000) throw new Error('snippet too long');
  mem.load(CODE_PHYS, code);
  mem.load(DATA_PHYS, tc.data.subarray(0, DATA_SIZE));
  const gdt: [number, number][] = [
    [0, 0],
    desc(0, 0xfffff, 0x9b, 0xc), // 0x08 kernel code
    desc(0, 0xfffff, 0x93, 0xc), // 0x10 kernel data
    [0, 0],
    desc(0, 0xfffff, 0xfb, 0xc), // 0x23 user code
    desc(0, 0xfffff, 0xf3, 0xc), // 0x2b user data
    desc(sysLin(TSS), 0x67, 0x89, 0), // 0x30 TSS
  ];
  gdt.forEach(([lo, hi], k) => {
    w32(mem, GDT + k * 8, lo);
    w32(mem, GDT + k * 8 + 4, hi);
  });

  cpu.reset();
  cpu.interceptExceptions = true;
  cpu.gdtBase = sysLin(GDT);
  cpu.idtBase = sysLin(IDT);
  cpu.idtLimit = 256 * 8 - 1;
  cpu.gdtLimit = gdt.length * 8 - 1;
  cpu.cr3 = PD;
  cpu.cr0 = CR0_PE | CR0_PG | CR0_NE | CR0_WP | CR0_ET;
  cpu.cpuidConfig.fxsr = true;
  const load = (seg: number, sel: number) => {
    const k = sel >> 3;
    loadCache(cpu, seg, sel, decodeDescriptor(gdt[k][0], gdt[k][1], GDT + k * 8));
  };
  load(CS, 0x23);
  for (const s of [SS, DS, ES]) load(s, 0x2b);
  // Linux user FS/GS hold TLS selectors; snippets never use them, so null is equivalent here.
  cpu.segSel[FS] = cpu.segSel[GS] = 0;
  for (const s of [FS, GS]) { cpu.segAttr[s] = 0; cpu.updateSegFast(s); }
  load(TR, 0x30);
  cpu.setCpl(3);
  for (let k = 0; k < 8; k++) cpu.regs[k] = tc.regs[REG_ORDER[k]];
  cpu.flags = (tc.regs.eflags & USER_FLAGS) | FLAG_IF | 2;
  cpu.lazy = 0;
  cpu.eip = CODE_ADDR;

  let exit = Exit.Budget;
  for (let spent = 0; spent < budget && exit === Exit.Budget; spent += 1000) exit = cpu.run(1000);

  const regs = {} as SnippetRegs;
  for (let k = 0; k < 8; k++) regs[REG_ORDER[k]] = cpu.regs[k] | 0;
  regs.eflags = cpu.getFlags() & ~0x10000;
  const data = mem.u8.slice(DATA_PHYS, DATA_PHYS + DATA_SIZE);
  let exception: SnippetOutcome['exception'] = null;
  if (exit === Exit.Exception) {
    const endEip = (CODE_ADDR + tc.code.length + 1) | 0;
    if (!(cpu.excVector === 3 && cpu.eip === endEip)) {
      exception = { vector: cpu.excVector, errorCode: cpu.excHasCode ? cpu.excCode : 0 };
      if (cpu.excVector === 14) exception.cr2 = cpu.cr2 >>> 0;
    }
  } else if (exit !== Exit.Budget) {
    throw new Error(`snippet stopped with exit ${exit}`);
  } else {
    throw new Error('snippet did not finish within its instruction budget');
  }
  return { regs, eip: cpu.eip >>> 0, data, exception, fpu: fpuState(cpu) };
}

function fpuState(cpu: Cpu): SnippetOutcome['fpu'] {
  const f = cpu.fpu as unknown as { snapshotForTest?: () => SnippetOutcome['fpu'] };
  return f.snapshotForTest ? f.snapshotForTest() : undefined;
}
