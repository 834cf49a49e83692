/**
 * The primary PV console (hvc0), as xenconsoled serves it: there is no XenBus handshake for it.
 * The toolstack picks the ring page (a GFN of guest RAM) and an event channel, tells the guest
 * through HVM_PARAM_CONSOLE_PFN / HVM_PARAM_CONSOLE_EVTCHN (the machine sets those), records them
 * as console/ring-ref and console/port (device-tree.ts), and the backend serves the ring from the
 * start. The port is created already connected to the backend (EventChannels.attach), so the
 * guest just sends on it.
 */
import { logOnce } from '../../base/log.js';
import { ConsoleBackend } from '../console/console-backend.js';
import type { PvGuest } from './links.js';

export interface PvConsoleOptions {
  guest: PvGuest;
  /** Guest frame of the ring page (must be RAM). */
  gfn: number;
  /** Port number to use; allocated (lowest free) when absent. */
  port?: number;
  backendDomid?: number;
  /** Bytes the guest wrote. */
  sink: (bytes: Uint8Array) => void;
  name: string;
}

export class PvConsole {
  readonly port: number;
  readonly gfn: number;
  readonly backend: ConsoleBackend;
  private readonly consumer: () => void;
  private closed = false;

  /** Throws (a toolstack error, not a guest one) if the page is not RAM or the port is taken. */
  constructor(private readonly o: PvConsoleOptions) {
    if (!o.guest.isRamGfn(o.gfn)) throw new Error(`console ring gfn ${o.gfn} is not guest RAM`);
    this.gfn = o.gfn;
    const page = o.guest.mem.u8.subarray(o.gfn * 4096, o.gfn * 4096 + 4096);
    this.consumer = () => this.service();
    this.backend = new ConsoleBackend(page, {
      sink: o.sink, name: o.name,
      notify: () => {
        o.guest.evtchn.notifyFromBackend(this.port, this.consumer);
      },
    });
    const p = o.guest.evtchn.attach(o.port ?? null, o.backendDomid ?? 0, this.consumer);
    if (p < 0) throw new Error(`console: cannot create event channel ${o.port ?? '(any)'} in dom${o.guest.domid}: error ${p}`);
    this.port = p;
  }

  /** Drains output and feeds input; call on guest notifications (automatic) and periodically. */
  service(): void {
    if (this.closed) return;
    try {
      this.backend.service();
    } catch (e) {
      logOnce('error', 'console', `svc:${this.o.name}`, `${this.o.name}: console service failed: ${String(e)}`);
    }
  }

  /** Host keystrokes for the guest. */
  input(bytes: Uint8Array): void {
    if (this.closed) return;
    try {
      this.backend.input(bytes);
    } catch (e) {
      logOnce('error', 'console', `in:${this.o.name}`, `${this.o.name}: console input failed: ${String(e)}`);
    }
  }

  get stats(): { broken: boolean; queuedInput: number } {
    return { broken: this.backend.broken, queuedInput: this.backend.queuedInput };
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.o.guest.evtchn.disconnectBackend(this.port, this.consumer);
  }
}
