/**
 * `tsxen create [-c] FILE.cfg [KEY=VALUE ...] [FILE.cfg [KEY=VALUE ...] ...]`: builds one
 * domain per xl.cfg file (KEY=VALUE overrides apply to the file before them) and runs them all
 * in this process, as `xl create` would on a Xen host, linked by one XenStore and, per bridge
 * name, one virtual switch with tsxen's host endpoint on it (ARP, ping, DHCP). `-c` puts the first domain's console on the terminal; the other
 * consoles go to stdout, each line prefixed with the domain's name.
 *
 * Each domain runs alone: a domain that crashes or misbehaves ends (or restarts, per its
 * on_crash) without disturbing the others. The process exits when every domain is gone, with
 * the first domain's status (0 power-off, 1 crash, 3 reboot with on_reboot=destroy).
 */
import { readFileSync } from 'node:fs';
import { PvhMachine, type PvhStatus } from '../machine/pvh.js';
import { HvmMachine, type HvmStatus } from '../machine/hvm.js';
import { readBios } from './run-hvm.js';
import { XenHost } from '../machine/xen-host.js';
import { VirtualSwitch } from '../net/switch.js';
import { HostEndpoint } from '../net/host-endpoint/index.js';
import { FileBlockStore } from '../host/node/file-block-store.js';
import { nodeDecompress } from '../host/node/decompress.js';
import { attachConsole } from '../host/node/console.js';
import { kernelElf } from '../loader/kernel-payload.js';
import { parseDomainConfig, ConfigError, type DomainConfig, type LifecycleAction } from './xlcfg.js';
import { EXIT_CRASH, EXIT_DETACHED, EXIT_POWEROFF, EXIT_REBOOT, readGuestFile } from './run-pc.js';
import type { PvDisk } from '../pv/xenbus/index.js';

export class CreateUsageError extends Error {}

export interface CreateRequest {
  console: boolean;
  domains: { path: string; overrides: string[] }[];
}

/** Splits the arguments: each FILE starts a domain, KEY=VALUE belongs to the FILE before it. */
export function parseCreateArgs(args: string[]): CreateRequest {
  const req: CreateRequest = { console: false, domains: [] };
  for (const a of args) {
    if (a === '-c') req.console = true;
    else if (a.startsWith('-')) throw new CreateUsageError(`create: unknown option '${a}'`);
    else if (/^[A-Za-z_][A-Za-z0-9_]*=/.test(a)) {
      const last = req.domains[req.domains.length - 1];
      if (!last) throw new CreateUsageError(`create: '${a}' comes before any config file`);
      last.overrides.push(a);
    } else req.domains.push({ path: a, overrides: [] });
  }
  if (req.domains.length === 0) throw new CreateUsageError('create: no config file given (usage: tsxen create [-c] FILE.cfg [KEY=VALUE ...])');
  return req;
}

interface Prepared {
  cfg: DomainConfig;
  /** pvh: the kernel's ELF image and initrd. */
  elf?: Uint8Array;
  initrd?: Uint8Array;
  /** hvm: the BIOS image. */
  bios?: Uint8Array;
}

/** IDE position (primary master, primary slave, secondary master, secondary slave) of an HVM vdev. */
export function idePosition(vdev: string): number | undefined {
  const m = /^(?:hd|sd|xvd)([a-d])$/.exec(vdev);
  return m ? m[1].charCodeAt(0) - 97 : undefined;
}

