import type { NotificationType } from '../models';

/**
 * Inline SVG paths (24x24) for the UI's icons. SVG rather than emoji: emoji depend on the system's fonts (a bare
 * Linux box shows empty boxes) and cannot take the type's colour.
 */
export const ICONS = {
  application: 'M14 2H6a2 2 0 0 0-2 2v16a2 2 0 0 0 2 2h12a2 2 0 0 0 2-2V8zm-1 7V3.5L18.5 9zM8 13h8v2H8zm0 4h5v2H8z',
  check: 'M9 16.2 4.8 12l-1.4 1.4L9 19 21 7l-1.4-1.4z',
  cross: 'M19 6.4 17.6 5 12 10.6 6.4 5 5 6.4 10.6 12 5 17.6 6.4 19 12 13.4 17.6 19 19 17.6 13.4 12z',
  cap: 'M12 3 1 9l11 6 9-4.9V17h2V9zM5 13.2v4L12 21l7-3.8v-4L12 17z',
  video: 'M17 10.5V7a1 1 0 0 0-1-1H4a1 1 0 0 0-1 1v10a1 1 0 0 0 1 1h12a1 1 0 0 0 1-1v-3.5l4 4v-11z',
  chart: 'M5 9.2h3V19H5zM10.6 5h2.8v14h-2.8zm5.6 8H19v6h-2.8z',
  chat: 'M20 2H4a2 2 0 0 0-2 2v18l4-4h14a2 2 0 0 0 2-2V4a2 2 0 0 0-2-2z',
  megaphone:
    'M18 11v2h4v-2zm-2 6.6c1 .7 2.2 1.6 3.2 2.4l1.2-1.6c-1-.7-2.3-1.7-3.2-2.4zM20.4 5.6 19.2 4c-1 .7-2.2 1.7-3.2 2.4l1.2 1.6c1-.7 2.2-1.6 3.2-2.4zM4 9a2 2 0 0 0-2 2v2a2 2 0 0 0 2 2h1v4h2v-4h1l5 3V6L8 9zm11.5 3c0-1.3-.6-2.5-1.5-3.4v6.8c.9-.8 1.5-2 1.5-3.4z',
  book: 'M18 2H6a2 2 0 0 0-2 2v16a2 2 0 0 0 2 2h12a2 2 0 0 0 2-2V4a2 2 0 0 0-2-2zM6 4h5v8l-2.5-1.5L6 12z',
  bell: 'M12 22a2.5 2.5 0 0 0 2.45-2h-4.9A2.5 2.5 0 0 0 12 22Zm7-6V11a7 7 0 0 0-5.5-6.84V3.5a1.5 1.5 0 0 0-3 0v.66A7 7 0 0 0 5 11v5l-2 2v1h18v-1Z',
  bellRing:
    'M12 22a2.5 2.5 0 0 0 2.45-2h-4.9A2.5 2.5 0 0 0 12 22Zm7-6V11a7 7 0 0 0-5.5-6.84V3.5a1.5 1.5 0 0 0-3 0v.66A7 7 0 0 0 5 11v5l-2 2v1h18v-1ZM20.6 2.6l-1.4 1.4A9.9 9.9 0 0 1 22 11h2a11.9 11.9 0 0 0-3.4-8.4ZM4.8 4 3.4 2.6A11.9 11.9 0 0 0 0 11h2a9.9 9.9 0 0 1 2.8-7Z',
  search: 'M15.5 14h-.8l-.3-.3A6.5 6.5 0 1 0 14 15.5l.3.3v.8l5 5 1.5-1.5zm-6 0a4.5 4.5 0 1 1 0-9 4.5 4.5 0 0 1 0 9z',
  sparkle: 'M12 2l2.4 7.6L22 12l-7.6 2.4L12 22l-2.4-7.6L2 12l7.6-2.4z',
  // The bell's item actions: snooze, mark unread (a closed envelope), mark read (an open one).
  clock: 'M12 2a10 10 0 1 0 0 20 10 10 0 0 0 0-20zm0 18a8 8 0 1 1 0-16 8 8 0 0 1 0 16zm.5-13H11v6l5.2 3.2.8-1.3-4.5-2.7z',
  mail: 'M20 4H4a2 2 0 0 0-2 2v12a2 2 0 0 0 2 2h16a2 2 0 0 0 2-2V6a2 2 0 0 0-2-2zm0 4-8 5-8-5V6l8 5 8-5z',
  mailOpen: 'M22 8.94a2 2 0 0 0-.94-1.7L12 2 2.94 7.24A2 2 0 0 0 2 8.94V18a2 2 0 0 0 2 2h16a2 2 0 0 0 2-2zM12 13 3.74 7.84 12 3l8.26 4.84z',
} as const;

/** How each notification type looks everywhere (bell, page, pushes): a label, an icon and a colour. */
export const NOTIFICATION_TYPE_META: Record<NotificationType, { label: string; icon: keyof typeof ICONS; tone: string }> = {
  application_submitted: { label: 'New application', icon: 'application', tone: 'blue' },
  application_approved: { label: 'Application approved', icon: 'check', tone: 'green' },
  application_rejected: { label: 'Application rejected', icon: 'cross', tone: 'red' },
  course_enrollment: { label: 'Enrollment', icon: 'cap', tone: 'purple' },
  session_start: { label: 'Live session', icon: 'video', tone: 'orange' },
  exam_result: { label: 'Exam result', icon: 'chart', tone: 'teal' },
  message: { label: 'Message', icon: 'chat', tone: 'gray' },
  announcement: { label: 'Announcement', icon: 'megaphone', tone: 'yellow' },
  course_update: { label: 'Course update', icon: 'book', tone: 'indigo' },
};

/** How an application's status reads to people. */
export const APPLICATION_STATUS_LABELS: Record<string, string> = {
  pending: 'Pending review',
  approved: 'Approved',
  rejected: 'Not accepted',
};

/** What an instructor may send to a course's students, in the order the form offers them. */
export const BROADCAST_OPTIONS = [
  { value: 'announcement', label: 'Announcement' },
  { value: 'course_update', label: 'Course update' },
  { value: 'session_start', label: 'Live session starting' },
  { value: 'exam_result', label: 'Exam result' },
  { value: 'message', label: 'Message' },
] as const;
