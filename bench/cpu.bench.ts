/**
 * CPU benchmark: runs guest programs on a bare flat 32-bit machine and prints guest instructions
 * per second. The last line is `guest MIPS: N` for the integer loop, which CI-independent tooling
 * reads. Measure with this, never with a timed test.
 */
import { Flat32Machine } from '../src/machine/flat32.js';
import { integerLoop, memoryLoop, type BenchProgram } from './programs.js';

function measure(p: BenchProgram, runs: number): number {
  const results: number[] = [];
  for (let r = 0; r < runs; r++) {
    const m = new Flat32Machine({ ramBytes: 4 << 20 });
    m.load(Uint8Array.from(p.code), 0x10000);
    const t0 = performance.now();
    m.run(p.instructions * 2);
    const dt = (performance.now() - t0) / 1000;
    if (m.exitCode === null) throw new Error(`${p.name}: did not reach its exit`);
    results.push(m.cpu.icount / dt / 1e6);
  }
  results.sort((a, b) => a - b);
  return results[Math.floor(results.length / 2)];
}

const runs = Number(process.env.BENCH_RUNS ?? 5);
const mem = measure(memoryLoop(60), runs);
console.log(`memory copy loop: ${mem.toFixed(1)} guest MIPS (median of ${runs})`);
const int = measure(integerLoop(20_000_000), runs);
console.log(`integer loop: ${int.toFixed(1)} guest MIPS (median of ${runs})`);
console.log(`guest MIPS: ${int.toFixed(1)}`);
