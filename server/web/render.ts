import path from 'node:path';
import nunjucks from 'nunjucks';
import type { NotificationJSON } from '../services/notifications';
import { NOTIFICATION_TYPE_META } from './notification-types';

export const VIEWS_DIR = path.join(__dirname, '..', '..', 'views');

/** What the bell shows: the badge and the latest five. */
export interface BellView {
  unreadCount: number;
  latest: NotificationJSON[];
}

/** The id stand-in a fan-out renders once; each recipient's copy swaps in the real id. */
const ID_SLOT = '__herald_nid__';

/** The Nunjucks environment for pages and pushes alike (autoescape on, so user text is always escaped). */
export function createViews(viewsDir = VIEWS_DIR): nunjucks.Environment {
  const env = new nunjucks.Environment(new nunjucks.FileSystemLoader(viewsDir, { noCache: false }), {
    autoescape: true,
    throwOnUndefined: false,
  });
  env.addGlobal('TYPES', NOTIFICATION_TYPE_META);
  env.addFilter('excerpt', (s: string, n = 120) => (s && s.length > n ? `${s.slice(0, n - 1)}…` : s));
  env.addFilter('badge', (n: number) => (n > 99 ? '99+' : String(n)));
  env.addFilter('exactTime', (iso: string) => new Date(iso).toUTCString());
  return env;
}

/**
 * Renders the pieces of UI that both pages and WebSocket pushes use, from the same partials. Push HTML uses
 * hx-swap-oob so each piece targets its own spot and a page without that spot simply ignores it.
 */
export class Renderer {
  readonly #env: nunjucks.Environment;
  readonly #badgeCache = new Map<number, string>();

  constructor(env: nunjucks.Environment = createViews()) {
    this.#env = env;
  }

  get env() {
    return this.#env;
  }

  render(template: string, ctx: object): string {
    return this.#env.render(template, ctx);
  }

  /** The whole bell (badge, latest five, actions). `oob` marks it for a WebSocket push. */
  bell(view: BellView, opts: { oob?: boolean } = {}): string {
    return this.render('partials/bell.njk', { bell: view, oob: opts.oob ?? false });
  }

  /** The badge alone, as a push. Memoised per count: a fan-out needs only a handful of distinct counts. */
  badgePush(unreadCount: number): string {
    let html = this.#badgeCache.get(unreadCount);
    if (html === undefined) {
      html = this.render('partials/bell-badge.njk', { count: unreadCount, oob: true });
      if (this.#badgeCache.size < 1000) this.#badgeCache.set(unreadCount, html);
    }
    return html;
  }

  /**
   * The push for a new notification (badge, bell item, page card, screen-reader announcement), rendered ONCE
   * and returned as a cheap per-recipient function, so a fan-out to 10,000 students renders one template.
   */
  newNotificationPush(n: NotificationJSON): (id: number, unreadCount: number) => string {
    const shared = this.render('partials/push-new.njk', { n: { ...n, id: ID_SLOT } });
    return (id, unreadCount) => this.badgePush(unreadCount) + shared.replaceAll(ID_SLOT, String(id));
  }

  /** The push after notifications were read elsewhere: the fresh bell, and those cards shown as read. */
  readPush(view: BellView, ids: number[] | 'all'): string {
    return this.bell(view, { oob: true }) + this.render('partials/push-read.njk', { ids, all: ids === 'all' });
  }
}
