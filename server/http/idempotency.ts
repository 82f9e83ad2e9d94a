import { createHash } from 'node:crypto';
import type { Request, Response } from 'express';
import { HttpError } from '../errors';
import type { IdempotencyKeys } from '../services/idempotency';

/** What a replay answers, from what the first request answered. */
export type Replay = (first: { status: number; body: unknown }) => { status: number; body: unknown };
export const sameAnswer: Replay = (first) => first;

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

/** The request a key stands for: method, path (trailing slash ignored, query included) and the parsed body. */
export function requestFingerprint(req: Request): string {
  const [path, query] = req.originalUrl.split('?', 2);
  const target = path.replace(/\/+$/, '') + (query === undefined ? '' : `?${query}`);
  return createHash('sha256').update(`${req.method} ${target}\n${canonical(req.body ?? null)}`).digest('hex');
}

/**
 * Runs a creating request under its `Idempotency-Key` (already validated by the operation's header schema):
 * answers a retry with the stored outcome, refuses the key on another request (409 `idempotency_key_reused`),
 * and otherwise lets `run` go on and stores its answer: a 2xx or 4xx is the request's outcome; a 5xx or a dropped
 * connection releases the key. The same request arriving while its first is still running is run too, without
 * touching the claim: every handler behind a key is idempotent on the data (a fan-out's broadcast row carries
 * the key; applications and enrollments are unique), so the two answer as a first send and its replay would.
 */
export async function underIdempotencyKey(
  keys: IdempotencyKeys,
  userId: number,
  key: string,
  req: Request,
  res: Response,
  replay: Replay,
  run: () => unknown,
): Promise<void> {
  const claim = await keys.claim(userId, key, requestFingerprint(req));
  switch (claim.state) {
    case 'reused':
      throw new HttpError(409, 'idempotency_key_reused',
        'This Idempotency-Key was already used for a different request. Use a new key for a new request.');
    case 'running':
      await run();
      return;
    case 'replay': {
      const answer = replay(claim);
      res.set('Idempotent-Replayed', 'true').status(answer.status).json(answer.body);
      return;
    }
  }
  let body: unknown;
  const json = res.json.bind(res);
  res.json = (b: unknown) => {
    body = b;
    return json(b);
  };
  // Settled once: 'finish' (answered) or 'close' without finishing (the client went away mid-request).
  let settled = false;
  const settle = () => {
    if (settled) return;
    settled = true;
    const done = res.writableFinished && res.statusCode < 500 && body !== undefined;
    (done ? keys.complete(userId, key, res.statusCode, body) : keys.release(userId, key)).catch(() => {
      // Left claimed: after its in-progress window a retry of the same request takes it over and runs again.
    });
  };
  res.once('finish', settle);
  res.once('close', settle);
  try {
    await run();
  } catch (err) {
    settled = true;
    await keys.release(userId, key).catch(() => undefined);
    throw err;
  }
}
