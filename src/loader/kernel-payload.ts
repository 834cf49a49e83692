/**
 * What a PVH loader needs from a kernel file: the ELF vmlinux. A file that is already ELF is
 * used as it is; a bzImage carries vmlinux compressed as its payload (boot protocol >= 2.08,
 * payload_offset/payload_length in the setup header), in a format told by magic. Decompression
 * itself is the host's job (an injected `Decompress`), so the loader stays pure and portable.
 */
import { BootImageError } from './errors.js';
import { isElf } from './elf.js';
import { detectCompression, parseBzImage, type PayloadCompression } from './bzimage.js';

export interface CompressedKernel {
  compression: PayloadCompression;
  /** The compressed stream, without the 4-byte uncompressed size Linux's build appends. */
  data: Uint8Array;
  /** The uncompressed size the build recorded (0 if unknown). */
  expectedSize: number;
}

export type Decompress = (compression: PayloadCompression, data: Uint8Array) => Promise<Uint8Array>;

/** The compressed vmlinux inside a bzImage, or null when `image` is already an ELF file. */
export function compressedKernel(image: Uint8Array): CompressedKernel | null {
  if (isElf(image)) return null;
  const bz = parseBzImage(image);
  const p = bz.payload;
  if (p.length < 8) throw new BootImageError('bzImage has no payload (boot protocol before 2.08?)');
  const compression = detectCompression(p);
  if (compression === 'unknown') throw new BootImageError('bzImage payload has an unknown compression format');
  const expectedSize = (p[p.length - 4] | (p[p.length - 3] << 8) | (p[p.length - 2] << 16) | (p[p.length - 1] << 24)) >>> 0;
  // Linux's build appends the uncompressed size (size_append) after the compressed stream;
  // stream decoders that insist on nothing trailing (xz) must not see it.
  const data = compression === 'none' ? p : p.subarray(0, p.length - 4);
  return { compression, data, expectedSize: compression === 'none' ? p.length : expectedSize };
}

/** The ELF vmlinux of a kernel file, decompressing a bzImage payload with `decompress`. */
export async function kernelElf(image: Uint8Array, decompress: Decompress): Promise<Uint8Array> {
  const c = compressedKernel(image);
  if (c === null) return image;
  if (c.compression === 'none') return c.data;
  let out: Uint8Array;
  try {
    out = await decompress(c.compression, c.data);
  } catch (e) {
    throw new BootImageError(`cannot decompress the kernel's ${c.compression} payload: ${(e as Error).message}`);
  }
  if (c.expectedSize !== 0 && out.length !== c.expectedSize) {
    throw new BootImageError(`kernel payload decompressed to ${out.length} bytes, the image says ${c.expectedSize}`);
  }
  if (!isElf(out)) throw new BootImageError('kernel payload is not an ELF vmlinux after decompression');
  return out;
}
