import { createHash } from 'node:crypto';
import type { Request, RequestHandler, Response } from 'express';
import { QueryTypes, type Sequelize } from 'sequelize';
import { HttpError, ValidationError } from '../errors';
import { currentUser } from './auth';

/** A first request still running holds its key this long; after that a retry may take it over. */
const IN_PROGRESS_MS = 60_000;
/** A key is remembered this long; after that the same key starts a new request. */
const KEY_TTL_HOURS = 24;
const KEY_PATTERN = /^[\x20-\x7e]{1,100}$/;

/** What a replay answers, from what the first request answered. Default: the same status and body. */
export type Replay = (first: { status: number; body: unknown }) => { status: number; body: unknown };

interface KeyRow {
  fingerprint: string;
  status_code: number | null;
  response: unknown;
}

/** Objects with sorted keys, so `{"a":1,"b":2}` and `{"b":2,"a":1}` are the same request. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.keys(value as object)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonical((value as Record<string, unknown>)[k])}`);
    return `{${entries.join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

/** The request a key stands for: method, path (mount included, query included) and the parsed body. */
export function requestFingerprint(req: Request): string {
  return createHash('sha256')
    .update(`${req.method} ${req.originalUrl.replace(/\/(?=\?|$)/, '')}\n${canonical(req.body ?? null)}`)
    .digest('hex');
}

/**
 * Honours `Idempotency-Key` on a POST that creates notifications or records (Stripe's model, with the IETF
 * draft's 409 for a reused key): the first request with a key runs and its answer is stored; a retry with the
 * same key and the same request gets that answer again and changes nothing; the same key with another request is
 * a 409 `idempotency_key_reused`; a retry while the first is still running is a 409 `idempotency_key_in_progress`.
 *
 * Claiming the key and storing the answer are separate statements from the handler's own transaction, so a
 * process dying between the handler's commit and the stored answer leaves a claim without an answer; after
 * IN_PROGRESS_MS a retry runs the handler again, which is why each such handler is idempotent on the data too
 * (a fan-out's broadcast row carries the key; an application and an enrollment are unique per course and user).
 */
export function idempotent(sequelize: Sequelize, replay: Replay = (first) => first): RequestHandler {
  return async (req: Request, res: Response, next) => {
    const key = req.get('Idempotency-Key');
    if (key === undefined) return next();
    if (!KEY_PATTERN.test(key)) {
      throw new ValidationError('Idempotency-Key: must be 1 to 100 printable ASCII characters', [
        { field: 'Idempotency-Key', message: 'must be 1 to 100 printable ASCII characters' },
      ]);
    }
    const userId = currentUser(req).id;
    const fingerprint = requestFingerprint(req);
    const claimed = await sequelize.query<{ claimed: boolean }>(
      `INSERT INTO idempotency_keys (user_id, key, fingerprint) VALUES (:userId, :key, :fingerprint)
       ON CONFLICT (user_id, key) DO UPDATE
         SET fingerprint = EXCLUDED.fingerprint, status_code = NULL, response = NULL, created_at = now()
         WHERE idempotency_keys.created_at < now() - make_interval(hours => :ttl)
            OR (idempotency_keys.status_code IS NULL AND idempotency_keys.fingerprint = EXCLUDED.fingerprint
                AND idempotency_keys.created_at < now() - make_interval(secs => :inProgress))
       RETURNING true AS claimed`,
      { replacements: { userId, key, fingerprint, ttl: KEY_TTL_HOURS, inProgress: IN_PROGRESS_MS / 1000 }, type: QueryTypes.SELECT },
    );
    if (claimed.length === 0) {
      const [row] = await sequelize.query<KeyRow>(
        'SELECT fingerprint, status_code, response FROM idempotency_keys WHERE user_id = :userId AND key = :key',
        { replacements: { userId, key }, type: QueryTypes.SELECT },
      );
      // Gone between the two statements (its owner failed and released it): ask for a plain retry.
      if (!row || row.status_code === null || row.fingerprint !== fingerprint) {
        throw row && row.fingerprint !== fingerprint
          ? new HttpError(409, 'idempotency_key_reused', 'This Idempotency-Key was used for a different request. Use a new key for a new request.')
          : new HttpError(409, 'idempotency_key_in_progress', 'A request with this Idempotency-Key is still being processed. Retry shortly.', undefined, { 'Retry-After': '1' });
      }
      const answer = replay({ status: row.status_code, body: row.response });
      res.set('Idempotent-Replayed', 'true').status(answer.status).json(answer.body);
      return;
    }
    rememberAnswer(sequelize, res, userId, key);
    next();
  };
}

/**
 * Stores the handler's answer under the key once it is sent: a 2xx or 4xx is the request's outcome and is
 * replayed; a 5xx (or an error thrown before any answer) releases the key, so a retry runs again.
 */
function rememberAnswer(sequelize: Sequelize, res: Response, userId: number, key: string) {
  const json = res.json.bind(res);
  let body: unknown;
  res.json = (b: unknown) => {
    body = b;
    return json(b);
  };
  res.on('finish', () => {
    const done = res.statusCode < 500 && body !== undefined;
    const sql = done
      ? 'UPDATE idempotency_keys SET status_code = :status, response = CAST(:response AS jsonb) WHERE user_id = :userId AND key = :key'
      : 'DELETE FROM idempotency_keys WHERE user_id = :userId AND key = :key AND status_code IS NULL';
    sequelize
      .query(sql, { replacements: { status: res.statusCode, response: JSON.stringify(body ?? null), userId, key } })
      .catch(() => undefined); // the claim then expires after IN_PROGRESS_MS: a retry runs again
  });
  res.on('close', () => {
    if (!res.writableFinished) {
      sequelize
        .query('DELETE FROM idempotency_keys WHERE user_id = :userId AND key = :key AND status_code IS NULL', { replacements: { userId, key } })
        .catch(() => undefined);
    }
  });
}
