import { QueryTypes, type Sequelize } from 'sequelize';
import { NotFound } from '../../errors';
import { intArray } from '../../db/sql';
import { checkTarget, type OutboundPolicy } from '../../outbound';

export { VapidKeys, type VapidConfig, type VapidDetails } from './vapid';

/** What a browser's `PushSubscription.toJSON()` gives, plus the user agent of the page that sent it. */
export interface SubscriptionInput {
  endpoint: string;
  keys: { p256dh: string; auth: string };
  /** Milliseconds since the epoch, or null when the subscription does not expire. */
  expirationTime?: number | null;
  userAgent?: string;
}

/** One device as its owner sees it (the keys stay on the server). */
export interface Device {
  id: number;
  endpoint: string;
  user_agent: string | null;
  expiration_time: Date | null;
  created_at: Date;
  last_success_at: Date | null;
}

/** Everything the sender needs to reach one device. */
export interface PushTarget {
  id: number;
  user_id: number;
  endpoint: string;
  p256dh: string;
  auth: string;
  expiration_time: Date | null;
}

/**
 * The browsers (devices) each user allowed alerts on. An endpoint is a URL the user chose as far as we are
 * concerned, so it must pass the private-network rule before it is stored (and again at each send).
 */
export class PushSubscriptions {
  readonly #sequelize: Sequelize;
  readonly #policy: OutboundPolicy;

  constructor({ sequelize, policy }: { sequelize: Sequelize; policy: OutboundPolicy }) {
    this.#sequelize = sequelize;
    this.#policy = policy;
  }

  /**
   * Stores the subscription, or refreshes the one with the same endpoint and keeps its id. A browser has one
   * subscription per origin whoever is signed in, so the endpoint moves to the user who sent it last: the
   * device now alerts the person using it, never the one who signed out of it.
   */
  async save(userId: number, input: SubscriptionInput): Promise<{ id: number; created: boolean }> {
    await checkTarget(input.endpoint, this.#policy, ['https:']);
    const [row] = await this.#sequelize.query<{ id: number; created: boolean }>(
      `INSERT INTO push_subscriptions (user_id, endpoint, p256dh, auth, user_agent, expiration_time)
       VALUES (:userId, :endpoint, :p256dh, :auth, :userAgent, to_timestamp(CAST(:expiration AS double precision) / 1000))
       ON CONFLICT (endpoint) DO UPDATE
         SET user_id = EXCLUDED.user_id, p256dh = EXCLUDED.p256dh, auth = EXCLUDED.auth,
             user_agent = EXCLUDED.user_agent, expiration_time = EXCLUDED.expiration_time, updated_at = now()
       RETURNING id, (xmax = 0) AS created`,
      {
        replacements: {
          userId,
          endpoint: input.endpoint,
          p256dh: input.keys.p256dh,
          auth: input.keys.auth,
          userAgent: input.userAgent?.slice(0, 512) ?? null,
          expiration: input.expirationTime ?? null,
        },
        type: QueryTypes.SELECT,
      },
    );
    return row;
  }

  async list(userId: number): Promise<Device[]> {
    return this.#sequelize.query<Device>(
      `SELECT id, endpoint, user_agent, expiration_time, created_at, last_success_at
         FROM push_subscriptions WHERE user_id = :userId ORDER BY created_at, id`,
      { replacements: { userId }, type: QueryTypes.SELECT },
    );
  }

  /** Removes one of the user's devices; another user's is not found. */
  async remove(userId: number, id: number): Promise<void> {
    const gone = await this.#sequelize.query('DELETE FROM push_subscriptions WHERE id = :id AND user_id = :userId RETURNING id', {
      replacements: { id, userId },
      type: QueryTypes.SELECT,
    });
    if (gone.length === 0) throw new NotFound('Device');
  }

  /** The devices of these users that have not expired, for one send. */
  async targets(userIds: readonly number[]): Promise<PushTarget[]> {
    if (userIds.length === 0) return [];
    return this.#sequelize.query<PushTarget>(
      `SELECT id, user_id, endpoint, p256dh, auth, expiration_time FROM push_subscriptions
        WHERE user_id = ANY(CAST(:userIds AS integer[])) AND (expiration_time IS NULL OR expiration_time > now())`,
      { replacements: { userIds: intArray(userIds) }, type: QueryTypes.SELECT },
    );
  }

  /** The push service said the subscription is gone (404, 410): it never will be valid again. */
  async forget(ids: readonly number[]): Promise<void> {
    if (ids.length === 0) return;
    await this.#sequelize.query('DELETE FROM push_subscriptions WHERE id = ANY(CAST(:ids AS integer[]))', {
      replacements: { ids: intArray(ids) },
    });
  }

  async succeeded(ids: readonly number[]): Promise<void> {
    if (ids.length === 0) return;
    await this.#sequelize.query('UPDATE push_subscriptions SET last_success_at = now() WHERE id = ANY(CAST(:ids AS integer[]))', {
      replacements: { ids: intArray(ids) },
    });
  }
}
