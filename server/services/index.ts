import type { Sequelize } from 'sequelize';
import type { Models } from '../models';
import { AdminService } from './admin';
import { ApplicationService } from './applications';
import { AuthService, type AuthLimits } from './auth';
import { CourseService } from './courses';
import type { EventPublisher } from './events';
import { NotificationService } from './notifications';

export interface Services {
  auth: AuthService;
  notifications: NotificationService;
  courses: CourseService;
  applications: ApplicationService;
  admin: AdminService;
}

/** Wires the domain services to their dependencies. The only place that knows the whole graph. */
export function createServices(deps: {
  sequelize: Sequelize;
  models: Models;
  events: EventPublisher;
  authLimits?: Partial<AuthLimits>;
}): Services {
  const { sequelize, models, events } = deps;
  const notifications = new NotificationService({ sequelize, events });
  const auth = new AuthService({ sequelize, models, events, limits: deps.authLimits });
  const applications = new ApplicationService({ sequelize, models, notifications, events });
  return {
    auth,
    notifications,
    courses: new CourseService({ sequelize, models, notifications }),
    applications,
    admin: new AdminService({ sequelize, models, notifications, applications, auth, events }),
  };
}
