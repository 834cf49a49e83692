/**
 * Watch matching (docs/misc/xenstore.txt, "Watches"). A change at P fires a watch on W when P is W
 * or below it (event path P), or when P is an ancestor of W that was removed (event path W). A
 * watch registered with a relative path reports relative event paths. Special watches ("@...")
 * match only the events Xen invents for them (@introduceDomain, @releaseDomain).
 */
import { type Change } from './ops.js';
import { isAtOrBelow } from './path.js';

export interface Watch {
  /** Absolute path, or a special name starting with "@". */
  readonly path: string;
  readonly token: string;
  /** Registered relative to the domain's home: events are reported relative to it too. */
  readonly relative: boolean;
}

/** The absolute path a change reports to this watch, or null if it does not match. */
export function matchChange(w: Watch, c: Change): string | null {
  if (w.path[0] === '@') return null;
  if (isAtOrBelow(c.path, w.path)) return c.path;
  if (c.removed && isAtOrBelow(w.path, c.path)) return w.path;
  return null;
}

/** The event path as the watcher sees it: relative to `home` if the watch was registered so. */
export function reportedPath(w: Watch, absPath: string, home: string): string {
  if (!w.relative) return absPath;
  return absPath.startsWith(home + '/') ? absPath.slice(home.length + 1) : absPath;
}
