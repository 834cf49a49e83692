/**
 * The dom0 half of XenBus inside tsxen: the toolstack's XenStore tree for a domain plus a backend
 * (vbd, vif) per PV device that performs the XenbusState handshake with the guest's frontend
 * and, once connected, serves the rings with BlockBackend / NetBackend; and the primary console.
 *
 * Usage (the PVH machine, after creating the XenDomain and before starting its vCPUs):
 *
 *   const pv = attachPvDevices({
 *     store,                         // the XenStore engine the guest's ring is served from
 *     guest: dom,                    // the XenDomain (domid, evtchn, gnttab, mem, isRamGfn)
 *     name: 'guest', memKiB, vcpus,
 *     xenstore: { port: storePort, gfn: storeGfn },   // recorded as store/port, store/ring-ref
 *     console: { gfn: consoleGfn, sink: (b) => stdout(b) },
 *     disks: [{ vdev: 'xvda', store: fileBlockStore }],
 *     vifs: [{ mac: '00:16:3e:00:00:01' }],
 *     switch: virtualSwitch,
 *   });
 *   dom.setParam(HVM_PARAM_CONSOLE_PFN, pv.console!.gfn, 0);
 *   dom.setParam(HVM_PARAM_CONSOLE_EVTCHN, pv.console!.port, 0);
 *   ... every few ms, and when the guest yields: pv.console!.service();
 *   ... host keystrokes: pv.console!.input(bytes);
 *   ... diagnostics: pv.stats();
 *   ... domain destroyed: pv.close();   // disconnects, releases grants and ports, removes the tree
 *
 * What it needs from the machine, and nothing else:
 * - XenStore: the engine. A dom0 XsClient is opened per domain (key "xenbus-backend-<domid>");
 *   the guest's writes through its ring fire the backends' watches synchronously.
 * - Event channels: `guest.evtchn`, the domain's EventChannels. Frontends allocate unbound ports
 *   for domain 0; the backends take them over (connectBackend) and the guest's EVTCHNOP_send on
 *   them calls the backend directly (or through `schedule`, if given, to run I/O from the event
 *   loop instead of inside the hypercall). Backends raise ports with notifyFromBackend, which
 *   ends in the domain's EventSink.kick, which the machine already handles.
 * - Grants: `guest.gnttab`, the domain's GrantTable; frontends grant their pages to domain 0.
 * - Memory: `guest.mem.u8` and `guest.isRamGfn` for the console page (not granted, by GFN).
 *
 * Nothing the guest does makes these functions throw; a misbehaving frontend fails its device
 * alone (backend state Closing, an "error" node, one log line). attachPvDevices itself throws on
 * a bad configuration (unknown vdev name, bad MAC, console page outside RAM, no switch for a vif).
 */
import type { XenStore } from '../../xen/xenstore/engine.js';
import { XsClient } from '../../xen/xenstore/client.js';
import type { BlkAbi } from '../block/blkback.js';
import type { BlockStore } from '../block/block-store.js';
import type { VirtualSwitch } from '../../net/switch.js';
import { BackendDevice, type DeviceStats } from './backend-device.js';
import { PvConsole } from './console.js';
import { type DomainTree, removeDomainTree, writeDomainTree } from './device-tree.js';
import { type PvGuest, type Scheduler } from './links.js';
import { VbdDriver } from './vbd.js';
import { VifDriver } from './vif.js';
import { WatchRouter } from './watch-router.js';

export { XenbusState } from './xs-util.js';
export type { PvGuest, Scheduler } from './links.js';
export type { DeviceStats } from './backend-device.js';
export { parseVdev } from './vdev.js';
export { writeDomainTree, removeDomainTree, type DomainDescription, type DomainTree } from './device-tree.js';

export interface PvDisk {
  /** "xvda", "xvdb", ... */
  vdev: string;
  store: BlockStore;
  /** Read-only even if the store is writable. */
  readOnly?: boolean;
  sectorSize?: number;
  /** Offer DISCARD (when the store implements it). */
  discard?: boolean;
  devtype?: 'disk' | 'cdrom';
  /** Recorded as the backend's "params" (e.g. the image path). */
  params?: string;
}

export interface PvVif {
  mac: string;
  /** Device id (handle); by default the vif's index. */
  devid?: number;
  /** The switch this vif plugs into; defaults to AttachPvDevicesOptions.switch. */
  switch?: VirtualSwitch;
  bridge?: string;
  mtu?: number;
}

