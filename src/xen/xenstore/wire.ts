/**
 * The XenStore wire protocol (xen/include/public/io/xs_wire.h, docs/misc/xenstore.txt;
 * ../shared/docs/xen-abi.md 6.2): a 16-byte little-endian header (struct xsd_sockmsg) and up to
 * XENSTORE_PAYLOAD_MAX bytes of payload, in both directions.
 *
 * `XsParser` turns a byte stream (from a ring or a socket) into whole messages. Its input is
 * hostile: it never throws, and never allocates more than one maximum-size payload, whatever a
 * header claims. An oversize length is a protocol violation that Xen answers by dropping the
 * connection, so the parser stops and reports it instead of trying to resynchronise.
 */

/** enum xsd_sockmsg_type. 20 was XS_RESTRICT, removed and now invalid. */
export const enum XsType {
  Control = 0, // also XS_DEBUG
  Directory = 1,
  Read = 2,
  GetPerms = 3,
  Watch = 4,
  Unwatch = 5,
  TransactionStart = 6,
  TransactionEnd = 7,
  Introduce = 8,
  Release = 9,
  GetDomainPath = 10,
  Write = 11,
  Mkdir = 12,
  Rm = 13,
  SetPerms = 14,
  WatchEvent = 15,
  Error = 16,
  IsDomainIntroduced = 17,
  Resume = 18,
  SetTarget = 19,
  ResetWatches = 21,
  DirectoryPart = 22,
  GetFeature = 23,
  SetFeature = 24,
  GetQuota = 25,
  SetQuota = 26,
  TypeCount = 27,
  Invalid = 0xffff,
}
export const XS_DEBUG = XsType.Control;

/** The error names of xs_wire.h's xsd_errors[], in table order. Sent as "E<NAME>\0". */
export const XS_ERROR_NAMES = [
  'EINVAL', 'EACCES', 'EEXIST', 'EISDIR', 'ENOENT', 'ENOMEM', 'ENOSPC', 'EIO', 'ENOTEMPTY', 'ENOSYS',
  'EROFS', 'EBUSY', 'EAGAIN', 'EISCONN', 'E2BIG', 'EPERM',
] as const;
export type XsErrorName = (typeof XS_ERROR_NAMES)[number];

export const XSD_SOCKMSG_SIZE = 16;
export const XENSTORE_PAYLOAD_MAX = 4096;
export const XENSTORE_ABS_PATH_MAX = 3072;
export const XENSTORE_REL_PATH_MAX = 2048;

/** One message, either direction. `payload.length` is the header's len. */
export interface XsMsg {
  type: number;
  reqId: number;
  txId: number;
  payload: Uint8Array;
}

/** Thrown inside the engine to answer a request with an error; never escapes `XenStore.handle`. */
export class XsError extends Error {
  constructor(readonly code: XsErrorName) {
    super(code);
  }
}

function putU32(b: Uint8Array, o: number, v: number): void {
  b[o] = v & 0xff;
  b[o + 1] = (v >>> 8) & 0xff;
  b[o + 2] = (v >>> 16) & 0xff;
  b[o + 3] = (v >>> 24) & 0xff;
}

function getU32(b: Uint8Array, o: number): number {
  return (b[o] | (b[o + 1] << 8) | (b[o + 2] << 16) | (b[o + 3] << 24)) >>> 0;
}

/** Header + payload as one byte array. */
export function encodeMsg(m: XsMsg): Uint8Array {
  const out = new Uint8Array(XSD_SOCKMSG_SIZE + m.payload.length);
  putU32(out, 0, m.type);
  putU32(out, 4, m.reqId);
  putU32(out, 8, m.txId);
  putU32(out, 12, m.payload.length);
  out.set(m.payload, XSD_SOCKMSG_SIZE);
  return out;
}

/** Saved form of a parser holding part of a message. */
export interface XsParserState {
  header: number[];
  payload: number[] | null;
  error: string | null;
}

/**
 * Incremental message parser. Feed it bytes; it consumes up to the end of the current message and
 * then stops, so the caller can handle each message (and apply backpressure) before feeding more.
 */
