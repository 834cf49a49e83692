/**
 * Child process of `npm run bench:boot`: boots a bzImage + initrd under v86 (npm package `v86`,
 * its wasm build) with the SeaBIOS / VGA BIOS images passed in, and copies the guest's COM1 output
 * to stdout. The parent measures the time to the ready line and kills this process.
 *
 * usage: node dist/bench/v86-boot.js KERNEL INITRD BIOS VGABIOS CMDLINE MEMORY_MIB
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';

const [kernel, initrd, bios, vgaBios, cmdline, memMiB] = process.argv.slice(2);
const buf = (p: string): ArrayBuffer => {
  const b = readFileSync(p);
  return b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) as ArrayBuffer;
};
const require = createRequire(import.meta.url);
// Typed loosely on purpose: the package's d.ts follows its own release cadence.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
const { V86 } = (await import('v86')) as any;
const emulator = new V86({
  wasm_path: require.resolve('v86/build/v86.wasm'),
  memory_size: Number(memMiB) * 1024 * 1024,
  vga_memory_size: 8 * 1024 * 1024,
  bios: { buffer: buf(bios) },
  vga_bios: { buffer: buf(vgaBios) },
  bzimage: { buffer: buf(kernel) },
  initrd: { buffer: buf(initrd) },
  cmdline,
  autostart: true,
  disable_keyboard: true,
  disable_mouse: true,
  disable_speaker: true,
});
const out = Buffer.alloc(1);
emulator.add_listener('serial0-output-byte', (b: number) => {
  out[0] = b;
  process.stdout.write(Buffer.from(out));
});
