/**
 * What one tsxen process is as a Xen host: the XenStore every domain shares, the table of live
 * domains (which event channels and grant tables link domains look each other up in), and domain
 * id allocation. Domain 0 is tsxen itself: backends and the toolstack act as dom0 and have no
 * XenDomain of their own.
 */
import { XenStore } from '../xen/xenstore/engine.js';
import type { XenDomain } from '../xen/domain.js';
import type { EventChannelDirectory, EventChannels } from '../xen/evtchn/event-channels.js';
import type { GrantDirectory, GrantTable, GuestPhysical } from '../xen/grant/grant-table.js';

export class XenHost implements EventChannelDirectory, GrantDirectory {
  readonly store = new XenStore();
  private readonly domains = new Map<number, XenDomain>();
  private nextDomid = 1;

  allocDomid(): number {
    while (this.domains.has(this.nextDomid)) this.nextDomid++;
    return this.nextDomid++;
  }

  add(d: XenDomain): void {
    if (this.domains.has(d.domid)) throw new Error(`domain ${d.domid} exists already`);
    this.domains.set(d.domid, d);
    this.store.introduce(d.domid);
  }

  /** Forgets a dead domain: its ports and grants disappear for everyone else. */
  remove(domid: number): void {
    if (!this.domains.delete(domid)) return;
    this.store.release(domid);
  }

  get(domid: number): XenDomain | undefined {
    return this.domains.get(domid);
  }

  lookup(domid: number): EventChannels | null {
    return this.domains.get(domid)?.evtchn ?? null;
  }

  domain(domid: number): { table: GrantTable; mem: GuestPhysical } | null {
    const d = this.domains.get(domid);
    if (!d) return null;
    return { table: d.gnttab, mem: { u8: d.mem.u8, isRamGfn: (g: number) => d.isRamGfn(g), wrote: (g: number) => d.wroteFrame(g) } };
  }
}
