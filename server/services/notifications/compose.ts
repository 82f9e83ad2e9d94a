import type { Models, NotificationType, User } from '../../models';
import { NotFound } from '../../errors';
import type { Audience, FanOutResult, NotificationService } from '.';

/** What an admin composes; the sender is always the admin who sends it. */
export interface ComposedNotification {
  type: NotificationType;
  title: string;
  message: string;
  data?: Record<string, unknown>;
}

/**
 * An admin's send to a user, a course, a role or everyone. It goes through NotificationService.fanOut, the same
 * single INSERT ... SELECT instructors' notify-students uses, whatever the audience size.
 */
export class ComposeService {
  readonly #models: Models;
  readonly #notifications: NotificationService;

  constructor(deps: { models: Models; notifications: NotificationService }) {
    this.#models = deps.models;
    this.#notifications = deps.notifications;
  }

  /** How many active users the audience reaches now: the number the console's confirmation states. */
  async audienceCount(audience: Audience): Promise<number> {
    await this.#requireAudienceExists(audience);
    return this.#notifications.audienceSize(audience);
  }

  /**
   * Sends and answers how many received it, or (above SEND_INLINE_MAX) the recorded send a job now writes. With an
   * idempotency key a repeated send writes nothing (the broadcast row carries the key) and answers the first send.
   */
  async send(sender: User, audience: Audience, n: ComposedNotification, opts: { idempotencyKey?: string } = {}): Promise<FanOutResult> {
    await this.#requireAudienceExists(audience);
    return this.#notifications.fanOut(audience, {
      type: n.type,
      title: n.title,
      message: n.message,
      data: n.data,
      senderId: sender.id,
      // A course announcement links to its course, as the instructor's notify-students does.
      courseId: audience.kind === 'course' ? audience.courseId : null,
    }, opts);
  }

  /** A course or user that does not exist is a 404, not a silent "0 recipients". */
  async #requireAudienceExists(audience: Audience): Promise<void> {
    if (audience.kind === 'course' && !(await this.#models.Course.findByPk(audience.courseId, { attributes: ['id'] }))) {
      throw new NotFound('Course');
    }
    if (audience.kind === 'user' && !(await this.#models.User.findByPk(audience.userId, { attributes: ['id'] }))) {
      throw new NotFound('User');
    }
  }
}