/** Reads and validates one domain's config and files; every problem is one line. */
async function prepare(path: string, overrides: string[]): Promise<Prepared> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new ConfigError(`cannot read config '${path}': ${(e as NodeJS.ErrnoException).code ?? String(e)}`);
  }
  const cfg = parseDomainConfig(text, overrides, path);
  if (cfg.type !== 'pvh' && cfg.type !== 'hvm') throw new ConfigError(`${path}: type '${cfg.type}' is not supported yet (pvh or hvm)`);
  if (cfg.vcpus !== 1) throw new ConfigError(`${path}: vcpus = ${cfg.vcpus}: only 1 vCPU per domain is supported yet`);
  if (cfg.memoryMiB < 32 || cfg.memoryMiB > 2000) throw new ConfigError(`${path}: memory = ${cfg.memoryMiB}: must be 32..2000 MiB`);
  if (cfg.type === 'hvm') {
    if (cfg.kernel) throw new ConfigError(`${path}: 'kernel' does not apply to an hvm domain (it boots from its disk)`);
    if (cfg.disks.length === 0) throw new ConfigError(`${path}: an hvm domain needs a bootable disk (disk = ['image.img,raw,hda,rw'])`);
    const seen = new Set<number>();
    for (const d of cfg.disks) {
      const pos = idePosition(d.vdev);
      if (pos === undefined) throw new ConfigError(`${path}: disk ${d.vdev}: an hvm domain has 4 IDE positions, hda-hdd (or xvda-xvdd)`);
      if (seen.has(pos)) throw new ConfigError(`${path}: disk ${d.vdev}: IDE position ${pos} is used twice`);
      seen.add(pos);
      if (d.devtype === 'cdrom') throw new ConfigError(`${path}: disk ${d.vdev}: cdrom is not supported yet`);
    }
    if (cfg.vifs.length > 0) throw new ConfigError(`${path}: vif is not supported yet for an hvm domain`);
    if (cfg.boot !== undefined && cfg.boot !== 'c') throw new ConfigError(`${path}: boot = '${cfg.boot}': only 'c' (the first disk) is supported yet`);
    if (cfg.serial !== undefined && cfg.serial !== 'pty') throw new ConfigError(`${path}: serial = '${cfg.serial}': only 'pty' (the console) is supported`);
    return { cfg, bios: readBios() };
  }
  if (!cfg.kernel) throw new ConfigError(`${path}: 'kernel' is required for a pvh domain`);
  for (const d of cfg.disks) if (d.devtype === 'cdrom') throw new ConfigError(`${path}: disk ${d.vdev}: cdrom is not supported for pvh`);
  const elf = await kernelElf(readGuestFile(cfg.kernel, 'kernel'), nodeDecompress);
  const initrd = cfg.ramdisk ? readGuestFile(cfg.ramdisk, 'ramdisk') : undefined;
  return { cfg, elf, initrd };
}

/** The exit status a finished domain stands for. */
function statusCode(s: DomainStatus): number {
  switch (s.kind) {
    case 'poweroff': return EXIT_POWEROFF;
    case 'reset': return EXIT_REBOOT;
    default: return EXIT_CRASH;
  }
}

function actionFor(cfg: DomainConfig, s: DomainStatus): LifecycleAction {
  return s.kind === 'poweroff' ? cfg.onPoweroff : s.kind === 'reset' ? cfg.onReboot : cfg.onCrash;
}

