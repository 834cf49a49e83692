/**
 * The DHCP server's address pool: at most one lease per client (keyed by its client identifier,
 * or its MAC when it sends none) and one client per address, so the table can never hold more
 * records than the pool has addresses, however many clients a guest invents.
 *
 * A lease is "offered" (held briefly between OFFER and REQUEST) or "bound". An expired lease stays
 * as the client's binding, so a client coming back gets its old address, until the address is
 * needed for someone else. Declined addresses (a client found them in use, RFC 2131 3.1.5) are
 * kept out of the pool for a while.
 */

export interface Lease {
  readonly client: string;
  readonly ip: number;
  mac: Uint8Array;
  state: 'offered' | 'bound';
  /** Milliseconds on the server's clock. */
  expires: number;
}

export class LeasePool {
  private readonly byClient = new Map<string, Lease>();
  private readonly byIp = new Map<number, Lease>();
  private readonly declined = new Map<number, number>();

  constructor(readonly first: number, readonly last: number, private readonly declineHoldMs: number) {
    if (last < first) throw new Error('empty DHCP pool');
  }

  get size(): number {
    return this.byClient.size;
  }

  inPool(ip: number): boolean {
    return ip >= this.first && ip <= this.last;
  }

  find(client: string): Lease | undefined {
    return this.byClient.get(client);
  }

  holder(ip: number): Lease | undefined {
    return this.byIp.get(ip);
  }

  /** Can `client` have `ip` now: in the pool, not declined, and free, expired or already its own? */
  available(ip: number, client: string, now: number): boolean {
    if (!this.inPool(ip)) return false;
    const d = this.declined.get(ip);
    if (d !== undefined) {
      if (d > now) return false;
      this.declined.delete(ip);
    }
    const l = this.byIp.get(ip);
    return l === undefined || l.client === client || l.expires <= now;
  }

  /**
   * The address to offer `client`: its current binding, else `preferred` if available, else the
   * lowest never-used address, else the longest-expired lease's. null if the pool is exhausted.
   */
  choose(client: string, preferred: number | undefined, now: number): number | null {
    const own = this.byClient.get(client);
    if (own !== undefined && this.available(own.ip, client, now)) return own.ip;
    if (preferred !== undefined && this.available(preferred, client, now)) return preferred;
    let oldest: Lease | undefined;
    for (let ip = this.first; ip <= this.last; ip++) {
      const l = this.byIp.get(ip);
      if (l === undefined) {
        if (this.available(ip, client, now)) return ip;
      } else if (l.expires <= now && (oldest === undefined || l.expires < oldest.expires)) {
        if (!this.declined.has(ip)) oldest = l;
      }
    }
    return oldest !== undefined ? oldest.ip : null;
  }

  /** Records `client` at `ip` (which must be available to it), replacing its and the address's old records. */
  set(client: string, ip: number, mac: Uint8Array, state: Lease['state'], expires: number): Lease {
    this.remove(client);
    const prev = this.byIp.get(ip);
    if (prev !== undefined) this.remove(prev.client);
    const l: Lease = { client, ip, mac: mac.slice(), state, expires };
    this.byClient.set(client, l);
    this.byIp.set(ip, l);
    return l;
  }

  remove(client: string): void {
    const l = this.byClient.get(client);
    if (l === undefined) return;
    this.byClient.delete(client);
    this.byIp.delete(l.ip);
  }

  /**
   * `client` declined `ip`, which it holds: forget the lease and keep the address out of use for a
   * while. A client cannot decline an address it was not given (false).
   */
  decline(client: string, ip: number, now: number): boolean {
    const l = this.byIp.get(ip);
    if (l === undefined || l.client !== client) return false;
    this.remove(client);
    this.declined.set(ip, now + this.declineHoldMs);
    return true;
  }

  leases(): Lease[] {
    return [...this.byClient.values()];
  }
}
