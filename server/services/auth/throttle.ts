import { setTimeout as sleep } from 'node:timers/promises';
import { isIPv6 } from 'node:net';
import { QueryTypes, type Sequelize } from 'sequelize';
import { TooManyRequests } from '../../errors';

/**
 * How failed logins slow down, after OWASP's authentication cheat sheet: each subject gets a few free failures per
 * window, then every further failure makes that subject wait before its next attempt, twice as long each time and
 * at most `maxDelaySeconds`. Nothing is ever locked for longer than that.
 */
export interface ThrottleLimits {
  /** Free failures of one address on one account: a person's typos. */
  perAccountAndSource: number;
  /** Free failures of one address across all accounts: password spraying (a classroom shares one NAT address). */
  perSource: number;
  /** Free failures on one account from everywhere: the last resort against guessing from many addresses. */
  perAccount: number;
  /** Failures are counted in windows of this length, starting at a subject's first failure. */
  windowSeconds: number;
  firstDelaySeconds: number;
  maxDelaySeconds: number;
  /** How long an attempt may wait for other attempts of the same subject to be checked before it is refused. */
  queueMs: number;
}

export const DEFAULT_THROTTLE: ThrottleLimits = {
  perAccountAndSource: 5,
  perSource: 30,
  perAccount: 100,
  windowSeconds: 15 * 60,
  firstDelaySeconds: 2,
  maxDelaySeconds: 60,
  queueMs: 10_000,
};

/** A slot nobody released (its process died mid-check) is free again this long after the last one was taken. */
const LEASE_SECONDS = 30;
const SWEEP_EVERY_MS = 60_000;

// Expressions over the stored row `t`: a window that has passed counts no failures, a lease that has ended
// holds no slots.
const FAILURES = 'CASE WHEN t.window_ends > now() THEN t.failures ELSE 0 END';
const IN_FLIGHT = 'CASE WHEN t.lease_ends > now() THEN t.in_flight ELSE 0 END';

/**
 * Takes a checking slot on every subject of an attempt, or none. A subject has as many slots as it has free
 * failures left (at least one), so however many guesses arrive at once, no more can be checked than could fail
 * freely; past its allowance a subject is checked one attempt at a time. A waiting subject gives no slot.
 */
const TAKE = `
  WITH wanted (key, free) AS (VALUES :wanted),
  taken AS (
    INSERT INTO login_throttle AS t (key, free, window_ends, in_flight, lease_ends)
    SELECT key, free, now(), 1, now() + make_interval(secs => ${LEASE_SECONDS}) FROM wanted ORDER BY key
    ON CONFLICT (key) DO UPDATE SET free = EXCLUDED.free, in_flight = ${IN_FLIGHT} + 1, lease_ends = EXCLUDED.lease_ends
     WHERE (t.blocked_until IS NULL OR t.blocked_until <= now()) AND ${IN_FLIGHT} < greatest(1, EXCLUDED.free - ${FAILURES})
    RETURNING t.key)
  SELECT w.key, taken.key IS NOT NULL AS taken,
         greatest(0, coalesce(ceil(extract(epoch FROM t.blocked_until - now())), 0))::integer AS wait,
         coalesce(${FAILURES} >= t.free, false) AS slowed
    FROM wanted w LEFT JOIN taken ON taken.key = w.key LEFT JOIN login_throttle t ON t.key = w.key`;

// Every statement locks an attempt's rows in key order (TAKE inserts them in that order), so two attempts
// sharing subjects cannot deadlock.
const LOCKED = 'FROM (SELECT key FROM login_throttle WHERE key IN (:keys) ORDER BY key FOR UPDATE) AS l WHERE t.key = l.key';

const RELEASE = `UPDATE login_throttle AS t SET in_flight = greatest(0, ${IN_FLIGHT} - 1) ${LOCKED}`;

/** A failure: counted in the window, and past the allowance the subject waits 2^n times the first delay. */
const FAILED = `
  UPDATE login_throttle AS t SET
    in_flight = greatest(0, ${IN_FLIGHT} - 1),
    failures = ${FAILURES} + 1,
    window_ends = CASE WHEN t.window_ends > now() THEN t.window_ends ELSE now() + make_interval(secs => :window) END,
    blocked_until = CASE WHEN ${FAILURES} + 1 >= t.free
      THEN greatest(t.blocked_until, now() + make_interval(secs => least(:maxDelay, :firstDelay * power(2, ${FAILURES} + 1 - t.free))))
      ELSE t.blocked_until END
  ${LOCKED}`;

/** A success: the pair starts afresh; the address and the account keep their counts (one valid login must not
 * wipe a sprayer's or a botnet's record). */
const SUCCEEDED = `
  UPDATE login_throttle AS t SET
    in_flight = greatest(0, ${IN_FLIGHT} - 1),
    failures = CASE WHEN t.key = :pair THEN 0 ELSE t.failures END,
    blocked_until = CASE WHEN t.key = :pair THEN NULL ELSE t.blocked_until END
  ${LOCKED}`;

