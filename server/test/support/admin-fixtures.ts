import { QueryTypes } from 'sequelize';
import type { NotificationType } from '../../models';
import { searchVectorSql } from '../../services/notifications/store/fulltext';
import type { TestContext } from './harness';

/**
 * A notification row written straight to the table, so tests choose its age and state. Its search vector comes from
 * the same expression the store's INSERT uses, so full-text search finds it.
 */
export interface NotificationFixture {
  recipientId: number;
  senderId?: number | null;
  type?: NotificationType;
  title?: string;
  message?: string;
  courseId?: number | null;
  read?: boolean;
  /** Done (archived) now; done rows are read too. */
  done?: boolean;
  /** Snoozed until then; snoozed rows are read too. */
  snoozedUntil?: Date;
  /** Whole UTC days before today; the row is stamped one minute after that day's midnight. */
  daysAgo?: number;
  /** Exact creation time; wins over daysAgo. */
  createdAt?: Date;
}

export async function insertNotification(ctx: TestContext, n: NotificationFixture): Promise<number> {
  const [row] = await ctx.sequelize.query<{ id: string }>(
    `INSERT INTO notifications (recipient_id, sender_id, type, title, message, course_id, read_at, done_at,
                                snoozed_until, search_vector, created_at)
     VALUES (:recipientId, :senderId, :type, :title, :message, :courseId,
             CASE WHEN :read OR :done OR CAST(:snoozedUntil AS timestamptz) IS NOT NULL THEN now() END,
             CASE WHEN :done THEN now() END, CAST(:snoozedUntil AS timestamptz),
             ${searchVectorSql({ title: ':title', message: ':message', senderId: ':senderId', courseId: ':courseId' })},
             COALESCE(CAST(:createdAt AS timestamptz),
                      date_trunc('day', now() AT TIME ZONE 'UTC') AT TIME ZONE 'UTC'
                        - make_interval(days => :daysAgo) + interval '1 minute'))
     RETURNING id`,
    {
      replacements: {
        recipientId: n.recipientId,
        senderId: n.senderId ?? null,
        type: n.type ?? 'message',
        title: n.title ?? 'Hello',
        message: n.message ?? '',
        courseId: n.courseId ?? null,
        read: n.read ?? false,
        done: n.done ?? false,
        snoozedUntil: n.snoozedUntil ? n.snoozedUntil.toISOString() : null,
        createdAt: n.createdAt ? n.createdAt.toISOString() : null,
        daysAgo: n.daysAgo ?? 0,
      },
      type: QueryTypes.SELECT,
    },
  );
  return Number(row.id);
}

/** `YYYY-MM-DD` of the UTC day `daysAgo` days before today. */
export function utcDay(daysAgo: number): string {
  const d = new Date();
  d.setUTCDate(d.getUTCDate() - daysAgo);
  return d.toISOString().slice(0, 10);
}
