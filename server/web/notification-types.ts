import type { NotificationType } from '../models';

/** How each notification type looks everywhere (bell, page, pushes): a label, an icon and a colour. */
export const NOTIFICATION_TYPE_META: Record<NotificationType, { label: string; icon: string; tone: string }> = {
  application_submitted: { label: 'New application', icon: '📝', tone: 'blue' },
  application_approved: { label: 'Application approved', icon: '✅', tone: 'green' },
  application_rejected: { label: 'Application rejected', icon: '❌', tone: 'red' },
  course_enrollment: { label: 'Enrollment', icon: '🎓', tone: 'purple' },
  session_start: { label: 'Live session', icon: '🔴', tone: 'orange' },
  exam_result: { label: 'Exam result', icon: '📊', tone: 'teal' },
  message: { label: 'Message', icon: '💬', tone: 'gray' },
  announcement: { label: 'Announcement', icon: '📢', tone: 'yellow' },
  course_update: { label: 'Course update', icon: '📚', tone: 'indigo' },
};
