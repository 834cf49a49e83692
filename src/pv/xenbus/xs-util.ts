/**
 * XenBus vocabulary shared by the toolstack and backend halves: the XenbusState values
 * (xen/include/public/io/xenbus.h; ../shared/docs/xen-abi.md 6.5), strict parsing of the numbers a
 * hostile frontend writes into XenStore, and the few composite XenStore operations backends need
 * (a state switch that never recreates a removed device, batched writes in one transaction).
 */
import { type XsClient } from '../../xen/xenstore/client.js';
import { XsError } from '../../xen/xenstore/wire.js';

export const enum XenbusState {
  Unknown = 0,
  Initialising = 1,
  InitWait = 2,
  Initialised = 3,
  Connected = 4,
  Closing = 5,
  Closed = 6,
  Reconfiguring = 7,
  Reconfigured = 8,
}

/** How many times a transaction is retried after EAGAIN before giving up. */
const TX_RETRIES = 16;

/**
 * A plain decimal 0..max, as a backend accepts it from a frontend: digits only, no sign, no
 * spaces, no hex. Anything else is null (Linux's "%u" is laxer; being strict costs nothing, since
 * Linux frontends only ever print plain decimals).
 */
export function parseUint(s: string | null, max = 0xffffffff): number | null {
  if (s === null || !/^[0-9]{1,10}$/.test(s)) return null;
  const v = Number(s);
  return v <= max ? v : null;
}

/**
 * A frontend's "state" node: the XenbusState number, 0 (Unknown) for a missing node, or -1 for
 * something that is not a state at all (garbage, which the backend treats as an error).
 */
export function parseState(s: string | null): number {
  if (s === null) return XenbusState.Unknown;
  const v = parseUint(s, 0xff);
  return v === null ? -1 : v;
}

/**
 * A guest-written string made safe for error nodes and host logs: printable ASCII only (no
 * terminal escapes), cut to `max` characters.
 */
export function printable(s: string, max = 32): string {
  const clean = s.replace(/[^\x20-\x7e]/g, '?');
  return clean.length > max ? clean.slice(0, max) + '...' : clean;
}

/** Reads a node as text; null if it is missing or unreadable (never throws). */
export function readOrNull(xs: XsClient, path: string, tx = 0): string | null {
  try {
    return xs.readString(path, tx);
  } catch {
    return null;
  }
}

/**
 * Runs `body` in a transaction and commits, retrying on EAGAIN. `body` returns false to abort.
 * Returns true when committed.
 */
export function inTransaction(xs: XsClient, body: (tx: number) => boolean): boolean {
  for (let attempt = 0; attempt < TX_RETRIES; attempt++) {
    const tx = xs.transactionStart();
    let ok: boolean;
    try {
      ok = body(tx);
    } catch (e) {
      xs.transactionEnd(tx, false);
      throw e;
    }
    if (!ok) {
      xs.transactionEnd(tx, false);
      return false;
    }
    if (xs.transactionEnd(tx, true)) return true;
  }
  throw new XsError('EAGAIN');
}

/**
 * Writes `keys` under `dir` and then `dir`/state = `state`, all in one transaction, as Linux's
 * xenbus_switch_state does for the state alone: if `dir`/state no longer exists (the toolstack
 * removed the device) nothing is written and false is returned.
 */
export function switchState(xs: XsClient, dir: string, state: XenbusState, keys: Readonly<Record<string, string>> = {}): boolean {
  return inTransaction(xs, (tx) => {
    if (readOrNull(xs, `${dir}/state`, tx) === null) return false;
    for (const [k, v] of Object.entries(keys)) xs.write(`${dir}/${k}`, v, tx);
    xs.write(`${dir}/state`, String(state), tx);
    return true;
  });
}
