import path from 'node:path';
import nunjucks from 'nunjucks';
import { groupKeyOf, type BellView, type PlacedGroup, type ReplayedState } from '../services/notifications';
import type { ApplicationJSON, NotificationGroupJSON, NotificationJSON } from '../wire';
import { APPLICATION_STATUS_LABELS, BROADCAST_OPTIONS, ICONS, NOTIFICATION_TYPE_META } from './notification-types';

export const VIEWS_DIR = path.join(__dirname, '..', '..', 'views');

/** "Mon, 12 May 2025, 14:03 UTC": the tooltip on every relative time. public/app.js localises it in the browser. */
export function exactTime(iso: string): string {
  return new Date(iso).toUTCString().replace(' GMT', ' UTC');
}

/**
 * "just now", "5 min ago", "3 h ago", "2 d ago", else the date. Rendered on the server so the page is right
 * without JavaScript; public/app.js keeps it fresh with the same rules.
 */
export function timeAgo(iso: string, now = Date.now()): string {
  const s = Math.max(0, Math.round((now - new Date(iso).getTime()) / 1000));
  if (s < 45) return 'just now';
  if (s < 3600) return `${Math.max(1, Math.round(s / 60))} min ago`;
  if (s < 86_400) return `${Math.round(s / 3600)} h ago`;
  if (s < 7 * 86_400) return `${Math.round(s / 86_400)} d ago`;
  return new Date(iso).toISOString().slice(0, 10);
}

/**
 * Where a notification leads. Built only from its type and numeric ids, never from its text, so user input can
 * never become the start of an href.
 */
export function notificationLink(n: Pick<NotificationJSON, 'type' | 'application_id' | 'course_id'>): string {
  if (n.type === 'application_submitted' && n.application_id) return `/instructor/applications#application-${Number(n.application_id)}`;
  if ((n.type === 'application_approved' || n.type === 'application_rejected') && n.application_id) {
    return `/applications#application-${Number(n.application_id)}`;
  }
  if (n.course_id) return `/courses/${Number(n.course_id)}`;
  return '/notifications';
}

/** A group key as an element id's tail (`application_submitted:course:12` -> `application_submitted-course-12`). */
export const groupDomId = (key: string) => key.replace(/[^A-Za-z0-9_-]/g, '-');

/** "Camille", "Camille and Dario", "Camille, Dario and Ewa", "Camille, Dario, Ewa and 39 others". */
export function actorsPhrase(actors: readonly string[], count: number): string {
  const names = actors.slice(0, 3);
  const others = count - names.length;
  if (names.length === 0) return `${count} people`;
  if (others <= 0) return names.length === 1 ? names[0] : `${names.slice(0, -1).join(', ')} and ${names[names.length - 1]}`;
  return `${names.join(', ')} and ${others} ${others === 1 ? 'other' : 'others'}`;
}

/**
 * What a group's line says: "Camille and 41 others applied to PostgreSQL in Practice". Applications are the one
 * kind grouped today; another kind reads as its newest member's title and how many more there are.
 */
export function groupTitle(g: Pick<NotificationGroupJSON, 'actors' | 'count' | 'latest'>): string {
  const n = g.latest;
  if (n.type === 'application_submitted') return `${actorsPhrase(g.actors, g.count)} applied to ${n.course_title ?? 'your course'}`;
  return g.count > 1 ? `${n.title} (and ${g.count - 1} more)` : n.title;
}

/**
 * Where the id goes in a fan-out's push, which is rendered once for every recipient. It is passed to the template
 * as markup (a SafeString), and it starts with `<`: autoescaping turns every `<` of user text into `&lt;`, so the
 * rendered push can hold this token only where the template itself prints `{{ n.id }}`. Splitting there once gives
 * the pieces between the id positions; no user text can ever be cut, matched or replaced.
 */
const ID_SLOT = '<herald-id/>';

/** The Nunjucks environment for pages and pushes alike (autoescape on, so user text is always escaped). */
export function createViews(viewsDir = VIEWS_DIR): nunjucks.Environment {
  const env = new nunjucks.Environment(new nunjucks.FileSystemLoader(viewsDir, { noCache: false }), {
    autoescape: true,
    throwOnUndefined: false,
  });
  env.addGlobal('TYPES', NOTIFICATION_TYPE_META);
  env.addGlobal('STATUS_LABELS', APPLICATION_STATUS_LABELS);
  env.addGlobal('ICONS', ICONS);
  env.addGlobal('BROADCAST_OPTIONS', BROADCAST_OPTIONS);
  env.addFilter('excerpt', (s: string, n = 120) => (s && s.length > n ? `${s.slice(0, n - 1)}…` : s));
  env.addFilter('badge', (n: number) => (n > 99 ? '99+' : String(n)));
  env.addFilter('exactTime', exactTime);
  env.addFilter('timeAgo', (iso: string) => timeAgo(iso));
  env.addGlobal('notificationLink', notificationLink);
  env.addGlobal('groupKeyOf', groupKeyOf);
  env.addFilter('groupDomId', groupDomId);
  env.addFilter('groupTitle', groupTitle);
  env.addFilter('highlight', (text: string, words?: string[]) => new nunjucks.runtime.SafeString(highlight(text, words)));
  return env;
}

/**
 * `text` escaped, with the searched words marked where a word starts with them (the page's search results). The
 * words are matched against the escaped text, never inside an entity, and only `<mark>` is added: user text is
 * never markup.
 */