export interface AttachPvDevicesOptions {
  store: XenStore;
  guest: PvGuest;
  name: string;
  uuid?: string;
  memKiB?: number;
  vcpus?: number;
  xenstore?: { port: number; gfn: number };
  /** The primary console; `port` is allocated when absent. */
  console?: { gfn: number; port?: number; sink: (bytes: Uint8Array) => void };
  disks?: PvDisk[];
  vifs?: PvVif[];
  switch?: VirtualSwitch;
  /** ABI of a blkfront that writes no "protocol" key (default x86_64-abi). */
  nativeAbi?: BlkAbi;
  /** Defers ring processing after a guest notification; default: process at once. */
  schedule?: Scheduler;
}

export interface PvDeviceHandle {
  readonly type: 'vbd' | 'vif';
  readonly devid: number;
  readonly frontend: string;
  readonly backend: string;
  readonly stats: DeviceStats;
}

export interface PvDevices {
  readonly tree: DomainTree;
  readonly disks: readonly PvDeviceHandle[];
  readonly vifs: readonly PvDeviceHandle[];
  readonly console: PvConsole | null;
  stats(): { disks: DeviceStats[]; vifs: DeviceStats[]; console: PvConsole['stats'] | null };
  /** Disconnects every backend, releases grants and ports, and removes the domain's tree. */
  close(): void;
}

const BACKEND_DOMID = 0;

export function attachPvDevices(o: AttachPvDevicesOptions): PvDevices {
  const domid = o.guest.domid;
  const disks = o.disks ?? [];
  const vifs = (o.vifs ?? []).map((v, i) => ({ ...v, devid: v.devid ?? i }));
  for (const v of vifs) if (!(v.switch ?? o.switch)) throw new Error(`vif ${v.devid}: no switch to plug into`);
  // Drivers first: they validate sizes and the like before anything is written.
  const vbdDrivers = disks.map((d) => new VbdDriver({
    store: d.store, readOnly: d.readOnly, sectorSize: d.sectorSize, discard: d.discard, devtype: d.devtype, nativeAbi: o.nativeAbi,
  }));
  const vifDrivers = vifs.map((v) => new VifDriver({ name: `vif${domid}.${v.devid}`, switch: (v.switch ?? o.switch)! }));

  let console: PvConsole | null = null;
  if (o.console) {
    const c = o.console;
    console = new PvConsole({ guest: o.guest, gfn: c.gfn, port: c.port, backendDomid: BACKEND_DOMID, sink: c.sink, name: o.name });
  }

  const xs = new XsClient(o.store, 0, `xenbus-backend-${domid}`);
  let tree: DomainTree;
  try {
    tree = writeDomainTree(xs, {
      domid, name: o.name, uuid: o.uuid, memKiB: o.memKiB, vcpus: o.vcpus, backendDomid: BACKEND_DOMID,
      xenstore: o.xenstore,
      console: console ? { port: console.port, gfn: console.gfn } : undefined,
      disks: disks.map((d, i) => ({
        vdev: d.vdev, readOnly: vbdDrivers[i].readOnly, sectors: Math.floor(d.store.size / 512), sectorSize: d.sectorSize,
        discard: vbdDrivers[i].canDiscard, devtype: d.devtype, params: d.params,
      })),
      vifs: vifs.map((v) => ({ mac: v.mac, devid: v.devid, bridge: v.bridge, mtu: v.mtu })),
    });
  } catch (e) {
    console?.close();
    xs.close();
    throw e;
  }

  const router = new WatchRouter(xs, `xenbus-${domid}`);
  const mk = (paths: DomainTree['disks'][number], driver: VbdDriver | VifDriver) =>
    new BackendDevice({ xs, router, paths, driver, guest: o.guest, backendDomid: BACKEND_DOMID, schedule: o.schedule ?? null });
  const vbdDevs = tree.disks.map((p, i) => mk(p, vbdDrivers[i]));
  const vifDevs = tree.vifs.map((p, i) => mk(p, vifDrivers[i]));
  for (const d of [...vbdDevs, ...vifDevs]) d.start();

  const handle = (d: BackendDevice): PvDeviceHandle => ({
    type: d.paths.type as 'vbd' | 'vif',
    devid: d.paths.devid,
    frontend: d.paths.frontend,
    backend: d.paths.backend,
    get stats() {
      return d.stats;
    },
  });
  let closed = false;
  return {
    tree,
    disks: vbdDevs.map(handle),
    vifs: vifDevs.map(handle),
    console,
    stats: () => ({ disks: vbdDevs.map((d) => d.stats), vifs: vifDevs.map((d) => d.stats), console: console?.stats ?? null }),
    close: () => {
      if (closed) return;
      closed = true;
      for (const d of [...vbdDevs, ...vifDevs]) d.close();
      console?.close();
      try {
        removeDomainTree(xs, tree);
      } finally {
        xs.close();
      }
    },
  };
}
