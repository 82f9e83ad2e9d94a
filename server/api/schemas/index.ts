import { z } from 'zod';
import { APPLICATION_STATUSES, BROADCAST_TYPES, NOTIFICATION_TYPES } from '../../models';
import { storable } from '../../http/input';
import { GROUP_KEY_MAX, GROUP_KEY_RE, LIST_STATUSES, STATE_ACTIONS } from '../../services/notifications/store';

/** Shared request schemas of the JSON API. Query values arrive as strings; bad ones are a 400, never a 500. */

/**
 * Schemas of positive integer ids: a JSON integer, or its decimal digits (path and query values are strings).
 * Nothing looser: `true`, ` 1`, `1e3` or `0x10` are not ids. The OpenAPI document shows them as integers.
 */
export const integerIds = new WeakSet<z.ZodType>();
function idOf(max: number) {
  const schema = z
    .union([z.number(), z.string().regex(/^\d{1,16}$/).transform(Number)], { error: 'must be a positive whole number' })
    .pipe(z.number().int().positive().max(max));
  integerIds.add(schema);
  return schema;
}

export const id = idOf(2_147_483_647);

/** Notification ids are bigserial: they may pass 2^31, and stay exact JavaScript integers far beyond our scale. */
export const notificationId = idOf(Number.MAX_SAFE_INTEGER);

// PostgreSQL refuses NUL in text and unpaired surrogates in jsonb. http/input.ts refuses them for every request
// already; the schemas say it too, so the document states the rule and a schema used elsewhere still holds it.
const UNSTORABLE_MESSAGE = 'must not contain NUL characters or unpaired surrogates';

/** Free text as we store it: trimmed, bounded, and free of what PostgreSQL would refuse or mangle. */
export const text = (max: number) => z.string().trim().max(max).refine(storable, UNSTORABLE_MESSAGE);

const DATA_MAX_BYTES = 4096;
const DATA_MAX_DEPTH = 8;

/**
 * Walks a JSON value without recursion, so a deeply nested body cannot overflow the stack, and reports the
 * first problem: too deep, or a string (key or value) that PostgreSQL could not store.
 */
function jsonProblem(root: unknown): string | null {
  const stack: Array<[unknown, number]> = [[root, 0]];
  while (stack.length > 0) {
    const [value, depth] = stack.pop()!;
    if (typeof value === 'string') {
      if (!storable(value)) return `strings ${UNSTORABLE_MESSAGE}`;
    } else if (value !== null && typeof value === 'object') {
      if (depth >= DATA_MAX_DEPTH) return `must be nested at most ${DATA_MAX_DEPTH} levels deep`;
      for (const [k, v] of Object.entries(value)) {
        if (!storable(k)) return `keys ${UNSTORABLE_MESSAGE}`;
        stack.push([v, depth + 1]);
      }
    }
  }
  return null;
}

/** Free-form `data` attached to a notification: a JSON object, at most 8 levels deep and 4 KB serialized. */
export const notificationData = z
  .record(z.string().max(64), z.unknown())
  .superRefine((d, ctx) => {
    const problem = jsonProblem(d);
    if (problem) ctx.addIssue({ code: 'custom', message: `data ${problem}` });
    else if (JSON.stringify(d).length > DATA_MAX_BYTES) ctx.addIssue({ code: 'custom', message: 'data must be at most 4 KB of JSON' });
  })
  .optional();

/** `a,b,c`: notification types, each known. */
export const typeList = z
  .string()
  .max(500)
  .transform((s) => s.split(',').map((t) => t.trim()).filter(Boolean))
  .pipe(z.array(z.enum(NOTIFICATION_TYPES)).min(1).max(NOTIFICATION_TYPES.length * 2));

/** An ISO 8601 instant with its offset, or a plain date meaning that UTC day. */
const isoDate = z.union([z.iso.datetime({ offset: true }), z.iso.date()]);
const DAY_MS = 86_400_000;

/** `from=`: created at or after. */
export const createdFrom = isoDate
  .transform((d) => new Date(d))
  .describe('Created at or after: an ISO 8601 instant with offset, or a date (its 00:00 UTC).');

/**
 * `to=`: created at or before, inclusive either way: an instant is the last moment included (`{to}`), a plain date
 * includes that whole UTC day (`{until}` the next midnight, excluded).
 */
export const createdTo = isoDate
  .transform((d): { until: Date } | { to: Date } => (d.length === 10 ? { until: new Date(Date.parse(d) + DAY_MS) } : { to: new Date(d) }))
  .describe('Created at or before: an ISO 8601 instant with offset, or a date (that whole UTC day).');

