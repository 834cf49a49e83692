/**
 * A BlockStore on a raw image file. Writes go straight to the file (no user-space cache), and
 * flush() is fsync, so a guest's FLUSH is durable when it is acknowledged.
 */
import { closeSync, fstatSync, fsyncSync, openSync, readSync, writeSync } from 'node:fs';
import type { BlockStore } from '../../pv/block/block-store.js';

export class FileBlockStore implements BlockStore {
  readonly size: number;
  private fd: number;

  constructor(readonly path: string, readonly readOnly: boolean) {
    try {
      this.fd = openSync(path, readOnly ? 'r' : 'r+');
    } catch (e) {
      throw new Error(`cannot open disk image '${path}': ${(e as NodeJS.ErrnoException).code ?? String(e)}`);
    }
    const st = fstatSync(this.fd);
    if (!st.isFile() && !st.isBlockDevice()) throw new Error(`disk image '${path}' is not a file`);
    if (st.size % 512 !== 0 || st.size === 0) {
      closeSync(this.fd);
      throw new Error(`disk image '${path}' must be a non-empty multiple of 512 bytes (it is ${st.size})`);
    }
    this.size = st.size;
  }

  read(offset: number, into: Uint8Array): void {
    let done = 0;
    while (done < into.length) {
      const n = readSync(this.fd, into, done, into.length - done, offset + done);
      if (n <= 0) {
        into.fill(0, done);
        return;
      }
      done += n;
    }
  }

  write(offset: number, data: Uint8Array): void {
    if (this.readOnly) throw new Error(`disk image '${this.path}' is read-only`);
    let done = 0;
    while (done < data.length) done += writeSync(this.fd, data, done, data.length - done, offset + done);
  }

  flush(): void {
    if (!this.readOnly) fsyncSync(this.fd);
  }

  close(): void {
    if (this.fd >= 0) closeSync(this.fd);
    this.fd = -1;
  }
}
