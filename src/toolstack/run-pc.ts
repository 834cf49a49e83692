/**
 * `tsxen run`: boots a kernel on the emulated PC with its serial console on the terminal.
 * The loop gives the CPU slices of work and yields to Node's event loop between them, so
 * keyboard input and timers keep flowing; an idle guest sleeps for real until its next deadline.
 */
import { readFileSync } from 'node:fs';
import { PcMachine } from '../machine/pc.js';
import { drive, type MachineStatus, type Steppable } from './drive.js';
import { attachConsole } from '../host/node/console.js';
import type { ClockMode } from '../machine/clock.js';

export interface RunOptions {
  kernel: string;
  initrd?: string;
  cmdline: string;
  memoryMiB: number;
  clockMode: ClockMode;
  noReboot: boolean;
  /** Feed these bytes to the console instead of the terminal (tests, scripted runs). */
  script?: Uint8Array;
  /** Stop after this much guest time in ms (0 = never). */
  timeoutMs?: number;
}

/** Exit codes of `tsxen run`, documented in the README. */
export const EXIT_POWEROFF = 0, EXIT_CRASH = 1, EXIT_USAGE = 2, EXIT_REBOOT = 3, EXIT_DETACHED = 4, EXIT_TIMEOUT = 5;

export function readGuestFile(path: string, what: string): Uint8Array {
  try {
    return new Uint8Array(readFileSync(path));
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new Error(`cannot read ${what} '${path}': ${code === 'ENOENT' ? 'no such file' : code ?? String(e)}`);
  }
}

export async function runPc(o: RunOptions): Promise<number> {
  const kernel = readGuestFile(o.kernel, 'kernel');
  const initrd = o.initrd ? readGuestFile(o.initrd, 'initrd') : undefined;
  return superviseConsole(o, (serialOutput) => new PcMachine({
    memoryMiB: o.memoryMiB,
    kernel,
    initrd,
    cmdline: o.cmdline,
    clockMode: o.clockMode,
    hostNowNs: () => performance.now() * 1e6,
    wallclockMs: Date.now(),
    serialOutput,
  }));
}

/** A machine with its console on COM1 that reboots in place (the emulated PC, HVM). */
export interface SerialConsoleMachine extends Steppable<MachineStatus> {
  input(bytes: Uint8Array): void;
  reboot(): void;
}

/**
 * Runs a serial-console machine on the terminal (raw mode; Ctrl-] detaches) or on `o.script`,
 * restarting it on guest reboots unless `o.noReboot`, and maps how it ends to the exit status.
 */
export async function superviseConsole(o: RunOptions, build: (serialOutput: (byte: number) => void) => SerialConsoleMachine): Promise<number> {
  let detached = false;
  let m: SerialConsoleMachine | null = null;
  const interactive = o.script === undefined;
  const console = interactive
    ? attachConsole((b) => m?.input(b), () => { detached = true; })
    : { output: { write: (b: Uint8Array) => void process.stdout.write(b) }, detach() {} };
  const out = new Uint8Array(1);
  try {
    m = build((b) => {
      out[0] = b;
      console.output.write(out);
    });
    if (o.script) m.input(o.script);
    for (;;) {
      const s = await drive(m, { timeoutMs: o.timeoutMs, detached: () => detached });
      switch (s.kind) {
        case 'poweroff': return EXIT_POWEROFF;
        case 'detached': return EXIT_DETACHED;
        case 'timeout': return EXIT_TIMEOUT;
        case 'reset':
          if (o.noReboot) return EXIT_REBOOT;
          m.reboot();
          break;
        case 'crash':
          process.stderr.write(`\ntsxen: guest stopped: ${s.reason}\n`);
          return EXIT_CRASH;
      }
    }
  } finally {
    console.detach();
  }
}