const SWEEP = `
  DELETE FROM login_throttle
   WHERE window_ends < now() AND (blocked_until IS NULL OR blocked_until < now()) AND (lease_ends IS NULL OR lease_ends < now())`;

/** One login attempt holding its slots: settle it exactly once with the outcome of the password check. */
export interface ThrottledAttempt {
  failed(): Promise<void>;
  succeeded(): Promise<void>;
  /** No password was checked (an error on the way): the slots go back, nothing is counted. */
  release(): Promise<void>;
}

/**
 * The login throttle, kept in PostgreSQL (login_throttle) so every process shares it; each step is one
 * statement, so concurrent attempts cannot both read a count before either writes it. Only failures count.
 */
export class LoginThrottle {
  readonly #db: Sequelize;
  readonly #limits: ThrottleLimits;
  #lastSweep = 0;

  constructor(db: Sequelize, limits: Partial<ThrottleLimits> = {}) {
    this.#db = db;
    this.#limits = { ...DEFAULT_THROTTLE, ...limits };
  }

  /**
   * Takes the attempt's slots, waiting (briefly) while other attempts of the same subjects are being checked.
   * Throws TooManyRequests with the wait when a subject is slowed down, or when the queue does not clear in time.
   */
  async begin(account: string, ip: string): Promise<ThrottledAttempt> {
    const source = sourceOf(ip);
    const pair = `p:${source} ${account}`; // an address has no space, so the pair key is unambiguous
    const subjects = [
      { key: pair, free: this.#limits.perAccountAndSource },
      { key: `s:${source}`, free: this.#limits.perSource },
      { key: `a:${account}`, free: this.#limits.perAccount },
    ];
    const keys = subjects.map((s) => s.key);
    const deadline = Date.now() + this.#limits.queueMs;
    for (;;) {
      const rows = await this.#db.query<{ key: string; taken: boolean; wait: number; slowed: boolean }>(TAKE, {
        replacements: { wanted: subjects.map((s) => [s.key, s.free]) },
        type: QueryTypes.SELECT,
      });
      const held = rows.filter((r) => r.taken).map((r) => r.key);
      if (held.length === keys.length) break;
      if (held.length > 0) await this.#run(RELEASE, { keys: held });
      const wait = Math.max(...rows.map((r) => r.wait));
      if (wait > 0) throw new TooManyRequests(wait);
      // Past its allowance a subject's attempts are not worth queueing (that is a guessing burst, not a classroom).
      if (rows.some((r) => !r.taken && r.slowed) || Date.now() > deadline) throw new TooManyRequests(1);
      await sleep(50 + Math.random() * 100); // others of this subject are being checked: queue behind them
    }
    this.#sweepNowAndThen();
    let settled = false;
    const settle = (sql: string, extra: Record<string, unknown> = {}) => {
      if (settled) return Promise.resolve();
      settled = true;
      return this.#run(sql, { keys, ...extra });
    };
    const { windowSeconds: window, maxDelaySeconds: maxDelay, firstDelaySeconds: firstDelay } = this.#limits;
    return {
      failed: () => settle(FAILED, { window, maxDelay, firstDelay }),
      succeeded: () => settle(SUCCEEDED, { pair }),
      release: () => settle(RELEASE),
    };
  }

  async #run(sql: string, replacements: Record<string, unknown>): Promise<void> {
    await this.#db.query(sql, { replacements });
  }

  /** Forgets subjects whose window, wait and slots are all over; at most once a minute per process. */
  #sweepNowAndThen(): void {
    if (Date.now() - this.#lastSweep < SWEEP_EVERY_MS) return;
    this.#lastSweep = Date.now();
    this.#db.query(SWEEP).catch(() => undefined); // best effort: the next sweep tries again
  }
}

/**
 * The "place" an attempt comes from: the IPv4 address, or the IPv6 /64 (one host commonly owns a whole /64, so
 * per-address counts on IPv6 would give it 2^64 fresh budgets).
 */
export function sourceOf(ip: string): string {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(ip);
  if (mapped) return mapped[1];
  if (!isIPv6(ip)) return ip;
  const [head, tail] = ip.replace(/%.*$/, '').split('::');
  // An embedded IPv4 tail (64:ff9b::192.0.2.1) takes the room of two groups.
  const groups = (part: string | undefined) => (part ? part.split(':').flatMap((g) => (g.includes('.') ? ['0', '0'] : [g])) : []);
  const h = groups(head);
  const t = tail === undefined ? [] : groups(tail);
  const all = [...h, ...Array<string>(Math.max(0, 8 - h.length - t.length)).fill('0'), ...t];
  return `${all.slice(0, 4).map((g) => parseInt(g, 16).toString(16)).join(':')}::/64`;
}
