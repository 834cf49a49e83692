/** The loaders: pure functions that turn kernel images into guest memory contents and CPU state. */
export * from './bzimage.js';
export * from './boot-params.js';
export * from './e820.js';
export * from './placement.js';
export * from './direct-boot.js';
