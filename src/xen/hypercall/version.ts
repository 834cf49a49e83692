/** xen_version (17), xen-abi.md 3.1. */
import type { HypercallContext } from './context.js';
import {
  EFAULT, EINVAL, ENOSYS, XEN_MAJOR, XEN_MINOR, XENFEAT_auto_translated_physmap, XENFEAT_hvm_callback_vector,
  XENFEAT_hvm_safe_pvclock, XENFEAT_writable_page_tables,
} from '../abi.js';

export const FEATURES_SUBMAP0 =
  XENFEAT_writable_page_tables | XENFEAT_auto_translated_physmap | XENFEAT_hvm_callback_vector | XENFEAT_hvm_safe_pvclock;

function ascii(s: string, size: number): Uint8Array {
  const b = new Uint8Array(size);
  for (let k = 0; k < Math.min(s.length, size - 1); k++) b[k] = s.charCodeAt(k);
  return b;
}

export function xenVersion(ctx: HypercallContext): number {
  const cmd = ctx.arg(1), arg = ctx.arg(2);
  const put = (bytes: Uint8Array) => (ctx.write(arg, bytes) ? 0 : -EFAULT);
  switch (cmd) {
    case 0: return (XEN_MAJOR << 16) | XEN_MINOR;
    case 1: return put(ascii('.0-tsxen', 16));
    case 2: {
      const b = new Uint8Array(64 + 16 + 32 + 32);
      b.set(ascii('tsxen TypeScript', 64), 0);
      b.set(ascii('', 16), 64);
      b.set(ascii('tsxen', 32), 80);
      b.set(ascii('', 32), 112);
      return put(b);
    }
    case 3: return put(ascii('hvm-3.0-x86_32 hvm-3.0-x86_32p', 1024));
    case 4: return put(ascii('tsxen', 64));
    case 5: return put(new Uint8Array(4)); // platform_parameters: virt_start 0 for HVM
    case 6: {
      const v = ctx.read(arg, 8);
      if (v === null) return -EFAULT;
      if (v.getUint32(0, true) !== 0) return -EINVAL;
      return ctx.writeU32(arg + 4, FEATURES_SUBMAP0) ? 0 : -EFAULT;
    }
    case 7: return 4096;
    case 8: return put(domainHandle(ctx.domain.domid));
    case 9: return put(new Uint8Array(1024));
    default: return -ENOSYS;
  }
}

/** A stable per-domain UUID-shaped handle (not random, so runs are reproducible). */
function domainHandle(domid: number): Uint8Array {
  const b = new Uint8Array(16);
  b.set([0x74, 0x73, 0x78, 0x65, 0x6e], 0); // "tsxen"
  b[14] = domid >> 8;
  b[15] = domid & 0xff;
  return b;
}
