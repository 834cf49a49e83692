/**
 * The hypercall entry: a vCPU executed VMCALL/VMMCALL. Reads the number from EAX, checks the
 * caller may make hypercalls (ring 0, not v86: Xen answers -EPERM otherwise), runs the handler
 * and puts the result in EAX (xen-abi.md 1.4). Unknown numbers get -ENOSYS, logged once.
 */
import type { XenDomain, XenVcpu } from '../domain.js';
import { HypercallContext } from './context.js';
import { ENOSYS, EPERM, HYPERVISOR } from '../abi.js';
import { xenVersion } from './version.js';
import { memoryOp, type MemoryMapEntry } from './memory.js';
import { hvmOp } from './hvm.js';
import { vcpuOp } from './vcpu-op.js';
import { eventChannelOp } from './evtchn-op.js';
import { grantTableOp } from './gnttab-op.js';
import { consoleIo, schedOp, setTimerOp, vmAssist } from './sched.js';
import type { GrantDirectory } from '../grant/grant-table.js';
import { logOnce } from '../../base/log.js';

export interface HypercallEnv {
  memoryMap: readonly MemoryMapEntry[];
  grants: GrantDirectory;
}

export function handleHypercall(domain: XenDomain, vcpu: XenVcpu, env: HypercallEnv): void {
  const cpu = vcpu.cpu;
  const nr = cpu.regs[0] >>> 0;
  domain.countHypercall(nr);
  let result: number;
  if (cpu.protectedMode && (cpu.cpl !== 0 || cpu.v86)) {
    result = -EPERM;
  } else {
    const ctx = new HypercallContext(domain, vcpu);
    switch (nr) {
      case HYPERVISOR.xen_version: result = xenVersion(ctx); break;
      case HYPERVISOR.memory_op: result = memoryOp(ctx, env.memoryMap); break;
      case HYPERVISOR.hvm_op: result = hvmOp(ctx); break;
      case HYPERVISOR.vcpu_op: result = vcpuOp(ctx); break;
      case HYPERVISOR.event_channel_op: result = eventChannelOp(ctx); break;
      case HYPERVISOR.grant_table_op: result = grantTableOp(ctx, env.grants); break;
      case HYPERVISOR.sched_op: result = schedOp(ctx); break;
      case HYPERVISOR.set_timer_op: result = setTimerOp(ctx); break;
      case HYPERVISOR.console_io: result = consoleIo(ctx); break;
      case HYPERVISOR.vm_assist: result = vmAssist(ctx); break;
      default:
        logOnce('info', 'xen', `hypercall:${nr}`, `${domain.name}: hypercall ${nr} is not implemented (-ENOSYS)`);
        result = -ENOSYS;
    }
  }
  cpu.regs[0] = result | 0;
}
