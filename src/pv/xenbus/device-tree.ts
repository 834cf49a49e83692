/**
 * The XenStore tree the toolstack writes when it creates a domain with PV devices, laid out as
 * Xen's libxl does it (../shared/docs/xen-abi.md 6.8; libxl_create.c, libxl_device.c,
 * libxl_disk.c, libxl_nic.c, libxl_console.c):
 *
 * - /local/domain/<D> [n0 rD]: name, domid, vm, cpu/<n>/availability, memory/{static-max,target},
 *   control/* (the nodes the guest answers in are [nD]), data/drivers/feature/attr/error [nD],
 *   store/{port,ring-ref}, console/* (read-only to the guest), device/ [n0 rD];
 * - each frontend dir /local/domain/<D>/device/<type>/<devid> [nD rB] (the guest owns it and
 *   writes its ring details and state there): backend, backend-id, state = 1, and per type
 *   virtual-device/device-type/trusted (vbd) or handle/mac/mtu/trusted (vif);
 * - each backend dir /local/domain/<B>/backend/<type>/<D>/<devid> [nB rD] (the guest can read,
 *   not write): frontend, frontend-id, online, state = 1, and params/type/mode/dev/device-type/
 *   removable/bootable/discard-enable (vbd) or mac/bridge/handle/type/script (vif).
 *
 * B is the backend domain: 0, since the backends run inside tsxen. Everything is written in one
 * transaction, so a guest watching device/ sees complete directories.
 */
import { type XsClient } from '../../xen/xenstore/client.js';
import { inTransaction } from './xs-util.js';
import { parseVdev } from './vdev.js';

export interface DiskDescription {
  /** Linux-style name: "xvda", "xvdb", ... (see vdev.ts). */
  vdev: string;
  readOnly?: boolean;
  /** Size in 512-byte sectors (the backend publishes it at connect). */
  sectors?: number;
  /** Logical sector size in bytes (512 by default). */
  sectorSize?: number;
  discard?: boolean;
  devtype?: 'disk' | 'cdrom';
  /** What libxl records as the backing target ("params"); informational. */
  params?: string;
  bootable?: boolean;
}

export interface VifDescription {
  /** "00:16:3e:xx:xx:xx". */
  mac: string;
  devid: number;
  bridge?: string;
  mtu?: number;
}

export interface DomainDescription {
  domid: number;
  name: string;
  /** The /vm/<uuid> key; derived from the domid when absent. */
  uuid?: string;
  memKiB?: number;
  vcpus?: number;
  /** The domain the backends live in (0). */
  backendDomid?: number;
  /** The guest's XenStore ring (HVM_PARAM_STORE_PFN / _EVTCHN), recorded as store/. */
  xenstore?: { port: number; gfn: number };
  /** The primary console ring (HVM_PARAM_CONSOLE_PFN / _EVTCHN), recorded as console/. */
  console?: { port: number; gfn: number };
  disks?: DiskDescription[];
  vifs?: VifDescription[];
}

export interface DevicePaths {
  type: 'vbd' | 'vif' | 'console';
  devid: number;
  frontend: string;
  backend: string;
}

export interface DomainTree {
  domid: number;
  home: string;
  vm: string;
  disks: DevicePaths[];
  vifs: DevicePaths[];
  console: DevicePaths | null;
}

/** LIBXL_XENCONSOLE_LIMIT. */
const CONSOLE_LIMIT = 1048576;

export function frontendPath(domid: number, type: string, devid: number): string {
  return `/local/domain/${domid}/device/${type}/${devid}`;
}

export function backendPath(backendDomid: number, type: string, domid: number, devid: number): string {
  return `/local/domain/${backendDomid}/backend/${type}/${domid}/${devid}`;
}

/** Normalises and checks a MAC address; throws on anything but six hex pairs with colons. */
export function normaliseMac(mac: string): string {
  if (!/^[0-9a-fA-F]{2}(:[0-9a-fA-F]{2}){5}$/.test(mac)) throw new Error(`bad MAC address "${mac}" (expected xx:xx:xx:xx:xx:xx)`);
  const m = mac.toLowerCase();
  if (parseInt(m.slice(0, 2), 16) & 1) throw new Error(`MAC address ${mac} is a multicast address`);
  return m;
}

