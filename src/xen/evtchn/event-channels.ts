/**
 * One domain's event channels, 2-level ABI (xen/common/event_channel.c and event_2l.c semantics,
 * as summarised in ../shared/docs/xen-abi.md 3.5, 4.4, 4.7).
 *
 * The port table lives here, in the hypervisor; the pending and mask bits live in the guest's
 * shared_info page (SharedBits). Every operation validates its arguments as coming from a hostile
 * guest and answers with a Xen errno instead of throwing.
 *
 * Interdomain channels connect two EventChannels objects through an `EventChannelDirectory`.
 * Backends inside tsxen attach to a port as "Xen-attached" consumers: sending on such a port calls
 * their notify function instead of setting a bit in another guest.
 */
import { SharedBits, type VcpuInfoRef } from './shared-info.js';

export const enum PortState {
  Free = 0,
  Unbound = 1,
  Interdomain = 2,
  Pirq = 3,
  Virq = 4,
  Ipi = 5,
  /** Bound to a consumer inside tsxen (XenStore, console, a PV backend). */
  Attached = 6,
}

/** Xen errno values (returned negated by hypercalls). */
export const XEN_EINVAL = 22, XEN_EEXIST = 17, XEN_ENOSPC = 28, XEN_ESRCH = 3, XEN_EPERM = 1, XEN_ENOENT = 2,
  XEN_EBUSY = 16;

export const DOMID_SELF = 0x7ff0;
export const NR_VIRQS = 24;
/** VIRQs that are per vCPU (may be bound once on each vCPU). */
const PER_VCPU_VIRQ = new Set([0 /* TIMER */, 1 /* DEBUG */, 6 /* XENOPROF */, 13 /* XENPMU */]);

/** Result of an operation: a value (port number etc.) or a negative Xen errno. */
export type EvtResult = number;

export interface EventChannelDirectory {
  /** The event channels of a live domain, or null. */
  lookup(domid: number): EventChannels | null;
}

export interface EventSink {
  /** The vcpu_info location of a vCPU, or null if the vCPU does not exist. */
  vcpuInfo(vcpu: number): VcpuInfoRef | null;
  /** An upcall became pending on `vcpu`: wake it from HLT and make the callback deliverable. */
  kick(vcpu: number): void;
}

export interface PortStatus {
  state: PortState;
  vcpu: number;
  remoteDom: number;
  remotePort: number;
  virq: number;
}

export class EventChannels {
  private readonly state: Uint8Array;
  private readonly vcpu: Uint16Array;
  private readonly remoteDom: Uint16Array;
  private readonly remotePort: Uint32Array;
  private readonly virq: Uint8Array;
  private readonly attached = new Map<number, () => void>();
  /** Port bound to (virq, vcpu), for VIRQ delivery. */
  private readonly virqPort = new Map<number, number>();
  /** Counts of notifications for the cost breakdown benchmarks. */
  sends = 0;
  upcalls = 0;

  constructor(
    readonly domid: number,
    private bits: SharedBits,
    private readonly sink: EventSink,
    private readonly directory: EventChannelDirectory,
    readonly nrVcpus = 1,
  ) {
    const n = bits.maxPorts;
    this.state = new Uint8Array(n);
    this.vcpu = new Uint16Array(n);
    this.remoteDom = new Uint16Array(n);
    this.remotePort = new Uint32Array(n);
    this.virq = new Uint8Array(n);
  }

  get maxPorts(): number {
    return this.state.length;
  }

  /** Switches to another shared_info mapping (the guest re-mapped it, or the layout latched). */
  setSharedBits(bits: SharedBits): void {
    this.bits = bits;
  }

  private validPort(p: number): boolean {
    return Number.isInteger(p) && p > 0 && p < this.state.length;
  }

  private allocPort(): number {
    for (let p = 1; p < this.state.length; p++) if (this.state[p] === PortState.Free) return p;
    return -XEN_ENOSPC;
  }

  private resolveDom(d: number): number {
    return d === DOMID_SELF ? this.domid : d;
  }

  status(port: number): PortStatus | null {
    if (!this.validPort(port)) return null;
    return {
      state: this.state[port], vcpu: this.vcpu[port], remoteDom: this.remoteDom[port],
      remotePort: this.remotePort[port], virq: this.virq[port],
    };
  }

  /** EVTCHNOP_alloc_unbound: a port waiting for `remoteDom` to connect. */
  allocUnbound(dom: number, remoteDom: number): EvtResult {
    if (this.resolveDom(dom) !== this.domid) return -XEN_EPERM; // only dom0 may allocate for others
    const p = this.allocPort();
    if (p < 0) return p;
    this.state[p] = PortState.Unbound;
    this.vcpu[p] = 0;
    this.remoteDom[p] = this.resolveDom(remoteDom);
    return p;
  }

