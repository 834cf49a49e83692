/**
 * A bare 32-bit machine: RAM, a CPU entered directly in flat protected mode at ring 0 (no BIOS, no
 * devices), and a debug console on port 0xE9 plus an exit port 0xF4. It runs the built-in
 * self-test program and the CPU benchmarks, and is the smallest example of assembling a machine.
 */
import { PhysicalMemory } from '../memory/physical.js';
import { Cpu, type CpuBus } from '../cpu/cpu.js';
import { CR0_ET, CR0_PE, CS, DS, ES, Exit, FS, GS, SS } from '../cpu/arch.js';
import { decodeDescriptor, loadCache } from '../cpu/segments.js';

export const DEBUG_PORT = 0xe9;
export const EXIT_PORT = 0xf4;

export interface Flat32Options {
  ramBytes: number;
  /** Receives each byte written to the debug port. */
  onOutput?: (byte: number) => void;
}

export class Flat32Machine {
  readonly mem: PhysicalMemory;
  readonly cpu: Cpu;
  exitCode: number | null = null;

  constructor(opts: Flat32Options) {
    this.mem = new PhysicalMemory(opts.ramBytes);
    const out = opts.onOutput ?? (() => {});
    const bus: CpuBus = {
      ioRead: (_port, size) => (size === 4 ? -1 : (1 << (size * 8)) - 1),
      ioWrite: (port, _size, value) => {
        if (port === DEBUG_PORT) out(value & 0xff);
        else if (port === EXIT_PORT) {
          this.exitCode = value & 0xff;
          this.cpu.requestStop();
        }
      },
      acknowledgeInterrupt: () => -1,
    };
    this.cpu = new Cpu(this.mem, bus);
  }

  /** Loads `code` at `addr` and points the CPU at it in flat 32-bit ring 0, stack below `addr`. */
  load(code: Uint8Array, addr: number): void {
    this.mem.load(addr, code);
    const c = this.cpu;
    c.reset();
    c.cr0 = CR0_PE | CR0_ET;
    const code32 = decodeDescriptor(0x0000ffff, 0x00cf9b00, 0);
    const data32 = decodeDescriptor(0x0000ffff, 0x00cf9300, 0);
    loadCache(c, CS, 0x08, code32);
    for (const s of [SS, DS, ES, FS, GS]) loadCache(c, s, 0x10, data32);
    c.setCpl(0);
    c.regs[4] = addr;
    c.eip = addr;
  }

  /** Runs until HLT, the exit port, a triple fault or `maxInstructions`. */
  run(maxInstructions: number): Exit {
    let exit = Exit.Budget;
    while (this.cpu.icount < maxInstructions && this.exitCode === null) {
      exit = this.cpu.run(Math.min(1_000_000, maxInstructions - this.cpu.icount));
      if (exit !== Exit.Budget) break;
    }
    return exit;
  }
}