export class XsParser {
  private readonly header = new Uint8Array(XSD_SOCKMSG_SIZE);
  private headerFill = 0;
  private payload: Uint8Array | null = null;
  private payloadFill = 0;
  private ready: XsMsg | null = null;
  private err: string | null = null;

  /** Set once the stream is unusable (oversize length); the parser then consumes nothing. */
  get error(): string | null {
    return this.err;
  }

  /** True while a message is partly received (used by reconnection and diagnostics). */
  get partial(): boolean {
    return this.headerFill > 0;
  }

  /**
   * Consumes bytes from `src[start..end)` and returns how many it took. Stops after completing a
   * message (collect it with `take()`), on error, or while a completed message is still untaken.
   */
  feed(src: Uint8Array, start = 0, end = src.length): number {
    if (this.err !== null || this.ready !== null) return 0;
    let i = start;
    if (this.headerFill < XSD_SOCKMSG_SIZE) {
      const n = Math.min(XSD_SOCKMSG_SIZE - this.headerFill, end - i);
      if (n <= 0) return 0;
      this.header.set(src.subarray(i, i + n), this.headerFill);
      this.headerFill += n;
      i += n;
      if (this.headerFill < XSD_SOCKMSG_SIZE) return i - start;
      const len = getU32(this.header, 12);
      if (len > XENSTORE_PAYLOAD_MAX) {
        this.err = `payload length ${len} exceeds ${XENSTORE_PAYLOAD_MAX}`;
        return i - start;
      }
      this.payload = new Uint8Array(len);
      this.payloadFill = 0;
    }
    const p = this.payload!;
    const n = Math.min(p.length - this.payloadFill, end - i);
    if (n > 0) {
      p.set(src.subarray(i, i + n), this.payloadFill);
      this.payloadFill += n;
      i += n;
    }
    if (this.payloadFill === p.length) {
      this.ready = { type: getU32(this.header, 0), reqId: getU32(this.header, 4), txId: getU32(this.header, 8), payload: p };
      this.headerFill = 0;
      this.payload = null;
      this.payloadFill = 0;
    }
    return i - start;
  }

  /** The completed message, once; null if none is complete. */
  take(): XsMsg | null {
    const m = this.ready;
    this.ready = null;
    return m;
  }

  /** Drops any partial or untaken message and clears the error (ring reconnection). */
  reset(): void {
    this.headerFill = 0;
    this.payload = null;
    this.payloadFill = 0;
    this.ready = null;
    this.err = null;
  }

  save(): XsParserState {
    // An untaken message cannot exist between calls of the ring glue, so only the partial one is saved.
    return {
      header: Array.from(this.header.subarray(0, this.headerFill)),
      payload: this.payload ? Array.from(this.payload.subarray(0, this.payloadFill)) : null,
      error: this.err,
    };
  }

  restore(s: XsParserState): void {
    this.reset();
    this.err = s.error;
    this.header.set(s.header.slice(0, XSD_SOCKMSG_SIZE));
    this.headerFill = Math.min(s.header.length, XSD_SOCKMSG_SIZE);
    if (this.headerFill === XSD_SOCKMSG_SIZE && this.err === null) {
      const len = getU32(this.header, 12);
      if (len > XENSTORE_PAYLOAD_MAX) throw new Error('xenstore parser: bad saved header length');
      this.payload = new Uint8Array(len);
      const got = s.payload ?? [];
      this.payload.set(got.slice(0, len));
      this.payloadFill = Math.min(got.length, len);
    }
  }
}

/** Parses a whole buffer (tests, sockets): every complete message, and the error if one occurred. */
export function parseAll(bytes: Uint8Array): { messages: XsMsg[]; error: string | null; leftover: number } {
  const p = new XsParser();
  const messages: XsMsg[] = [];
  let i = 0;
  for (;;) {
    const n = p.feed(bytes, i);
    i += n;
    const m = p.take();
    if (m) messages.push(m);
    else if (n === 0) break;
  }
  return { messages, error: p.error, leftover: bytes.length - i };
}
