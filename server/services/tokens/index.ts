import { createHash, randomBytes } from 'node:crypto';
import { QueryTypes, type Sequelize } from 'sequelize';
import { Forbidden, NotFound } from '../../errors';
import type { Models, User } from '../../models';
import type { EventPublisher } from '../events';
import { scopesAboveRole, type Scope } from './scopes';

export { SCOPES, grantableScopes, scopesAboveRole, type Scope } from './scopes';

/** Every token starts with this, so secret scanners and people recognise one. */
export const TOKEN_PREFIX = 'hrld_';
/** `last_used_at` is written at most this often per token: no write per request. */
const LAST_USED_EVERY_MS = 60_000;

/** A token as its owner (or an admin) sees it: never the secret, never its hash. */
export interface TokenInfo {
  id: number;
  userId: number;
  name: string;
  scopes: Scope[];
  /** The first characters of the secret (`hrld_AbC1`), to recognise it in a list. */
  prefix: string;
  createdAt: Date;
  lastUsedAt: Date | null;
  expiresAt: Date | null;
  revokedAt: Date | null;
}

/** A new token: the secret is in here and nowhere else, ever. */
export interface CreatedToken extends TokenInfo {
  token: string;
}

/** Who a valid bearer token speaks for, and what it may do. */
export interface TokenCaller {
  user: User;
  tokenId: number;
  scopes: Scope[];
}

interface TokenRow {
  id: number;
  user_id: number;
  name: string;
  scopes: Scope[];
  prefix: string;
  created_at: Date;
  last_used_at: Date | null;
  expires_at: Date | null;
  revoked_at: Date | null;
}

/** The users row under the model's attribute names, so it builds a User without a second query. */
const USER_FIELDS = `u.id, u.email, u.name, u.role, u.password_hash AS "passwordHash", u.is_active AS "isActive",
  u.last_login_at AS "lastLoginAt", u.created_at AS "createdAt", u.updated_at AS "updatedAt"`;

const COLUMNS = 'id, user_id, name, scopes, prefix, created_at, last_used_at, expires_at, revoked_at';

function toInfo(r: TokenRow): TokenInfo {
  return {
    id: r.id,
    userId: r.user_id,
    name: r.name,
    scopes: r.scopes,
    prefix: r.prefix,
    createdAt: new Date(r.created_at),
    lastUsedAt: r.last_used_at ? new Date(r.last_used_at) : null,
    expiresAt: r.expires_at ? new Date(r.expires_at) : null,
    revokedAt: r.revoked_at ? new Date(r.revoked_at) : null,
  };
}

/**
 * SHA-256, not a password hash: the secret is 32 random bytes (256 bits), so nobody can guess or brute-force
 * it from the hash, and a slow hash would only add its cost to every API request. Looked up by equality on the
 * unique index: no comparison of secrets in JavaScript at all.
 */
const hashOf = (token: string) => createHash('sha256').update(token).digest('hex');

/**
 * Personal access tokens: created with a name, scopes and an optional expiry, shown once, then only recognised
 * by their hash. Revoking publishes `token.revoked`, so sockets and streams opened with the token close.
 */
export class TokenService {
  readonly #db: Sequelize;
  readonly #models: Models;
  readonly #events: EventPublisher;

  constructor(deps: { sequelize: Sequelize; models: Models; events: EventPublisher }) {
    this.#db = deps.sequelize;
    this.#models = deps.models;
    this.#events = deps.events;
  }

