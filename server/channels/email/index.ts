import type { Sequelize } from 'sequelize';
import type { ClaimedDelivery, DeliveryService } from '../../services/deliveries';
import { channelNotifications, type NotificationRow } from '../../services/notifications/store/channel-reads';
import { renderDigestEmail, renderNotificationEmail, type EmailNotification, type EmailRecipient, type EmailSite } from './render';
import { sendEmails, type OutgoingEmail, type SendReport } from './send';
import type { Mailer } from './transport';

export { createMailer, classifySendError, type Mailer, type MailMessage } from './transport';
export { renderDigestEmail, renderNotificationEmail, type EmailSite } from './render';
export { sendEmails, TransientSendError, type OutgoingEmail, type SendReport } from './send';
export { DIGEST_TASK, digestCron, digestTasks, type DigestPayload } from './digest';
export { emailTasks } from './tasks';
export { ESCALATE_TASK, escalationTasks } from './escalation';
export { IMMEDIATE_TASK, immediateTasks } from './immediate';
export { RETRY_TASK, retryTasks, type RetryPayload } from './retry';
export { signUnsubscribeToken, verifyUnsubscribeToken, unsubscribeUrl, type UnsubscribeScope } from './unsubscribe';

/** A claimed delivery with its notification (the store's shape) and its recipient's address. */
interface Row {
  deliveryId: number;
  n: NotificationRow & Recipient;
}

interface Recipient {
  email: string;
  name: string;
  is_active: boolean;
}

/** The recipient's columns, read with the notification: one query for the chunk. */
const RECIPIENT = { columns: ['u.email', 'u.name', 'u.is_active'], joins: ['JOIN users u ON u.id = n.recipient_id'] };

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
      deliveryIds: [r.deliveryId],
      message: renderNotificationEmail(this.#site, { deliveryId: r.deliveryId, recipient: recipient(r), notification: notification(r) }),
    }));
    return this.#send(emails);
  }

  /** One digest per recipient, settling all of that recipient's claimed deliveries at once. */
  async sendDigests(claimed: ClaimedDelivery[]): Promise<SendReport> {
    const byUser = new Map<number, Row[]>();
    for (const r of await this.#load(claimed)) {
      const userId = r.n.recipient_id;
      if (!byUser.has(userId)) byUser.set(userId, []);
      byUser.get(userId)!.push(r);
    }
    const emails = [...byUser.values()].map<OutgoingEmail>((rows) => ({
      deliveryIds: rows.map((r) => r.deliveryId),
      message: renderDigestEmail(this.#site, {
        recipient: recipient(rows[0]),
        items: rows.map((r) => ({ deliveryId: r.deliveryId, notification: notification(r) })),
      }),
    }));
    return this.#send(emails);
  }

  async #send(emails: OutgoingEmail[]): Promise<SendReport> {
    return sendEmails({ mailer: this.#mailer, deliveries: this.#deliveries, concurrency: this.#concurrency }, emails);
  }

  /**
   * The claimed rows with their notification and recipient, in delivery order; deactivated users are skipped, not
   * mailed. A row whose notification is gone meanwhile is left out (its delivery went with it).
   */
  async #load(claimed: ClaimedDelivery[]): Promise<Row[]> {
    if (claimed.length === 0) return [];
    const notes = await channelNotifications<Recipient>(this.#db, claimed.map((c) => c.notificationId), RECIPIENT);
    const byId = new Map(notes.map((n) => [Number(n.id), n]));
    const rows = [...claimed]
      .sort((a, b) => a.id - b.id)
      .flatMap<Row>((c) => {
        const n = byId.get(c.notificationId);
        return n ? [{ deliveryId: c.id, n }] : [];
      });
    const inactive = rows.filter((r) => !r.n.is_active);
    await this.#deliveries.markSkipped(inactive.map((r) => ({ id: r.deliveryId, error: 'recipient deactivated' })));
    return rows.filter((r) => r.n.is_active);
  }
}

function recipient({ n }: Row): EmailRecipient {
  return { id: n.recipient_id, email: n.email, name: n.name };
}

function notification({ n }: Row): EmailNotification {
  return { id: Number(n.id), type: n.type, title: n.title, message: n.message, courseTitle: n.course_title };
}