export function highlight(text: string, words?: readonly string[]): string {
  const escaped = escapeHtml(String(text ?? ''));
  // Letters, digits, apostrophes and hyphens only (searchWords keeps no others): nothing in them is a regex operator.
  const wanted = (words ?? []).filter((w) => /^[\p{L}\p{N}'-]+$/u.test(w)).map(escapeHtml);
  if (wanted.length === 0) return escaped;
  return escaped.replace(new RegExp(`(?<![\\p{L}\\p{N}&#])(${wanted.join('|')})`, 'giu'), '<mark>$1</mark>');
}

const HTML_ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };
const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (c) => HTML_ESCAPES[c]);

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
  newNotificationPush(n: NotificationJSON, position?: number): (id: number, unreadCount: number) => string {
    const pieces = this.render('partials/push-new.njk', { n: { ...n, id: new nunjucks.runtime.SafeString(ID_SLOT) }, position }).split(ID_SLOT);
    const last = pieces.length - 1;
    // Concatenated rather than joined: V8 keeps the pieces shared until the socket write flattens the string once
    // (a 10,000-recipient micro-benchmark: about a quarter faster than the former replaceAll, where join was slower).
    return (id, unreadCount) => {
      const sid = String(id);
      let out = this.badgePush(unreadCount);
      for (let i = 0; i < last; i++) out += pieces[i] + sid;
      return out + pieces[last];
    };
  }

  /**
   * The instructor's push for an application that arrived (`inserted`: its review row on top of the list) or was
   * decided (its row replaced), with the course's counts. Same partials as the pages; nothing per-user in it.
   */
  applicationPush(a: ApplicationJSON, counts: { enrolledCount: number; pendingCount: number }, inserted: boolean): string {
    const course = { id: a.course.id, enrolled_count: counts.enrolledCount, pending_count: counts.pendingCount };
    return this.render('partials/push-application.njk', { a, course, inserted });
  }

  /**
   * The candidate's push for a decided application: the status chip, the apply panel, the catalog card's standing
   * and the enrolled count, wherever the page shows them.
   */
  statusPush(a: ApplicationJSON, counts: { enrolledCount: number; candidateEnrolled: boolean }): string {
    const course = {
      id: a.course.id,
      enrolled_count: counts.enrolledCount,
      is_enrolled: counts.candidateEnrolled,
      my_application: { id: a.id, status: a.status },
    };
    return this.render('partials/push-status.njk', { a, course });
  }

  /** Everyone else showing the course: its enrolled count (and, for admins, `showPending`, its pending one). */
  countsPush(courseId: number, counts: { enrolledCount: number; pendingCount: number }, showPending: boolean): string {
    const course = { id: courseId, enrolled_count: counts.enrolledCount, pending_count: counts.pendingCount };
    return this.render('partials/push-counts.njk', { course, showPending });
  }

  /** A missed notification, replayed after the snapshot: its card on the notifications page (push-replay.njk). */
  replayPush(n: NotificationJSON, position: number): string {
    return this.render('partials/push-replay.njk', { n, position });
  }

  /**
   * The push after notifications changed state elsewhere (done, undone, snoozed, deleted: their rows leave the
   * list shown; unread: their rows show as unread), with the fresh bell. Also the answer to the page's own actions.
   */
  statePush(
    view: BellView,
    ids: number[],
    state: 'unread' | 'done' | 'undone' | 'snoozed' | 'deleted',
    returning: ReadonlyArray<{ n: NotificationJSON; position: number }> = [],
  ): string {
    return this.bell(view, { oob: true }) + this.render('partials/push-state.njk', { ids, state, returning });
  }

  /**
   * A state change replayed to a bell tab that slept (`?since=`), each row in its state now: what the live push does
   * to the rows, without the bell, which the snapshot before it brought as it is now. `read` ("in the inbox, read":
   * read elsewhere, or undone) shows the cards as read, as the live read does, and brings back `returning` (those
   * rows' fresh cards) as the live undone does, so a row undone while the tab slept is back in its All list; unread
   * likewise. The page's data-return placing (public/app.js) makes a card the list already holds a replacement. A
   * page may have been rendered after a change its resume point is older than: every fragment must leave a page that
   * already shows the state as it is (a done row stays in a list that shows it done, see push-state.njk).
   */
  stateReplayPush(ids: number[], state: ReplayedState, returning: ReadonlyArray<{ n: NotificationJSON; position: number }>): string {
    if (state !== 'read') return this.render('partials/push-state.njk', { ids, state, returning, replayed: true });
    return this.render('partials/push-read.njk', { ids, all: false }) + this.render('partials/push-state.njk', { ids: [], state, returning, replayed: true });
  }

  /**
   * A new notification joined a group of more than one (bell protocol): instead of its own card and bell item,
   * the fresh bell (groups as one line) and the group's line on top of a grouped list, replacing the group's line
   * or the member's card the list shows; the new one is announced as any new notification is. Per recipient (a
   * grouped row has one), never for a fan-out.
   */
  groupMemberPush(view: BellView, n: NotificationJSON, group: NotificationGroupJSON, position: number): string {
    return this.bell(view, { oob: true }) + this.render('partials/push-group.njk', { lines: [{ key: group.group_key, line: { group, position } }], announce: n });
  }

  /**
   * The lines of groups a state change touched: each group's fresh line (or its one member's card) where a grouped
   * list shows the group, or nothing when it left the inbox (`null`). Placed by position (public/app.js).
   */
  groupLinesPush(lines: ReadonlyMap<string, PlacedGroup | null>): string {
    return this.render('partials/push-group.njk', { lines: [...lines].map(([key, line]) => ({ key, line })) });
  }

  /** The push after notifications were read elsewhere: the fresh bell, and those cards shown as read. */
  readPush(view: BellView, ids: number[] | 'all'): string {
    return this.bell(view, { oob: true }) + this.render('partials/push-read.njk', { ids, all: ids === 'all' });
  }
}
