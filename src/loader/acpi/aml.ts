/**
 * A small encoder for ACPI Machine Language (ACPI specification 6.x, chapter 20 "ACPI Machine
 * Language (AML) Specification") and for the resource descriptors of _CRS buffers (chapter 6.4
 * "Resource Data Types for ACPI"). Enough for a static DSDT: names, scopes, devices, packages,
 * buffers, integers, strings, and simple methods returning a constant.
 *
 * Every function returns the encoded bytes of one term; compose them by passing results as
 * children. Nothing here evaluates AML.
 */

export type Aml = Uint8Array;

// Opcodes (spec 20.3 "AML Byte Stream Byte Values").
const ZERO_OP = 0x00;
const ONE_OP = 0x01;
const NAME_OP = 0x08;
const BYTE_PREFIX = 0x0a;
const WORD_PREFIX = 0x0b;
const DWORD_PREFIX = 0x0c;
const STRING_PREFIX = 0x0d;
const QWORD_PREFIX = 0x0e;
const SCOPE_OP = 0x10;
const BUFFER_OP = 0x11;
const PACKAGE_OP = 0x12;
const METHOD_OP = 0x14;
const DUAL_NAME_PREFIX = 0x2e;
const MULTI_NAME_PREFIX = 0x2f;
const ROOT_CHAR = 0x5c;
const PARENT_PREFIX_CHAR = 0x5e;
const EXT_OP_PREFIX = 0x5b;
const DEVICE_OP = 0x82;
const RETURN_OP = 0xa4;

