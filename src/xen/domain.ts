/**
 * A Xen domain as the hypervisor sees it: its vCPUs, the shared_info page and per-vCPU vcpu_info,
 * event channels, grant table, HVM parameters, timers and pvclock time. Hypercall handlers
 * (hypercall/*.ts) act on this state; the machine (PVH/PVHVM) routes VMCALL exits here and asks
 * `upcallPending` when deciding whether to inject the event callback vector.
 *
 * Guest memory is reached by guest-physical frame number inside the domain's PhysicalMemory; all
 * frame numbers from the guest are checked against its RAM.
 */
import type { PhysicalMemory } from '../memory/physical.js';
import type { Cpu } from '../cpu/cpu.js';
import { EventChannels, type EventChannelDirectory } from './evtchn/event-channels.js';
import { LAYOUT_32, LAYOUT_64, SharedBits, type SharedInfoLayout, type VcpuInfoRef } from './evtchn/shared-info.js';
import { GrantTable } from './grant/grant-table.js';
import { HVM_NR_PARAMS, VIRQ_TIMER } from './abi.js';
import { writeVcpuTime, writeWallclock, timeScaleFor, type TimeScale } from './time.js';

export interface XenTimers {
  /** Calls `cb` when system time reaches `atNs`; returns a cancel function. */
  schedule(atNs: number, cb: () => void): () => void;
}

export interface XenDomainOptions {
  domid: number;
  name: string;
  mem: PhysicalMemory;
  vcpus: Cpu[];
  /** Xen "system time": monotonic guest ns, the base of pvclock and timers. */
  systemTimeNs: () => number;
  /** Unix time in ns corresponding to system time 0. */
  wallclockAtZeroNs: number;
  /** The guest TSC frequency in Hz; TSC = systemTime * tscHz / 1e9. */
  tscHz: number;
  timers: XenTimers;
  directory: EventChannelDirectory;
  /** The shared_info layout: 32 for an i386 guest, 64 for x86-64 (xen-abi.md 4.1). */
  layoutBits: 32 | 64;
  /** SCHEDOP_shutdown and the all-vCPUs-halted rule end up here. */
  onShutdown: (reason: number) => void;
  /** An upcall became pending on a vCPU: make it runnable and re-evaluate its interrupt line. */
  onKick: (vcpu: number) => void;
  /** Bytes from CONSOLEIO_write (debug output). */
  debugOutput: (bytes: Uint8Array) => void;
}

export class XenVcpu {
  /** vcpu_info location: -1 = the slot in shared_info. */
  infoGfn = -1;
  infoOffset = 0;
  runstateGpa = -1;
  cancelTimer: (() => void) | null = null;
  timerDeadline = 0;
  constructor(readonly id: number, readonly cpu: Cpu) {}
}

/** Counters for the cost-breakdown benchmarks. */
export interface XenStats {
  hypercalls: Map<number, number>;
}

export class XenDomain {
  readonly domid: number;
  readonly name: string;
  readonly mem: PhysicalMemory;
  readonly vcpus: XenVcpu[];
  readonly layout: SharedInfoLayout;
  readonly evtchn: EventChannels;
  readonly gnttab: GrantTable;
  /** HVM params as [lo, hi] 32-bit halves (CALLBACK_IRQ uses the top byte of 64 bits). */
  readonly params = new Uint32Array(HVM_NR_PARAMS * 2);
  readonly scale: TimeScale;
  readonly stats: XenStats = { hypercalls: new Map() };
  shinfoGfn = -1;
  /** The callback vector (HVM_PARAM_CALLBACK_IRQ type 2), or 0 when none. */
  callbackVector = 0;
  shutdownReason = -1;
  /** A detached zero page that stands in for shared_info until the guest maps it. */
  private scratch = new Uint8Array(4096);

  constructor(readonly opts: XenDomainOptions) {
    this.domid = opts.domid;
    this.name = opts.name;
    this.mem = opts.mem;
    this.vcpus = opts.vcpus.map((c, k) => new XenVcpu(k, c));
    this.layout = opts.layoutBits === 32 ? LAYOUT_32 : LAYOUT_64;
    this.scale = timeScaleFor(opts.tscHz);
    const guestPhys = { u8: opts.mem.u8, isRamGfn: (g: number) => this.isRamGfn(g), wrote: (g: number) => this.wroteFrame(g) };
    this.gnttab = new GrantTable(opts.domid, guestPhys);
    this.evtchn = new EventChannels(
      opts.domid,
      new SharedBits(this.layout, this.scratch),
      { vcpuInfo: (v) => this.vcpuInfo(v), kick: (v) => opts.onKick(v) },
      opts.directory,
      this.vcpus.length,
    );
  }

  /** Frame `gfn` was written behind the vCPUs' backs (by a backend): drop code decoded from it. */
  wroteFrame(gfn: number): void {
    for (const vc of this.vcpus) vc.cpu.physWritten(gfn * 4096, 4096);
  }

