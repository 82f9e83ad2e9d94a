import { Params } from '@angular/router';
import type { operations } from '../core/api.generated';
import { NotificationType } from '../core/api.types';
import { NOTIFICATION_TYPE_KEYS } from '../shared/notification-types';

type ListQuery = NonNullable<operations['adminListNotifications']['parameters']['query']>;
/** One state per notification: unread, read (in the inbox), done (archived), snoozed; `all` is any. */
export type ModerationState = NonNullable<ListQuery['status']>;
export type SortKey = NonNullable<ListQuery['sort']>;

export const STATES: ReadonlyArray<{ value: ModerationState; label: string }> = [
  { value: 'all', label: 'Any state' },
  { value: 'unread', label: 'Unread' },
  { value: 'read', label: 'Read' },
  { value: 'done', label: 'Done (archived)' },
  { value: 'snoozed', label: 'Snoozed' },
];
const SORTS: readonly SortKey[] = ['created_at', 'title', 'type', 'recipient'];

/** What the moderation page's filter form holds. */
export interface FilterValue {
  q: string;
  recipient: string;
  sender: string;
  type: NotificationType[];
  exclude_type: NotificationType[];
  course: number | null;
  status: ModerationState;
  from: Date | null;
  to: Date | null;
}

export interface SortValue {
  active: SortKey;
  direction: 'asc' | 'desc';
}

export const EMPTY_FILTERS: FilterValue = {
  q: '',
  recipient: '',
  sender: '',
  type: [],
  exclude_type: [],
  course: null,
  status: 'all',
  from: null,
  to: null,
};
export const DEFAULT_SORT: SortValue = { active: 'created_at', direction: 'desc' };

export function hasFilters(f: FilterValue): boolean {
  return urlKeys(f).length > 0;
}

const KNOWN_TYPES = new Set<string>(NOTIFICATION_TYPE_KEYS);
const typesOf = (raw: unknown): NotificationType[] =>
  typeof raw === 'string'
    ? (raw.split(',').filter((t) => KNOWN_TYPES.has(t)) as NotificationType[])
    : [];

/** `YYYY-MM-DD` in the moderator's own calendar: the range picker picks local days. */
function dayOf(d: Date): string {
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;
}

function dateOf(raw: unknown): Date | null {
  const m = typeof raw === 'string' ? /^(\d{4})-(\d{2})-(\d{2})$/.exec(raw) : null;
  if (!m) return null;
  const d = new Date(Number(m[1]), Number(m[2]) - 1, Number(m[3]));
  return dayOf(d) === raw ? d : null;
}

const text = (raw: unknown) => (typeof raw === 'string' ? raw : '');

/**
 * The form's value from a shared link. A link is typed or edited by hand, so whatever it holds that the form
 * cannot show (an unknown type, a bad date) is dropped rather than sent to the server as a 400.
 */
export function filtersFromUrl(p: Params): { filters: FilterValue; sort: SortValue } {
  const course = Number(p['course']);
  const status = STATES.find((s) => s.value === p['status'])?.value ?? 'all';
  const sort = SORTS.find((s) => s === p['sort']) ?? DEFAULT_SORT.active;
  return {
    filters: {
      q: text(p['q']),
      recipient: text(p['recipient']),
      sender: text(p['sender']),
      type: typesOf(p['type']),
      exclude_type: typesOf(p['exclude_type']),
      course: Number.isSafeInteger(course) && course > 0 ? course : null,
      status,
      from: dateOf(p['from']),
      to: dateOf(p['to']),
    },
    sort: { active: sort, direction: p['order'] === 'asc' ? 'asc' : 'desc' },
  };
}

function urlKeys(f: FilterValue): Array<[string, string]> {
  const out: Array<[string, string]> = [
    ['q', f.q.trim()],
    ['recipient', f.recipient.trim()],
    ['sender', f.sender.trim()],
    ['type', f.type.join(',')],
    ['exclude_type', f.exclude_type.join(',')],
    ['course', f.course ? String(f.course) : ''],
    ['status', f.status === 'all' ? '' : f.status],
    ['from', f.from ? dayOf(f.from) : ''],
    ['to', f.to ? dayOf(f.to) : ''],
  ];
  return out.filter(([, v]) => v !== '');
}

/** The page's query parameters: only what differs from the defaults, so a plain link stays plain. */
export function filtersToUrl(f: FilterValue, sort: SortValue): Params {
  const params: Params = Object.fromEntries(urlKeys(f));
  if (sort.active !== DEFAULT_SORT.active || sort.direction !== DEFAULT_SORT.direction) {
    params['sort'] = sort.active;
    params['order'] = sort.direction;
  }
  return params;
}

/** The API's query for the form: whole local days become instants, so "to" includes all of its last day. */
export function requestFilters(f: FilterValue): Record<string, string | number | null> {
  return {
    recipient: f.recipient.trim(),
    sender: f.sender.trim(),
    type: f.type.join(','),
    exclude_type: f.exclude_type.join(','),
    course: f.course,
    status: f.status,
    from: f.from ? new Date(f.from.getFullYear(), f.from.getMonth(), f.from.getDate()).toISOString() : null,
    to: f.to
      ? new Date(f.to.getFullYear(), f.to.getMonth(), f.to.getDate(), 23, 59, 59, 999).toISOString()
      : null,
    q: f.q.trim(),
  };
}
