/**
 * The vbd (virtual block device) driver for BackendDevice: what blkback publishes and reads
 * (xen-abi.md 6.6, 8.4; xen/include/public/io/blkif.h), connected to a BlockBackend.
 *
 * Published with InitWait: max-ring-page-order = 0. Single-page rings only: 32 requests of up to
 * 11 segments is plenty for an emulated machine, and blkfront falls back to one "ring-ref" when
 * the backend offers order 0. No multi-queue (multi-queue-max-queues absent = 1 queue), no
 * indirect descriptors (feature-max-indirect-segments absent).
 *
 * Read at connect (frontend Initialised or Connected): ring-ref, event-channel, protocol
 * ("x86_32-abi", "x86_64-abi", or absent = the backend's native ABI, x86_64 like a 64-bit dom0
 * unless configured otherwise). feature-persistent from the frontend is accepted and ignored:
 * we answer 0, and a copying backend works the same either way.
 *
 * Published with Connected: sectors (512-byte units), info (VDISK_* bits), sector-size,
 * physical-sector-size, feature-flush-cache = 1 (FLUSH_DISKCACHE is an fsync in BlockBackend),
 * feature-barrier = 0 (legacy; blkfront uses flush-cache), feature-discard (+ granularity and
 * alignment when the store can discard), feature-persistent = 0.
 */
import { BlockBackend, type BlkAbi, type BlockStats } from '../block/blkback.js';
import type { BlockStore } from '../block/block-store.js';
import { type Connection, type ConnectContext, type DeviceDriver, DeviceError, EINVAL, ENOENT, EOPNOTSUPP, EACCES } from './backend-device.js';
import { BackendPort, MappedRing, grantPortFor } from './links.js';
import { XenbusState, parseUint, printable } from './xs-util.js';

export const VDISK_CDROM = 1, VDISK_REMOVABLE = 2, VDISK_READONLY = 4;

export interface VbdOptions {
  store: BlockStore;
  readOnly?: boolean;
  /** Logical sector size in bytes: 512 (default) or a larger power of two. */
  sectorSize?: number;
  /** Offer DISCARD (only honoured if the store implements discard). */
  discard?: boolean;
  devtype?: 'disk' | 'cdrom';
  /** The ABI assumed when the frontend writes no "protocol". */
  nativeAbi?: BlkAbi;
}

export class VbdDriver implements DeviceDriver {
  readonly type = 'vbd';
  readonly connectOn = [XenbusState.Initialised, XenbusState.Connected];
  private backend: BlockBackend | null = null;
  private ring: MappedRing | null = null;
  private port: BackendPort | null = null;
  /** Counters of every connection so far (each connection has its own BlockBackend). */
  private readonly total: BlockStats = { requests: 0, reads: 0, writes: 0, bytesRead: 0, bytesWritten: 0, flushes: 0, errors: 0 };

  private readonly store: BlockStore;

  constructor(private readonly o: VbdOptions) {
    const ss = o.sectorSize ?? 512;
    // A disk configured read-only refuses writes even when its store could take them.
    this.store = o.readOnly && !o.store.readOnly ? readOnlyView(o.store) : o.store;
    if (!Number.isInteger(ss) || ss < 512 || ss > 65536 || (ss & (ss - 1)) !== 0) throw new Error(`bad sector size ${ss}`);
    if (o.store.size % ss !== 0) throw new Error(`disk size ${o.store.size} is not a multiple of the sector size ${ss}`);
  }

  get readOnly(): boolean {
    return this.store.readOnly;
  }

  get canDiscard(): boolean {
    return !!this.o.discard && typeof this.store.discard === 'function' && !this.readOnly;
  }

  features(): Record<string, string> {
    // hotplug-status: what the block hotplug script reports on a Xen host; nothing to run here.
    return { 'max-ring-page-order': '0', 'hotplug-status': 'connected' };
  }

