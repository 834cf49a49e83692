/** memory_op (12), xen-abi.md 3.2 (32-bit caller layouts). */
import type { HypercallContext } from './context.js';
import { DOMID_SELF, EFAULT, EINVAL, ENOSYS, ESRCH } from '../abi.js';
import { GNTST_OKAY } from '../grant/grant-table.js';

export interface MemoryMapEntry {
  addr: number;
  size: number;
  type: number;
}

const XENMAPSPACE_shared_info = 0, XENMAPSPACE_grant_table = 1;

export function memoryOp(ctx: HypercallContext, memoryMap: readonly MemoryMapEntry[]): number {
  const cmd = ctx.arg(1) & 0x3f, arg = ctx.arg(2);
  const d = ctx.domain;
  const selfOk = (domid: number) => domid === DOMID_SELF || domid === d.domid;
  switch (cmd) {
    case 7: {
      const v = ctx.read(arg, 16);
      if (v === null) return -EFAULT;
      if (!selfOk(v.getUint16(0, true))) return -ESRCH;
      const space = v.getUint32(4, true), idx = v.getUint32(8, true), gpfn = v.getUint32(12, true);
      if (space === XENMAPSPACE_shared_info) {
        if (idx !== 0) return -EINVAL;
        return d.mapSharedInfo(gpfn) ? 0 : -EINVAL;
      }
      if (space === XENMAPSPACE_grant_table) {
        if (idx & 0x80000000) return -EINVAL; // v2 status frames: we only do v1
        return d.gnttab.setFrame(idx, gpfn) === GNTST_OKAY ? 0 : -EINVAL;
      }
      return -ENOSYS;
    }
    case 0:
    case 1:
    case 6: {
      // increase/decrease_reservation, populate_physmap. The memory stays with the domain (a
      // ballooned frame is simply not used by the guest), so every extent counts as done.
      const v = ctx.read(arg, 20);
      if (v === null) return -EFAULT;
      if (!selfOk(v.getUint16(16, true))) return -ESRCH;
      const n = v.getUint32(4, true), order = v.getUint32(8, true);
      if (order > 18 || n > 1 << 20) return -EINVAL;
      return n;
    }
    case 3:
    case 4: {
      const v = ctx.read(arg, 2);
      if (v === null) return -EFAULT;
      if (!selfOk(v.getUint16(0, true))) return -ESRCH;
      return Math.floor(d.mem.ramSize / 4096);
    }
    case 9: {
      // XENMEM_memory_map: { u32 nr_entries (capacity in, count out); u32 buffer }.
      const v = ctx.read(arg, 8);
      if (v === null) return -EFAULT;
      const cap = v.getUint32(0, true), buf = v.getUint32(4, true);
      const n = Math.min(cap, memoryMap.length);
      const out = new Uint8Array(n * 20);
      const dv = new DataView(out.buffer);
      memoryMap.slice(0, n).forEach((e, k) => {
        dv.setUint32(k * 20, e.addr % 4294967296, true);
        dv.setUint32(k * 20 + 4, Math.floor(e.addr / 4294967296), true);
        dv.setUint32(k * 20 + 8, e.size % 4294967296, true);
        dv.setUint32(k * 20 + 12, Math.floor(e.size / 4294967296), true);
        dv.setUint32(k * 20 + 16, e.type, true);
      });
      if (!ctx.write(buf, out) || !ctx.writeU32(arg, n)) return -EFAULT;
      return 0;
    }
    default:
      return -ENOSYS;
  }
}
