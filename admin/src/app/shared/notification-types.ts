import { NotificationType } from '../core/api.types';

/** How a notification type looks everywhere in the console; colours live in styles.scss. */
export interface TypeMeta {
  label: string;
  icon: string;
}

export const NOTIFICATION_TYPES: Record<NotificationType, TypeMeta> = {
  application_submitted: { label: 'Application submitted', icon: 'assignment' },
  application_approved: { label: 'Application approved', icon: 'check_circle' },
  application_rejected: { label: 'Application rejected', icon: 'cancel' },
  course_enrollment: { label: 'Course enrollment', icon: 'school' },
  session_start: { label: 'Session starting', icon: 'play_circle' },
  exam_result: { label: 'Exam result', icon: 'grading' },
  message: { label: 'Message', icon: 'chat' },
  announcement: { label: 'Announcement', icon: 'campaign' },
  course_update: { label: 'Course update', icon: 'update' },
};

export const NOTIFICATION_TYPE_KEYS = Object.keys(NOTIFICATION_TYPES) as NotificationType[];

/**
 * The types a person may send by hand (the server's BROADCAST_TYPES); the others only come from
 * what happens on the platform, and the send endpoint refuses them.
 */
export const BROADCAST_TYPE_KEYS: readonly NotificationType[] = [
  'announcement',
  'course_update',
  'session_start',
  'exam_result',
  'message',
];
