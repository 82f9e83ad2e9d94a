import type { Pool, PoolClient } from 'pg';
import { Client } from 'pg';
import type { JobConnection, JobLog } from './index';

/** The advisory-lock class of "this graphile-worker pool id is alive" (the second key is hashtext(id)). */
const LOCK_CLASS = 7420013;

export interface RecoveryOptions {
  /** How often every runner looks for jobs locked by dead workers (ms). */
  intervalMs?: number;
  /** A job locked more recently than this is left alone: its worker may still be taking its lock (s). */
  staleAfterSeconds?: number;
}

/**
 * graphile-worker frees a job whose worker died (kill -9, OOM, a lost machine) only after 4 hours. Each runner
 * therefore holds, on one session of its own, an advisory lock per worker pool id it runs (the id a job's
 * `locked_by` names); PostgreSQL drops those locks the moment that session dies with its process. Every runner
 * periodically looks at the jobs locked for a while, and for an id whose lock it can take (nobody holds it:
 * the pool is gone) it calls
 * `force_unlock_workers`, so the job runs again within about `intervalMs`. A false "dead" (this session lost,
 * the process alive) can at worst run a job twice at once: the deliveries' leases still send each row once.
 */
export class WorkerLiveness {
  readonly #session: Client | PoolClient;
  readonly #release: () => Promise<void>;
  readonly #log: JobLog;
  readonly #mine = new Set<string>();
  readonly #opts: Required<RecoveryOptions>;
  #timer?: NodeJS.Timeout;
  #queue: Promise<unknown> = Promise.resolve();

  private constructor(session: Client | PoolClient, release: () => Promise<void>, log: JobLog, opts: RecoveryOptions) {
    this.#session = session;
    this.#release = release;
    this.#log = log;
    this.#opts = { intervalMs: opts.intervalMs ?? 30_000, staleAfterSeconds: opts.staleAfterSeconds ?? 60 };
    session.on('error', (err) => log.error?.({ err, component: 'jobs' }, 'worker liveness session lost'));
  }

  static async open(connection: JobConnection, log: JobLog, opts: RecoveryOptions = {}): Promise<WorkerLiveness> {
    if (connection.pgPool) {
      const client = await (connection.pgPool as Pool).connect();
      return new WorkerLiveness(client, async () => client.release(true), log, opts);
    }
    const client = new Client({ connectionString: connection.connectionString });
    await client.connect();
    return new WorkerLiveness(client, () => client.end(), log, opts);
  }

  /** Declares a worker pool of this process alive for as long as this process's session lives. */
  alive(poolId: string): void {
    this.#mine.add(poolId);
    this.#serial(() => this.#session.query('SELECT pg_advisory_lock($1, hashtext($2))', [LOCK_CLASS, poolId]));
  }

  start(): void {
    this.#timer = setInterval(() => void this.recover(), this.#opts.intervalMs);
    this.#timer.unref();
    void this.recover();
  }

  /** Frees the jobs of dead workers; answers the pool ids it freed. */
  recover(): Promise<string[]> {
    return this.#serial(async () => {
      const { rows } = await this.#session.query<{ locked_by: string }>(
        `SELECT DISTINCT locked_by FROM graphile_worker.jobs
          WHERE locked_by IS NOT NULL AND locked_at < now() - make_interval(secs => $1)`,
        [this.#opts.staleAfterSeconds],
      );
      const dead: string[] = [];
      for (const { locked_by: id } of rows) {
        if (this.#mine.has(id)) continue; // our own session holds it re-entrantly: never "free" to us
        const { rows: [r] } = await this.#session.query<{ free: boolean }>(
          'SELECT pg_try_advisory_lock($1, hashtext($2)) AS free',
          [LOCK_CLASS, id],
        );
        if (!r.free) continue;
        await this.#session.query('SELECT pg_advisory_unlock($1, hashtext($2))', [LOCK_CLASS, id]);
        dead.push(id);
      }
      if (dead.length > 0) {
        await this.#session.query('SELECT graphile_worker.force_unlock_workers($1::text[])', [dead]);
        this.#log.warn?.({ workers: dead, component: 'jobs' }, 'freed the jobs of workers that died');
      }
      return dead;
    }).catch((err) => {
      this.#log.error?.({ err, component: 'jobs' }, 'looking for dead workers failed');
      return [];
    });
  }

  /** After the runner stopped: closing the session releases this process's locks. */
  async close(): Promise<void> {
    clearInterval(this.#timer);
    await this.#queue.catch(() => undefined);
    await this.#release();
  }

  /** One query at a time on the one session. */
  #serial<T>(fn: () => Promise<T>): Promise<T> {
    const next = this.#queue.then(fn, fn);
    this.#queue = next.catch(() => undefined);
    return next;
  }
}
