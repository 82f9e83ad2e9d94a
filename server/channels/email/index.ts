import { QueryTypes, type Sequelize } from 'sequelize';
import type { NotificationType } from '../../models';
import type { ClaimedDelivery, DeliveryService } from '../../services/deliveries';
import { renderDigestEmail, renderNotificationEmail, type EmailNotification, type EmailRecipient, type EmailSite } from './render';
import { sendEmails, type OutgoingEmail, type SendReport } from './send';
import type { Mailer } from './transport';

export { createMailer, classifySendError, type Mailer, type MailMessage } from './transport';
export { renderDigestEmail, renderNotificationEmail, type EmailSite } from './render';
export { sendEmails, TransientSendError, type OutgoingEmail, type SendReport } from './send';
export { DIGEST_TASK, DigestRuns, digestCron, digestTasks, type DigestPayload } from './digest';
export { emailTasks } from './tasks';
export { ESCALATE_TASK, escalationEnqueueSql, escalationTasks } from './escalation';
export { IMMEDIATE_TASK, immediateEnqueueSql, immediateTasks } from './immediate';
export { RETRY_TASK, retryTasks, type RetryPayload } from './retry';
export { signUnsubscribeToken, verifyUnsubscribeToken, unsubscribeUrl, type UnsubscribeScope } from './unsubscribe';

interface Row {
  delivery_id: string;
  notification_id: string;
  type: NotificationType;
  title: string;
  message: string;
  course_title: string | null;
  user_id: number;
  email: string;
  name: string;
  is_active: boolean;
}

/**
 * The email channel's sending half: given deliveries a job has claimed, loads what the messages need in one
 * query, renders them and sends them (bounded concurrency, each outcome recorded). Which deliveries to claim is
 * the job's decision (immediate, escalation, digest); this part is the same for all of them.
 */
export class EmailSender {
  readonly #db: Sequelize;
  readonly #deliveries: DeliveryService;
  readonly #mailer: Mailer;
  readonly #site: EmailSite;
  readonly #concurrency: number;

  constructor(deps: { sequelize: Sequelize; deliveries: DeliveryService; mailer: Mailer; site: EmailSite; concurrency?: number }) {
    this.#db = deps.sequelize;
    this.#deliveries = deps.deliveries;
    this.#mailer = deps.mailer;
    this.#site = deps.site;
    this.#concurrency = deps.concurrency ?? 8;
  }

  /** One email per claimed delivery. */
  async sendEach(claimed: ClaimedDelivery[]): Promise<SendReport> {
    const rows = await this.#load(claimed);
    const emails: OutgoingEmail[] = rows.map((r) => ({
      deliveryIds: [Number(r.delivery_id)],
      message: renderNotificationEmail(this.#site, { deliveryId: Number(r.delivery_id), recipient: recipient(r), notification: notification(r) }),
    }));
    return this.#send(emails);
  }

  /** One digest per recipient, settling all of that recipient's claimed deliveries at once. */
  async sendDigests(claimed: ClaimedDelivery[]): Promise<SendReport> {
    const byUser = new Map<number, Row[]>();
    for (const r of await this.#load(claimed)) {
      if (!byUser.has(r.user_id)) byUser.set(r.user_id, []);
      byUser.get(r.user_id)!.push(r);
    }
    const emails = [...byUser.values()].map<OutgoingEmail>((rows) => ({
      deliveryIds: rows.map((r) => Number(r.delivery_id)),
      message: renderDigestEmail(this.#site, {
        recipient: recipient(rows[0]),
        items: rows.map((r) => ({ deliveryId: Number(r.delivery_id), notification: notification(r) })),
      }),
    }));
    return this.#send(emails);
  }

  async #send(emails: OutgoingEmail[]): Promise<SendReport> {
    return sendEmails({ mailer: this.#mailer, deliveries: this.#deliveries, concurrency: this.#concurrency }, emails);
  }

  /** The claimed rows with their notification and recipient; deactivated users are skipped, not mailed. */
  async #load(claimed: ClaimedDelivery[]): Promise<Row[]> {
    if (claimed.length === 0) return [];
    const rows = await this.#db.query<Row>(
      `SELECT d.id AS delivery_id, n.id AS notification_id, n.type, n.title, n.message, c.title AS course_title,
              u.id AS user_id, u.email, u.name, u.is_active
         FROM deliveries d
         JOIN notifications n ON n.id = d.notification_id
         JOIN users u ON u.id = d.recipient_id
         LEFT JOIN courses c ON c.id = n.course_id
        WHERE d.id = ANY(CAST(:ids AS bigint[]))
        ORDER BY d.id`,
      { type: QueryTypes.SELECT, replacements: { ids: `{${claimed.map((c) => c.id).join(',')}}` } },
    );
    const inactive = rows.filter((r) => !r.is_active);
    await this.#deliveries.markSkipped(inactive.map((r) => ({ id: Number(r.delivery_id), error: 'recipient deactivated' })));
    return rows.filter((r) => r.is_active);
  }
}

function recipient(r: Row): EmailRecipient {
  return { id: r.user_id, email: r.email, name: r.name };
}

function notification(r: Row): EmailNotification {
  return { id: Number(r.notification_id), type: r.type, title: r.title, message: r.message, courseTitle: r.course_title };
}
