import path from 'node:path';
import nunjucks from 'nunjucks';
import type { NotificationType } from '../../models';
import { NOTIFICATION_TYPE_META } from '../../web/notification-types';
import type { MailMessage } from './transport';
import { signUnsubscribeToken, unsubscribeUrl, type UnsubscribeScope } from './unsubscribe';

const VIEWS = path.join(__dirname, '..', '..', '..', 'views', 'email');
// HTML autoescapes every value: a title is text, never markup. Plain text must not escape (it would show
// "&lt;"); nothing in it is interpreted.
const html = new nunjucks.Environment(new nunjucks.FileSystemLoader(VIEWS), { autoescape: true, throwOnUndefined: true });
const text = new nunjucks.Environment(new nunjucks.FileSystemLoader(VIEWS), { autoescape: false, throwOnUndefined: true });

export interface EmailSite {
  /** Links in emails point here (PUBLIC_URL). */
  publicUrl: string;
  /** Signs unsubscribe tokens (the session secret). */
  secret: string;
}

export interface EmailRecipient {
  id: number;
  email: string;
  name: string;
}

export interface EmailNotification {
  id: number;
  type: NotificationType;
  title: string;
  message: string;
  courseTitle: string | null;
}

/** One notification, one email; its Message-ID names the delivery, so a duplicate is recognisable as one. */
export function renderNotificationEmail(
  site: EmailSite,
  m: { deliveryId: number; recipient: EmailRecipient; notification: EmailNotification },
): MailMessage {
  const n = m.notification;
  const subject = oneLine(n.title) || NOTIFICATION_TYPE_META[n.type].label;
  const vars = {
    ...footer(site, m.recipient.id, n.type),
    subject,
    title: n.title,
    message: n.message,
    courseTitle: n.courseTitle,
    typeLabel: NOTIFICATION_TYPE_META[n.type].label,
    link: `${base(site)}/notifications/${n.id}`,
  };
  return finish(site, m.recipient, subject, `delivery-${m.deliveryId}.notification-${n.id}`, 'notification', vars);
}

/**
 * The daily digest: everything unread, grouped by course (courses by name, then what belongs to none), newest
 * first inside a group. Its Message-ID names the lowest delivery id of the batch and the user.
 */
export function renderDigestEmail(
  site: EmailSite,
  m: { recipient: EmailRecipient; items: Array<{ deliveryId: number; notification: EmailNotification }> },
): MailMessage {
  if (m.items.length === 0) throw new Error('A digest needs at least one notification.');
  const groups = new Map<string, Array<{ id: number; title: string; typeLabel: string; link: string }>>();
  const sorted = [...m.items].sort((a, b) => b.notification.id - a.notification.id);
  for (const { notification: n } of sorted) {
    const key = n.courseTitle ?? '';
    if (!groups.has(key)) groups.set(key, []);
    groups.get(key)!.push({ id: n.id, title: n.title, typeLabel: NOTIFICATION_TYPE_META[n.type].label, link: `${base(site)}/notifications/${n.id}` });
  }
  const ordered = [...groups.entries()]
    .sort(([a], [b]) => (a === '' ? 1 : b === '' ? -1 : a.localeCompare(b)))
    .map(([course, items]) => ({ course: course || 'General', items }));
  const total = m.items.length;
  const subject = `Herald digest: ${total} unread notification${total === 1 ? '' : 's'}`;
  const first = Math.min(...m.items.map((i) => i.deliveryId));
  const vars = { ...footer(site, m.recipient.id, 'digest'), subject, total, groups: ordered, inboxUrl: `${base(site)}/notifications` };
  return finish(site, m.recipient, subject, `digest-${first}.user-${m.recipient.id}`, 'digest', vars);
}

function finish(
  site: EmailSite,
  to: EmailRecipient,
  subject: string,
  localPart: string,
  template: string,
  vars: Record<string, unknown> & { unsubscribeUrl: string },
): MailMessage {
  return {
    to: to.name ? `"${oneLine(to.name).replace(/["\\]/g, '')}" <${to.email}>` : to.email,
    subject,
    text: text.render(`${template}.txt.njk`, vars),
    html: html.render(`${template}.html.njk`, vars),
    messageId: `<${localPart}@${new URL(site.publicUrl).hostname}>`,
    headers: {
      'Auto-Submitted': 'auto-generated',
      'List-Unsubscribe': `<${vars.unsubscribeUrl}>`,
      'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click',
    },
  };
}

function footer(site: EmailSite, userId: number, scope: UnsubscribeScope) {
  return {
    settingsUrl: `${base(site)}/settings/notifications`,
    unsubscribeUrl: unsubscribeUrl(site.publicUrl, signUnsubscribeToken(site.secret, userId, scope)),
    unsubscribeLabel:
      scope === 'digest' ? 'stop the digest emails' : `stop emails about ${NOTIFICATION_TYPE_META[scope].label.toLowerCase()}`,
  };
}

function base(site: EmailSite): string {
  return site.publicUrl.replace(/\/$/, '');
}

/** Header values are one line: a title with line breaks must not start a header of its own. */
function oneLine(s: string): string {
  return s.replace(/[\r\n\t\u0000-\u001f\u007f]+/g, ' ').trim().slice(0, 200);
}
