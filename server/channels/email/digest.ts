import { createHash } from 'node:crypto';
import { parseCronItems, type ParsedCronItem } from 'graphile-worker';
import { QueryTypes, type Sequelize } from 'sequelize';
import { z } from 'zod';
import type { JobHelpers, TaskList } from '../../jobs';
import { DIGEST_QUEUE, DIGEST_TASK } from '../../jobs/notification-jobs';
import type { ClaimedDelivery, ClaimSource, DeliveryService } from '../../services/deliveries';
import { digestibleFrom } from '../../services/digests';
import { TransientSendError, type SendReport } from './send';
import type { EmailSender } from './index';
import { IN_QUIET_HOURS, NEXT_QUIET_END } from '../quiet-hours';

/**
 * The daily digest (`email: "digest"`), hop by hop:
 * 1. An hourly cron job (`digestCron`, at minute 0) runs `email:digest` with scope `hourly`: the users whose local
 *    hour, at the cron's own tick, is their digest hour. An admin's "send now" enqueues scope `all` (every user with
 *    something to digest, whatever their hour). Every digest job runs in one graphile-worker queue, one at a time,
 *    so two runs never split one user's notifications into two emails.
 * 2. One query per chunk of users picks what is digestible (unread, effective email `digest` for its type, written
 *    since the user's previous digest, no email delivery yet except a free pending one: `digestibleFrom`, which
 *    the admin's count in server/services/digests shares) and claims it: one delivery per notification on channel
 *    `email`, the same unique (notification, email) row the other email paths use, so a notification is emailed at
 *    most once whichever way (digest, escalation, immediate) it goes.
 * 3. `EmailSender.sendDigests` sends one email per user and settles all its deliveries at once; the users whose
 *    digest went out get `last_digest_at = now()`.
 * 4. Users in their quiet hours are held back: a follow-up job (scope `users`) at the earliest end of those hours
 *    runs the same query for them, whatever their hour.
 */
export { DIGEST_QUEUE, DIGEST_TASK };

const Payload = z.union([
  z.object({ scope: z.literal('hourly'), _cron: z.object({ ts: z.coerce.date() }).optional() }),
  z.object({ scope: z.literal('all') }),
  z.object({ scope: z.literal('users'), userIds: z.array(z.number().int().positive()).max(100_000) }),
]);
export type DigestPayload = z.input<typeof Payload>;

/** The hourly tick. A restart within two hours of a missed tick still runs it, for that tick's hour. */
export const digestCron: ParsedCronItem[] = parseCronItems([
  {
    task: DIGEST_TASK,
    match: '0 * * * *',
    identifier: 'email:digest:hourly',
    options: { queueName: DIGEST_QUEUE, backfillPeriod: 2 * 3600 * 1000 },
    payload: { scope: 'hourly' },
  },
]);

type Scope = { where: string; replacements: Record<string, unknown> };

function scopeOf(p: z.output<typeof Payload>, now = new Date()): Scope {
  switch (p.scope) {
    case 'hourly':
      // The tick's time, not now(): a backfilled tick picks the users of its own hour. The two hours keep a day
      // whose local hour comes twice (the autumn clock change) to one digest; an admin's run earlier that day
      // does not cancel the scheduled one, which then lists only what came since.
      return {
        where: `EXTRACT(HOUR FROM CAST(:at AS timestamptz) AT TIME ZONE ep.timezone) = ep.digest_hour
                AND (s.last_digest_at IS NULL OR s.last_digest_at < CAST(:at AS timestamptz) - interval '2 hours')`,
        replacements: { at: (p._cron?.ts ?? now).toISOString() },
      };
    case 'all':
      return { where: 'TRUE', replacements: {} };
    case 'users':
      return { where: 'n.recipient_id = ANY(CAST(:userIds AS int[]))', replacements: { userIds: `{${p.userIds.join(',')}}` } };
  }
}

