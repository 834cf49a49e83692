/** hvm_op (34), xen-abi.md 3.3. */
import type { HypercallContext } from './context.js';
import {
  DOMID_SELF, EFAULT, EINVAL, ENOSYS, EPERM, ESRCH, HVM_NR_PARAMS, HVM_PARAM_CALLBACK_IRQ, HVM_PARAM_CONSOLE_EVTCHN,
  HVM_PARAM_CONSOLE_PFN, HVM_PARAM_STORE_EVTCHN, HVM_PARAM_STORE_PFN,
} from '../abi.js';

/** Params a guest may set, and those it may additionally read (hvm.c allow lists). */
const GUEST_SET = new Set([HVM_PARAM_CALLBACK_IRQ, 15, 19, 34, HVM_PARAM_STORE_EVTCHN, HVM_PARAM_CONSOLE_EVTCHN, 36, 37]);
const GUEST_GET = new Set([...GUEST_SET, HVM_PARAM_STORE_PFN, HVM_PARAM_CONSOLE_PFN, 35]);

export function hvmOp(ctx: HypercallContext): number {
  const op = ctx.arg(1), arg = ctx.arg(2);
  const d = ctx.domain;
  switch (op) {
    case 0:
    case 1: {
      const v = ctx.read(arg, 16);
      if (v === null) return -EFAULT;
      const domid = v.getUint16(0, true);
      if (domid !== DOMID_SELF && domid !== d.domid) return -ESRCH;
      const index = v.getUint32(4, true);
      if (index >= HVM_NR_PARAMS) return -EINVAL;
      if (op === 1) {
        if (!GUEST_GET.has(index)) return -EPERM;
        const [lo, hi] = d.getParam(index);
        const out = new Uint8Array(8);
        const dv = new DataView(out.buffer);
        dv.setUint32(0, lo, true);
        dv.setUint32(4, hi, true);
        return ctx.write(arg + 8, out) ? 0 : -EFAULT;
      }
      if (!GUEST_SET.has(index)) return -EPERM;
      const lo = v.getUint32(8, true), hi = v.getUint32(12, true);
      if (index === HVM_PARAM_CALLBACK_IRQ) {
        const type = hi >>> 24;
        if (type === 2) {
          const vec = lo & 0xff;
          if (vec < 0x10) return -EINVAL;
          d.callbackVector = vec;
        } else if (lo === 0 && hi === 0) {
          d.callbackVector = 0;
        } else {
          // GSI / PCI INTx delivery needs the emulated platform (PVHVM); refuse it until then.
          return -EINVAL;
        }
        d.setParam(index, lo, hi);
        // Re-evaluate every vCPU at once: an already pending upcall is delivered now.
        for (const vc of d.vcpus) if (d.upcallPending(vc.id)) d.opts.onKick(vc.id);
        return 0;
      }
      d.setParam(index, lo, hi);
      return 0;
    }
    default:
      // pagetable_dying must fail (else Linux calls it on every exit); upcall vectors are not offered.
      return -ENOSYS;
  }
}
