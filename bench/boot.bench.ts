/**
 * Boot benchmark (`npm run bench:boot [-- --runs N] [-- --only tsxen,v86,qemu]`): wall time from
 * starting the emulator to the bundled guest's ready line (`tsxen-guest: ready` on the serial
 * console), for tsxen and, on the same kernel + initramfs and command line (`console=ttyS0`), for
 * two anchors: v86 (npm package `v86`, a devDependency; it ships no BIOS, so SeaBIOS and the VGA
 * BIOS come from Debian's `seabios` package) and QEMU's TCG (Debian's `qemu-system-i386`).
 * `bench/install-anchors.sh` apt-installs both. Each run is a fresh process; the median of N runs
 * (default 5) is printed side by side with the ratios to tsxen. A missing anchor is reported on
 * one line and skipped. Measure with this, never with a timed test.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';

const root = join(dirname(fileURLToPath(import.meta.url)), '../..');
const kernel = join(root, 'guest/vmlinuz');
const initrd = join(root, 'guest/initramfs.cpio.gz');
const CMDLINE = 'console=ttyS0';
const MEMORY_MIB = 256;
const READY = 'tsxen-guest: ready';

interface Args { runs: number; only: Set<string> | null; limitSeconds: number }

function parseArgs(argv: string[]): Args {
  const a: Args = { runs: 5, only: null, limitSeconds: 600 };
  for (let k = 0; k < argv.length; k++) {
    const v = argv[k];
    const next = (): string => {
      const n = argv[++k];
      if (n === undefined) throw new Error(`${v} needs a value`);
      return n;
    };
    if (v === '--runs') a.runs = Number(next());
    else if (v.startsWith('--runs=')) a.runs = Number(v.slice(7));
    else if (v === '--only') a.only = new Set(next().split(','));
    else if (v.startsWith('--only=')) a.only = new Set(v.slice(7).split(','));
    else if (v === '--limit') a.limitSeconds = Number(next());
    else throw new Error(`unknown argument ${v} (use --runs N, --only tsxen,v86,qemu, --limit SECONDS)`);
  }
  if (!Number.isInteger(a.runs) || a.runs < 1) throw new Error('--runs must be a positive whole number');
  return a;
}

interface Emulator {
  name: string;
  /** Why it cannot run here, or null. */
  missing(): string | null;
  command(): { cmd: string; args: string[] };
}

function onPath(cmd: string): string | null {
  for (const d of (process.env.PATH ?? '').split(':')) if (d && existsSync(join(d, cmd))) return join(d, cmd);
  return null;
}

const SEABIOS_DIRS = ['/usr/share/seabios', '/usr/share/qemu'];
function seabiosFile(name: string): string | null {
  for (const d of SEABIOS_DIRS) if (existsSync(join(d, name))) return join(d, name);
  return null;
}

const emulators: Emulator[] = [
  {
    name: 'tsxen',
    missing: () => null,
    command: () => ({
      cmd: process.execPath,
      args: [join(root, 'bin/tsxen.js'), 'run', '--kernel', kernel, '--initrd', initrd, '--cmdline', CMDLINE, '--memory', String(MEMORY_MIB), '--no-reboot'],
    }),
  },
  {
    name: 'v86',
    missing: () => {
      try {
        createRequire(import.meta.url).resolve('v86/build/v86.wasm');
      } catch {
        return 'npm package v86 not installed (npm install)';
      }
      if (!seabiosFile('bios.bin') || !seabiosFile('vgabios-stdvga.bin')) return 'SeaBIOS images not found (apt-get install seabios, or bench/install-anchors.sh)';
      return null;
    },
    command: () => ({
      cmd: process.execPath,
      args: [join(root, 'dist/bench/v86-boot.js'), kernel, initrd, seabiosFile('bios.bin')!, seabiosFile('vgabios-stdvga.bin')!, CMDLINE, String(MEMORY_MIB)],
    }),
  },
  {
    name: 'qemu-tcg',
    missing: () => (onPath('qemu-system-i386') ? null : 'qemu-system-i386 not installed (apt-get install qemu-system-x86, or bench/install-anchors.sh)'),
    command: () => ({
      cmd: 'qemu-system-i386',
      args: ['-accel', 'tcg', '-m', String(MEMORY_MIB), '-kernel', kernel, '-initrd', initrd, '-append', CMDLINE, '-nographic', '-no-reboot'],
    }),
  },
];

/** One boot: seconds from spawn to the ready line, or an error string. */
function bootOnce(e: Emulator, limitSeconds: number): Promise<number | string> {
  return new Promise((resolve) => {
    const { cmd, args } = e.command();
    const t0 = performance.now();
    const child = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    let tail = '';
    let done = false;
    const finish = (r: number | string) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      child.kill('SIGKILL');
      resolve(r);
    };
    const timer = setTimeout(() => finish(`no ready line within ${limitSeconds} s`), limitSeconds * 1000);
    child.stdout.on('data', (chunk: Buffer) => {
      tail = (tail + chunk.toString('latin1')).slice(-4096);
      if (tail.includes(READY)) finish((performance.now() - t0) / 1000);
    });
    let err = '';
    child.stderr.on('data', (chunk: Buffer) => { err = (err + chunk.toString()).slice(-2000); });
    child.on('error', (x) => finish(`cannot start ${cmd}: ${x.message}`));
    child.on('exit', (code, sig) => {
      const last = (err.trim().split('\n').pop() ?? '').slice(0, 200);
      finish(`exited (${code ?? sig}) before the ready line${last ? `: ${last}` : ''}`);
    });
  });
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const n = s.length;
  return n % 2 ? s[(n - 1) / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
}

async function main(): Promise<void> {
  const a = parseArgs(process.argv.slice(2));
  if (!existsSync(kernel) || !existsSync(initrd)) {
    console.log(`bench:boot: the bundled guest is missing (${kernel}); run scripts/guest-kit.sh`);
    return;
  }
  console.log(`boot to "${READY}": ${a.runs} run(s) each, cmdline "${CMDLINE}", ${MEMORY_MIB} MiB`);
  const medians = new Map<string, number>();
  for (const e of emulators) {
    if (a.only && !a.only.has(e.name) && !(e.name === 'qemu-tcg' && a.only.has('qemu'))) continue;
    const why = e.missing();
    if (why) {
      console.log(`${e.name.padEnd(9)} not measured: ${why}`);
      continue;
    }
    const times: number[] = [];
    let failure: string | null = null;
    for (let r = 0; r < a.runs; r++) {
      const t = await bootOnce(e, a.limitSeconds);
      if (typeof t === 'string') {
        failure = t;
        break;
      }
      times.push(t);
    }
    if (failure !== null) {
      console.log(`${e.name.padEnd(9)} not measured: ${failure}`);
      continue;
    }
    const m = median(times);
    medians.set(e.name, m);
    console.log(`${e.name.padEnd(9)} median ${m.toFixed(1)} s  (runs: ${times.map((t) => t.toFixed(1)).join(', ')})`);
  }
  const ts = medians.get('tsxen');
  if (ts !== undefined) {
    for (const [name, m] of medians) {
      if (name !== 'tsxen') console.log(`ratio tsxen / ${name}: ${(ts / m).toFixed(2)}x`);
    }
  }
}

main().catch((e: unknown) => {
  console.log(`bench:boot: ${(e as Error).message}`);
  process.exitCode = 2;
});
