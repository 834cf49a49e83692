/**
 * Diagnostics of the host endpoint: what came in, what went out, what was answered, and why
 * frames were dropped. A frame is "ignored" when it is well formed but not for the endpoint
 * (another guest's unicast, IPv6, a multicast group, a packet to route elsewhere); it is "dropped"
 * when it is malformed or unsupported, with the reason counted in `drops`.
 */

export const DROP_REASONS = [
  'runt', // shorter than an Ethernet header
  'eth-source', // a multicast or broadcast source MAC
  'arp-truncated', 'arp-format',
  'ip-truncated', 'ip-header', 'ip-length', 'ip-checksum', 'ip-fragment', 'ip-source',
  'icmp-truncated', 'icmp-checksum',
  'udp-truncated', 'udp-length', 'udp-checksum',
  'dhcp-truncated', 'dhcp-format', 'dhcp-options', 'dhcp-unsupported',
  'internal', // a bug: deliver() caught an exception
] as const;
export type DropReason = (typeof DROP_REASONS)[number];

export interface HostEndpointCounters {
  framesIn: number;
  framesOut: number;
  ignored: number;
  dropped: number;
  drops: Record<DropReason, number>;
  arpRequests: number;
  arpReplies: number;
  icmpEchoRequests: number;
  icmpEchoReplies: number;
  /** Well-formed DHCP messages received, and what the server did with them. */
  dhcpIn: number;
  dhcpOffers: number;
  dhcpAcks: number;
  dhcpNaks: number;
  dhcpReleases: number;
  dhcpDeclines: number;
  /** DISCOVERs left unanswered because every pool address is leased. */
  dhcpPoolExhausted: number;
}

export function newCounters(): HostEndpointCounters {
  const drops = {} as Record<DropReason, number>;
  for (const r of DROP_REASONS) drops[r] = 0;
  return {
    framesIn: 0, framesOut: 0, ignored: 0, dropped: 0, drops,
    arpRequests: 0, arpReplies: 0, icmpEchoRequests: 0, icmpEchoReplies: 0,
    dhcpIn: 0, dhcpOffers: 0, dhcpAcks: 0, dhcpNaks: 0, dhcpReleases: 0, dhcpDeclines: 0, dhcpPoolExhausted: 0,
  };
}
