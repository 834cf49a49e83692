/**
 * The vif (virtual network interface) driver for BackendDevice: what netback publishes and reads
 * (xen-abi.md 6.7, 9.4; xen/include/public/io/netif.h), connected to a NetBackend on a
 * VirtualSwitch.
 *
 * Published with InitWait, matching what NetBackend really does:
 *   feature-rx-copy = 1         (mandatory for netfront; copy mode is all NetBackend does)
 *   feature-rx-flip = 0
 *   feature-sg = 1              (NetBackend assembles TX packets of up to 18 slots)
 *   feature-gso-tcpv4/6 = 0     (no GSO extra segments are split: the guest must not send TSO)
 *   feature-ipv6-csum-offload = 0 (partial checksums are completed for IPv4 TCP/UDP only; IPv4
 *                               checksum offload needs no key, netfront always uses it)
 *   feature-split-event-channels = 0: one "event-channel" for both rings; split channels
 *                               (event-channel-tx/-rx) are refused
 *   no multi-queue-max-queues (one queue, keys at the top level), no ctrl ring, no XDP headroom,
 *   no multicast control.
 *
 * Read at connect (frontend Connected; netfront skips Initialised): tx-ring-ref, rx-ring-ref,
 * event-channel, request-rx-copy (must be 1). The frontend's feature-rx-notify, feature-sg,
 * feature-gso-*, feature-no-csum-offload are informational here: NetBackend sets req_event on the
 * RX ring (rx-notify), never sends GSO or partial checksums to the guest, and splits a frame over
 * several RX slots only when it is larger than a page (which needs the frontend's feature-sg).
 */
import { logOnce } from '../../base/log.js';
import { NetBackend, type NetStats } from '../net/netback.js';
import type { SwitchPort, VirtualSwitch } from '../../net/switch.js';
import { type Connection, type ConnectContext, type DeviceDriver, DeviceError, EACCES, EINVAL, EIO, ENOENT, EOPNOTSUPP } from './backend-device.js';
import { BackendPort, MappedRing, grantPortFor } from './links.js';
import { XenbusState, parseUint, printable } from './xs-util.js';

export interface VifOptions {
  /** Interface name for logs and the switch ("vif<domid>.<devid>"). */
  name: string;
  switch: VirtualSwitch;
}

export class VifDriver implements DeviceDriver {
  readonly type = 'vif';
  readonly connectOn = [XenbusState.Connected];
  private nb: NetBackend | null = null;
  private swPort: SwitchPort | null = null;
  private rings: MappedRing[] = [];
  private port: BackendPort | null = null;
  private readonly total: NetStats = { txPackets: 0, txBytes: 0, txErrors: 0, rxPackets: 0, rxBytes: 0, rxDropped: 0 };

  constructor(private readonly o: VifOptions) {}

  features(): Record<string, string> {
    return {
      'feature-rx-copy': '1',
      'feature-rx-flip': '0',
      'feature-sg': '1',
      'feature-gso-tcpv4': '0',
      'feature-gso-tcpv6': '0',
      'feature-ipv6-csum-offload': '0',
      'feature-split-event-channels': '0',
      // What vif-bridge reports on a Xen host once the interface is plugged; nothing to run here.
      'hotplug-status': 'connected',
    };
  }

  connect(ctx: ConnectContext): Connection {
    const queues = ctx.read('multi-queue-num-queues');
    if (queues !== null && queues !== '1') throw new DeviceError(EINVAL, `guest requested ${printable(queues)} queues, but only one is offered`);
    const ref = (key: string): number => {
      const v = parseUint(ctx.read(key));
      if (v === null) throw new DeviceError(ctx.read(key) === null ? ENOENT : EINVAL, `reading ${key}`);
      return v;
    };
    const txRef = ref('tx-ring-ref'), rxRef = ref('rx-ring-ref');
    if (txRef === rxRef) throw new DeviceError(EINVAL, `tx-ring-ref and rx-ring-ref are both ${txRef}`);
    if (ctx.read('event-channel') === null && ctx.read('event-channel-tx') !== null) {
      throw new DeviceError(EOPNOTSUPP, 'split event channels are not offered (feature-split-event-channels = 0)');
    }
    const evtchn = ref('event-channel');
    if (parseUint(ctx.read('request-rx-copy')) !== 1) throw new DeviceError(EOPNOTSUPP, 'frontend does not request rx-copy');

    const tx = MappedRing.map(ctx.guest, txRef, ctx.backendDomid);
    if (typeof tx === 'string') throw new DeviceError(EACCES, tx.replace('ring-ref', 'tx-ring-ref'));
    const rx = MappedRing.map(ctx.guest, rxRef, ctx.backendDomid);
    if (typeof rx === 'string') {
      tx.release();
      throw new DeviceError(EACCES, rx.replace('ring-ref', 'rx-ring-ref'));
    }
    const port = BackendPort.bind(
      ctx.guest, evtchn, ctx.backendDomid,
      () => this.service(ctx),
      (e) => ctx.fail(EINVAL, `internal error serving the rings: ${String(e)}`),
      ctx.schedule,
    );
    if (typeof port === 'string') {
      tx.release();
      rx.release();
      throw new DeviceError(EINVAL, port);
    }
    const sw = this.o.switch;
    // The switch calls deliver() from another vif's transmit path: guard it so a failure here
    // fails this vif, not the sender.
    const swPort: SwitchPort = {
      name: this.o.name,
      deliver: (frame) => {
        const nb = this.nb;
        if (nb === null) return false;
        try {
          const ok = nb.deliver(frame);
          if (nb.rx.broken) ctx.fail(EINVAL, 'frontend receive ring indices are impossible');
          return ok;
        } catch (e) {
          logOnce('error', 'xenbus', `deliver:${this.o.name}`, `${this.o.name}: receive failed: ${String(e)}`);
          ctx.fail(EIO, `internal error receiving: ${String(e)}`);
          return false;
        }
      },
    };
    const nb = new NetBackend(tx.page, rx.page, {
      name: this.o.name, grants: grantPortFor(ctx.guest, ctx.backendDomid), notify: () => port.notify(),
      transmit: (frame) => sw.input(swPort, frame),
    });
    this.rings = [tx, rx];
    this.port = port;
    this.nb = nb;
    this.swPort = swPort;
    sw.attach(swPort);
    return { keys: {}, start: () => this.service(ctx) };
  }

  private service(ctx: ConnectContext): void {
    const nb = this.nb;
    if (nb === null) return;
    // One event channel serves both rings: look at both on every notification.
    nb.processTx();
    if (this.nb === nb) nb.processRx();
    if (nb.tx.broken || nb.rx.broken) ctx.fail(EINVAL, 'frontend ring indices are impossible');
  }

  disconnect(): void {
    if (this.swPort) this.o.switch.detach(this.swPort);
    this.swPort = null;
    if (this.nb) for (const k of Object.keys(this.total) as (keyof NetStats)[]) this.total[k] += this.nb.stats[k];
    this.nb = null;
    this.port?.unbind();
    this.port = null;
    for (const r of this.rings) r.release();
    this.rings = [];
  }

  ioStats(): NetStats {
    const s = { ...this.total };
    if (this.nb) for (const k of Object.keys(s) as (keyof NetStats)[]) s[k] += this.nb.stats[k];
    return s;
  }

  get connected(): boolean {
    return this.nb !== null;
  }
}