  /** A scope the owner's role may not grant is a 403: a token never has more than its owner. */
  async create(owner: User, input: { name: string; scopes: Scope[]; expiresInDays: number | null }): Promise<CreatedToken> {
    const above = scopesAboveRole(owner.role, input.scopes);
    if (above.length > 0) {
      throw new Forbidden(`Your role (${owner.role}) cannot grant: ${above.join(', ')}.`);
    }
    const token = TOKEN_PREFIX + randomBytes(32).toString('base64url');
    const [row] = await this.#db.query<TokenRow>(
      `INSERT INTO api_tokens (user_id, name, scopes, prefix, hash, expires_at)
       VALUES (:userId, :name, ARRAY[:scopes]::text[], :prefix, :hash,
               CASE WHEN :days::integer IS NULL THEN NULL ELSE now() + make_interval(days => :days::integer) END)
       RETURNING ${COLUMNS}`,
      {
        replacements: {
          userId: owner.id,
          name: input.name,
          scopes: [...new Set(input.scopes)],
          prefix: token.slice(0, TOKEN_PREFIX.length + 4),
          hash: hashOf(token),
          days: input.expiresInDays,
        },
        type: QueryTypes.SELECT,
      },
    );
    return { ...toInfo(row), token };
  }

  /** The user's tokens, newest first, revoked ones included (they say when). */
  async list(userId: number): Promise<TokenInfo[]> {
    const rows = await this.#db.query<TokenRow>(
      `SELECT ${COLUMNS} FROM api_tokens WHERE user_id = :userId ORDER BY created_at DESC, id DESC`,
      { replacements: { userId }, type: QueryTypes.SELECT },
    );
    return rows.map(toInfo);
  }

  /** Everyone's tokens that still work (or `all`), newest first: the admin console's view. */
  async listAll(opts: { userId?: number; includeRevoked?: boolean } = {}): Promise<TokenInfo[]> {
    const where = ['true'];
    if (opts.userId !== undefined) where.push('user_id = :userId');
    if (!opts.includeRevoked) where.push('revoked_at IS NULL');
    const rows = await this.#db.query<TokenRow>(
      `SELECT ${COLUMNS} FROM api_tokens WHERE ${where.join(' AND ')} ORDER BY created_at DESC, id DESC LIMIT 500`,
      { replacements: { userId: opts.userId }, type: QueryTypes.SELECT },
    );
    return rows.map(toInfo);
  }

  /** Revokes one of the user's tokens (`userId` undefined: anyone's, for admins). Not theirs, or gone: 404. */
  async revoke(id: number, userId?: number): Promise<TokenInfo> {
    const rows = await this.#db.query<TokenRow>(
      `UPDATE api_tokens SET revoked_at = coalesce(revoked_at, now())
        WHERE id = :id ${userId === undefined ? '' : 'AND user_id = :userId'}
        RETURNING ${COLUMNS}`,
      { replacements: { id, userId }, type: QueryTypes.SELECT },
    );
    if (rows.length === 0) throw new NotFound('Token');
    this.#events.publish({ type: 'token.revoked', tokenIds: [id] });
    return toInfo(rows[0]);
  }

  /** Every live token of a user (deactivation): one statement. */
  async revokeAllOf(userId: number): Promise<number> {
    const rows = await this.#db.query<{ id: number }>(
      'UPDATE api_tokens SET revoked_at = now() WHERE user_id = :userId AND revoked_at IS NULL RETURNING id',
      { replacements: { userId }, type: QueryTypes.SELECT },
    );
    if (rows.length > 0) this.#events.publish({ type: 'token.revoked', tokenIds: rows.map((r) => r.id) });
    return rows.length;
  }

  /**
   * The caller behind `hrld_...`, or null when the token is unknown, revoked, expired, or its owner inactive.
   * One SELECT; `last_used_at` is written only when the stored one is a minute old (and by one process).
   */
  async authenticate(token: string): Promise<TokenCaller | null> {
    if (!token.startsWith(TOKEN_PREFIX) || token.length > 200) return null;
    const [row] = await this.#db.query<Record<string, unknown> & { token_id: number; token_scopes: Scope[]; token_last_used: Date | null }>(
      `SELECT ${USER_FIELDS}, t.id AS token_id, t.scopes AS token_scopes, t.last_used_at AS token_last_used
         FROM api_tokens t JOIN users u ON u.id = t.user_id
        WHERE t.hash = :hash AND t.revoked_at IS NULL AND (t.expires_at IS NULL OR t.expires_at > now()) AND u.is_active`,
      { replacements: { hash: hashOf(token) }, type: QueryTypes.SELECT },
    );
    if (!row) return null;
    const { token_id: tokenId, token_scopes: scopes, token_last_used: lastUsed, ...userRow } = row;
    if (!lastUsed || Date.now() - new Date(lastUsed).getTime() >= LAST_USED_EVERY_MS) {
      await this.#db.query(
        `UPDATE api_tokens SET last_used_at = now()
          WHERE id = :id AND (last_used_at IS NULL OR last_used_at <= now() - make_interval(secs => :secs))`,
        { replacements: { id: tokenId, secs: LAST_USED_EVERY_MS / 1000 } },
      );
    }
    const user = this.#models.User.build(userRow as never, { raw: true, isNewRecord: false });
    return { user, tokenId, scopes };
  }

  /** Which of these token ids still work (open streams and sockets are re-checked with it). */
  async live(ids: number[]): Promise<Set<number>> {
    if (ids.length === 0) return new Set();
    const rows = await this.#db.query<{ id: number }>(
      `SELECT t.id FROM api_tokens t JOIN users u ON u.id = t.user_id
        WHERE t.id IN (:ids) AND t.revoked_at IS NULL AND (t.expires_at IS NULL OR t.expires_at > now()) AND u.is_active`,
      { replacements: { ids }, type: QueryTypes.SELECT },
    );
    return new Set(rows.map((r) => r.id));
  }
}