/** The next chunk: every digestible notification of the next `users` users outside their quiet hours. */
export function digestSource(payload: DigestPayload, users: number, now = new Date()): ClaimSource {
  const { where, replacements } = scopeOf(Payload.parse(payload), now);
  return {
    sql: `WITH c AS (SELECT n.id AS notification_id, n.recipient_id ${digestibleFrom(where)} AND NOT ${IN_QUIET_HOURS}),
               u AS (SELECT DISTINCT recipient_id FROM c ORDER BY recipient_id LIMIT ${Math.max(1, Math.floor(users))})
          SELECT c.notification_id, c.recipient_id FROM c JOIN u USING (recipient_id)`,
    replacements,
  };
}

export function digestTasks(deps: {
  sequelize: Sequelize;
  deliveries: DeliveryService;
  sender: EmailSender;
  /** Users per claim: each chunk holds the leases of this many users' notifications at once. */
  usersPerChunk?: number;
}): TaskList {
  const chunk = deps.usersPerChunk ?? 500;
  return {
    [DIGEST_TASK]: async (raw: unknown, helpers: JobHelpers) => {
      const payload = Payload.parse(raw);
      const now = new Date();
      let users = 0;
      // A transient SMTP failure throws out of the loop: the job retries with backoff; what was sent stays sent.
      for (;;) {
        const claimed = await deps.deliveries.claim('email', digestSource(payload, chunk, now));
        if (claimed.length === 0) break;
        users += await sendAndRecord(deps, claimed);
      }
      const held = await heldByQuietHours(deps.sequelize, scopeOf(payload, now));
      if (held) {
        const key = createHash('sha256').update(held.userIds.join(',')).digest('base64url').slice(0, 16);
        await helpers.addJob(DIGEST_TASK, { scope: 'users', userIds: held.userIds } satisfies DigestPayload, {
          runAt: held.wakeAt,
          queueName: DIGEST_QUEUE,
          jobKey: `${DIGEST_TASK}:quiet:${key}`,
        });
      }
      helpers.logger.info(
        `digests sent to ${users} users${held ? `; ${held.userIds.length} after quiet hours at ${held.wakeAt.toISOString()}` : ''}`,
      );
    },
  };
}

/** Sends one chunk's digests and records each sent user's digest time, also when some sends must be retried. */
async function sendAndRecord(deps: { sequelize: Sequelize; sender: EmailSender }, claimed: ClaimedDelivery[]): Promise<number> {
  let report: SendReport;
  let retry: TransientSendError | undefined;
  try {
    report = await deps.sender.sendDigests(claimed);
  } catch (err) {
    if (!(err instanceof TransientSendError)) throw err;
    report = err.report;
    retry = err;
  }
  const sent = new Set(report.sent);
  const userIds = [...new Set(claimed.filter((c) => sent.has(c.id)).map((c) => c.recipientId))];
  if (userIds.length > 0) {
    await deps.sequelize.query(
      `INSERT INTO notification_settings AS s (user_id, last_digest_at)
       SELECT u, now() FROM unnest(CAST(:ids AS int[])) AS u
       ON CONFLICT (user_id) DO UPDATE SET last_digest_at = now()`,
      { replacements: { ids: `{${userIds.join(',')}}` } },
    );
  }
  if (retry) throw retry;
  return userIds.length;
}

/** The users with something to digest who are in their quiet hours, and the earliest end of those. */
async function heldByQuietHours(db: Sequelize, scope: Scope): Promise<{ userIds: number[]; wakeAt: Date } | null> {
  const [row] = await db.query<{ wake: Date | null; users: number[] | null }>(
    `SELECT min(${NEXT_QUIET_END}) AS wake, array_agg(DISTINCT n.recipient_id ORDER BY n.recipient_id) AS users
       ${digestibleFrom(scope.where)} AND ${IN_QUIET_HOURS}`,
    { type: QueryTypes.SELECT, replacements: scope.replacements },
  );
  if (!row?.wake || !row.users?.length) return null;
  return { userIds: row.users.map(Number), wakeAt: new Date(row.wake) };
}
