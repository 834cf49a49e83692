/**
 * A virtual Ethernet switch inside tsxen: every port (a domain's vif or emulated NIC, or the
 * host-side endpoint) delivers frames to it, and it forwards by learned source MAC addresses,
 * flooding broadcast, multicast and unknown destinations. A frame never goes back out of the
 * port it came in on. Bounded tables: a hostile guest spraying MACs cannot grow memory.
 */
export interface SwitchPort {
  readonly name: string;
  /** Delivers a frame to the port's owner; returns false if it had to drop it. */
  deliver(frame: Uint8Array): boolean;
}

const MAX_MACS = 4096;

export class VirtualSwitch {
  private readonly ports = new Set<SwitchPort>();
  private readonly fdb = new Map<string, SwitchPort>();
  frames = 0;
  dropped = 0;

  attach(port: SwitchPort): void {
    this.ports.add(port);
  }

  detach(port: SwitchPort): void {
    this.ports.delete(port);
    for (const [mac, p] of this.fdb) if (p === port) this.fdb.delete(mac);
  }

  /** A frame arrives from `from`. */
  input(from: SwitchPort, frame: Uint8Array): void {
    if (frame.length < 14 || !this.ports.has(from)) {
      this.dropped++;
      return;
    }
    this.frames++;
    const src = macKey(frame, 6);
    if ((frame[6] & 1) === 0) {
      if (this.fdb.size >= MAX_MACS && !this.fdb.has(src)) this.fdb.clear();
      this.fdb.set(src, from);
    }
    const dst = (frame[0] & 1) === 0 ? this.fdb.get(macKey(frame, 0)) : undefined;
    if (dst !== undefined) {
      if (dst !== from && !dst.deliver(frame)) this.dropped++;
      return;
    }
    for (const p of this.ports) {
      if (p !== from && !p.deliver(frame.slice())) this.dropped++;
    }
  }
}

function macKey(f: Uint8Array, o: number): string {
  return `${f[o]}.${f[o + 1]}.${f[o + 2]}.${f[o + 3]}.${f[o + 4]}.${f[o + 5]}`;
}
