/**
 * DHCP messages (RFC 2131 section 2, options per RFC 2132): decoding a client's message with every
 * length checked, and encoding the server's replies.
 *
 * Decoding follows the RFCs: pad (0) and end (255) options, an option's length byte bounding its
 * data, options repeated in one message concatenated (RFC 3396), and the sname/file fields read as
 * further options when option 52 (overload) says so. An option whose length runs past its area,
 * a missing magic cookie or a missing/invalid message type makes the message malformed; so does a
 * known option of the wrong size (requested address, server id, client id, overload).
 */
import { rd16, rd32, wr16, wr32 } from './addr.js';
import type { DropReason } from './counters.js';

export const DHCP_SERVER_PORT = 67, DHCP_CLIENT_PORT = 68;
export const BOOTREQUEST = 1, BOOTREPLY = 2;
export const DHCPDISCOVER = 1, DHCPOFFER = 2, DHCPREQUEST = 3, DHCPDECLINE = 4, DHCPACK = 5, DHCPNAK = 6, DHCPRELEASE = 7, DHCPINFORM = 8;
export const OPT_PAD = 0, OPT_SUBNET_MASK = 1, OPT_ROUTER = 3, OPT_BROADCAST = 28, OPT_REQUESTED_IP = 50, OPT_LEASE_TIME = 51,
  OPT_OVERLOAD = 52, OPT_MESSAGE_TYPE = 53, OPT_SERVER_ID = 54, OPT_PARAM_LIST = 55, OPT_MESSAGE = 56, OPT_MAX_SIZE = 57,
  OPT_RENEWAL_TIME = 58, OPT_REBINDING_TIME = 59, OPT_CLIENT_ID = 61, OPT_END = 255;
export const BOOTP_FLAG_BROADCAST = 0x8000;
const MAGIC = 0x63825363;
/** Fixed part: op .. file (236 bytes), then the magic cookie. */
const FIXED_LEN = 236, OPTIONS_AT = 240;
/** RFC 1542 3.1: BOOTP messages are at least 300 bytes; some clients insist. */
const MIN_MESSAGE = 300;

export interface DhcpMessage {
  op: number;
  xid: number;
  secs: number;
  flags: number;
  ciaddr: number;
  yiaddr: number;
  siaddr: number;
  giaddr: number;
  /** Client hardware address (Ethernet: htype 1, hlen 6; nothing else is accepted). */
  chaddr: Uint8Array;
  type: number;
  options: Map<number, Uint8Array>;
}

/** Reads options from data[start, end) into `opts`; false if an option's length overruns. */
function readOptions(data: Uint8Array, start: number, end: number, opts: Map<number, Uint8Array>): boolean {
  let i = start;
  while (i < end) {
    const code = data[i];
    if (code === OPT_END) return true;
    if (code === OPT_PAD) {
      i++;
      continue;
    }
    if (i + 2 > end) return false;
    const len = data[i + 1];
    if (i + 2 + len > end) return false;
    const v = data.subarray(i + 2, i + 2 + len);
    const prev = opts.get(code);
    if (prev === undefined) opts.set(code, v.slice());
    else {
      const c = new Uint8Array(prev.length + len);
      c.set(prev);
      c.set(v, prev.length);
      opts.set(code, c);
    }
    i += 2 + len;
  }
  return true; // ran to the end of the area without an end option: tolerated, as servers do
}

const FIXED_SIZES: ReadonlyMap<number, number> = new Map([
  [OPT_MESSAGE_TYPE, 1], [OPT_REQUESTED_IP, 4], [OPT_SERVER_ID, 4], [OPT_OVERLOAD, 1], [OPT_MAX_SIZE, 2], [OPT_LEASE_TIME, 4],
]);

/** Decodes a client's message: data[start, end) is the UDP payload. */
export function decodeDhcp(data: Uint8Array, start: number, end: number): DhcpMessage | DropReason {
  if (end - start < OPTIONS_AT) return 'dhcp-truncated';
  const m = data.subarray(start, end);
  if (m[0] !== BOOTREQUEST) return 'dhcp-format';
  if (m[1] !== 1 || m[2] !== 6) return 'dhcp-unsupported'; // only Ethernet clients
  if ((m[28] & 1) !== 0) return 'dhcp-format'; // a multicast client hardware address
  if (rd32(m, FIXED_LEN) !== MAGIC) return 'dhcp-format'; // plain BOOTP is not served
  const options = new Map<number, Uint8Array>();
  if (!readOptions(m, OPTIONS_AT, m.length, options)) return 'dhcp-options';
  const overload = options.get(OPT_OVERLOAD);
  if (overload !== undefined && overload.length === 1) {
    // RFC 2132 9.3: 1 = file holds options, 2 = sname, 3 = both (file first).
    if ((overload[0] & 1) !== 0 && !readOptions(m, 108, 236, options)) return 'dhcp-options';
    if ((overload[0] & 2) !== 0 && !readOptions(m, 44, 108, options)) return 'dhcp-options';
  }
  for (const [code, size] of FIXED_SIZES) {
    const v = options.get(code);
    if (v !== undefined && v.length !== size) return 'dhcp-options';
  }
  const cid = options.get(OPT_CLIENT_ID);
  if (cid !== undefined && cid.length < 2) return 'dhcp-options'; // RFC 2132 9.14: minimum length 2
  const type = options.get(OPT_MESSAGE_TYPE);
  if (type === undefined || type[0] < DHCPDISCOVER || type[0] > DHCPINFORM) return 'dhcp-format';
  return {
    op: m[0], xid: rd32(m, 4), secs: rd16(m, 8), flags: rd16(m, 10),
    ciaddr: rd32(m, 12), yiaddr: rd32(m, 16), siaddr: rd32(m, 20), giaddr: rd32(m, 24),
    chaddr: m.slice(28, 34), type: type[0], options,
  };
}

export function optionU32(m: DhcpMessage, code: number): number | undefined {
  const v = m.options.get(code);
  return v !== undefined && v.length === 4 ? rd32(v, 0) : undefined;
}

export interface DhcpReplyFields {
  type: number;
  xid: number;
  flags: number;
  ciaddr: number;
  yiaddr: number;
  giaddr: number;
  chaddr: Uint8Array;
  /** Options after the message type, in order: [code, value]. */
  options: [number, Uint8Array][];
}

export function u32(v: number): Uint8Array {
  const b = new Uint8Array(4);
  wr32(b, 0, v);
  return b;
}

/** Encodes a BOOTREPLY with the message type first and an end option, padded to 300 bytes. */
export function encodeDhcp(r: DhcpReplyFields): Uint8Array {
  let optLen = 3 + 1;
  for (const [, v] of r.options) optLen += 2 + v.length;
  const out = new Uint8Array(Math.max(MIN_MESSAGE, OPTIONS_AT + optLen));
  out[0] = BOOTREPLY;
  out[1] = 1;
  out[2] = 6;
  wr32(out, 4, r.xid);
  wr16(out, 10, r.flags);
  wr32(out, 12, r.ciaddr);
  wr32(out, 16, r.yiaddr);
  wr32(out, 24, r.giaddr);
  out.set(r.chaddr.subarray(0, 6), 28);
  wr32(out, FIXED_LEN, MAGIC);
  let i = OPTIONS_AT;
  out[i++] = OPT_MESSAGE_TYPE;
  out[i++] = 1;
  out[i++] = r.type;
  for (const [code, v] of r.options) {
    out[i++] = code;
    out[i++] = v.length;
    out.set(v, i);
    i += v.length;
  }
  out[i] = OPT_END;
  return out;
}
