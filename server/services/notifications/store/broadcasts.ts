import { QueryTypes, type Sequelize } from 'sequelize';
import type { NotificationType } from '../../../models';
import type { BroadcastJSON } from '../../../wire';
import type { SendStatus } from './sends';

interface BroadcastRow {
  id: string;
  type: NotificationType;
  title: string;
  recipients: number;
  status: SendStatus;
  total: number | null;
  created_at: Date;
  sender_id: number | null;
  sender_name: string | null;
}

/** A course's latest broadcasts (its "Recently sent"), newest first, with their senders. */
export async function courseBroadcasts(db: Sequelize, courseId: number, limit: number): Promise<BroadcastJSON[]> {
  const rows = await db.query<BroadcastRow>(
    `SELECT b.id, b.type, b.title, b.recipients, b.status,
            CASE WHEN b.audience_max_id IS NULL THEN b.recipients ELSE b.total END AS total,
            b.created_at, b.sender_id, s.name AS sender_name
       FROM broadcasts b LEFT JOIN users s ON s.id = b.sender_id
      WHERE b.course_id = :courseId
      ORDER BY b.created_at DESC, b.id
      LIMIT :limit`,
    { replacements: { courseId, limit }, type: QueryTypes.SELECT },
  );
  return rows.map((r) => ({
    id: r.id,
    type: r.type,
    title: r.title,
    recipients: r.recipients,
    status: r.status,
    total: r.total,
    created_at: new Date(r.created_at).toISOString(),
    sender: r.sender_id === null ? null : { id: r.sender_id, name: r.sender_name ?? '' },
  }));
}
