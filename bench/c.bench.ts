/**
 * The compiled-C part of `npm run bench:cpu`: bench/c/workload.c (sieve, CRC32, quicksort, x87
 * matrix multiply, memset/memcpy) built with gcc -m32, run on tsxen's bare flat 32-bit machine
 * and natively on the host CPU; both must print the same checksum. Prints guest MIPS and the
 * ratio of tsxen's time to the native time (the anchor measured in the same run).
 */
import { buildCBenchmark, runNative, runOnTsxen } from './c-program.js';

const runs = Number(process.env.BENCH_RUNS ?? 3);
let build;
try {
  build = buildCBenchmark();
} catch (e) {
  console.log(`compiled C benchmark: skipped (${(e as Error).message})`);
  process.exit(0);
}
const median = (xs: number[]) => xs.slice().sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const native = [], tsx = [];
let mips = 0, checksum = '';
for (let r = 0; r < runs; r++) {
  const n = runNative(build.native);
  const t = runOnTsxen(build);
  if (t.checksum !== n.checksum) throw new Error(`compiled C benchmark: tsxen computed ${t.checksum}, the host CPU ${n.checksum}`);
  checksum = t.checksum;
  native.push(n.seconds);
  tsx.push(t.seconds);
  mips = t.instructions;
}
const ts = median(tsx), ns = median(native);
console.log(`compiled C (checksum ${checksum} on both): tsxen ${ts.toFixed(2)} s, ${(mips / ts / 1e6).toFixed(1)} guest MIPS; native ${(ns * 1000).toFixed(1)} ms; tsxen/native ${(ts / ns).toFixed(0)}x (median of ${runs})`);
