/** grant_table_op (20), xen-abi.md 3.6 and 5.5 (32-bit caller layouts). */
import type { HypercallContext } from './context.js';
import { DOMID_SELF, EFAULT, EINVAL, ENOSYS } from '../abi.js';
import { grantCopy, GNTST_BAD_DOMAIN, GNTST_OKAY, type GrantDirectory } from '../grant/grant-table.js';

const MAX_OPS = 512;

export function grantTableOp(ctx: HypercallContext, dir: GrantDirectory): number {
  const cmd = ctx.arg(1), uop = ctx.arg(2), count = ctx.arg(3);
  if (count > MAX_OPS) return -EINVAL;
  const d = ctx.domain;
  switch (cmd) {
    case 6: {
      for (let k = 0; k < count; k++) {
        const at = uop + k * 16;
        const v = ctx.read(at, 16);
        if (v === null) return -EFAULT;
        const dom = v.getUint16(0, true);
        const ok = dom === DOMID_SELF || dom === d.domid;
        const b = new Uint8Array(10);
        const dv = new DataView(b.buffer);
        dv.setUint32(0, ok ? d.gnttab.nrFrames : 0, true);
        dv.setUint32(4, ok ? d.gnttab.maxFrames : 0, true);
        dv.setInt16(8, ok ? GNTST_OKAY : GNTST_BAD_DOMAIN, true);
        if (!ctx.write(at + 4, b)) return -EFAULT;
      }
      return 0;
    }
    case 8: {
      const v = ctx.read(uop, 4);
      if (v === null) return -EFAULT;
      const want = v.getUint32(0, true);
      if (!ctx.writeU32(uop, 1)) return -EFAULT;
      return want === 1 ? 0 : -EINVAL; // version 2 is not offered; the table stays v1
    }
    case 10: {
      const v = ctx.read(uop, 8);
      if (v === null) return -EFAULT;
      return ctx.writeU32(uop + 4, 1) ? 0 : -EFAULT;
    }
    case 5: {
      for (let k = 0; k < count; k++) {
        const at = uop + k * 24;
        const v = ctx.read(at, 24);
        if (v === null) return -EFAULT;
        const flags = v.getUint16(18, true);
        const side = (o: number, gref: boolean) => {
          const dom = v.getUint16(o + 4, true);
          return {
            gref, ref: v.getUint32(o, true), gfn: v.getUint32(o, true), offset: v.getUint16(o + 6, true),
            domid: dom === DOMID_SELF ? d.domid : dom,
          };
        };
        const status = grantCopy({ source: side(0, (flags & 1) !== 0), dest: side(8, (flags & 2) !== 0), len: v.getUint16(16, true) }, d.domid, dir);
        const b = new Uint8Array(2);
        new DataView(b.buffer).setInt16(0, status, true);
        if (!ctx.write(at + 20, b)) return -EFAULT;
      }
      return 0;
    }
    default:
      // map/unmap are for backends inside guests (we have none); setup_table is PV.
      return -ENOSYS;
  }
}
