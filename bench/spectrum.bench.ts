/**
 * `npm run bench:spectrum`: the paravirtualization spectrum, measured. The same bundled Debian
 * kernel and initramfs run the same workload in every mode tsxen supports, and the table shows
 * what each mode costs:
 *
 *   hvm  the whole PC: SeaBIOS -> MBR -> SYSLINUX -> Linux from an IDE disk (scripts/make-disk.sh);
 *        the data disk is a second IDE disk driven by ata_piix (port I/O + bus-master DMA)
 *   pvh  a Xen PVH domain: no emulated devices; the data disk is xen-blkfront against blkback
 *        (grant copies, event channels, hypercalls)
 *
 * Workload inside the guest: boot to the ready line, then sequential write and read of N MiB
 * (default 64) with dd bs=1M O_DIRECT on the data disk. The guest prints a marker before and
 * after each phase; the host takes the time and the counters at each marker. Reported per phase:
 * time and throughput, emulated port I/O and MMIO accesses by device, hypercalls by number, event
 * channel sends, grant-table accesses, guest instructions executed.
 *
 * Options: --mib N (default 64), --modes hvm,pvh (default: all).
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { HvmMachine } from '../src/machine/hvm.js';
import { PvhMachine } from '../src/machine/pvh.js';
import { XenHost } from '../src/machine/xen-host.js';
import { FileBlockStore } from '../src/host/node/file-block-store.js';
import { nodeDecompress } from '../src/host/node/decompress.js';
import { kernelElf } from '../src/loader/kernel-payload.js';
import { drive, type MachineStatus } from '../src/toolstack/drive.js';
import { readBios } from '../src/toolstack/run-hvm.js';
import { HYPERVISOR } from '../src/xen/abi.js';

const root = join(fileURLToPath(import.meta.url), '../../..');
const argv = process.argv.slice(2);
const opt = (name: string): string | undefined => {
  const k = argv.indexOf(`--${name}`);
  return k >= 0 ? argv[k + 1] : undefined;
};
const mib = Number(opt('mib') ?? 64);
if (!Number.isInteger(mib) || mib <= 0 || mib > 1024) throw new Error('--mib must be a whole number of MiB, 1-1024');
const ALL_MODES = ['hvm', 'pvh'] as const;
type Mode = (typeof ALL_MODES)[number];
const modes = (opt('modes') ?? ALL_MODES.join(',')).split(',') as Mode[];
for (const m of modes) if (!ALL_MODES.includes(m)) throw new Error(`--modes: unknown mode '${m}' (have ${ALL_MODES.join(', ')})`);

/** Counters at one moment. */
interface Sample {
  t: number;
  instructions: number;
  ports: Map<string, number>;
  mmio: Map<string, number>;
  hypercalls: Map<number, number>;
  evtchnSends: number;
  grantAccesses: number;
}

interface Probe {
  machine: { step(n: number): MachineStatus; clock: { now(): number } };
  sample(): Omit<Sample, 't'>;
  close(): void;
}

/** The guest's workload on `dev`, with markers the host watches for on the console. */
function workload(dev: string): string {
  return [
    'echo mark:write',
    `dd if=/dev/zero of=${dev} bs=1048576 count=${mib} oflag=direct 2>/dev/null`,
    'echo mark:read',
    `dd if=${dev} of=/dev/null bs=1048576 count=${mib} iflag=direct 2>/dev/null`,
    'echo mark:end',
  ].join('; ');
}

function dataDisk(dir: string): { path: string; store: FileBlockStore } {
  const path = join(dir, 'data.img');
  writeFileSync(path, new Uint8Array((mib + 1) << 20));
  return { path, store: new FileBlockStore(path, false) };
}

function copyMap<K>(m: Map<K, number>): Map<K, number> {
  return new Map(m);
}

async function buildMode(mode: Mode, dir: string, onConsole: (b: number) => void): Promise<Probe> {
  const data = dataDisk(dir);
  if (mode === 'hvm') {
    const img = join(dir, 'boot.img');
    const cmd = workload('/dev/sdb');
    execFileSync('bash', [join(root, 'scripts/make-disk.sh'), img, '--size', '32', '--append',
      `quiet tsxen.modules=ata_piix,sd_mod tsxen.run="${cmd}"`], { stdio: ['ignore', 'ignore', 'inherit'] });
    const boot = new FileBlockStore(img, false);
    const m = new HvmMachine({
      memoryMiB: 256, bios: readBios(), clockMode: 'host',
      hostNowNs: () => performance.now() * 1e6, wallclockMs: Date.now(), serialOutput: onConsole,
      disks: [boot, data.store],
    });
    return {
      machine: m,
      sample: () => ({
        instructions: m.cpu.icount,
        ports: new Map(m.platform.ports.accessCounts().map((c) => [c.name, c.reads + c.writes])),
        mmio: copyMap(m.mem.mmioCount),
        hypercalls: new Map(), evtchnSends: 0, grantAccesses: 0,
      }),
      close: () => { boot.close(); data.store.close(); },
    };
  }
  const cmd = workload('/dev/xvda');
  const m = new PvhMachine({
    host: new XenHost(), name: 'spectrum', memoryMiB: 256,
    kernelElf: await kernelElf(new Uint8Array(readFileSync(join(root, 'guest/vmlinuz'))), nodeDecompress),
    initrd: new Uint8Array(readFileSync(join(root, 'guest/initramfs.cpio.gz'))),
    cmdline: `console=hvc0 quiet tsxen.modules=xen-blkfront tsxen.run="${cmd}"`,
    clockMode: 'host', hostNowNs: () => performance.now() * 1e6, wallclockMs: Date.now(),
    consoleOutput: (b) => { for (const x of b) onConsole(x); },
    disks: [{ vdev: 'xvda', store: data.store, params: data.path }],
  });
  return {
    machine: m,
    sample: () => ({
      instructions: m.cpu.icount,
      ports: new Map(),
      mmio: copyMap(m.mem.mmioCount),
      hypercalls: copyMap(m.domain.stats.hypercalls),
      evtchnSends: m.domain.evtchn.sends,
      grantAccesses: m.domain.gnttab.accesses,
    }),
    close: () => { m.destroy(); data.store.close(); },
  };
}

