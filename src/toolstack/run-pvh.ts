/**
 * `tsxen run --type pvh`: boots a kernel as a PVH domain with its PV console (hvc0) on the
 * terminal. The kernel may be an ELF vmlinux or a bzImage, whose compressed payload is unpacked
 * here on the host side (the loader stays pure).
 */
import { PvhMachine } from '../machine/pvh.js';
import { XenHost } from '../machine/xen-host.js';
import { attachConsole } from '../host/node/console.js';
import { nodeDecompress } from '../host/node/decompress.js';
import { kernelElf } from '../loader/kernel-payload.js';
import { drive } from './drive.js';
import { EXIT_CRASH, EXIT_DETACHED, EXIT_POWEROFF, EXIT_REBOOT, EXIT_TIMEOUT, readGuestFile, type RunOptions } from './run-pc.js';

export async function runPvh(o: RunOptions): Promise<number> {
  const elf = await kernelElf(readGuestFile(o.kernel, 'kernel'), nodeDecompress);
  const initrd = o.initrd ? readGuestFile(o.initrd, 'initrd') : undefined;
  let detached = false;
  const interactive = o.script === undefined;
  let m: PvhMachine | null = null;
  const console = interactive
    ? attachConsole((b) => m?.input(b), () => { detached = true; })
    : { output: { write: (b: Uint8Array) => void process.stdout.write(b) }, detach() {} };
  const host = new XenHost();
  const boot = (): PvhMachine => new PvhMachine({
    host, name: 'guest', memoryMiB: o.memoryMiB, kernelElf: elf, initrd, cmdline: o.cmdline, clockMode: o.clockMode,
    hostNowNs: () => performance.now() * 1e6, wallclockMs: Date.now(),
    consoleOutput: (b) => console.output.write(b),
  });
  try {
    m = boot();
    if (o.script) m.input(o.script);
    for (;;) {
      const r = await drive(m, { timeoutMs: o.timeoutMs, detached: () => detached });
      switch (r.kind) {
        case 'poweroff': return EXIT_POWEROFF;
        case 'detached': return EXIT_DETACHED;
        case 'timeout': return EXIT_TIMEOUT;
        case 'reset':
          if (o.noReboot) return EXIT_REBOOT;
          m.destroy();
          m = boot();
          break;
        case 'crash':
          process.stderr.write(`\ntsxen: guest stopped: ${r.reason}\n`);
          return EXIT_CRASH;
        default:
          break;
      }
    }
  } finally {
    console.detach();
  }
}
