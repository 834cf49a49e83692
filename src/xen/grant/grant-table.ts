/**
 * One domain's grant table, version 1 (xen/include/public/grant_table.h; access rules in
 * ../shared/docs/xen-abi.md 5.3): the guest writes 8-byte entries {flags, domid, frame} into table
 * frames that it placed in its physical address space with XENMEM_add_to_physmap; a backend may
 * touch a granted page only after this class has checked the entry.
 *
 * The table frames are ordinary guest RAM at the GFNs the guest chose; tsxen reads the entries
 * there every time (the guest may change them at any moment) and sets GTF_reading/GTF_writing
 * while an access is held, so a guest cannot revoke a page under a backend.
 */

export const GTF_TYPE_MASK = 3, GTF_PERMIT_ACCESS = 1, GTF_READONLY = 1 << 2, GTF_READING = 1 << 3,
  GTF_WRITING = 1 << 4, GTF_SUB_PAGE = 1 << 8;
export const ENTRIES_PER_FRAME = 512;

/** GNTST_* status codes. */
export const GNTST_OKAY = 0, GNTST_GENERAL_ERROR = -1, GNTST_BAD_DOMAIN = -2, GNTST_BAD_GNTREF = -3,
  GNTST_BAD_HANDLE = -4, GNTST_BAD_PAGE = -9, GNTST_BAD_COPY_ARG = -10, GNTST_PERMISSION_DENIED = -8;

/** The guest physical memory a table and its grants refer to. */
export interface GuestPhysical {
  readonly u8: Uint8Array;
  /** Whether `gfn` is RAM the domain owns (grants of anything else are refused). */
  isRamGfn(gfn: number): boolean;
  /**
   * Called after a backend or the hypervisor wrote into frame `gfn` behind the guest's CPUs (a
   * writable grant released, a copy into it): the guest may later run code from that page (a
   * block read into the page cache and executed), so decoded code there must be dropped.
   */
  wrote?(gfn: number): void;
}

/** A held access to one granted page. */
export interface GrantAccess {
  readonly ref: number;
  readonly gfn: number;
  readonly write: boolean;
  /** The page's bytes in the granting domain's memory. */
  readonly page: Uint8Array;
}

export class GrantTable {
  private readonly frameGfn: number[] = [];
  /** Outstanding accesses per ref: [readers, writers]. */
  private readonly holds = new Map<number, [number, number]>();
  /** Grant copies and accesses, for the cost breakdown. */
  accesses = 0;

  constructor(
    readonly domid: number,
    private readonly mem: GuestPhysical,
    readonly maxFrames = 32,
  ) {}

  get nrFrames(): number {
    return this.frameGfn.length;
  }

  /**
   * XENMEM_add_to_physmap(XENMAPSPACE_grant_table, idx, gfn). The table grows to idx + 1 frames
   * (Linux adds frames from the highest index down); frames not yet placed hold no grants.
   * Placing a frame again moves it, carrying its entries.
   */
  setFrame(idx: number, gfn: number): number {
    if (!Number.isInteger(idx) || idx < 0 || idx >= this.maxFrames) return GNTST_GENERAL_ERROR;
    if (!this.mem.isRamGfn(gfn)) return GNTST_BAD_PAGE;
    const old = idx < this.frameGfn.length ? this.frameGfn[idx] : -1;
    if (old >= 0) {
      const from = old * 4096, to = gfn * 4096;
      this.mem.u8.copyWithin(to, from, from + 4096);
    } else {
      this.mem.u8.fill(0, gfn * 4096, gfn * 4096 + 4096);
    }
    while (this.frameGfn.length <= idx) this.frameGfn.push(-1);
    this.frameGfn[idx] = gfn;
    return GNTST_OKAY;
  }

  /** Guest-physical byte address of entry `ref`, or -1 when the ref is outside the table. */
  private entryAddr(ref: number): number {
    if (!Number.isInteger(ref) || ref < 0 || ref >= this.frameGfn.length * ENTRIES_PER_FRAME) return -1;
    const gfn = this.frameGfn[Math.floor(ref / ENTRIES_PER_FRAME)];
    return gfn < 0 ? -1 : gfn * 4096 + (ref % ENTRIES_PER_FRAME) * 8;
  }

  private readFlags(a: number): number {
    return this.mem.u8[a] | (this.mem.u8[a + 1] << 8);
  }

  private writeFlags(a: number, f: number): void {
    this.mem.u8[a] = f;
    this.mem.u8[a + 1] = f >> 8;
  }