function defaultUuid(domid: number): string {
  return `00000000-0000-4000-8000-${domid.toString(16).padStart(12, '0')}`;
}

/**
 * Writes the domain's tree and returns where every device lives. Throws (before writing
 * anything) on a bad description: an unknown vdev name, duplicate devids, a bad MAC.
 */
export function writeDomainTree(xs: XsClient, d: DomainDescription): DomainTree {
  const D = d.domid, B = d.backendDomid ?? 0;
  if (!Number.isInteger(D) || D <= 0 || D >= 0x7ff0) throw new Error(`bad domid ${D}`);
  if (!/^[\x20-\x7e]{1,64}$/.test(d.name)) throw new Error(`bad domain name "${d.name}"`);
  const uuid = d.uuid ?? defaultUuid(D);
  if (!/^[0-9a-fA-F-]{1,64}$/.test(uuid)) throw new Error(`bad uuid "${uuid}"`);
  const home = `/local/domain/${D}`, vm = `/vm/${uuid}`;
  const guestRo = [`n${B}`, `r${D}`], guestOwned = [`n${D}`, `r${B}`], guestRw = [`n${D}`];

  const disks = (d.disks ?? []).map((disk) => {
    const v = parseVdev(disk.vdev);
    if (v === null) throw new Error(`bad virtual disk name "${disk.vdev}"`);
    return { disk, v, paths: { type: 'vbd' as const, devid: v.number, frontend: frontendPath(D, 'vbd', v.number), backend: backendPath(B, 'vbd', D, v.number) } };
  });
  const vifs = (d.vifs ?? []).map((vif) => {
    if (!Number.isInteger(vif.devid) || vif.devid < 0 || vif.devid > 0xffff) throw new Error(`bad vif devid ${vif.devid}`);
    return { vif, mac: normaliseMac(vif.mac), paths: { type: 'vif' as const, devid: vif.devid, frontend: frontendPath(D, 'vif', vif.devid), backend: backendPath(B, 'vif', D, vif.devid) } };
  });
  for (const list of [disks.map((x) => x.paths.devid), vifs.map((x) => x.paths.devid)]) {
    if (new Set(list).size !== list.length) throw new Error(`duplicate device ids ${list.join(',')}`);
  }
  const console: DevicePaths | null = d.console
    ? { type: 'console', devid: 0, frontend: `${home}/console`, backend: backendPath(B, 'console', D, 0) }
    : null;

  inTransaction(xs, (tx) => {
    const put = (path: string, value: string, perms?: string[]) => {
      xs.write(path, value, tx);
      if (perms) xs.setPerms(path, perms, tx);
    };
    if (xs.readString(`/local/domain/${B}/name`, tx) === null && B === 0) {
      put('/local/domain/0/name', 'Domain-0');
      put('/local/domain/0/domid', '0');
    }
    put(vm, '', guestRo);
    put(`${vm}/uuid`, uuid);
    put(`${vm}/name`, d.name);

    put(home, '', guestRo);
    put(`${home}/vm`, vm);
    put(`${home}/name`, d.name);
    put(`${home}/domid`, String(D));
    put(`${home}/cpu`, '', guestRo);
    for (let c = 0; c < (d.vcpus ?? 1); c++) put(`${home}/cpu/${c}/availability`, 'online');
    put(`${home}/memory`, '', guestRo);
    if (d.memKiB !== undefined) {
      put(`${home}/memory/static-max`, String(d.memKiB));
      put(`${home}/memory/target`, String(d.memKiB));
    }
    put(`${home}/device`, '', guestRo);
    put(`${home}/device/suspend/event-channel`, '', guestRw);
    put(`${home}/control`, '', guestRo);
    for (const k of ['shutdown', 'feature-poweroff', 'feature-reboot', 'feature-suspend', 'sysrq']) put(`${home}/control/${k}`, '', guestRw);
    put(`${home}/control/platform-feature-multiprocessor-suspend`, '1');
    put(`${home}/control/platform-feature-xs_reset_watches`, '1');
    for (const k of ['data', 'drivers', 'feature', 'attr', 'error']) put(`${home}/${k}`, '', guestRw);
    if (d.xenstore) {
      put(`${home}/store/port`, String(d.xenstore.port));
      put(`${home}/store/ring-ref`, String(d.xenstore.gfn));
    }
    if (console && d.console) {
      put(console.frontend, '', guestRo);
      put(`${console.frontend}/backend`, console.backend);
      put(`${console.frontend}/backend-id`, String(B));
      put(`${console.frontend}/limit`, String(CONSOLE_LIMIT));
      put(`${console.frontend}/type`, 'xenconsoled');
      put(`${console.frontend}/output`, 'pty');
      put(`${console.frontend}/tty`, '');
      put(`${console.frontend}/port`, String(d.console.port));
      put(`${console.frontend}/ring-ref`, String(d.console.gfn));
      put(console.backend, '', guestRo);
      put(`${console.backend}/frontend`, console.frontend);
      put(`${console.backend}/frontend-id`, String(D));
      put(`${console.backend}/online`, '1');
      put(`${console.backend}/state`, '1');
      put(`${console.backend}/protocol`, 'vt100');
    }

    for (const { disk, v, paths } of disks) {
      const devtype = disk.devtype ?? 'disk';
      const fe = paths.frontend, be = paths.backend;
      put(fe, '', guestOwned);
      put(`${fe}/backend`, be);
      put(`${fe}/backend-id`, String(B));
      put(`${fe}/state`, '1');
      put(`${fe}/virtual-device`, String(v.number));
      put(`${fe}/device-type`, devtype);
      put(`${fe}/trusted`, '1');
      put(be, '', guestRo);
      put(`${be}/frontend`, fe);
      put(`${be}/frontend-id`, String(D));
      put(`${be}/online`, '1');
      put(`${be}/removable`, devtype === 'cdrom' ? '1' : '0');
      put(`${be}/bootable`, disk.bootable === false ? '0' : '1');
      put(`${be}/state`, '1');
      put(`${be}/dev`, disk.vdev);
      put(`${be}/type`, 'phy');
      put(`${be}/mode`, disk.readOnly ? 'r' : 'w');
      put(`${be}/device-type`, devtype);
      put(`${be}/discard-enable`, disk.discard ? '1' : '0');
      put(`${be}/params`, disk.params ?? disk.vdev);
    }

    for (const { vif, mac, paths } of vifs) {
      const fe = paths.frontend, be = paths.backend;
      put(fe, '', guestOwned);
      put(`${fe}/backend`, be);
      put(`${fe}/backend-id`, String(B));
      put(`${fe}/state`, '1');
      put(`${fe}/handle`, String(vif.devid));
      put(`${fe}/mac`, mac);
      put(`${fe}/mtu`, String(vif.mtu ?? 1500), guestRo);
      put(`${fe}/trusted`, '1');
      put(be, '', guestRo);
      put(`${be}/frontend`, fe);
      put(`${be}/frontend-id`, String(D));
      put(`${be}/online`, '1');
      put(`${be}/state`, '1');
      put(`${be}/script`, '/etc/xen/scripts/vif-bridge');
      put(`${be}/mac`, mac);
      put(`${be}/bridge`, vif.bridge ?? 'xenbr0');
      put(`${be}/handle`, String(vif.devid));
      put(`${be}/type`, 'vif');
      put(`${be}/hotplug-status`, '');
    }
    return true;
  });

  return { domid: D, home, vm, disks: disks.map((x) => x.paths), vifs: vifs.map((x) => x.paths), console };
}

/**
 * Removes what writeDomainTree wrote (domain destruction): the backend dirs (and their per-domain
 * parents, if empty), the domain's home and its /vm entry. Missing nodes are fine.
 */
export function removeDomainTree(xs: XsClient, tree: DomainTree): void {
  const rm = (p: string) => {
    try {
      xs.rm(p);
    } catch {
      // Already gone, or its parent is: either way it no longer exists.
    }
  };
  const parents = new Set<string>();
  for (const dev of [...tree.disks, ...tree.vifs, ...(tree.console ? [tree.console] : [])]) {
    rm(dev.backend);
    parents.add(dev.backend.slice(0, dev.backend.lastIndexOf('/')));
  }
  for (const p of parents) {
    try {
      if (xs.directory(p).length === 0) rm(p);
    } catch {
      // gone
    }
  }
  rm(tree.home);
  rm(tree.vm);
}
