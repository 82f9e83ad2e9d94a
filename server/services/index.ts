import type { Sequelize } from 'sequelize';
import type { Models } from '../models';
import { ApplicationService } from './applications';
import { AuthService, type AuthLimits } from './auth';
import { CourseService } from './courses';
import type { EventPublisher } from './events';
import { NotificationService, NotificationStore, type NotificationJobTiming } from './notifications';
import { ComposeService } from './notifications/compose';
import { ModerationService } from './notifications/moderation';
import { DEFAULT_SEND_LIMITS, SendService, type SendLimits } from './notifications/sends';
import { SendStore } from './notifications/store/sends';
import { DEFAULT_JOB_TIMING } from './notifications/store/jobs';
import { StatsService } from './stats';
import { UserService } from './users';
import { IdempotencyKeys } from './idempotency';
import { DeliveryService } from './deliveries';
import { DigestRuns } from './digests';
import { PreferenceService } from './preferences';
import type { OutboundPolicy } from '../outbound';
import { PushSubscriptions, VapidKeys, type VapidConfig } from './push-subscriptions';
import { TokenService } from './tokens';
import { ApiRateLimits } from './tokens/rate-limits';
import { WebhookService } from './webhooks';

export interface Services {
  auth: AuthService;
  users: UserService;
  notifications: NotificationService;
  /** Every user's notifications, searched and deleted by admins. */
  moderation: ModerationService;
  /** Admins' sends to a user, a course, a role or everyone. */
  compose: ComposeService;
  /** Recorded sends (above SEND_INLINE_MAX): the chunked job's work, their progress and cancel. */
  sends: SendService;
  courses: CourseService;
  applications: ApplicationService;
  stats: StatsService;
  idempotency: IdempotencyKeys;
  /** What reaches each user where (per type and channel), and the admins' defaults. */
  preferences: PreferenceService;
  /** What each channel sent, failed or skipped; admins list and retry. */
  deliveries: DeliveryService;
  /** The admin's "send the digests now"; the digest job itself runs in server/channels/email. */
  digests: DigestRuns;
  /** Web Push: the devices users allowed alerts on, and the key pair pushes are signed with. */
  pushSubscriptions: PushSubscriptions;
  vapid: VapidKeys;
  /** Personal access tokens for API clients. */
  tokens: TokenService;
  /** The /api request budget per token or session, shared by every process. */
  apiRateLimits: ApiRateLimits;
  /** Outbound webhook endpoints and their delivery log. */
  webhooks: WebhookService;
}

/** Wires the domain services to their dependencies. The only place that knows the whole graph. */
export function createServices(deps: {
  sequelize: Sequelize;
  models: Models;
  events: EventPublisher;
  authLimits?: Partial<AuthLimits>;
  /** Web Push settings (config.vapid, config.outboundAllowPrivate); the defaults are the safe ones. */
  push?: { vapid?: VapidConfig; outbound?: OutboundPolicy };
  /** When the email jobs written with notifications fall due (EMAIL_UNREAD_DELAY_SECONDS); default 600 s. */
  jobTiming?: NotificationJobTiming;
  /** SEND_INLINE_MAX and SEND_CHUNK_SIZE; default 10,000 and 1,000. */
  sendLimits?: SendLimits;
}): Services {
  const { sequelize, models, events } = deps;
  const store = new NotificationStore(sequelize, deps.jobTiming);
  const limits = deps.sendLimits ?? DEFAULT_SEND_LIMITS;
  const sendStore = new SendStore(sequelize, deps.jobTiming ?? DEFAULT_JOB_TIMING);
  const notifications = new NotificationService({ store, events, sends: sendStore, limits });
  const auth = new AuthService({ sequelize, models, events, limits: deps.authLimits });
  const tokens = new TokenService({ sequelize, models, events });
  return {
    auth,
    users: new UserService({ sequelize, auth, tokens }),
    notifications,
    moderation: new ModerationService({ store, events }),
    compose: new ComposeService({ models, notifications }),
    sends: new SendService({ store: sendStore, events, limits }),
    courses: new CourseService({ sequelize, models, notifications }),
    applications: new ApplicationService({ sequelize, events, store }),
    stats: new StatsService({ sequelize }),
    idempotency: new IdempotencyKeys({ sequelize }),
    preferences: new PreferenceService({ sequelize }),
    digests: new DigestRuns({ sequelize }),
    deliveries: new DeliveryService({ sequelize }),
    pushSubscriptions: new PushSubscriptions({ sequelize, policy: deps.push?.outbound ?? { allowPrivate: false } }),
    vapid: new VapidKeys({ sequelize, config: deps.push?.vapid ?? { subject: 'mailto:webmaster@localhost' } }),
    tokens,
    apiRateLimits: new ApiRateLimits({ sequelize }),
    webhooks: new WebhookService({ sequelize, policy: deps.push?.outbound ?? { allowPrivate: false } }),
  };
}
