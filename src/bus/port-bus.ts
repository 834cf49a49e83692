/**
 * The port I/O bus: 64K ports, each dispatching to the device registered over it. A device sees
 * an offset from its base, never the absolute port (Firecracker's "a device does not care where it
 * exists"). Wider accesses to byte-only devices are split into byte accesses; unclaimed ports read
 * as all-ones and ignore writes, as on a PC's ISA bus.
 */
import { logOnce } from '../base/log.js';

export interface PortDevice {
  readonly name: string;
  ioRead(offset: number, size: 1 | 2 | 4): number;
  ioWrite(offset: number, size: 1 | 2 | 4, value: number): void;
}

export class PortBus {
  private readonly dev: (PortDevice | undefined)[] = new Array(0x10000);
  private readonly base = new Uint16Array(0x10000);
  /** Per-device access counts, for cost breakdowns. */
  readonly counts = new Map<string, number>();

  register(base: number, count: number, device: PortDevice): void {
    if (base < 0 || count <= 0 || base + count > 0x10000) throw new Error(`bad port range for ${device.name}`);
    for (let p = base; p < base + count; p++) {
      const old = this.dev[p];
      if (old !== undefined && old !== device) throw new Error(`port 0x${p.toString(16)} of ${device.name} already belongs to ${old.name}`);
      this.dev[p] = device;
      this.base[p] = base;
    }
  }

  unregister(device: PortDevice): void {
    for (let p = 0; p < 0x10000; p++) if (this.dev[p] === device) this.dev[p] = undefined;
  }

  read(port: number, size: 1 | 2 | 4): number {
    port &= 0xffff;
    const d = this.dev[port];
    if (d === undefined) {
      logOnce('debug', 'ports', `r${port}`, `read of unclaimed port 0x${port.toString(16)}`);
      return size === 4 ? -1 : (1 << (size * 8)) - 1;
    }
    this.counts.set(d.name, (this.counts.get(d.name) ?? 0) + 1);
    // An access that runs past the device's last port is split so each byte reaches its owner.
    if (size > 1 && this.dev[(port + size - 1) & 0xffff] !== d) {
      let v = 0;
      for (let k = 0; k < size; k++) v |= this.read((port + k) & 0xffff, 1) << (8 * k);
      return v;
    }
    return d.ioRead(port - this.base[port], size);
  }

  write(port: number, size: 1 | 2 | 4, value: number): void {
    port &= 0xffff;
    const d = this.dev[port];
    if (d === undefined) {
      logOnce('debug', 'ports', `w${port}`, `write of unclaimed port 0x${port.toString(16)}`);
      return;
    }
    this.counts.set(d.name, (this.counts.get(d.name) ?? 0) + 1);
    if (size > 1 && this.dev[(port + size - 1) & 0xffff] !== d) {
      for (let k = 0; k < size; k++) this.write((port + k) & 0xffff, 1, (value >> (8 * k)) & 0xff);
      return;
    }
    d.ioWrite(port - this.base[port], size, value);
  }
}

/** Helper for devices whose registers are all bytes: splits wider accesses. */
export abstract class BytePortDevice implements PortDevice {
  abstract readonly name: string;
  protected abstract readByte(offset: number): number;
  protected abstract writeByte(offset: number, value: number): void;
  ioRead(offset: number, size: 1 | 2 | 4): number {
    let v = 0;
    for (let k = 0; k < size; k++) v |= this.readByte(offset + k) << (8 * k);
    return v;
  }
  ioWrite(offset: number, size: 1 | 2 | 4, value: number): void {
    for (let k = 0; k < size; k++) this.writeByte(offset + k, (value >> (8 * k)) & 0xff);
  }
}
