import { hash, verify } from '@node-rs/argon2';
import { QueryTypes, type Sequelize } from 'sequelize';
import type { Models, User } from '../../models';
import { Unauthorized } from '../../errors';
import type { EventPublisher } from '../events';
import { LoginThrottle, type ThrottleLimits } from './throttle';

/** argon2id with OWASP's recommended minimum (19 MiB, 2 passes). */
export function hashPassword(password: string): Promise<string> {
  return hash(password, { algorithm: 2, memoryCost: 19456, timeCost: 2, parallelism: 1 });
}

const INVALID = 'Invalid email or password.';

/** The login throttle's numbers (see throttle.ts); tests pass smaller ones. */
export type AuthLimits = ThrottleLimits;

/**
 * Password login, throttled as OWASP advises (per address and account, per address, and per account only as a last
 * resort; slowed down, never locked for long; counted in PostgreSQL so every process shares the counts), and the
 * session bookkeeping that lets logouts and deactivations close sockets.
 */
export class AuthService {
  readonly #db: Sequelize;
  readonly #models: Models;
  readonly #events: EventPublisher;
  readonly #throttle: LoginThrottle;
  #dummyHash?: Promise<string>;

  constructor(deps: { sequelize: Sequelize; models: Models; events: EventPublisher; limits?: Partial<AuthLimits> }) {
    this.#db = deps.sequelize;
    this.#models = deps.models;
    this.#events = deps.events;
    this.#throttle = new LoginThrottle(deps.sequelize, deps.limits);
  }

  /**
   * Checks credentials. Unknown email, wrong password and a deactivated account all answer the same message,
   * after the same argon2 work, and count the same in the throttle, so neither the text, the timing nor a 429
   * tells which accounts exist. A correct password spends nothing.
   */
  async login(email: string, password: string, ip: string): Promise<User> {
    const accountKey = email.trim().toLowerCase();
    const attempt = await this.#throttle.begin(accountKey, ip);
    let user: User | null;
    let ok: boolean;
    try {
      user = await this.#models.User.findOne({
        where: this.#db.where(this.#db.fn('lower', this.#db.col('email')), accountKey),
      });
      ok = user ? await verify(user.passwordHash, password) : (await verify(await this.#dummy(), password), false);
    } catch (err) {
      await attempt.release().catch(() => undefined);
      throw err;
    }
    if (!user || !ok || !user.isActive) {
      await attempt.failed();
      throw new Unauthorized(INVALID);
    }
    await attempt.succeeded();
    user.lastLoginAt = new Date();
    await user.save({ fields: ['lastLoginAt'] });
    return user;
  }

  #dummy(): Promise<string> {
    this.#dummyHash ??= hashPassword('not-a-real-password-just-for-timing');
    return this.#dummyHash;
  }

  /** The session's user, or null when it is gone or deactivated (its session then counts as logged out). */
  async sessionUser(userId: number): Promise<User | null> {
    // Every request and socket upgrade runs this: one plain SELECT mapped onto the model, because findByPk's
    // option handling (deep clones of the query options) cost more CPU than the query itself.
    const [user] = await this.#db.query('SELECT * FROM users WHERE id = :userId AND is_active', {
      replacements: { userId },
      model: this.#models.User,
      mapToModel: true,
    });
    return user ?? null;
  }

  /** Announces that a session ended, so its sockets close. */
  sessionEnded(sessionId: string): void {
    this.#events.publish({ type: 'session.ended', sessionIds: [sessionId] });
  }

  /** Ends every session of a user (deactivation, demotion) and closes their sockets. */
  async endAllSessions(userId: number): Promise<number> {
    const rows = await this.#db.query<{ sid: string }>(
      `DELETE FROM session WHERE (sess ->> 'userId') IS NOT NULL AND (sess ->> 'userId')::integer = :userId RETURNING sid`,
      { replacements: { userId }, type: QueryTypes.SELECT },
    );
    this.#events.publish({ type: 'user.sessions_ended', userId });
    return rows.length;
  }
}