  isRamGfn(gfn: number): boolean {
    return Number.isInteger(gfn) && gfn >= 0 && (gfn + 1) * 4096 <= this.mem.ramSize && this.mem.isRam(gfn * 4096);
  }

  /** The shared_info page bytes (a scratch page before the guest mapped it). */
  get sharedInfo(): Uint8Array {
    return this.shinfoGfn < 0 ? this.scratch : this.mem.u8.subarray(this.shinfoGfn * 4096, this.shinfoGfn * 4096 + 4096);
  }

  /** Where vCPU `v`'s vcpu_info is, or null for a vCPU that does not exist. */
  vcpuInfo(v: number): VcpuInfoRef | null {
    const vc = this.vcpus[v];
    if (vc === undefined) return null;
    if (vc.infoGfn >= 0) return { page: this.mem.u8.subarray(vc.infoGfn * 4096, vc.infoGfn * 4096 + 4096), offset: vc.infoOffset };
    if (v >= 32) return null;
    return { page: this.sharedInfo, offset: v * 64 };
  }

  /** XENMEM_add_to_physmap(shared_info): the guest chose where shared_info lives. */
  mapSharedInfo(gfn: number): boolean {
    if (!this.isRamGfn(gfn)) return false;
    const old = this.sharedInfo.slice();
    this.shinfoGfn = gfn;
    const page = this.sharedInfo;
    // Keep the event bits the guest may already have set (it masks ports early); start clean otherwise.
    page.set(old);
    this.evtchn.setSharedBits(new SharedBits(this.layout, page));
    writeWallclock(page, this.layout, this.opts.wallclockAtZeroNs);
    for (const vc of this.vcpus) if (vc.id < 32) this.refreshTime(vc);
    return true;
  }

  /** VCPUOP_register_vcpu_info: moves vCPU `v`'s vcpu_info to gfn:offset (xen-abi.md 4.2). */
  registerVcpuInfo(vc: XenVcpu, gfn: number, offset: number): number {
    if (!this.isRamGfn(gfn) || !Number.isInteger(offset) || offset < 0 || offset > 4096 - 64) return -22;
    if (vc.infoGfn >= 0) return -16;
    const old = this.vcpuInfo(vc.id);
    const page = this.mem.u8.subarray(gfn * 4096, gfn * 4096 + 4096);
    if (old !== null) page.set(old.page.subarray(old.offset, old.offset + 64), offset);
    else {
      page.fill(0, offset, offset + 64);
      page[offset + 1] = 1;
    }
    vc.infoGfn = gfn;
    vc.infoOffset = offset;
    // Mark everything pending once so no event is lost in the move, and raise the upcall.
    page.fill(0xff, offset + this.layout.pendingSelOffset, offset + this.layout.pendingSelOffset + this.layout.bits / 8);
    page[offset] = 1;
    this.refreshTime(vc);
    this.opts.onKick(vc.id);
    return 0;
  }

  /** Rewrites a vCPU's pvclock record (and the shared_info slot, which Linux keeps reading). */
  refreshTime(vc: XenVcpu): void {
    const now = this.opts.systemTimeNs();
    const tsc = (now * this.opts.tscHz) / 1e9;
    if (vc.id < 32) writeVcpuTime(this.sharedInfo, vc.id * 64 + 32, now, tsc, this.scale);
    const vi = this.vcpuInfo(vc.id);
    if (vi !== null && vc.infoGfn >= 0) writeVcpuTime(vi.page, vi.offset + 32, now, tsc, this.scale);
  }

  /** Whether vCPU `v` has an event upcall waiting (evtchn_upcall_pending in its vcpu_info). */
  upcallPending(v: number): boolean {
    const vi = this.vcpuInfo(v);
    return vi !== null && vi.page[vi.offset] !== 0;
  }

  /** VCPUOP_set_singleshot_timer / set_timer_op: VIRQ_TIMER at `deadline` (system time ns). */
  setTimer(vc: XenVcpu, deadline: number): void {
    this.stopTimer(vc);
    vc.timerDeadline = deadline;
    const fire = () => {
      vc.cancelTimer = null;
      this.evtchn.raiseVirq(VIRQ_TIMER, vc.id);
    };
    if (deadline <= this.opts.systemTimeNs()) fire();
    else vc.cancelTimer = this.opts.timers.schedule(deadline, fire);
  }

  stopTimer(vc: XenVcpu): void {
    if (vc.cancelTimer) vc.cancelTimer();
    vc.cancelTimer = null;
  }

  getParam(index: number): [number, number] {
    return [this.params[index * 2], this.params[index * 2 + 1]];
  }

  setParam(index: number, lo: number, hi: number): void {
    this.params[index * 2] = lo;
    this.params[index * 2 + 1] = hi;
  }

  shutdown(reason: number): void {
    if (this.shutdownReason >= 0) return;
    this.shutdownReason = reason;
    for (const vc of this.vcpus) this.stopTimer(vc);
    this.opts.onShutdown(reason);
  }

  countHypercall(nr: number): void {
    this.stats.hypercalls.set(nr, (this.stats.hypercalls.get(nr) ?? 0) + 1);
  }
}
