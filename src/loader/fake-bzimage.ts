/**
 * Synthetic bzImages for tests: a boot sector with a valid setup header, setup sectors, and a
 * protected-mode part with a payload of chosen magic. Options override single fields so tests can
 * break exactly one thing.
 */
export interface FakeBzImageOptions {
  version?: number;
  setupSects?: number;
  loadFlags?: number;
  relocatable?: boolean;
  kernelAlignment?: number;
  prefAddress?: number;
  initSize?: number;
  initrdAddrMax?: number;
  cmdlineSize?: number;
  xloadflags?: number;
  /** Bytes of protected-mode code (default 64 KiB). */
  kernelBytes?: number;
  /** Leading bytes of the payload (default gzip magic). */
  payloadMagic?: number[];
  payloadOffset?: number;
  payloadLength?: number;
  /** Version string placed in the setup code (default "6.1.0-fake (test) #1"). */
  versionString?: string | null;
}

export function fakeBzImage(o: FakeBzImageOptions = {}): Uint8Array {
  const setupSects = o.setupSects ?? 4;
  const setupLen = ((setupSects || 4) + 1) * 512;
  const kernelBytes = o.kernelBytes ?? 65536;
  const img = new Uint8Array(setupLen + kernelBytes);
  const dv = new DataView(img.buffer);
  img[0x1f1] = setupSects;
  dv.setUint32(0x1f4, Math.floor(kernelBytes / 16), true);
  dv.setUint16(0x1fe, 0xaa55, true);
  img[0x200] = 0xeb;
  img[0x201] = 0x6a; // header ends at 0x26c (protocol 2.15)
  dv.setUint32(0x202, 0x53726448, true);
  dv.setUint16(0x206, o.version ?? 0x020f, true);
  img[0x211] = o.loadFlags ?? 0x01;
  dv.setUint32(0x214, 0x100000, true);
  dv.setUint32(0x22c, o.initrdAddrMax ?? 0x7fffffff, true);
  dv.setUint32(0x230, o.kernelAlignment ?? 0x200000, true);
  img[0x234] = (o.relocatable ?? true) ? 1 : 0;
  img[0x235] = 13;
  dv.setUint16(0x236, o.xloadflags ?? 0, true);
  dv.setUint32(0x238, o.cmdlineSize ?? 2047, true);
  const payloadOffset = o.payloadOffset ?? 0x100;
  const payloadLength = o.payloadLength ?? kernelBytes - payloadOffset - 0x100;
  dv.setUint32(0x248, payloadOffset, true);
  dv.setUint32(0x24c, payloadLength, true);
  dv.setUint32(0x258, o.prefAddress ?? 0x1000000, true);
  dv.setUint32(0x260, o.initSize ?? 0x400000, true);
  const magic = o.payloadMagic ?? [0x1f, 0x8b, 0x08];
  if (setupLen + payloadOffset + magic.length <= img.length) img.set(magic, setupLen + payloadOffset);
  const vs = o.versionString === undefined ? '6.1.0-fake (test) #1' : o.versionString;
  if (vs !== null) {
    const at = 0x400;
    dv.setUint16(0x20e, at - 0x200, true);
    for (let k = 0; k < vs.length; k++) img[at + k] = vs.charCodeAt(k);
  }
  return img;
}