export function concat(...parts: Uint8Array[]): Uint8Array {
  let n = 0;
  for (const p of parts) n += p.length;
  const out = new Uint8Array(n);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/**
 * PkgLength for `n` bytes that follow it (20.2.4): the encoded length counts the PkgLength bytes
 * themselves. One byte holds up to 63; longer forms put the byte count in bits 7:6 of the lead
 * byte, the low nibble there and the rest in the following bytes.
 */
export function pkgLength(n: number): number[] {
  if (n + 1 <= 0x3f) return [n + 1];
  for (let extra = 1; extra <= 3; extra++) {
    const total = n + 1 + extra;
    if (total < 1 << (4 + 8 * extra)) {
      const out = [(extra << 6) | (total & 0xf)];
      for (let k = 0; k < extra; k++) out.push((total >>> (4 + 8 * k)) & 0xff);
      return out;
    }
  }
  throw new Error(`AML package of ${n} bytes is too long`);
}

/** Wraps a body with its PkgLength, preceded by `op` bytes. */
function withPkg(op: number[], body: Uint8Array): Uint8Array {
  return concat(Uint8Array.from(op), Uint8Array.from(pkgLength(body.length)), body);
}

/** A 4-character NameSeg; shorter names are padded with '_' (20.2.2). */
export function nameSeg(seg: string): Uint8Array {
  if (!/^[A-Z_][A-Z0-9_]{0,3}$/.test(seg)) throw new Error(`invalid AML name segment "${seg}"`);
  const s = seg.padEnd(4, '_');
  return Uint8Array.from([...s].map((c) => c.charCodeAt(0)));
}

/** A NameString such as "\\_SB.PCI0", "_HID" or "^CP00" (20.2.2). */
export function nameString(path: string): Uint8Array {
  const prefix: number[] = [];
  let rest = path;
  if (rest.startsWith('\\')) {
    prefix.push(ROOT_CHAR);
    rest = rest.slice(1);
  } else {
    while (rest.startsWith('^')) {
      prefix.push(PARENT_PREFIX_CHAR);
      rest = rest.slice(1);
    }
  }
  const segs = rest === '' ? [] : rest.split('.');
  const head = Uint8Array.from(prefix);
  if (segs.length === 0) return concat(head, Uint8Array.of(0x00));
  const encoded = segs.map(nameSeg);
  if (segs.length === 1) return concat(head, encoded[0]);
  if (segs.length === 2) return concat(head, Uint8Array.of(DUAL_NAME_PREFIX), ...encoded);
  if (segs.length > 255) throw new Error('AML name path too long');
  return concat(head, Uint8Array.of(MULTI_NAME_PREFIX, segs.length), ...encoded);
}

/** An integer constant in the shortest encoding (ZeroOp, OneOp, Byte/Word/DWord/QWordConst). */
export function integer(v: number | bigint): Uint8Array {
  const b = BigInt(v);
  if (b < 0n || b > 0xffffffffffffffffn) throw new Error(`AML integer ${v} out of range`);
  if (b === 0n) return Uint8Array.of(ZERO_OP);
  if (b === 1n) return Uint8Array.of(ONE_OP);
  const le = (bytes: number): number[] => {
    const out: number[] = [];
    for (let k = 0; k < bytes; k++) out.push(Number((b >> BigInt(8 * k)) & 0xffn));
    return out;
  };
  if (b <= 0xffn) return Uint8Array.of(BYTE_PREFIX, ...le(1));
  if (b <= 0xffffn) return Uint8Array.of(WORD_PREFIX, ...le(2));
  if (b <= 0xffffffffn) return Uint8Array.of(DWORD_PREFIX, ...le(4));
  return Uint8Array.of(QWORD_PREFIX, ...le(8));
}

/** A null-terminated ASCII string constant. */
export function string(s: string): Uint8Array {
  const bytes = [...s].map((c) => {
    const x = c.charCodeAt(0);
    if (x < 1 || x > 0x7f) throw new Error(`AML strings are ASCII without NUL: ${JSON.stringify(s)}`);
    return x;
  });
  return Uint8Array.of(STRING_PREFIX, ...bytes, 0);
}

/** Name(path, value). */
export function name(path: string, value: Uint8Array): Uint8Array {
  return concat(Uint8Array.of(NAME_OP), nameString(path), value);
}

/** Scope(path) { body }. */
export function scope(path: string, ...body: Uint8Array[]): Uint8Array {
  return withPkg([SCOPE_OP], concat(nameString(path), ...body));
}

/** Device(path) { body }. */
export function device(path: string, ...body: Uint8Array[]): Uint8Array {
  return withPkg([EXT_OP_PREFIX, DEVICE_OP], concat(nameString(path), ...body));
}

/** Package(n) { elements } with NumElements = the number of elements given. */
export function pkg(...elements: Uint8Array[]): Uint8Array {
  if (elements.length > 255) throw new Error('AML Package with more than 255 elements needs VarPackage');
  return withPkg([PACKAGE_OP], concat(Uint8Array.of(elements.length), ...elements));
}

/** Buffer() { bytes } with its size as an integer. */
export function buffer(bytes: Uint8Array): Uint8Array {
  return withPkg([BUFFER_OP], concat(integer(bytes.length), bytes));
}

/** Method(path, 0, NotSerialized) { Return(value) }: a method returning a constant. */
export function methodReturning(path: string, value: Uint8Array): Uint8Array {
  return withPkg([METHOD_OP], concat(nameString(path), Uint8Array.of(0x00), Uint8Array.of(RETURN_OP), value));
}

/**
 * EisaId("PNP0A03"): three letters packed 5 bits each and four hex digits, stored so the bytes in
 * memory read in order (the spec's compressed EISA ID, 19.6.35).
 */
export function eisaId(id: string): number {
  if (!/^[A-Z]{3}[0-9A-F]{4}$/.test(id)) throw new Error(`invalid EISA ID "${id}"`);
  const c = (k: number) => id.charCodeAt(k) - 0x40;
  const vendor = (c(0) << 10) | (c(1) << 5) | c(2);
  const product = parseInt(id.slice(3), 16);
  const bytes = [vendor >> 8, vendor & 0xff, product >> 8, product & 0xff];
  return (bytes[0] | (bytes[1] << 8) | (bytes[2] << 16) | (bytes[3] << 24)) >>> 0;
}

// ---- resource descriptors (6.4) -------------------------------------------------------------------

const le16 = (v: number): number[] => [v & 0xff, (v >> 8) & 0xff];
const le32 = (v: number): number[] => [v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, (v >>> 24) & 0xff];

/** Address space descriptor general flags: producer, positive decode, min and max fixed. */
const ADDR_FLAGS_PRODUCER_FIXED = 0x0c;

/** IO(Decode16, min, max, align, length): small I/O port descriptor (6.4.2.5). */
export function resIo(min: number, max: number, align: number, length: number): Uint8Array {
  return Uint8Array.of(0x47, 0x01, ...le16(min), ...le16(max), align & 0xff, length & 0xff);
}

/** WordBusNumber(ResourceProducer, MinFixed, MaxFixed, PosDecode, 0, min, max, 0, len) (6.4.3.5.3). */
export function resWordBusNumber(min: number, max: number): Uint8Array {
  return Uint8Array.of(0x88, ...le16(13), 2, ADDR_FLAGS_PRODUCER_FIXED, 0, ...le16(0), ...le16(min), ...le16(max), ...le16(0), ...le16(max - min + 1));
}

/** WordIO(ResourceProducer, MinFixed, MaxFixed, PosDecode, EntireRange, 0, min, max, 0, len) (6.4.3.5.3). */
export function resWordIo(min: number, max: number): Uint8Array {
  return Uint8Array.of(0x88, ...le16(13), 1, ADDR_FLAGS_PRODUCER_FIXED, 0x03, ...le16(0), ...le16(min), ...le16(max), ...le16(0), ...le16(max - min + 1));
}

/**
 * DWordMemory(ResourceProducer, PosDecode, MinFixed, MaxFixed, cacheable or NonCacheable,
 * ReadWrite, 0, min, max, 0, len) (6.4.3.5.2).
 */
export function resDWordMemory(min: number, max: number, cacheable: boolean): Uint8Array {
  const typeFlags = 0x01 | (cacheable ? 1 << 1 : 0);
  return Uint8Array.of(0x87, ...le16(23), 0, ADDR_FLAGS_PRODUCER_FIXED, typeFlags, ...le32(0), ...le32(min), ...le32(max), ...le32(0), ...le32(max - min + 1));
}

/**
 * IRQNoFlags() { irqs }: the small IRQ descriptor without its information byte (6.4.2.1), which
 * means edge-triggered, active high, not shared: what ISA devices' interrupts are.
 */
export function resIrqNoFlags(...irqs: number[]): Uint8Array {
  let mask = 0;
  for (const irq of irqs) {
    if (!Number.isInteger(irq) || irq < 0 || irq > 15) throw new Error(`IRQ descriptor for IRQ ${irq}`);
    mask |= 1 << irq;
  }
  return Uint8Array.of(0x22, ...le16(mask));
}

/** ResourceTemplate() { descriptors }: a buffer ending with the end tag (checksum 0 = none). */
export function resourceTemplate(...descriptors: Uint8Array[]): Uint8Array {
  return buffer(concat(...descriptors, Uint8Array.of(0x79, 0x00)));
}
