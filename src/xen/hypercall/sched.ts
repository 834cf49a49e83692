/** sched_op (29), set_timer_op (15), console_io (18), vm_assist (21): xen-abi.md 3.7-3.10. */
import type { HypercallContext } from './context.js';
import { EFAULT, EINVAL, ENOSYS, EPERM } from '../abi.js';

export function schedOp(ctx: HypercallContext): number {
  const cmd = ctx.arg(1), arg = ctx.arg(2);
  switch (cmd) {
    case 0: // yield
    case 1: // block: HVM guests idle with HLT
      return 0;
    case 2: {
      const v = ctx.read(arg, 4);
      if (v === null) return -EFAULT;
      const reason = v.getUint32(0, true);
      if (reason > 5) return -EINVAL;
      ctx.domain.shutdown(reason);
      return 0;
    }
    case 3: // poll: spurious wake-ups are allowed, so returning at once is correct
      return 0;
    case 4:
      return -EPERM;
    case 5: {
      const v = ctx.read(arg, 4);
      return v === null ? -EFAULT : 0;
    }
    default:
      return -ENOSYS;
  }
}

/** set_timer_op(u64): EBX = low, ECX = high for 32-bit callers; 0 cancels. */
export function setTimerOp(ctx: HypercallContext): number {
  const d = ctx.domain;
  const deadline = ctx.arg(1) + ctx.arg(2) * 4294967296;
  if (deadline === 0) {
    d.stopTimer(ctx.vcpu);
    return 0;
  }
  const now = d.opts.systemTimeNs();
  // Xen's Linux workaround: absurd deadlines become "in 100 ms".
  const t = deadline < now || deadline - now > 2 ** 50 ? now + 100e6 : deadline;
  d.setTimer(ctx.vcpu, t);
  return 0;
}

export function consoleIo(ctx: HypercallContext): number {
  const cmd = ctx.arg(1), count = ctx.arg(2), buf = ctx.arg(3);
  if (cmd === 0) {
    if (count > 1 << 16) return -EINVAL;
    const v = ctx.read(buf, count);
    if (v === null) return -EFAULT;
    ctx.domain.opts.debugOutput(new Uint8Array(v.buffer, v.byteOffset, v.byteLength));
    return 0;
  }
  if (cmd === 1) return 0; // nothing to read
  return -EINVAL;
}

/** vm_assist: HVM guests may only enable VMASST_TYPE_runstate_update_flag (5). */
export function vmAssist(ctx: HypercallContext): number {
  const cmd = ctx.arg(1), type = ctx.arg(2);
  if (type !== 5 || cmd > 1) return -EINVAL;
  return 0;
}
