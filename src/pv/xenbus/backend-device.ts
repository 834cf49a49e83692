/**
 * The backend half of the XenBus handshake for one device (xen-abi.md 6.5-6.7), generic over the
 * device type; vbd.ts and vif.ts supply what is specific (`DeviceDriver`).
 *
 * The backend watches the frontend's "state" node and reacts to the value it reads now (not the
 * one that fired the watch, so two quick changes are never half-seen):
 *
 *   start                          publish features, state InitWait (2)
 *   frontend Initialised/Connected read its ring details, map the ring(s), take over its event
 *     (per driver.connectOn)       channel, publish the connect keys and Connected (4) in one
 *                                  transaction, then serve anything already on the ring
 *   frontend Closing (5)           disconnect, Closing
 *   frontend Closed (6)            disconnect, Closed
 *   frontend Initialising (1)      after a close, a failure, or a guest driver reload / kexec
 *                                  (Linux's xenbus_reset_state walks 5, 6, 1): disconnect if
 *                                  needed, clear the error, InitWait again
 *   frontend node missing (0)      the device went away: disconnect, Closed
 *
 * Anything wrong on the frontend's side (a garbage state, a missing or non-numeric key, a grant
 * it does not own, a port it did not allocate, an unknown protocol, a broken ring) fails this
 * device alone as Linux's xenbus_dev_fatal does: the message "<errno> <text>" goes to the error
 * nodes, the backend moves to Closing, and it is logged once per device.
 *
 * Work is serialised like Linux's xenwatch thread: the XenStore engine delivers watch events
 * synchronously and reentrantly (our own state write makes the frontend react, which fires our
 * watch again), so events that arrive while the device is busy are queued and handled after the
 * current step. No exception leaves a watch callback or a notification.
 */
import { logOnce } from '../../base/log.js';
import { type XsClient } from '../../xen/xenstore/client.js';
import { type DevicePaths } from './device-tree.js';
import { type PvGuest, type Scheduler } from './links.js';
import { type WatchRouter } from './watch-router.js';
import { XenbusState, parseState, readOrNull, switchState } from './xs-util.js';

/** Linux errno values used in error nodes (positive, as xenbus_dev_fatal prints them). */
export const ENOENT = 2, EIO = 5, EACCES = 13, EINVAL = 22, EOPNOTSUPP = 95;

/** A frontend mistake found while connecting: fails the device with this errno and message. */
export class DeviceError extends Error {
  constructor(readonly errno: number, message: string) {
    super(message);
  }
}

/** What a driver gets to connect: the frontend's keys and a way to fail the device later. */
export interface ConnectContext {
  readonly guest: PvGuest;
  readonly backendDomid: number;
  readonly paths: DevicePaths;
  readonly schedule: Scheduler | null;
  /** Reads `<frontend dir>/<key>`; null if missing. */
  read(key: string): string | null;
  /** Fails the device at runtime (a broken ring, an internal error while serving it). */
  fail(errno: number, message: string): void;
}

export interface Connection {
  /** Keys published together with Connected. */
  keys: Record<string, string>;
  /** Runs once after Connected is published (serve requests already on the ring). */
  start(): void;
}

export interface DeviceDriver {
  readonly type: 'vbd' | 'vif';
  /** Frontend states that make the backend connect. */
  readonly connectOn: readonly number[];
  /** Keys published together with InitWait. */
  features(): Record<string, string>;
  /** Connects to the frontend, or throws DeviceError. Must clean up after itself when it throws. */
  connect(ctx: ConnectContext): Connection;
  /** Tears the connection down; idempotent. */
  disconnect(): void;
  /** I/O counters, summed over every connection so far. */
  ioStats(): object;
}

export interface DeviceStats {
  type: string;
  devid: number;
  /** The backend's XenbusState. */
  state: number;
  connections: number;
  failures: number;
  lastError: string | null;
  io: object;
}

export interface BackendDeviceOptions {
  xs: XsClient;
  router: WatchRouter;
  paths: DevicePaths;
  driver: DeviceDriver;
  guest: PvGuest;
  backendDomid: number;
  schedule?: Scheduler | null;
}

/** Distinguishes devices in log-once keys (a domain re-created with the same id logs again). */
let instances = 0;

export class BackendDevice {
  private readonly logKey: string;
  state: number = XenbusState.Initialising;
  connections = 0;
  failures = 0;
  lastError: string | null = null;
  private connected = false;
  private closed = false;
  private token: string | null = null;
  private readonly jobs: (() => void)[] = [];
  private stepQueued = false;
  private busy = false;

  constructor(private readonly o: BackendDeviceOptions) {
    this.logKey = `${o.paths.backend}#${++instances}`;
  }

  get paths(): DevicePaths {
    return this.o.paths;
  }

  get stats(): DeviceStats {
    const p = this.o.paths;
    return {
      type: p.type, devid: p.devid, state: this.state, connections: this.connections, failures: this.failures,
      lastError: this.lastError, io: this.o.driver.ioStats(),
    };
  }

  /** Publishes the features and InitWait, then starts watching the frontend. */
  start(): void {
    this.enqueue(() => this.toInitWait());
    this.token = this.o.router.add(`${this.o.paths.frontend}/state`, () => this.kick());
  }

