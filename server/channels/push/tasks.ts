import type https from 'node:https';
import type { Sequelize } from 'sequelize';
import type { TaskList } from '../../jobs';
import type { Logger } from '../../logger';
import type { OutboundPolicy } from '../../outbound';
import { DeliveryService } from '../../services/deliveries';
import type { PushSubscriptions, VapidKeys } from '../../services/push-subscriptions';
import { PushSender } from './sender';
import { pushLeaseEnd, pushQuietEnd, pushSource, pushUnwanted } from './source';
import { pushRetryTasks } from './retry';
import { pushTasks } from './task';

/** The push channel's jobs (`push:send`, and `push:deliveries` for an admin's retry) as the runner takes it: the real deliveries record, the guarded sender. */
export function pushChannelTasks(deps: {
  sequelize: Sequelize;
  subscriptions: PushSubscriptions;
  vapid: Pick<VapidKeys, 'get'>;
  /** OUTBOUND_ALLOW_PRIVATE: the address rule every send is checked against. */
  policy: OutboundPolicy;
  logger: Logger;
  /** Tests pass a guarded agent that also trusts their push service's certificate. */
  agent?: https.Agent;
  chunk?: number;
  /** Requests in flight to one push service, and push services served at once (PushSender's defaults). */
  perOrigin?: number;
  origins?: number;
}): TaskList {
  const { sequelize, subscriptions } = deps;
  const { vapid, policy, logger, agent, perOrigin, origins } = deps;
  const sender = new PushSender({ subscriptions, vapid, policy, logger, agent, perOrigin, origins });
  const deliveries = new DeliveryService({ sequelize });
  return {
    ...pushTasks({
      sequelize,
      deliveries,
      subscriptions,
      sender,
      source: pushSource,
      unwanted: pushUnwanted,
      quietEnd: (job) => pushQuietEnd(sequelize, job),
      leaseEnd: (job) => pushLeaseEnd(sequelize, job),
      chunk: deps.chunk,
    }),
    ...pushRetryTasks({ sequelize, deliveries, subscriptions, sender }),
  };
}
