/**
 * The `tsxen` command line. Parsing uses Node's built-in util.parseArgs; every bad input ends in
 * one line naming the problem and exit status 2.
 */
import { parseArgs } from 'node:util';
import { Flat32Machine } from '../machine/flat32.js';
import { selfTestProgram } from '../machine/selftest.js';
import { setLogSink } from '../base/log.js';
import { EXIT_USAGE, runPc } from './run-pc.js';
import { runPvh } from './run-pvh.js';
import { runHvm } from './run-hvm.js';
import { create, CreateUsageError } from './create.js';
import { ConfigError } from './xlcfg.js';
import type { ClockMode } from '../machine/clock.js';

const USAGE = `usage: tsxen <command> [options]

commands:
  selftest            run the built-in CPU self-test guest (no files needed)
  run [options]       boot a Linux kernel on the emulated PC, console on the terminal
      --type pc|pvh|hvm   pc: direct boot on the emulated PC (serial console);
                          pvh: a Xen PVH domain (PV console hvc0);
                          hvm: a whole PC with SeaBIOS booting from --disk (serial console)
      --disk FILE         (hvm) raw disk image, repeatable: primary master, primary slave,
                          secondary master, secondary slave (scripts/make-disk.sh builds one)
      --bios FILE         (hvm) BIOS image (default: Debian's SeaBIOS, package seabios)
      --kernel FILE       bzImage or ELF vmlinux to boot (default: the bundled guest)
      --initrd FILE       initial ramdisk
      --cmdline STR       kernel command line (default: console=ttyS0, or console=hvc0 for pvh)
      --memory MiB        guest RAM (default 256)
      --clock host|deterministic   guest time source (default host)
      --no-reboot         exit with status 3 when the guest reboots instead of restarting it
    exit status: 0 guest powered off, 1 guest crashed (e.g. triple fault), 2 bad arguments,
                 3 reboot with --no-reboot, 4 detached with Ctrl-], 5 --timeout reached
  create [-c] FILE.cfg [KEY=VALUE ...] [FILE.cfg [KEY=VALUE ...] ...]
                      create the domains described by xl.cfg files (type = "pvh") and run them
                      in this process; -c attaches the first domain's console
  help                show this text`;

export class UsageError extends Error {}

export async function main(argv: string[]): Promise<number> {
  // TSXEN_LOG=debug|info|warn|error picks how much of the log reaches stderr; by default warnings
  // and errors (a guest probing MSRs or ports it may not have is info, not the user's problem).
  const levels = ['debug', 'info', 'warn', 'error'];
  const wanted = process.env.TSXEN_LOG ?? 'warn';
  const threshold = levels.indexOf(wanted);
  if (threshold < 0) {
    process.stderr.write(`tsxen: TSXEN_LOG must be one of ${levels.join(', ')}, got '${wanted}'\n`);
    return 2;
  }
  setLogSink((level, topic, message) => {
    if (levels.indexOf(level) >= threshold) process.stderr.write(`tsxen: ${topic}: ${message}\n`);
  });
  const [cmd, ...rest] = argv;
  try {
    switch (cmd) {
      case undefined:
      case 'help':
      case '--help':
      case '-h':
        process.stdout.write(USAGE + '\n');
        return 0;
      case 'selftest':
        return selftest(rest);
      case 'run':
        return await run(rest);
      case 'create':
        return await create(rest);
      default:
        throw new UsageError(`unknown command '${cmd}' (try 'tsxen help')`);
    }
  } catch (e) {
    if (e instanceof UsageError || e instanceof CreateUsageError || e instanceof ConfigError || (e instanceof TypeError && 'code' in e && String(e.code).startsWith('ERR_PARSE_ARGS'))) {
      process.stderr.write(`tsxen: ${e.message}\n`);
      return 2;
    }
    if (e instanceof Error && (e.name === 'BootImageError' || /^(cannot read|kernel image|kernel is not|boot protocol|not enough memory|kernel command line|memory must|cannot open disk image|disk image|BIOS image)/.test(e.message))) {
      process.stderr.write(`tsxen: ${e.message}\n`);
      return EXIT_USAGE;
    }
    throw e;
  }
}

