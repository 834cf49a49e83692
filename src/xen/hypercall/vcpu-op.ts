/** vcpu_op (24), xen-abi.md 3.4 (32-bit caller layouts). */
import type { HypercallContext } from './context.js';
import { EFAULT, EINVAL, ENOENT, ENOSYS, ETIME } from '../abi.js';
import { linearToPhys } from '../../cpu/guest-access.js';

export function vcpuOp(ctx: HypercallContext): number {
  const cmd = ctx.arg(1), id = ctx.arg(2), arg = ctx.arg(3);
  const d = ctx.domain;
  const target = d.vcpus[id];
  if (target === undefined) return -ENOENT;
  const self = target === ctx.vcpu;
  switch (cmd) {
    case 3: // is_up
      return 1;
    case 5: {
      // register_runstate_memory_area: a guest virtual address, translated once now (as KVM does).
      const v = ctx.read(arg, 8);
      if (v === null) return -EFAULT;
      const gva = v.getUint32(0, true);
      const gpa = linearToPhys(ctx.cpu, gva, true);
      if (gpa < 0 || (gpa & 0xfff) > 4096 - 44) return -EINVAL;
      target.runstateGpa = gpa;
      writeRunstate(ctx, gpa, d.opts.systemTimeNs());
      return 0;
    }
    case 6: // set_periodic_timer: Linux 6.1 never uses it (it stops it and uses single-shot)
      return -ENOSYS;
    case 7: // stop_periodic_timer: there is none running; success selects the vcpuop clockevent
      return 0;
    case 8: {
      if (!self) return -EINVAL;
      const v = ctx.read(arg, 12);
      if (v === null) return -EFAULT;
      const deadline = v.getUint32(0, true) + v.getUint32(4, true) * 4294967296;
      const flags = v.getUint32(8, true);
      if (flags & 1 && deadline < d.opts.systemTimeNs()) return -ETIME;
      d.setTimer(target, deadline);
      return 0;
    }
    case 9:
      if (!self) return -EINVAL;
      d.stopTimer(target);
      return 0;
    case 10: {
      const v = ctx.read(arg, 16);
      if (v === null) return -EFAULT;
      const gfnHi = v.getUint32(4, true);
      if (gfnHi !== 0) return -EINVAL;
      return d.registerVcpuInfo(target, v.getUint32(0, true), v.getUint32(8, true));
    }
    case 11:
      target.cpu.raiseNmi();
      d.opts.onKick(target.id);
      return 0;
    default:
      // initialise/up/down (not used by PVH Linux), vcpu_time_memory_area (tolerated), physid...
      return -ENOSYS;
  }
}

/** Writes the 32-bit vcpu_runstate_info (44 bytes): running since `now`. */
function writeRunstate(ctx: HypercallContext, gpa: number, now: number): void {
  const b = new Uint8Array(44);
  const dv = new DataView(b.buffer);
  dv.setUint32(0, 0, true); // RUNSTATE_running
  dv.setUint32(4, now % 4294967296, true);
  dv.setUint32(8, Math.floor(now / 4294967296), true);
  dv.setUint32(12, now % 4294967296, true); // time[running]
  dv.setUint32(16, Math.floor(now / 4294967296), true);
  const mem = ctx.domain.mem;
  for (let k = 0; k < 44; k++) mem.write(gpa + k, 1, b[k]);
}
