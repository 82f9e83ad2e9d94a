import type { Sequelize } from 'sequelize';
import type { TaskList } from '../../jobs';
import { DeliveryService } from '../../services/deliveries';
import { escalationTasks } from './escalation';
import { immediateTasks } from './immediate';
import { retryTasks } from './retry';
import type { EmailSite } from './render';
import type { Mailer } from './transport';
import { EmailSender } from './index';
import { digestTasks } from './digest';

/** The email channel's jobs (immediate, escalation, digest, an admin's retry), sharing one sender. */
export function emailTasks(deps: {
  sequelize: Sequelize;
  mailer: Mailer;
  site: EmailSite;
  /** Deliveries claimed per round of a job (default 500). */
  chunkSize?: number;
  /** Messages in flight per job (default 8). */
  concurrency?: number;
  /** A claimed delivery's lease (default 120 s): how soon a row claimed by a job that died is sent again. */
  leaseSeconds?: number;
}): TaskList {
  const deliveries = new DeliveryService({ sequelize: deps.sequelize });
  const sender = new EmailSender({ ...deps, deliveries });
  const common = { sequelize: deps.sequelize, deliveries, sender, chunkSize: deps.chunkSize, leaseSeconds: deps.leaseSeconds };
  return {
    ...escalationTasks(common),
    ...immediateTasks(common),
    ...retryTasks(common),
    ...digestTasks({ sequelize: deps.sequelize, deliveries, sender }),
  };
}