  connect(ctx: ConnectContext): Connection {
    const abi = this.readAbi(ctx);
    const order = ctx.read('ring-page-order');
    if (order !== null && order !== '0') throw new DeviceError(EINVAL, `ring-page-order ${printable(order)} requested, but max-ring-page-order is 0`);
    const queues = ctx.read('multi-queue-num-queues');
    if (queues !== null && queues !== '1') throw new DeviceError(EINVAL, `multi-queue-num-queues ${printable(queues)} requested, but only one queue is offered`);
    const ringRef = parseUint(ctx.read('ring-ref'));
    if (ringRef === null) throw new DeviceError(ctx.read('ring-ref') === null ? ENOENT : EINVAL, 'reading ring-ref');
    const evtchn = parseUint(ctx.read('event-channel'));
    if (evtchn === null) throw new DeviceError(ctx.read('event-channel') === null ? ENOENT : EINVAL, 'reading event-channel');

    const ring = MappedRing.map(ctx.guest, ringRef, ctx.backendDomid);
    if (typeof ring === 'string') throw new DeviceError(EACCES, ring);
    const port = BackendPort.bind(
      ctx.guest, evtchn, ctx.backendDomid,
      () => this.service(ctx),
      (e) => ctx.fail(EINVAL, `internal error serving the ring: ${String(e)}`),
      ctx.schedule,
    );
    if (typeof port === 'string') {
      ring.release();
      throw new DeviceError(EINVAL, port);
    }
    this.ring = ring;
    this.port = port;
    this.backend = new BlockBackend(ring.page, {
      abi, store: this.store, grants: grantPortFor(ctx.guest, ctx.backendDomid), notify: () => port.notify(),
      discard: this.canDiscard,
    });
    return { keys: this.connectKeys(), start: () => this.service(ctx) };
  }

  private readAbi(ctx: ConnectContext): BlkAbi {
    const p = ctx.read('protocol');
    if (p === null) return this.o.nativeAbi ?? 'x86_64-abi';
    if (p === 'x86_32-abi' || p === 'x86_64-abi') return p;
    throw new DeviceError(EOPNOTSUPP, `unknown fe protocol "${printable(p)}"`);
  }

  private connectKeys(): Record<string, string> {
    const ss = this.o.sectorSize ?? 512;
    const cdrom = this.o.devtype === 'cdrom';
    const info = (cdrom ? VDISK_CDROM | VDISK_REMOVABLE : 0) | (this.readOnly ? VDISK_READONLY : 0);
    const keys: Record<string, string> = {
      'feature-flush-cache': '1',
      'feature-barrier': '0',
      'feature-persistent': '0',
      'feature-discard': this.canDiscard ? '1' : '0',
      sectors: String(Math.floor(this.store.size / 512)),
      info: String(info),
      'sector-size': String(ss),
      'physical-sector-size': String(ss),
    };
    if (this.canDiscard) {
      keys['discard-granularity'] = String(ss);
      keys['discard-alignment'] = '0';
      keys['discard-secure'] = '0';
    }
    return keys;
  }

  private service(ctx: ConnectContext): void {
    const be = this.backend;
    if (be === null) return;
    be.process();
    if (be.ring.broken) ctx.fail(EINVAL, 'frontend ring indices are impossible');
  }

  disconnect(): void {
    if (this.backend) {
      for (const k of Object.keys(this.total) as (keyof BlockStats)[]) this.total[k] += this.backend.stats[k];
    }
    this.backend = null;
    this.port?.unbind();
    this.port = null;
    this.ring?.release();
    this.ring = null;
  }

  ioStats(): BlockStats {
    const s = { ...this.total };
    if (this.backend) for (const k of Object.keys(s) as (keyof BlockStats)[]) s[k] += this.backend.stats[k];
    return s;
  }

  get connected(): boolean {
    return this.backend !== null;
  }
}

function readOnlyView(s: BlockStore): BlockStore {
  return {
    size: s.size,
    readOnly: true,
    read: (offset, into) => s.read(offset, into),
    write: () => {
      throw new Error('write to a read-only disk');
    },
    flush: () => s.flush(),
  };
}
