import { test } from 'node:test';
import { kernelTest } from './run-kernel.js';

kernelTest(test, 'virtual-8086 mode: entry, INT n to protected mode, IOPL sensitivity, I/O bitmap', 'v86');
