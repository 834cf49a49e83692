/**
 * ARP (RFC 826) for the host endpoint: it answers requests for its own IPv4 address and nothing
 * else (it is not a proxy, and it keeps no cache: every reply it sends goes to the MAC the request
 * came from).
 */
import { rd16, rd32, wr16, wr32 } from './addr.js';
import { ETH_HLEN, ETHERTYPE_ARP, newFrame } from './ethernet.js';
import type { DropReason } from './counters.js';

const ARP_LEN = 28;
export const ARP_REQUEST = 1, ARP_REPLY = 2;

export interface ArpPacket {
  op: number;
  senderMac: Uint8Array;
  senderIp: number;
  targetIp: number;
}

/** Ethernet/IPv4 ARP only (htype 1, ptype 0x0800, hlen 6, plen 4). */
export function parseArp(frame: Uint8Array): ArpPacket | DropReason {
  const a = ETH_HLEN;
  if (frame.length < a + ARP_LEN) return 'arp-truncated';
  if (rd16(frame, a) !== 1 || rd16(frame, a + 2) !== 0x0800 || frame[a + 4] !== 6 || frame[a + 5] !== 4) return 'arp-format';
  const senderMac = frame.slice(a + 8, a + 14);
  if ((senderMac[0] & 1) !== 0) return 'arp-format'; // a multicast/broadcast sender hardware address
  return { op: rd16(frame, a + 6), senderMac, senderIp: rd32(frame, a + 14), targetIp: rd32(frame, a + 24) };
}

/** The reply to `req` saying `ip` is at `mac`, sent straight to the requester. */
export function arpReply(req: ArpPacket, mac: Uint8Array, ip: number): Uint8Array {
  const f = newFrame(req.senderMac, mac, ETHERTYPE_ARP, ARP_LEN);
  const a = ETH_HLEN;
  wr16(f, a, 1);
  wr16(f, a + 2, 0x0800);
  f[a + 4] = 6;
  f[a + 5] = 4;
  wr16(f, a + 6, ARP_REPLY);
  f.set(mac, a + 8);
  wr32(f, a + 14, ip);
  f.set(req.senderMac, a + 18);
  wr32(f, a + 24, req.senderIp);
  return f;
}
