/**
 * `npm run bench:io`: PV block I/O inside a PVH guest (the stock Debian kernel's xen-blkfront
 * against tsxen's blkback on a raw image in the OS temp dir). In the guest: sequential write and
 * read of 32 MiB with O_DIRECT (dd bs=1M), then 4 KiB random reads and writes with O_DIRECT.
 * The guest prints a marker line before and after each phase; the host takes the time and the
 * hypervisor counters at each marker, so the figures include the guest's own overheads, as a
 * user inside the guest would see them. Also prints the PVH boot-to-shell time.
 *
 * Options: --mib N (sequential size, default 32), --ops N (random I/Os per phase, default 256).
 */
import { mkdtempSync, rmSync, writeFileSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PvhMachine, type PvhStatus } from '../src/machine/pvh.js';
import { XenHost } from '../src/machine/xen-host.js';
import { FileBlockStore } from '../src/host/node/file-block-store.js';
import { nodeDecompress } from '../src/host/node/decompress.js';
import { kernelElf } from '../src/loader/kernel-payload.js';
import { drive } from '../src/toolstack/drive.js';

const root = join(fileURLToPath(import.meta.url), '../../..');
const arg = (name: string, dflt: number): number => {
  const k = process.argv.indexOf(`--${name}`);
  const v = k >= 0 ? Number(process.argv[k + 1]) : dflt;
  if (!Number.isInteger(v) || v <= 0) throw new Error(`--${name} must be a positive whole number`);
  return v;
};
const mib = arg('mib', 32), ops = arg('ops', 256);

interface Sample { t: number; hypercalls: number; sends: number; upcalls: number; grants: number; reqs: number }

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'tsxen-io-'));
  const image = join(dir, 'xvda.img');
  writeFileSync(image, new Uint8Array((mib + 16) << 20));
  const store = new FileBlockStore(image, false);
  const blocks = ((mib + 16) << 20) / 4096;
  const loop = (body: string) => `i=0; while [ $i -lt ${ops} ]; do ${body}; i=$((i+1)); done`;
  const cmd = [
    'echo mark:seqwrite',
    `dd if=/dev/zero of=/dev/xvda bs=1048576 count=${mib} oflag=direct 2>/dev/null`,
    'echo mark:seqread',
    `dd if=/dev/xvda of=/dev/null bs=1048576 count=${mib} iflag=direct 2>/dev/null`,
    'echo mark:randread',
    loop(`dd if=/dev/xvda of=/dev/null bs=4096 count=1 skip=$((RANDOM * 7 % ${blocks})) iflag=direct 2>/dev/null`),
    'echo mark:randwrite',
    loop(`dd if=/dev/zero of=/dev/xvda bs=4096 count=1 seek=$((RANDOM * 7 % ${blocks})) oflag=direct 2>/dev/null`),
    'echo mark:end',
  ].join('; ');
  const marks = new Map<string, Sample>();
  let line = '';
  const t0 = performance.now();
  let ready = 0;
  // eslint-disable-next-line prefer-const
  let m: PvhMachine;
  const sample = (): Sample => {
    const d = m.domain;
    let hc = 0;
    for (const n of d.stats.hypercalls.values()) hc += n;
    const disk = m.pv.disks[0].stats.io as { requests?: number };
    return { t: performance.now(), hypercalls: hc, sends: d.evtchn.sends, upcalls: d.evtchn.upcalls, grants: d.gnttab.accesses, reqs: disk.requests ?? 0 };
  };
  const dec = new TextDecoder();
  m = new PvhMachine({
    host: new XenHost(), name: 'io-bench', memoryMiB: 256,
    kernelElf: await kernelElf(new Uint8Array(readFileSync(join(root, 'guest/vmlinuz'))), nodeDecompress),
    initrd: new Uint8Array(readFileSync(join(root, 'guest/initramfs.cpio.gz'))),
    cmdline: `console=hvc0 quiet tsxen.modules=xen-blkfront tsxen.run="${cmd}"`,
    clockMode: 'host', hostNowNs: () => performance.now() * 1e6, wallclockMs: Date.now(),
    consoleOutput: (b) => {
      for (const ch of dec.decode(b, { stream: true })) {
        if (ch !== '\n') { line += ch; continue; }
        const l = line.trim();
        line = '';
        if (l === 'tsxen-guest: ready') ready = performance.now();
        const k = l.indexOf('mark:');
        if (k >= 0) marks.set(l.slice(k + 5), sample());
      }
    },
    disks: [{ vdev: 'xvda', store, params: image }],
  });
  const status = await drive<PvhStatus>(m, {});
  store.close();
  rmSync(dir, { recursive: true, force: true });
  if (status.kind !== 'poweroff' || !marks.has('end')) throw new Error(`guest did not finish the workload: ${JSON.stringify(status)}`);
  console.log(`PVH boot to shell: ${((ready - t0) / 1000).toFixed(1)} s`);
  const phases: [string, string, number, number][] = [
    ['sequential write (dd 1 MiB, O_DIRECT)', 'seqwrite', mib << 20, mib],
    ['sequential read  (dd 1 MiB, O_DIRECT)', 'seqread', mib << 20, mib],
    ['random read  4 KiB (O_DIRECT)', 'randread', ops * 4096, ops],
    ['random write 4 KiB (O_DIRECT)', 'randwrite', ops * 4096, ops],
  ];
  const order = ['seqwrite', 'seqread', 'randread', 'randwrite', 'end'];
  console.log('phase                                     MB/s     IOPS  hypercalls/MB  evtchn sends/MB  upcalls/MB  ring requests/MB');
  for (const [label, key, bytes, ios] of phases) {
    const a = marks.get(key)!, b = marks.get(order[order.indexOf(key) + 1])!;
    const s = (b.t - a.t) / 1000, mb = bytes / 1048576;
    const per = (x: number) => ((x / mb).toFixed(0)).padStart(8);
    console.log(`${label.padEnd(40)} ${(mb / s).toFixed(2).padStart(6)} ${(ios / s).toFixed(0).padStart(8)}  ${per(b.hypercalls - a.hypercalls).padStart(13)}  ${per(b.sends - a.sends).padStart(15)}  ${per(b.upcalls - a.upcalls).padStart(10)}  ${per(b.reqs - a.reqs).padStart(16)}`);
  }
}

main().catch((e) => {
  console.error(`bench:io: ${(e as Error).message}`);
  process.exitCode = 1;
});
