/** The host endpoint of the virtual switch (see endpoint.ts). */
export { HostEndpoint, DEFAULT_HOST_MAC, type HostEndpointOptions } from './endpoint.js';
export type { HostEndpointCounters, DropReason } from './counters.js';
export type { Lease } from './leases.js';
export { formatIpv4, parseIpv4Address } from './addr.js';