/** Hypercall names by number, from the hypervisor's own table. */
const HYPERCALL_NAMES = new Map<number, string>(Object.entries(HYPERVISOR).map(([name, nr]) => [nr, name]));

function diff<K>(a: Map<K, number>, b: Map<K, number>): Map<K, number> {
  const out = new Map<K, number>();
  for (const [k, v] of b) {
    const d = v - (a.get(k) ?? 0);
    if (d > 0) out.set(k, d);
  }
  return out;
}

function top<K>(m: Map<K, number>, name: (k: K) => string, n = 4): string {
  const list = [...m].sort((x, y) => y[1] - x[1]).slice(0, n);
  return list.length === 0 ? '-' : list.map(([k, v]) => `${name(k)} ${fmt(v)}`).join(', ');
}

function fmt(n: number): string {
  if (n >= 1e9) return `${(n / 1e9).toFixed(2)}G`;
  if (n >= 1e6) return `${(n / 1e6).toFixed(1)}M`;
  if (n >= 1e4) return `${(n / 1e3).toFixed(0)}k`;
  return String(n);
}

interface Row { mode: Mode; phase: string; seconds: number; mbps?: number; a: Sample; b: Sample }

async function runMode(mode: Mode): Promise<Row[]> {
  const dir = mkdtempSync(join(tmpdir(), `tsxen-spectrum-${mode}-`));
  const marks = new Map<string, Sample>();
  let line = '';
  let probe: Probe | undefined;
  const take = (): Sample => ({ t: performance.now(), ...probe!.sample() });
  try {
    probe = await buildMode(mode, dir, (b) => {
      const ch = String.fromCharCode(b);
      if (ch !== '\n') { line += ch; return; }
      const l = line.trim();
      line = '';
      if (l === 'tsxen-guest: ready') marks.set('ready', take());
      const k = l.indexOf('mark:');
      if (k >= 0 && !l.includes('echo')) marks.set(l.slice(k + 5), take());
    });
    const start = take();
    const status = await drive(probe.machine, {});
    if (status.kind !== 'poweroff' || !marks.has('end')) throw new Error(`${mode}: the guest did not finish the workload (${JSON.stringify(status)})`);
    const ready = marks.get('ready')!, w = marks.get('write')!, r = marks.get('read')!, end = marks.get('end')!;
    const s = (a: Sample, b: Sample) => (b.t - a.t) / 1000;
    return [
      { mode, phase: 'boot to shell', seconds: s(start, ready), a: start, b: ready },
      { mode, phase: `write ${mib} MiB`, seconds: s(w, r), mbps: mib / s(w, r), a: w, b: r },
      { mode, phase: `read ${mib} MiB`, seconds: s(r, end), mbps: mib / s(r, end), a: r, b: end },
    ];
  } finally {
    probe?.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const rows: Row[] = [];
  for (const mode of modes) {
    process.stderr.write(`bench:spectrum: ${mode}...\n`);
    rows.push(...await runMode(mode));
  }
  console.log(`| mode | phase | time (s) | MB/s | guest instructions | port I/O by device | MMIO by region | hypercalls by name | event sends | grant accesses |`);
  console.log(`| --- | --- | ---: | ---: | ---: | --- | --- | --- | ---: | ---: |`);
  for (const r of rows) {
    const hc = diff(r.a.hypercalls, r.b.hypercalls);
    console.log(`| ${r.mode} | ${r.phase} | ${r.seconds.toFixed(1)} | ${r.mbps === undefined ? '' : r.mbps.toFixed(1)} | ${fmt(r.b.instructions - r.a.instructions)} | ` +
      `${top(diff(r.a.ports, r.b.ports), (k) => k)} | ${top(diff(r.a.mmio, r.b.mmio), (k) => k)} | ${top(hc, (k) => HYPERCALL_NAMES.get(k) ?? `#${k}`)} | ` +
      `${fmt(r.b.evtchnSends - r.a.evtchnSends)} | ${fmt(r.b.grantAccesses - r.a.grantAccesses)} |`);
  }
}

main().catch((e) => {
  console.error(`bench:spectrum: ${(e as Error).message}`);
  process.exitCode = 1;
});
