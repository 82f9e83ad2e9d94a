import { hash, verify } from '@node-rs/argon2';
import { RateLimiterPostgres, RateLimiterRes } from 'rate-limiter-flexible';
import { QueryTypes, type Sequelize } from 'sequelize';
import type { Models, Role, User } from '../../models';
import { TooManyRequests, Unauthorized } from '../../errors';
import type { EventPublisher } from '../events';

/** argon2id with OWASP's recommended minimum (19 MiB, 2 passes). */
export function hashPassword(password: string): Promise<string> {
  return hash(password, { algorithm: 2, memoryCost: 19456, timeCost: 2, parallelism: 1 });
}

/** Public view of a user: never the hash. */
export interface UserJSON {
  id: number;
  email: string;
  name: string;
  role: Role;
}
export function toUserJSON(u: Pick<User, 'id' | 'email' | 'name' | 'role'>): UserJSON {
  return { id: u.id, email: u.email, name: u.name, role: u.role };
}

const INVALID = 'Invalid email or password.';

export interface AuthLimits {
  /** Failed logins allowed per account per window. */
  perAccount: number;
  /** Failed logins allowed per client IP per window. */
  perIp: number;
  windowSeconds: number;
}

/**
 * Password login with brute-force throttling per account and per IP (counted in PostgreSQL, so every process
 * shares the counters), and the session bookkeeping that lets logouts and deactivations close sockets.
 */
export class AuthService {
  readonly #db: Sequelize;
  readonly #models: Models;
  readonly #events: EventPublisher;
  readonly #byAccount: RateLimiterPostgres;
  readonly #byIp: RateLimiterPostgres;
  #dummyHash?: Promise<string>;

  constructor(deps: { sequelize: Sequelize; models: Models; events: EventPublisher; limits?: Partial<AuthLimits> }) {
    this.#db = deps.sequelize;
    this.#models = deps.models;
    this.#events = deps.events;
    const limits: AuthLimits = { perAccount: 5, perIp: 30, windowSeconds: 15 * 60, ...deps.limits };
    const common = { storeClient: deps.sequelize, storeType: 'sequelize', tableName: 'rate_limits', tableCreated: true };
    this.#byAccount = new RateLimiterPostgres({
      ...common,
      keyPrefix: 'login_account',
      points: limits.perAccount,
      duration: limits.windowSeconds,
    });
    this.#byIp = new RateLimiterPostgres({ ...common, keyPrefix: 'login_ip', points: limits.perIp, duration: limits.windowSeconds });
  }

  /**
   * Checks credentials. Unknown email, wrong password and a deactivated account all answer the same message,
   * after the same argon2 work, so neither the text nor the timing tells which accounts exist.
   */
  async login(email: string, password: string, ip: string): Promise<User> {
    const accountKey = email.trim().toLowerCase();
    // Spend the attempt before checking it: consume() is one atomic increment in PostgreSQL, so a burst of
    // parallel guesses cannot all read "points left" before any of them is counted.
    const spent = await Promise.allSettled([this.#byAccount.consume(accountKey), this.#byIp.consume(ip)]);
    const blocked = spent.flatMap((r) => (r.status === 'rejected' && r.reason instanceof RateLimiterRes ? [r.reason] : []));
    if (blocked.length > 0) {
      // A refused attempt checked no password: hand back the point the other limiter took, so only real
      // failures add up.
      const limiters = [this.#byAccount, this.#byIp];
      const keys = [accountKey, ip];
      await Promise.all(
        spent.map((r, i) => (r.status === 'fulfilled' ? limiters[i].reward(keys[i], 1).catch(() => undefined) : undefined)),
      );
      throw new TooManyRequests(Math.max(1, Math.ceil(Math.max(...blocked.map((r) => r.msBeforeNext)) / 1000)));
    }
    const storeError = spent.find((r) => r.status === 'rejected');
    if (storeError) throw (storeError as PromiseRejectedResult).reason;
    const user = await this.#models.User.findOne({
      where: this.#db.where(this.#db.fn('lower', this.#db.col('email')), accountKey),
    });
    const ok = user
      ? await verify(user.passwordHash, password)
      : (await verify(await this.#dummy(), password), false);
    if (!user || !ok || !user.isActive) throw new Unauthorized(INVALID);
    // A success clears the account's count and gives the IP its point back: only failures should add up.
    await Promise.all([
      this.#byAccount.delete(accountKey).catch(() => undefined),
      this.#byIp.reward(ip, 1).catch(() => undefined),
    ]);
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
