import { test } from 'node:test';
import { kernelTest } from './run-kernel.js';

kernelTest(test, 'real mode: IVT, exceptions, segments, far transfers, flags, unreal mode', 'realmode');
