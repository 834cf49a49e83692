import { test } from 'node:test';
import { kernelTest } from './run-kernel.js';

// Includes 'read-modify-write of a not-present page reports a write': the destination of an RMW
// instruction is checked with write intent first (Cpu.linRmw), so #PF reports W=1 as on hardware.
kernelTest(test, 'paging: 4 KiB/4 MiB/PAE 2 MiB pages, A/D bits, WP, U/S, NX, #PF codes, INVLPG, restart', 'paging');