function selftest(args: string[]): number {
  parseArgs({ args, options: {}, strict: true });
  const m = new Flat32Machine({ ramBytes: 1 << 20, onOutput: (b) => process.stdout.write(String.fromCharCode(b)) });
  const p = selfTestProgram();
  m.load(p.code, p.load);
  const t0 = performance.now();
  m.run(50_000_000);
  const ms = performance.now() - t0;
  if (m.exitCode === null) {
    process.stderr.write('tsxen: self-test did not finish\n');
    return 1;
  }
  process.stdout.write(`(${m.cpu.icount} guest instructions in ${ms.toFixed(1)} ms)\n`);
  return m.exitCode;
}

const DEFAULT_KERNEL = 'guest/vmlinuz';
const DEFAULT_INITRD = 'guest/initramfs.cpio.gz';

async function run(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      kernel: { type: 'string' },
      initrd: { type: 'string' },
      cmdline: { type: 'string' },
      memory: { type: 'string' },
      type: { type: 'string' },
      clock: { type: 'string' },
      'no-reboot': { type: 'boolean' },
      timeout: { type: 'string' },
      disk: { type: 'string', multiple: true },
      bios: { type: 'string' },
    },
    strict: true,
  });
  if (values.memory !== undefined && !/^[1-9][0-9]*$/.test(values.memory)) {
    throw new UsageError(`--memory must be a whole number of MiB, got '${values.memory}'`);
  }
  const memoryMiB = values.memory ? Number(values.memory) : 256;
  if (memoryMiB < 32) throw new UsageError(`--memory ${memoryMiB} is too little: a Linux guest needs at least 32 MiB`);
  if (memoryMiB > 2000) throw new UsageError(`--memory ${memoryMiB} is more than the supported 2000 MiB`);
  const type = values.type ?? 'pc';
  if (type !== 'pc' && type !== 'pvh' && type !== 'hvm') {
    throw new UsageError(`--type must be pc (direct boot on the emulated PC), pvh (a Xen PVH domain) or hvm (SeaBIOS booting a disk), got '${type}'`);
  }
  if (type === 'hvm') {
    for (const k of ['kernel', 'initrd', 'cmdline'] as const) {
      if (values[k] !== undefined) throw new UsageError(`--${k} does not apply to --type hvm: the boot loader on the disk loads the kernel`);
    }
    if (!values.disk?.length) throw new UsageError('--type hvm needs --disk FILE (a bootable raw image; scripts/make-disk.sh builds one)');
  } else if (values.disk !== undefined || values.bios !== undefined) {
    throw new UsageError(`--disk and --bios apply to --type hvm only`);
  }
  const clock = values.clock ?? 'host';
  if (clock !== 'host' && clock !== 'deterministic') throw new UsageError(`--clock must be host or deterministic, got '${clock}'`);
  if (values.timeout !== undefined && !/^[1-9][0-9]*$/.test(values.timeout)) throw new UsageError(`--timeout must be a whole number of seconds`);
  const common = {
    memoryMiB,
    clockMode: clock as ClockMode,
    noReboot: values['no-reboot'] ?? false,
    timeoutMs: values.timeout ? Number(values.timeout) * 1000 : 0,
  };
  if (type === 'hvm') return runHvm({ ...common, kernel: '', cmdline: '', disks: values.disk ?? [], bios: values.bios });
  const kernel = values.kernel ?? DEFAULT_KERNEL;
  const initrd = values.initrd ?? (values.kernel === undefined ? DEFAULT_INITRD : undefined);
  return (type === 'pvh' ? runPvh : runPc)({
    kernel,
    initrd,
    cmdline: values.cmdline ?? (type === 'pvh' ? 'console=hvc0' : 'console=ttyS0'),
    ...common,
  });
}
