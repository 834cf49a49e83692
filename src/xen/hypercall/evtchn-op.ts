/** event_channel_op (32), xen-abi.md 3.5. Structs are the same for 32- and 64-bit callers. */
import type { HypercallContext } from './context.js';
import { EFAULT, EINVAL, ENOSYS } from '../abi.js';
import { DOMID_SELF } from '../evtchn/event-channels.js';

const SIZES: Record<number, number> = { 0: 12, 1: 12, 3: 4, 4: 4, 5: 24, 6: 8, 7: 8, 8: 8, 9: 4 };

export function eventChannelOp(ctx: HypercallContext): number {
  const cmd = ctx.arg(1), arg = ctx.arg(2);
  const size = SIZES[cmd];
  if (size === undefined) return -ENOSYS; // FIFO ABI (11-13), pirqs, reset: 2-level only
  const v = ctx.read(arg, size);
  if (v === null) return -EFAULT;
  const ec = ctx.domain.evtchn;
  const out = (off: number, value: number) => (ctx.writeU32(arg + off, value) ? 0 : -EFAULT);
  switch (cmd) {
    case 0: {
      const p = ec.bindInterdomain(v.getUint16(0, true), v.getUint32(4, true));
      return p < 0 ? p : out(8, p);
    }
    case 1: {
      const p = ec.bindVirq(v.getUint32(0, true), v.getUint32(4, true));
      return p < 0 ? p : out(8, p);
    }
    case 3: return ec.close(v.getUint32(0, true));
    case 4: return ec.send(v.getUint32(0, true));
    case 5: {
      const dom = v.getUint16(0, true);
      if (dom !== DOMID_SELF && dom !== ctx.domain.domid) return -EINVAL;
      const st = ec.status(v.getUint32(4, true));
      if (st === null) return -EINVAL;
      const b = new Uint8Array(16);
      const dv = new DataView(b.buffer);
      // Xen's status numbering: 0 closed, 1 unbound, 2 interdomain, 3 pirq, 4 virq, 5 ipi.
      dv.setUint32(0, st.state === 6 ? 2 : st.state, true);
      dv.setUint32(4, st.vcpu, true);
      if (st.state === 4) dv.setUint32(8, st.virq, true);
      else {
        dv.setUint16(8, st.remoteDom, true);
        dv.setUint32(12, st.remotePort, true);
      }
      return ctx.write(arg + 8, b) ? 0 : -EFAULT;
    }
    case 6: {
      const p = ec.allocUnbound(v.getUint16(0, true), v.getUint16(2, true));
      return p < 0 ? p : out(4, p);
    }
    case 7: {
      const p = ec.bindIpi(v.getUint32(0, true));
      return p < 0 ? p : out(4, p);
    }
    case 8: return ec.bindVcpu(v.getUint32(0, true), v.getUint32(4, true));
    case 9: return ec.unmask(v.getUint32(0, true));
    default: return -ENOSYS;
  }
}