  /**
   * Starts an access by domain `grantee` to the page granted as `ref`. Returns the access or a
   * GNTST_* code. Every check of xen-abi.md 5.3 is made against the entry as it is now.
   */
  acquire(ref: number, grantee: number, write: boolean): GrantAccess | number {
    const a = this.entryAddr(ref);
    if (a < 0) return GNTST_BAD_GNTREF;
    const m = this.mem.u8;
    const flags = this.readFlags(a);
    const domid = m[a + 2] | (m[a + 3] << 8);
    const gfn = (m[a + 4] | (m[a + 5] << 8) | (m[a + 6] << 16) | (m[a + 7] << 24)) >>> 0;
    if ((flags & GTF_TYPE_MASK) !== GTF_PERMIT_ACCESS || flags & GTF_SUB_PAGE) return GNTST_GENERAL_ERROR;
    if (domid !== grantee) return GNTST_PERMISSION_DENIED;
    if (write && flags & GTF_READONLY) return GNTST_PERMISSION_DENIED;
    if (!this.mem.isRamGfn(gfn)) return GNTST_BAD_PAGE;
    this.writeFlags(a, flags | GTF_READING | (write ? GTF_WRITING : 0));
    const h = this.holds.get(ref) ?? [0, 0];
    h[0]++;
    if (write) h[1]++;
    this.holds.set(ref, h);
    this.accesses++;
    return { ref, gfn, write, page: m.subarray(gfn * 4096, gfn * 4096 + 4096) };
  }

  /** Ends an access; the in-use bits are cleared when the last holder of each kind goes. */
  release(acc: GrantAccess): void {
    const h = this.holds.get(acc.ref);
    if (h === undefined) return;
    h[0]--;
    if (acc.write) h[1]--;
    const a = this.entryAddr(acc.ref);
    if (a >= 0) {
      let f = this.readFlags(a);
      if (h[1] <= 0) f &= ~GTF_WRITING;
      if (h[0] <= 0) f &= ~GTF_READING;
      this.writeFlags(a, f);
    }
    if (h[0] <= 0) this.holds.delete(acc.ref);
    if (acc.write) this.mem.wrote?.(acc.gfn);
  }

  /** Number of refs with an outstanding access (a domain being torn down must reach 0). */
  get heldRefs(): number {
    return this.holds.size;
  }

  save(): { version: 1; frames: number[] } {
    return { version: 1, frames: [...this.frameGfn] };
  }

  restore(s: { version: number; frames: number[] }): void {
    if (s.version !== 1) throw new Error(`grant table state version ${s.version} is not supported`);
    if (s.frames.length > this.maxFrames) throw new Error('grant table state has too many frames');
    this.frameGfn.length = 0;
    this.frameGfn.push(...s.frames);
    this.holds.clear();
  }
}

/** One GNTTABOP_copy operation, after the hypercall layer decoded it. */
export interface GrantCopyOp {
  source: { gref: boolean; ref: number; gfn: number; domid: number; offset: number };
  dest: { gref: boolean; ref: number; gfn: number; domid: number; offset: number };
  len: number;
}

export interface GrantDirectory {
  /** The grant table and memory of a domain, or null. */
  domain(domid: number): { table: GrantTable; mem: GuestPhysical } | null;
}

/**
 * Performs one grant copy on behalf of domain `caller` (xen-abi.md 5.5) and returns its GNTST_*
 * status. Offsets and length must stay within a page on both sides.
 */
export function grantCopy(op: GrantCopyOp, caller: number, dir: GrantDirectory): number {
  const len = op.len;
  if (!Number.isInteger(len) || len < 0 || len > 4096) return GNTST_BAD_COPY_ARG;
  for (const side of [op.source, op.dest]) {
    if (!Number.isInteger(side.offset) || side.offset < 0 || side.offset + len > 4096) return GNTST_BAD_COPY_ARG;
  }
  const src = openSide(op.source, caller, false, dir);
  if (typeof src === 'number') return src;
  const dst = openSide(op.dest, caller, true, dir);
  if (typeof dst === 'number') {
    src.close();
    return dst;
  }
  dst.page.set(src.page.subarray(op.source.offset, op.source.offset + len), op.dest.offset);
  src.close();
  dst.close();
  return GNTST_OKAY;
}

function openSide(
  side: GrantCopyOp['source'], caller: number, write: boolean, dir: GrantDirectory,
): { page: Uint8Array; close(): void } | number {
  const d = dir.domain(side.domid);
  if (d === null) return GNTST_BAD_DOMAIN;
  if (side.gref) {
    const acc = d.table.acquire(side.ref, caller, write);
    if (typeof acc === 'number') return acc;
    return { page: acc.page, close: () => d.table.release(acc) };
  }
  // A plain GFN is only allowed for the caller's own memory.
  if (side.domid !== caller) return GNTST_PERMISSION_DENIED;
  if (!d.mem.isRamGfn(side.gfn)) return GNTST_BAD_PAGE;
  const gfn = side.gfn;
  return { page: d.mem.u8.subarray(gfn * 4096, gfn * 4096 + 4096), close: write ? () => d.mem.wrote?.(gfn) : () => {} };
}
