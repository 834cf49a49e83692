/**
 * Kernel payload decompression on Node: gzip through node:zlib, xz through liblzma (lzma-native,
 * which implements the x86 BCJ filter Linux's xz payloads use). Other formats get a clear error.
 */
import { gunzipSync } from 'node:zlib';
import { createRequire } from 'node:module';
import type { Decompress } from '../../loader/kernel-payload.js';

const require = createRequire(import.meta.url);

interface LzmaNative {
  decompress(data: Buffer, opts: object, cb: (out: Buffer | undefined, err?: Error) => void): void;
}

export const nodeDecompress: Decompress = async (compression, data) => {
  switch (compression) {
    case 'gzip':
      return new Uint8Array(gunzipSync(data));
    case 'xz': {
      const lzma = require('lzma-native') as LzmaNative;
      return new Promise<Uint8Array>((resolve, reject) => {
        lzma.decompress(Buffer.from(data.buffer, data.byteOffset, data.byteLength), {}, (out, err) => {
          if (err || !out) reject(err ?? new Error('xz decoder returned nothing'));
          else resolve(new Uint8Array(out.buffer, out.byteOffset, out.byteLength));
        });
      });
    }
    default:
      throw new Error(`${compression} payloads are not supported (gzip and xz are)`);
  }
};