  /** EVTCHNOP_bind_interdomain: connect to an unbound port of `remoteDom` that accepts us. */
  bindInterdomain(remoteDom: number, remotePort: number): EvtResult {
    const rd = this.resolveDom(remoteDom);
    const peer = rd === this.domid ? this : this.directory.lookup(rd);
    if (peer === null) return -XEN_ESRCH;
    if (!peer.validPort(remotePort) || peer.state[remotePort] !== PortState.Unbound) return -XEN_EINVAL;
    if (peer.remoteDom[remotePort] !== this.domid) return -XEN_EINVAL;
    const p = this.allocPort();
    if (p < 0) return p;
    this.state[p] = PortState.Interdomain;
    this.vcpu[p] = 0;
    this.remoteDom[p] = rd;
    this.remotePort[p] = remotePort;
    peer.state[remotePort] = PortState.Interdomain;
    peer.remoteDom[remotePort] = this.domid;
    peer.remotePort[remotePort] = p;
    // The new local port is marked pending at once (Xen does this so no event is lost).
    this.setPending(p);
    return p;
  }

  /** EVTCHNOP_bind_virq. */
  bindVirq(virq: number, vcpu: number): EvtResult {
    if (!Number.isInteger(virq) || virq < 0 || virq >= NR_VIRQS) return -XEN_EINVAL;
    if (!Number.isInteger(vcpu) || vcpu < 0 || vcpu >= this.nrVcpus) return -XEN_ENOENT;
    if (!PER_VCPU_VIRQ.has(virq) && vcpu !== 0) return -XEN_EINVAL;
    const key = virq * 65536 + vcpu;
    if (this.virqPort.has(key)) return -XEN_EEXIST;
    const p = this.allocPort();
    if (p < 0) return p;
    this.state[p] = PortState.Virq;
    this.vcpu[p] = vcpu;
    this.virq[p] = virq;
    this.virqPort.set(key, p);
    return p;
  }

  /** EVTCHNOP_bind_ipi. */
  bindIpi(vcpu: number): EvtResult {
    if (!Number.isInteger(vcpu) || vcpu < 0 || vcpu >= this.nrVcpus) return -XEN_ENOENT;
    const p = this.allocPort();
    if (p < 0) return p;
    this.state[p] = PortState.Ipi;
    this.vcpu[p] = vcpu;
    return p;
  }

  /**
   * Creates a port connected to a consumer inside tsxen (the guest sees it as interdomain to
   * `backendDom`): sending on it calls `notify`. Used for XenStore, console and PV backends.
   */
  attach(port: number | null, backendDom: number, notify: () => void): EvtResult {
    const p = port ?? this.allocPort();
    if (p < 0) return p;
    if (!this.validPort(p) || this.state[p] !== PortState.Free) return -XEN_EBUSY;
    this.state[p] = PortState.Attached;
    this.vcpu[p] = 0;
    this.remoteDom[p] = backendDom;
    this.attached.set(p, notify);
    return p;
  }

  /**
   * A backend inside tsxen takes over an unbound port the guest allocated for it (the guest wrote
   * the number to XenStore). Returns 0 or -EINVAL when the port is not unbound to `backendDom`.
   */
  connectBackend(port: number, backendDom: number, notify: () => void): EvtResult {
    if (!this.validPort(port) || this.state[port] !== PortState.Unbound || this.remoteDom[port] !== backendDom) {
      return -XEN_EINVAL;
    }
    this.state[port] = PortState.Attached;
    this.attached.set(port, notify);
    return 0;
  }

  /**
   * The backend inside tsxen lets go of a port it took with `connectBackend` (or `attach`): the
   * guest's port goes back to unbound to `backendDom`, as in Xen when the remote end of an
   * interdomain channel is closed. Only the consumer that attached (`notify`) can do this, so a
   * port the guest closed and re-allocated meanwhile is left alone. Returns 0 or -EINVAL.
   */
  disconnectBackend(port: number, notify: () => void): EvtResult {
    if (!this.validPort(port) || this.state[port] !== PortState.Attached || this.attached.get(port) !== notify) {
      return -XEN_EINVAL;
    }
    this.attached.delete(port);
    this.state[port] = PortState.Unbound;
    return 0;
  }

  /**
   * A backend notifies the guest over the port it attached to with `notify`. Returns false (and
   * raises nothing) when the guest has closed or re-bound that port since.
   */
  notifyFromBackend(port: number, notify: () => void): boolean {
    if (!this.validPort(port) || this.state[port] !== PortState.Attached || this.attached.get(port) !== notify) return false;
    this.setPending(port);
    return true;
  }

