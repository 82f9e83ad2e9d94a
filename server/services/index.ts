import type { Sequelize } from 'sequelize';
import type { Models } from '../models';
import { ApplicationService } from './applications';
import { AuthService, type AuthLimits } from './auth';
import { CourseService } from './courses';
import type { EventPublisher } from './events';
import { NotificationService, NotificationStore } from './notifications';
import { ComposeService } from './notifications/compose';
import { ModerationService } from './notifications/moderation';
import { StatsService } from './stats';
import { UserService } from './users';
import { IdempotencyKeys } from './idempotency';
import { TokenService } from './tokens';
import { ApiRateLimits } from './tokens/rate-limits';

export interface Services {
  auth: AuthService;
  users: UserService;
  notifications: NotificationService;
  /** Every user's notifications, searched and deleted by admins. */
  moderation: ModerationService;
  /** Admins' sends to a user, a course, a role or everyone. */
  compose: ComposeService;
  courses: CourseService;
  applications: ApplicationService;
  stats: StatsService;
  idempotency: IdempotencyKeys;
  /** Personal access tokens for API clients. */
  tokens: TokenService;
  /** The /api request budget per token or session, shared by every process. */
  apiRateLimits: ApiRateLimits;
}

/** Wires the domain services to their dependencies. The only place that knows the whole graph. */
export function createServices(deps: {
  sequelize: Sequelize;
  models: Models;
  events: EventPublisher;
  authLimits?: Partial<AuthLimits>;
}): Services {
  const { sequelize, models, events } = deps;
  const store = new NotificationStore(sequelize);
  const notifications = new NotificationService({ store, events });
  const auth = new AuthService({ sequelize, models, events, limits: deps.authLimits });
  const tokens = new TokenService({ sequelize, models, events });
  return {
    auth,
    users: new UserService({ sequelize, auth, tokens }),
    notifications,
    moderation: new ModerationService({ store, events }),
    compose: new ComposeService({ models, notifications }),
    courses: new CourseService({ sequelize, models, notifications }),
    applications: new ApplicationService({ sequelize, events }),
    stats: new StatsService({ sequelize }),
    idempotency: new IdempotencyKeys({ sequelize }),
    tokens,
    apiRateLimits: new ApiRateLimits({ sequelize }),
  };
}
