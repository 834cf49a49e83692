/**
 * Test support: a guest domain with real EventChannels and a real GrantTable over a
 * PhysicalMemory (a XenDomain), and the guest-side primitives Linux's drivers use: grant a page to
 * another domain (write domid and frame, then flags), allocate an unbound port, notify, look at
 * pending bits, and a XenStore connection with the guest's domid (the same semantics its ring
 * gets). Used by the scripted frontends in this folder.
 */
import { PhysicalMemory } from '../../../memory/physical.js';
import { Cpu } from '../../../cpu/cpu.js';
import { XenDomain } from '../../../xen/domain.js';
import { DOMID_SELF, type EventChannels } from '../../../xen/evtchn/event-channels.js';
import { GTF_PERMIT_ACCESS, GTF_READONLY } from '../../../xen/grant/grant-table.js';
import { SharedBits } from '../../../xen/evtchn/shared-info.js';
import type { XenStore } from '../../../xen/xenstore/engine.js';
import { XsClient } from '../../../xen/xenstore/client.js';

/** domid -> event channels, shared by the guests of one test. */
export type Directory = Map<number, EventChannels>;

const RAM = 4 << 20;
const GRANT_FRAME_GFN = 16, SHINFO_GFN = 17, FIRST_FREE_GFN = 32;

export class TestGuest {
  readonly mem = new PhysicalMemory(RAM);
  readonly dom: XenDomain;
  readonly xs: XsClient;
  private nextGfn = FIRST_FREE_GFN;
  private nextRef = 8;
  kicks = 0;

  constructor(store: XenStore, dir: Directory, readonly domid: number, layoutBits: 32 | 64 = 32) {
    const cpu = new Cpu(this.mem, { ioRead: () => 0, ioWrite: () => {}, acknowledgeInterrupt: () => -1 });
    this.dom = new XenDomain({
      domid, name: `guest${domid}`, mem: this.mem, vcpus: [cpu], systemTimeNs: () => 0, wallclockAtZeroNs: 0, tscHz: 1e9,
      timers: { schedule: () => () => {} }, directory: { lookup: (d) => dir.get(d) ?? null }, layoutBits,
      onShutdown: () => {}, onKick: () => this.kicks++, debugOutput: () => {},
    });
    dir.set(domid, this.dom.evtchn);
    this.dom.gnttab.setFrame(0, GRANT_FRAME_GFN);
    this.dom.mapSharedInfo(SHINFO_GFN);
    this.xs = new XsClient(store, domid);
  }

  get evtchn(): EventChannels {
    return this.dom.evtchn;
  }

  /** A fresh zeroed page of guest RAM. */
  allocPage(): number {
    const g = this.nextGfn++;
    this.page(g).fill(0);
    return g;
  }

  page(gfn: number): Uint8Array {
    return this.mem.u8.subarray(gfn * 4096, gfn * 4096 + 4096);
  }

  /** Grants `gfn` to `to` the way Linux does (domid and frame first, then the flags). */
  grant(gfn: number, to = 0, readOnly = false): number {
    const ref = this.nextRef++;
    this.writeGrant(ref, gfn, to, readOnly);
    return ref;
  }

  writeGrant(ref: number, gfn: number, to: number, readOnly = false): void {
    const a = GRANT_FRAME_GFN * 4096 + ref * 8;
    const dv = new DataView(this.mem.u8.buffer);
    dv.setUint16(a + 2, to, true);
    dv.setUint32(a + 4, gfn, true);
    dv.setUint16(a, GTF_PERMIT_ACCESS | (readOnly ? GTF_READONLY : 0), true);
  }

  grantFlags(ref: number): number {
    return new DataView(this.mem.u8.buffer).getUint16(GRANT_FRAME_GFN * 4096 + ref * 8, true);
  }

  /** EVTCHNOP_alloc_unbound(DOMID_SELF, remote). */
  allocUnbound(remote = 0): number {
    return this.evtchn.allocUnbound(DOMID_SELF, remote);
  }

  private bits(): SharedBits {
    return new SharedBits(this.dom.layout, this.dom.sharedInfo);
  }

  /** Tests and clears the pending bit of a port (what the guest's upcall handler does). */
  takePending(port: number): boolean {
    const b = this.bits();
    const was = b.isPending(port);
    if (was) b.clearPending(port);
    return was;
  }
}

/** xenbus_switch_state as Linux does it: only if the node exists, in a transaction. */
export function frontSwitchState(xs: XsClient, dir: string, state: number): void {
  for (;;) {
    const tx = xs.transactionStart();
    if (xs.readString(`${dir}/state`, tx) === null) {
      xs.transactionEnd(tx, false);
      return;
    }
    xs.write(`${dir}/state`, String(state), tx);
    if (xs.transactionEnd(tx, true)) return;
  }
}

/** A serialised watch handler (Linux runs all watch callbacks on one xenwatch thread). */
export class Serial {
  private busy = false;
  private again = false;
  constructor(private readonly fn: () => void) {}
  run(): void {
    if (this.busy) {
      this.again = true;
      return;
    }
    this.busy = true;
    try {
      do {
        this.again = false;
        this.fn();
      } while (this.again);
    } finally {
      this.busy = false;
    }
  }
}
