import { QueryTypes, type Sequelize } from 'sequelize';

/** A first request still running holds its key this long; after that a retry may take it over. */
const IN_PROGRESS_SECONDS = 60;
/** A key is remembered this long; after that the same key starts a new request. */
const KEY_TTL_HOURS = 24;

/** What a request under a key meets. */
export type Claim =
  | { state: 'claimed' }
  | { state: 'replay'; status: number; body: unknown }
  | { state: 'reused' }
  | { state: 'running' };

/**
 * The record of requests made under an Idempotency-Key (Stripe's model, with the IETF draft's 409 for a reused
 * key), per user: the first request claims the key with a fingerprint of itself, its answer is stored when it has
 * one, and later requests under the key get that answer back, or a refusal when they are another request.
 */
export class IdempotencyKeys {
  readonly #sequelize: Sequelize;

  constructor({ sequelize }: { sequelize: Sequelize }) {
    this.#sequelize = sequelize;
  }

  /**
   * Claims the key for this request in one statement. A key older than a day, or a claim of the same request
   * that never answered (its process died), is taken over; the handlers behind a key are idempotent on the data
   * as well (a fan-out's broadcast row carries the key; applications and enrollments are unique), so running
   * one again after such a takeover repeats nothing.
   */
  async claim(userId: number, key: string, fingerprint: string): Promise<Claim> {
    const claimed = await this.#sequelize.query(
      `INSERT INTO idempotency_keys (user_id, key, fingerprint) VALUES (:userId, :key, :fingerprint)
       ON CONFLICT (user_id, key) DO UPDATE
         SET fingerprint = EXCLUDED.fingerprint, status_code = NULL, response = NULL, created_at = now()
         WHERE idempotency_keys.created_at < now() - make_interval(hours => :ttl)
            OR (idempotency_keys.status_code IS NULL AND idempotency_keys.fingerprint = EXCLUDED.fingerprint
                AND idempotency_keys.created_at < now() - make_interval(secs => :inProgress))
       RETURNING 1`,
      { replacements: { userId, key, fingerprint, ttl: KEY_TTL_HOURS, inProgress: IN_PROGRESS_SECONDS }, type: QueryTypes.SELECT },
    );
    if (claimed.length > 0) return { state: 'claimed' };
    const [row] = await this.#sequelize.query<{ fingerprint: string; status_code: number | null; response: unknown }>(
      'SELECT fingerprint, status_code, response FROM idempotency_keys WHERE user_id = :userId AND key = :key',
      { replacements: { userId, key }, type: QueryTypes.SELECT },
    );
    if (row && row.fingerprint !== fingerprint) return { state: 'reused' };
    // Still running (or its first request failed and released it between our two statements).
    if (!row || row.status_code === null) return { state: 'running' };
    return { state: 'replay', status: row.status_code, body: row.response };
  }

  /** The request's outcome, replayed to every retry from now on. */
  async complete(userId: number, key: string, status: number, body: unknown): Promise<void> {
    await this.#sequelize.query(
      'UPDATE idempotency_keys SET status_code = :status, response = CAST(:body AS jsonb) WHERE user_id = :userId AND key = :key',
      { replacements: { userId, key, status, body: JSON.stringify(body ?? null) } },
    );
  }

  /** The request failed without an outcome (a 5xx, a dropped connection): a retry runs it again. */
  async release(userId: number, key: string): Promise<void> {
    await this.#sequelize.query(
      'DELETE FROM idempotency_keys WHERE user_id = :userId AND key = :key AND status_code IS NULL',
      { replacements: { userId, key } },
    );
  }
}