  /** Stops watching and disconnects (domain teardown); the XenStore nodes are left alone. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.token !== null) this.o.router.remove(this.token);
    this.disconnect();
  }

  /** Re-evaluates the frontend's state (watch events end up here). */
  kick(): void {
    if (this.stepQueued) return;
    this.stepQueued = true;
    this.enqueue(() => {
      this.stepQueued = false;
      this.step();
    });
  }

  private enqueue(job: () => void): void {
    if (this.closed) return;
    this.jobs.push(job);
    if (this.busy) return;
    this.busy = true;
    try {
      while (this.jobs.length > 0 && !this.closed) {
        const j = this.jobs.shift()!;
        try {
          j();
        } catch (e) {
          this.internalError(e);
        }
      }
      if (this.closed) this.jobs.length = 0;
    } finally {
      this.busy = false;
    }
  }

  private internalError(e: unknown): void {
    logOnce('error', 'xenbus', `internal:${this.logKey}`, `xenbus: ${this.o.paths.backend}: internal error: ${String(e)}`);
    try {
      this.doFail(EIO, `internal error: ${String(e)}`);
    } catch {
      this.disconnect();
    }
  }

  private frontendState(): number {
    return parseState(readOrNull(this.o.xs, `${this.o.paths.frontend}/state`));
  }

  private step(): void {
    const fs = this.frontendState();
    switch (fs) {
      case -1:
        return this.doFail(EINVAL, 'frontend state is not a XenbusState number');
      case XenbusState.Unknown:
        this.disconnect();
        this.setState(XenbusState.Closed);
        return;
      case XenbusState.Initialising:
        // A frontend starting (again): re-offer the device unless we are already waiting for it.
        if (this.state === XenbusState.InitWait) return;
        this.disconnect();
        return this.toInitWait();
      case XenbusState.InitWait:
        return;
      case XenbusState.Initialised:
      case XenbusState.Connected:
        if (!this.o.driver.connectOn.includes(fs) || this.state !== XenbusState.InitWait) return;
        return this.connect();
      case XenbusState.Closing:
        this.disconnect();
        if (this.state !== XenbusState.Closed) this.setState(XenbusState.Closing);
        return;
      case XenbusState.Closed:
        this.disconnect();
        this.setState(XenbusState.Closed);
        return;
      default:
        // Reconfiguring/Reconfigured are only for features we do not offer; the rest is garbage.
        return this.doFail(EINVAL, `saw state ${fs} at frontend`);
    }
  }

  private toInitWait(): void {
    this.clearError();
    this.setState(XenbusState.InitWait, this.o.driver.features());
  }

  private connect(): void {
    const o = this.o;
    const ctx: ConnectContext = {
      guest: o.guest, backendDomid: o.backendDomid, paths: o.paths, schedule: o.schedule ?? null,
      read: (key) => readOrNull(o.xs, `${o.paths.frontend}/${key}`),
      fail: (errno, message) => this.fail(errno, message),
    };
    let c: Connection;
    try {
      c = o.driver.connect(ctx);
    } catch (e) {
      if (e instanceof DeviceError) return this.doFail(e.errno, e.message);
      throw e;
    }
    this.connected = true;
    this.connections++;
    if (!this.setState(XenbusState.Connected, c.keys)) return;
    if (this.connected) c.start();
  }

  private disconnect(): void {
    if (!this.connected) return;
    this.connected = false;
    this.o.driver.disconnect();
  }

  /** Fails the device from outside a step (a notification); serialised with watch handling. */
  fail(errno: number, message: string): void {
    this.enqueue(() => {
      if (this.connected) this.doFail(errno, message);
    });
  }

  private doFail(errno: number, message: string): void {
    this.failures++;
    this.lastError = `${errno} ${message}`;
    logOnce('warn', 'xenbus', `fail:${this.logKey}`, `xenbus: ${this.o.paths.backend}: ${message}; device closing`);
    this.disconnect();
    const xs = this.o.xs;
    try {
      if (readOrNull(xs, `${this.o.paths.backend}/state`) !== null) {
        xs.write(`${this.o.paths.backend}/error`, this.lastError);
        xs.write(this.linuxErrorPath(), this.lastError);
      }
    } catch {
      // The error nodes are a courtesy; the state change below is what the frontend acts on.
    }
    this.setState(XenbusState.Closing);
  }

  /** Where Linux's xenbus_dev_error puts it: error/<nodename>/error in the backend domain's home. */
  private linuxErrorPath(): string {
    const home = `/local/domain/${this.o.backendDomid}/`;
    const rel = this.o.paths.backend.startsWith(home) ? this.o.paths.backend.slice(home.length) : this.o.paths.backend.slice(1);
    return `${home}error/${rel}/error`;
  }

  private clearError(): void {
    if (this.lastError === null) return;
    for (const p of [`${this.o.paths.backend}/error`, this.linuxErrorPath()]) {
      try {
        this.o.xs.rm(p);
      } catch {
        // already gone
      }
    }
  }

  /** Records and publishes a backend state; false (and disconnected) if the device was removed. */
  private setState(s: XenbusState, keys: Record<string, string> = {}): boolean {
    if (this.state === s && Object.keys(keys).length === 0) return true;
    this.state = s;
    if (switchState(this.o.xs, this.o.paths.backend, s, keys)) return true;
    logOnce('info', 'xenbus', `gone:${this.logKey}`, `xenbus: ${this.o.paths.backend} was removed; backend stays disconnected`);
    this.disconnect();
    this.state = XenbusState.Closed;
    return false;
  }
}
