/**
 * `tsxen run --type hvm`: a fully virtualized PC started at the reset vector with SeaBIOS in ROM,
 * booting from its IDE disks the way a real PC does (MBR -> boot loader -> kernel). Its console
 * is COM1 on the terminal, as for the direct-boot PC. The BIOS image is Debian's SeaBIOS
 * (package `seabios`), read from the system unless `--bios` names another one.
 */
import { existsSync } from 'node:fs';
import { HvmMachine } from '../machine/hvm.js';
import { FileBlockStore } from '../host/node/file-block-store.js';
import { readGuestFile, superviseConsole, type RunOptions } from './run-pc.js';

export const DEFAULT_BIOS = '/usr/share/seabios/bios-256k.bin';

export interface HvmRunOptions extends RunOptions {
  /** Raw disk images: primary master, primary slave, secondary master, secondary slave. */
  disks: string[];
  bios?: string;
}

/** The BIOS image: `path`, or Debian's SeaBIOS, with an install hint when that is missing. */
export function readBios(path?: string): Uint8Array {
  if (path === undefined && !existsSync(DEFAULT_BIOS)) {
    throw new Error(`cannot read BIOS '${DEFAULT_BIOS}': no such file (apt-get install seabios, or pass --bios FILE)`);
  }
  return readGuestFile(path ?? DEFAULT_BIOS, 'BIOS');
}

export async function runHvm(o: HvmRunOptions): Promise<number> {
  const bios = readBios(o.bios);
  if (o.disks.length > 4) throw new Error(`disk images: at most 4 IDE disks, got ${o.disks.length}`);
  const disks = o.disks.map((path) => new FileBlockStore(path, false));
  return superviseConsole(o, (serialOutput) => new HvmMachine({
    memoryMiB: o.memoryMiB,
    bios,
    clockMode: o.clockMode,
    hostNowNs: () => performance.now() * 1e6,
    wallclockMs: Date.now(),
    serialOutput,
    disks,
  }));
}