export async function create(args: string[]): Promise<number> {
  const req = parseCreateArgs(args);
  const prepared: Prepared[] = [];
  for (const d of req.domains) prepared.push(await prepare(d.path, d.overrides));
  const names = new Set<string>();
  for (const p of prepared) {
    if (names.has(p.cfg.name)) throw new ConfigError(`two domains are named '${p.cfg.name}'`);
    names.add(p.cfg.name);
  }

  const host = new XenHost();
  const switches = new Map<string, VirtualSwitch>();
  const switchFor = (bridge: string): VirtualSwitch => {
    let s = switches.get(bridge);
    if (!s) {
      switches.set(bridge, (s = new VirtualSwitch()));
      // tsxen's own endpoint on every bridge: ARP, ping and DHCP (10.0.2.0/24, gateway 10.0.2.2).
      new HostEndpoint().attach(s);
    }
    return s;
  };
  let detached = false;
  let first: Domain | null = null;
  let hvmDomids = 1000;
  const term = req.console ? attachConsole((b) => first?.input(b), () => { detached = true; }) : null;
  const prefixed = (name: string) => {
    let atLineStart = true;
    const dec = new TextDecoder();
    return (b: Uint8Array) => {
      const text = dec.decode(b, { stream: true });
      let out = '';
      for (const ch of text) {
        if (atLineStart) out += `${name}| `;
        out += ch;
        atLineStart = ch === '\n';
      }
      process.stdout.write(out);
    };
  };

  interface Running { p: Prepared; m: Domain; stores: FileBlockStore[]; waitUntil: number }
  const build = (p: Prepared, k: number): Running => {
    const stores: FileBlockStore[] = [];
    const disks: PvDisk[] = [];
    try {
      for (const d of p.cfg.disks) {
        const store = new FileBlockStore(d.target, d.access === 'ro');
        stores.push(store);
        disks.push({ vdev: d.vdev, store, readOnly: d.access === 'ro', params: d.target });
      }
      const consoleOutput = k === 0 && term ? (b: Uint8Array) => term.output.write(b) : prefixed(p.cfg.name);
      let m: Domain;
      if (p.cfg.type === 'hvm') {
        const ide: (FileBlockStore | undefined)[] = [];
        p.cfg.disks.forEach((d, i) => { ide[idePosition(d.vdev)!] = stores[i]; });
        const byte = new Uint8Array(1);
        m = hvmDomain(++hvmDomids, new HvmMachine({
          memoryMiB: p.cfg.memoryMiB, bios: p.bios!, clockMode: 'host', hostNowNs: () => performance.now() * 1e6,
          wallclockMs: Date.now(), serialOutput: (b) => { byte[0] = b; consoleOutput(byte); }, disks: ide,
        }));
      } else {
        m = new PvhMachine({
          host, name: p.cfg.name, memoryMiB: p.cfg.memoryMiB, kernelElf: p.elf!, initrd: p.initrd, cmdline: p.cfg.cmdline,
          clockMode: 'host', hostNowNs: () => performance.now() * 1e6, wallclockMs: Date.now(),
          consoleOutput,
          disks,
          vifs: p.cfg.vifs.map((v, i) => ({ mac: v.mac ?? defaultMac(k, i), bridge: v.bridge ?? 'xenbr0', switch: switchFor(v.bridge ?? 'xenbr0') })),
        });
      }
      if (k === 0) first = m;
      process.stderr.write(`tsxen: domain ${m.domid} '${p.cfg.name}' created\n`);
      return { p, m, stores, waitUntil: 0 };
    } catch (e) {
      for (const s of stores) s.close();
      throw e;
    }
  };

  const running: (Running | null)[] = prepared.map((p, k) => build(p, k));
  let firstStatus = EXIT_POWEROFF;
  try {
    for (;;) {
      if (detached) return EXIT_DETACHED;
      const live = running.filter((r): r is Running => r !== null);
      if (live.length === 0) return firstStatus;
      let minWait = Infinity;
      const now = performance.now();
      for (let k = 0; k < running.length; k++) {
        const r = running[k];
        if (r === null) continue;
        if (r.waitUntil > now) {
          minWait = Math.min(minWait, r.waitUntil - now);
          continue;
        }
        let s: DomainStatus;
        try {
          s = r.m.step(1_000_000);
        } catch (e) {
          // A bug of ours while running one domain ends that domain, not the host or the others.
          s = { kind: 'crash', reason: `internal error: ${(e as Error).message}` };
        }
        if (s.kind === 'running') {
          minWait = 0;
          continue;
        }
        if (s.kind === 'idle') {
          r.waitUntil = now + Math.min(50, s.waitNs / 1e6);
          minWait = Math.min(minWait, r.waitUntil - now);
          continue;
        }
        const action = actionFor(r.p.cfg, s);
        process.stderr.write(`tsxen: domain ${r.m.domid} '${r.p.cfg.name}': ${s.kind} (${'reason' in s ? s.reason : ''}) -> ${action}\n`);
        r.m.destroy();
        for (const st of r.stores) st.close();
        if (action === 'restart' || action === 'rename-restart' || action === 'coredump-restart') {
          running[k] = build(r.p, k);
        } else {
          if (k === 0) firstStatus = statusCode(s);
          running[k] = null;
        }
      }
      if (minWait === 0) await new Promise((r) => setImmediate(r));
      else if (minWait !== Infinity) await new Promise((r) => setTimeout(r, minWait));
    }
  } finally {
    term?.detach();
    for (const r of running) if (r) for (const s of r.stores) s.close();
  }
}

type DomainStatus = PvhStatus | HvmStatus;

/** What the create loop needs of a running domain, whatever its type. */
interface Domain {
  readonly domid: number;
  step(maxInstructions: number): DomainStatus;
  input(bytes: Uint8Array): void;
  destroy(): void;
}

/**
 * An HVM domain in the create loop. It has no Xen interface yet (that comes with PVHVM), so its
 * number is only a label, from a range PVH domain IDs do not reach here.
 */
function hvmDomain(domid: number, m: HvmMachine): Domain {
  return { domid, step: (n) => m.step(n), input: (b) => m.input(b), destroy: () => {} };
}

/** A MAC in Xen's OUI 00:16:3e, unique in this process: the domain's position and the vif index. */
function defaultMac(domainIndex: number, vifIndex: number): string {
  const h = (n: number) => (n & 0xff).toString(16).padStart(2, '0');
  return `00:16:3e:${h(domainIndex >> 8)}:${h(domainIndex)}:${h(vifIndex)}`;
}
