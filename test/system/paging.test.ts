import { test } from 'node:test';
import { kernelTest } from './run-kernel.js';

kernelTest(test, 'paging: 4 KiB/4 MiB/PAE 2 MiB pages, A/D bits, WP, U/S, NX, #PF codes, INVLPG, restart', 'paging', {
  // Owned by ops/alu.ts: the destination of a read-modify-write is read with a read access.
  'read-modify-write of a not-present page reports a write (error code)':
    'ops/alu.ts reads an RMW destination as a read, so #PF reports W=0; hardware checks write access first (W=1)',
});
