import { test } from 'node:test';
import { kernelTest } from './run-kernel.js';

kernelTest(
  test,
  'protected mode: selector checks, limits, gates, privilege transfers, SYSENTER, I/O bitmap',
  'protected',
);
