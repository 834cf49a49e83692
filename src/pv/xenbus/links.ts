/**
 * How a backend inside tsxen ("domain 0") reaches a frontend's shared resources, once the
 * frontend has named them in XenStore:
 *
 * - a ring page the frontend granted to the backend domain: the grant is checked by the frontend's
 *   GrantTable (type, grantee, writable, RAM) and held for the whole connection, so GTF_reading/
 *   GTF_writing stay set and the guest cannot revoke the ring under the backend (xen-abi.md 5.3);
 * - an event channel the frontend allocated unbound for the backend domain: the backend takes it
 *   over (EventChannels.connectBackend, the in-hypervisor counterpart of bind_interdomain), gets
 *   a callback on every EVTCHNOP_send, and raises the port for the guest with notifyFromBackend,
 *   which does nothing once the guest closed or re-used the port.
 *
 * Nothing here throws on guest input: a failure is returned as a message for the device's error
 * node.
 */
import { logOnce } from '../../base/log.js';
import type { EventChannels } from '../../xen/evtchn/event-channels.js';
import type { GrantAccess, GrantTable } from '../../xen/grant/grant-table.js';
import type { GrantPort } from '../block/blkback.js';

/** The frontend domain as the backends see it; a XenDomain satisfies this. */
export interface PvGuest {
  readonly domid: number;
  readonly evtchn: EventChannels;
  readonly gnttab: GrantTable;
  readonly mem: { readonly u8: Uint8Array };
  isRamGfn(gfn: number): boolean;
}

/** Runs deferred work (the machine's event loop); by default work runs at once. */
export type Scheduler = (run: () => void) => void;

const GNTST_NAMES: Record<number, string> = {
  [-1]: 'not a usable grant', [-2]: 'bad domain', [-3]: 'bad grant reference', [-8]: 'permission denied', [-9]: 'bad page',
};

/** The grant accesses a backend in `backendDomid` makes to the frontend's pages. */
export function grantPortFor(guest: PvGuest, backendDomid: number): GrantPort {
  return {
    acquire: (ref, write) => guest.gnttab.acquire(ref, backendDomid, write),
    release: (a) => guest.gnttab.release(a),
  };
}

/** A ring page held for the life of a connection. */
export class MappedRing {
  private constructor(private readonly guest: PvGuest, private access: GrantAccess | null) {}

  /** Maps grant `ref` read/write; a message for the error node if the frontend got it wrong. */
  static map(guest: PvGuest, ref: number, backendDomid: number): MappedRing | string {
    const a = guest.gnttab.acquire(ref, backendDomid, true);
    if (typeof a === 'number') return `mapping ring-ref ${ref}: ${GNTST_NAMES[a] ?? `grant status ${a}`}`;
    return new MappedRing(guest, a);
  }

  get page(): Uint8Array {
    if (this.access === null) throw new Error('ring used after release');
    return this.access.page;
  }

  release(): void {
    if (this.access === null) return;
    this.guest.gnttab.release(this.access);
    this.access = null;
  }
}

/**
 * The backend's end of the frontend's event channel. `onEvent` runs for every notification from
 * the guest (through `schedule`, coalesced, if one is given); if it throws, `onError` gets the
 * exception and nothing reaches the guest's hypercall.
 */
export class BackendPort {
  private bound = true;
  private queued = false;
  private readonly consumer: () => void;

  private constructor(
    private readonly guest: PvGuest,
    readonly port: number,
    onEvent: () => void,
    onError: (e: unknown) => void,
    schedule: Scheduler | null,
  ) {
    const run = () => {
      this.queued = false;
      if (!this.bound) return;
      try {
        onEvent();
      } catch (e) {
        try {
          onError(e);
        } catch (e2) {
          logOnce('error', 'xenbus', `port-error:${guest.domid}:${port}`, `xenbus: dom${guest.domid} port ${port}: error handler failed: ${String(e2)}`);
        }
      }
    };
    this.consumer = schedule === null ? run : () => {
      if (this.queued) return;
      this.queued = true;
      schedule(run);
    };
  }

  /** Takes over the frontend's unbound port; a message for the error node if it cannot. */
  static bind(
    guest: PvGuest, port: number, backendDomid: number, onEvent: () => void, onError: (e: unknown) => void,
    schedule: Scheduler | null = null,
  ): BackendPort | string {
    const p = new BackendPort(guest, port, onEvent, onError, schedule);
    const r = guest.evtchn.connectBackend(port, backendDomid, p.consumer);
    if (r < 0) return `binding event-channel ${port}: not an unbound port of dom${guest.domid} for dom${backendDomid}`;
    return p;
  }

  /** Raises the port for the guest; false once the guest has closed it. */
  notify(): boolean {
    return this.bound && this.guest.evtchn.notifyFromBackend(this.port, this.consumer);
  }

  /** Gives the port back (unbound to the backend domain again, unless the guest closed it). */
  unbind(): void {
    if (!this.bound) return;
    this.bound = false;
    this.guest.evtchn.disconnectBackend(this.port, this.consumer);
  }
}