  /** EVTCHNOP_close. An interdomain peer goes back to unbound. */
  close(port: number): EvtResult {
    if (!this.validPort(port)) return -XEN_EINVAL;
    switch (this.state[port]) {
      case PortState.Free:
        return -XEN_EINVAL;
      case PortState.Interdomain: {
        const peer = this.remoteDom[port] === this.domid ? this : this.directory.lookup(this.remoteDom[port]);
        const rp = this.remotePort[port];
        if (peer !== null && peer.validPort(rp) && peer.state[rp] === PortState.Interdomain) {
          peer.state[rp] = PortState.Unbound;
          peer.remoteDom[rp] = this.domid;
        }
        break;
      }
      case PortState.Virq:
        this.virqPort.delete(this.virq[port] * 65536 + this.vcpu[port]);
        break;
      case PortState.Attached:
        this.attached.delete(port);
        break;
    }
    this.state[port] = PortState.Free;
    this.vcpu[port] = this.remoteDom[port] = this.remotePort[port] = this.virq[port] = 0;
    return 0;
  }

  /** EVTCHNOP_send. Unbound ports drop the notification and succeed (frontends notify early). */
  send(port: number): EvtResult {
    if (!this.validPort(port)) return -XEN_EINVAL;
    this.sends++;
    switch (this.state[port]) {
      case PortState.Interdomain: {
        const peer = this.remoteDom[port] === this.domid ? this : this.directory.lookup(this.remoteDom[port]);
        if (peer !== null) peer.setPending(this.remotePort[port]);
        return 0;
      }
      case PortState.Ipi:
        this.setPending(port);
        return 0;
      case PortState.Attached:
        this.attached.get(port)?.();
        return 0;
      case PortState.Unbound:
        return 0;
      default:
        return -XEN_EINVAL;
    }
  }

  /** EVTCHNOP_unmask: clears the mask and re-raises the upcall if the port is pending. */
  unmask(port: number): EvtResult {
    if (!this.validPort(port)) return -XEN_EINVAL;
    const b = this.bits;
    if (b.clearMask(port) && b.isPending(port)) this.markVcpuPending(this.vcpu[port], port);
    return 0;
  }

  /** EVTCHNOP_bind_vcpu: moves notifications of an unbound/interdomain/pirq port. */
  bindVcpu(port: number, vcpu: number): EvtResult {
    if (!this.validPort(port)) return -XEN_EINVAL;
    if (!Number.isInteger(vcpu) || vcpu < 0 || vcpu >= this.nrVcpus) return -XEN_ENOENT;
    const s = this.state[port];
    if (s === PortState.Virq && PER_VCPU_VIRQ.has(this.virq[port])) return -XEN_EINVAL;
    if (s === PortState.Ipi || s === PortState.Free) return -XEN_EINVAL;
    this.vcpu[port] = vcpu;
    return 0;
  }

  /** Raises a VIRQ on a vCPU (timer expiry etc.); no-op when the guest has not bound it. */
  raiseVirq(virq: number, vcpu: number): void {
    const p = this.virqPort.get(virq * 65536 + (PER_VCPU_VIRQ.has(virq) ? vcpu : 0));
    if (p !== undefined) this.setPending(p);
  }

  /** The set-pending rule of event_2l.c (xen-abi.md 4.4). */
  setPending(port: number): void {
    if (!this.validPort(port)) return;
    const b = this.bits;
    if (b.setPending(port)) return;
    if (!b.isMasked(port)) this.markVcpuPending(this.vcpu[port], port);
  }

  private markVcpuPending(vcpu: number, port: number): void {
    const vi = this.sink.vcpuInfo(vcpu);
    if (vi === null) return;
    if (this.bits.setPendingSel(vi, this.bits.wordOf(port))) return;
    const wasPending = vi.page[vi.offset] !== 0;
    vi.page[vi.offset] = 1;
    if (!wasPending) {
      this.upcalls++;
      this.sink.kick(vcpu);
    }
  }

  /** Saved state: the port table (pending/mask bits are in guest memory and saved with it). */
  save(): { version: 1; ports: [number, number, number, number, number, number][] } {
    const ports: [number, number, number, number, number, number][] = [];
    for (let p = 1; p < this.state.length; p++) {
      if (this.state[p] !== PortState.Free) {
        ports.push([p, this.state[p], this.vcpu[p], this.remoteDom[p], this.remotePort[p], this.virq[p]]);
      }
    }
    return { version: 1, ports };
  }

  /**
   * Restores the port table. Attached ports come back unattached-but-reserved: their owners
   * (backends) re-attach through `connectBackend`/`attach` after restore.
   */
  restore(s: { version: number; ports: [number, number, number, number, number, number][] }): void {
    if (s.version !== 1) throw new Error(`event channel state version ${s.version} is not supported`);
    this.state.fill(0);
    this.virqPort.clear();
    this.attached.clear();
    for (const [p, st, v, rd, rp, virq] of s.ports) {
      if (!this.validPort(p)) throw new Error(`event channel state names invalid port ${p}`);
      this.state[p] = st === PortState.Attached ? PortState.Unbound : st;
      this.vcpu[p] = v;
      this.remoteDom[p] = rd;
      this.remotePort[p] = rp;
      this.virq[p] = virq;
      if (st === PortState.Virq) this.virqPort.set(virq * 65536 + v, p);
    }
  }
}
