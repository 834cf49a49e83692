/**
 * The view of guest memory that emulated bus masters get (IDE bus-master DMA, the e1000's rings
 * and buffers, fw_cfg DMA): only ranges inside RAM, anything else (negative, fractional, past the
 * end of RAM, the PCI hole) is refused, so a hostile guest's addresses can never reach a host
 * buffer out of bounds. Reads see what the bus sees (PAM-shadowed BIOS segments included); writes
 * go through the CPU, so decoded code over the target is dropped, as for any other write behind
 * the CPU's back.
 */
import type { PhysicalMemory } from '../memory/physical.js';
import type { Cpu } from '../cpu/cpu.js';

export interface GuestDmaView {
  /** `len` bytes at `addr`, or null when any of them is outside RAM. */
  read(addr: number, len: number): Uint8Array | null;
  /** Writes `bytes` at `addr`; false (nothing written) when any of them is outside RAM. */
  write(addr: number, bytes: Uint8Array): boolean;
}

export function guestDmaView(mem: PhysicalMemory, cpu: Cpu): GuestDmaView {
  const inRam = (addr: number, len: number) =>
    Number.isInteger(addr) && Number.isInteger(len) && addr >= 0 && len >= 0 && addr + len <= mem.ramSize;
  return {
    read: (addr, len) => (inRam(addr, len) ? mem.readBytes(addr, len) : null),
    write: (addr, bytes) => {
      if (!inRam(addr, bytes.length)) return false;
      cpu.writePhysBytes(addr, bytes);
      return true;
    },
  };
}
