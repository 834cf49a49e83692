/**
 * The storage behind a virtual disk, as the portable core sees it. The Node host implements it on
 * a raw image file (reads, writes, fsync); a browser host can implement it on OPFS. Offsets and
 * lengths are in bytes and always inside the disk.
 */
export interface BlockStore {
  /** Size in bytes (a multiple of 512). */
  readonly size: number;
  readonly readOnly: boolean;
  read(offset: number, into: Uint8Array): void;
  write(offset: number, data: Uint8Array): void;
  /** Makes every completed write durable (fsync). */
  flush(): void;
  /** Optional: the range's contents may be dropped. */
  discard?(offset: number, length: number): void;
}

/** An in-memory disk, for tests and for scratch disks. */
export class MemoryBlockStore implements BlockStore {
  readonly data: Uint8Array;
  flushes = 0;
  constructor(size: number, readonly readOnly = false) {
    if (size % 512 !== 0) throw new Error('disk size must be a multiple of 512 bytes');
    this.data = new Uint8Array(size);
  }
  get size(): number {
    return this.data.length;
  }
  read(offset: number, into: Uint8Array): void {
    into.set(this.data.subarray(offset, offset + into.length));
  }
  write(offset: number, data: Uint8Array): void {
    this.data.set(data, offset);
  }
  flush(): void {
    this.flushes++;
  }
  discard(offset: number, length: number): void {
    this.data.fill(0, offset, offset + length);
  }
}
