/**
 * Addresses and big-endian field access for the host endpoint. IPv4 addresses are unsigned 32-bit
 * numbers (10.0.2.2 = 0x0a000202); MAC addresses are 6-byte arrays.
 */

export function rd16(b: Uint8Array, o: number): number {
  return (b[o] << 8) | b[o + 1];
}

export function rd32(b: Uint8Array, o: number): number {
  return ((b[o] << 24) | (b[o + 1] << 16) | (b[o + 2] << 8) | b[o + 3]) >>> 0;
}

export function wr16(b: Uint8Array, o: number, v: number): void {
  b[o] = (v >>> 8) & 0xff;
  b[o + 1] = v & 0xff;
}

export function wr32(b: Uint8Array, o: number, v: number): void {
  b[o] = (v >>> 24) & 0xff;
  b[o + 1] = (v >>> 16) & 0xff;
  b[o + 2] = (v >>> 8) & 0xff;
  b[o + 3] = v & 0xff;
}

/** "a.b.c.d" -> number; throws on anything else (configuration input, never guest input). */
export function parseIpv4Address(s: string): number {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(s);
  if (!m) throw new Error(`not an IPv4 address: ${s}`);
  const p = m.slice(1).map(Number);
  if (p.some((x) => x > 255)) throw new Error(`not an IPv4 address: ${s}`);
  return ((p[0] << 24) | (p[1] << 16) | (p[2] << 8) | p[3]) >>> 0;
}

export function formatIpv4(a: number): string {
  return `${a >>> 24}.${(a >>> 16) & 0xff}.${(a >>> 8) & 0xff}.${a & 0xff}`;
}

/** "52:54:..." (or with '-') -> 6 bytes; throws on anything else (configuration input). */
export function parseMac(s: string): Uint8Array {
  const p = s.split(/[:-]/);
  if (p.length !== 6 || p.some((x) => !/^[0-9a-fA-F]{2}$/.test(x))) throw new Error(`not a MAC address: ${s}`);
  return Uint8Array.from(p.map((x) => parseInt(x, 16)));
}

export function formatMac(b: Uint8Array, o = 0): string {
  const h: string[] = [];
  for (let i = 0; i < 6; i++) h.push(b[o + i].toString(16).padStart(2, '0'));
  return h.join(':');
}

export function macEquals(a: Uint8Array, ao: number, b: Uint8Array, bo = 0): boolean {
  for (let i = 0; i < 6; i++) if (a[ao + i] !== b[bo + i]) return false;
  return true;
}

export const BROADCAST_MAC = Uint8Array.of(0xff, 0xff, 0xff, 0xff, 0xff, 0xff);
export const IPV4_BROADCAST = 0xffffffff;

/** 0.0.0.0/8, 127/8, multicast and class E (incl. the limited broadcast): never a host's source. */
export function isBogusSource(a: number): boolean {
  const top = a >>> 24;
  return top === 0 || top === 127 || top >= 224;
}
