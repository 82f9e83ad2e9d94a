import type { Sequelize } from 'sequelize';
import type { TaskList } from '../../jobs';
import type { Logger } from '../../logger';
import type { OutboundPolicy } from '../../outbound';
import type { NotificationService } from '../../services/notifications';
import { WebhookSender } from './sender';
import type { RetryWindow } from './schedule';
import { webhookTasks } from './task';

export { WebhookChannel } from './channel';
export { enqueueWebhookEvent } from './enqueue';
export { applicationEvent, eventId, notificationEvent, readEvent, type WebhookEvent } from './events';
export { EXCERPT_BYTES, sign, WebhookSender, type AttemptResult, type WebhookSenderOptions } from './sender';
export { RETRY_WINDOWS, retryDelayMs, scaleSchedule, tries, type RetryWindow } from './schedule';
export { DISABLE_AFTER_MS, webhookTasks, type WebhookTaskDeps } from './task';

/** The webhook job (`webhook:deliver`) as the runner takes it: the guarded sender under OUTBOUND_ALLOW_PRIVATE's policy. */
export function webhookChannelTasks(deps: {
  sequelize: Sequelize;
  notifications: Pick<NotificationService, 'create'>;
  policy: OutboundPolicy;
  logger: Pick<Logger, 'warn' | 'info'>;
  disableAfterMs?: number;
  retryWindows?: readonly RetryWindow[];
  /** How long one try may take (`WebhookSender`'s default, 10 s, unless given); tests shorten it. */
  timeoutMs?: number;
}): TaskList {
  return webhookTasks({ ...deps, sender: new WebhookSender({ policy: deps.policy, timeoutMs: deps.timeoutMs }) });
}
