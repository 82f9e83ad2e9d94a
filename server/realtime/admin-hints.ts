import type { Hub } from './hub';
import type { RealtimeMetrics } from './metrics';
import type { Protocols } from './protocols';

/** What the admin console is told to refetch. Names only: the console reloads through the admin API. */
export type AdminEventName = 'notification.created' | 'application.changed' | 'stats.changed' | 'send.progress';

/** Hints of one name go out at most once per this interval (a fan-out storm is one refresh). */
const ADMIN_COALESCE_MS = 1_000;

/**
 * The admin console's `admin_event` hints, coalesced per name: the first goes out at once, then at most one
 * trailing copy per interval however many events came in between. Only admins' sockets whose protocol carries
 * hints get them; with no admin connected nothing is sent and no timer runs.
 */
export class AdminHints {
  readonly #hub: Hub;
  readonly #protocols: Protocols;
  readonly #metrics: RealtimeMetrics;
  readonly #slots = new Map<AdminEventName, { timer: NodeJS.Timeout; pending: boolean }>();
  #closed = false;

  constructor(deps: { hub: Hub; protocols: Protocols; metrics: RealtimeMetrics }) {
    this.#hub = deps.hub;
    this.#protocols = deps.protocols;
    this.#metrics = deps.metrics;
  }

  hint(name: AdminEventName): void {
    if (this.#closed || this.#hub.admins().size === 0) return;
    const slot = this.#slots.get(name);
    if (slot) {
      slot.pending = true;
      return;
    }
    this.#send(name);
    const tick = () => {
      const s = this.#slots.get(name);
      if (s?.pending && !this.#closed) {
        s.pending = false;
        this.#send(name);
        s.timer = setTimeout(tick, ADMIN_COALESCE_MS);
        s.timer.unref();
      } else this.#slots.delete(name);
    };
    const timer = setTimeout(tick, ADMIN_COALESCE_MS);
    timer.unref();
    this.#slots.set(name, { timer, pending: false });
  }

  #send(name: AdminEventName): void {
    const frames = new Map<string, string>();
    for (const c of this.#hub.admins()) {
      const p = this.#protocols[c.protocol];
      if (!p.adminHint) continue;
      let frame = frames.get(p.name);
      if (frame === undefined) frames.set(p.name, (frame = p.adminHint(name)));
      c.push(frame);
      this.#metrics.pushed.inc({ protocol: p.name });
    }
  }

  close(): void {
    this.#closed = true;
    for (const s of this.#slots.values()) clearTimeout(s.timer);
    this.#slots.clear();
  }
}