export const listNotificationsQuery = z.object({
  status: z
    .enum(LIST_STATUSES)
    .default('all')
    .describe('`all`, `unread` and `read` are the inbox (neither done nor snoozed); `done` and `snoozed` the others.'),
  type: typeList.optional().describe('One type, or several separated by commas (any of them).'),
  exclude_type: typeList.optional().describe('Types to leave out, separated by commas.'),
  course: id.optional().describe('Only notifications about this course (by id).'),
  from: createdFrom.optional(),
  to: createdTo.optional(),
  q: text(200)
    .optional()
    .describe(
      'Full-text search over title, message, sender and course ("quoted phrase", or, -word); `type:x` and `-type:x` ' +
        'in it filter by type as `type` and `exclude_type` do.',
    ),
  limit: z.coerce.number().int().min(1).max(100).default(20),
  cursor: z.string().min(1).max(40).optional(),
  group: z
    .enum(['true', 'false'])
    .optional()
    .transform((v) => v === 'true')
    .describe(
      '`true`: one line per group of notifications of the same kind about the same thing (applications to one ' +
        'course), placed by its newest member; the same filters and cursor form. `limit` then counts groups.',
    ),
});

export const login = z.object({
  email: z.string().trim().toLowerCase().email().max(254),
  password: z.string().min(1).max(1024),
});

export const listCoursesQuery = z.object({ q: text(200).optional() });

export const applyBody = z.object({ motivation: text(2000).default('') });

export const notifyStudentsBody = z.object({
  notification_type: z.enum(BROADCAST_TYPES),
  title: text(200).min(1),
  message: text(5000).default(''),
  data: notificationData,
});

/**
 * A client's key for one logical send, so a retry (after a timeout, a crash, a double click) cannot send twice:
 * 1 to 100 printable ASCII characters; a UUID is a good choice.
 */
export const idempotencyKey = z
  .string()
  .regex(/^[\x20-\x7e]{1,100}$/, 'must be 1 to 100 printable ASCII characters')
  .describe('Your key for this request (1–100 printable ASCII characters, e.g. a UUID), remembered for 24 hours. ' +
    'The same request again with the same key changes nothing and answers with the first result; the same key ' +
    'with a different request (another path or body) is a 409 `idempotency_key_reused`.');

export const idempotencyHeaders = z.object({ 'Idempotency-Key': idempotencyKey.optional() });

export const enrollBody = z.object({ student_id: id });

export const listApplicationsQuery = z.object({
  status: z.enum(APPLICATION_STATUSES).optional(),
  course_id: id.optional(),
  limit: z.coerce.number().int().min(1).max(100).default(50),
  offset: z.coerce.number().int().min(0).max(1_000_000).default(0),
});

export const rejectBody = z.object({ reason: text(1000).optional().transform((r) => r || null) });

/** Where a live stream resumes: after this notification id (a stream's `Last-Event-ID`, a socket's `?since=`). */
const resumeId = z.string().regex(/^\d{1,15}$/, 'must be a notification id').transform(Number);
export const streamQuery = z.object({
  since: resumeId.optional().describe('Resume after this position (the last event id received; a notification id for rows that never woke).'),
});
export const streamHeaders = z.object({
  'Last-Event-ID': resumeId.optional().describe('The last event id received (a position); wins over `since`.'),
});

/** The bulk endpoint's most ids per call. */
export const BULK_MAX_IDS = 500;

export const bulkNotificationsBody = z
  .object({
    ids: z
      .array(z.number().int().positive().max(Number.MAX_SAFE_INTEGER))
      .max(BULK_MAX_IDS)
      .default([])
      .describe(`At most ${BULK_MAX_IDS}. Ids that are not yours are left alone and not counted.`),
    group_keys: z
      .array(z.string().max(GROUP_KEY_MAX).regex(GROUP_KEY_RE, 'must be a group_key from the grouped list'))
      .max(BULK_MAX_IDS)
      .default([])
      .describe(
        `At most ${BULK_MAX_IDS} \`group_key\`s from the grouped list: the action applies to every member of those ` +
          'groups of yours, in any list. Keys that name none of your notifications change nothing.',
      ),
    action: z.enum(STATE_ACTIONS),
  })
  .refine((b) => b.ids.length + b.group_keys.length > 0, { message: 'Give at least one id or group key.', path: ['ids'] });

export const snoozeBody = z.object({
  until: z.iso
    .datetime({ offset: true })
    .transform((s) => new Date(s))
    .describe('ISO 8601 with a time zone; in the future, at most a year ahead.'),
});
