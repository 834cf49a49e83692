/**
 * One XsClient serves every backend of a domain; its single watch-event callback is fanned out
 * here by token. A handler that throws is logged once and swallowed: nothing from a watch ever
 * propagates back into the XenStore engine (and from there into a guest's ring request).
 */
import { logOnce } from '../../base/log.js';
import { type XsClient } from '../../xen/xenstore/client.js';

export type WatchHandler = (path: string) => void;

let routers = 0;

export class WatchRouter {
  private readonly handlers = new Map<string, { path: string; fn: WatchHandler }>();
  private nextId = 1;

  private readonly prefix: string;

  constructor(private readonly xs: XsClient, prefix: string) {
    this.prefix = `${prefix}.${++routers}`;
    xs.onWatchEvent = (path, token) => this.dispatch(path, token);
  }

  /** Watches `path`; the handler runs at once (XenStore fires every new watch) and on each change. */
  add(path: string, fn: WatchHandler): string {
    const token = `${this.prefix}:${this.nextId++}`;
    this.handlers.set(token, { path, fn });
    this.xs.watch(path, token);
    return token;
  }

  remove(token: string): void {
    const h = this.handlers.get(token);
    if (!h) return;
    this.handlers.delete(token);
    try {
      this.xs.unwatch(h.path, token);
    } catch {
      // The connection may already be gone; the watch is gone with it.
    }
  }

  private dispatch(path: string, token: string): void {
    const h = this.handlers.get(token);
    if (!h) return;
    try {
      h.fn(path);
    } catch (e) {
      logOnce('error', 'xenbus', `watch:${token}`, `xenbus: watch handler for ${h.path} failed: ${String(e)}`);
    }
  }
}
