import type { NotificationType } from '../../models';

/** A notification row as the list/detail queries return it (snake_case straight from SQL). */
export interface NotificationRow {
  id: string | number;
  recipient_id: number;
  type: NotificationType;
  title: string;
  message: string;
  data: Record<string, unknown>;
  read_at: Date | null;
  created_at: Date;
  sender_id: number | null;
  sender_name: string | null;
  sender_email: string | null;
  application_id: number | null;
  course_id: number | null;
  course_title: string | null;
}

/** The API's notification shape (kept from the original system's serializer). */
export interface NotificationJSON {
  id: number;
  type: NotificationType;
  title: string;
  message: string;
  data: Record<string, unknown>;
  is_read: boolean;
  read_at: string | null;
  created_at: string;
  sender: { id: number; name: string; email: string } | null;
  application_id: number | null;
  course_id: number | null;
  course_title: string | null;
}

export function toNotificationJSON(r: NotificationRow): NotificationJSON {
  return {
    id: Number(r.id),
    type: r.type,
    title: r.title,
    message: r.message,
    data: r.data ?? {},
    is_read: r.read_at !== null,
    read_at: r.read_at ? new Date(r.read_at).toISOString() : null,
    created_at: new Date(r.created_at).toISOString(),
    sender: r.sender_id ? { id: r.sender_id, name: r.sender_name ?? '', email: r.sender_email ?? '' } : null,
    application_id: r.application_id,
    course_id: r.course_id,
    course_title: r.course_title,
  };
}

/** The SELECT list and joins every notification read uses, so the shape is built in one place. */
export const NOTIFICATION_SELECT = `
  SELECT n.id, n.recipient_id, n.type, n.title, n.message, n.data, n.read_at, n.created_at,
         n.sender_id, s.name AS sender_name, s.email AS sender_email,
         n.application_id, n.course_id, c.title AS course_title
    FROM notifications n
    LEFT JOIN users s ON s.id = n.sender_id
    LEFT JOIN courses c ON c.id = n.course_id`;
