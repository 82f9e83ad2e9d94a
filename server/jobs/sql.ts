/**
 * SQL expressions (never user input: write them in code, pass values as bind parameters or replacements) for the
 * parts of a job that a statement computes: the payload from the rows it just wrote, a due time, a key.
 */
export interface EnqueueSql {
  /** A `json` expression, e.g. `json_build_object('batchId', :batchId)`. */
  payload: string;
  /** A `timestamptz` expression, e.g. `now() + make_interval(secs => :delay)`. Default: now. */
  runAt?: string;
  /** A `text` expression: a second job with the same key replaces the first instead of running twice. */
  jobKey?: string;
  /** How many times the job is tried before it is left failed (graphile-worker's default: 25). */
  maxAttempts?: number;
  /** `preserve_run_at` keeps the first job's due time when a duplicate arrives. */
  jobKeyMode?: 'replace' | 'preserve_run_at' | 'unsafe_dedupe';
}

const TASK_NAME = /^[a-z][a-z0-9_:.-]*$/;

/**
 * A `graphile_worker.add_job(...)` call to put inside the statement or transaction that writes the rows a job
 * works on: the job commits with them or not at all, and its NOTIFY fires only at commit.
 *
 * In a CTE, PostgreSQL only evaluates a SELECT that the main query references, so reference it, e.g.
 * `WITH ins AS (INSERT ... RETURNING id), job AS (SELECT ${enqueueJobSql(...)} AS job WHERE EXISTS (SELECT 1 FROM ins))
 *  SELECT (SELECT count(*) FROM ins) AS n, (SELECT count(*) FROM job) AS jobs`.
 */
export function enqueueJobSql(task: string, spec: EnqueueSql): string {
  if (!TASK_NAME.test(task)) throw new Error(`Invalid task name: ${task}`);
  const args = [`identifier => '${task}'`, `payload => (${spec.payload})::json`];
  if (spec.runAt) args.push(`run_at => (${spec.runAt})::timestamptz`);
  if (spec.jobKey) args.push(`job_key => (${spec.jobKey})::text`);
  if (spec.maxAttempts !== undefined) {
    if (!Number.isInteger(spec.maxAttempts) || spec.maxAttempts < 1) throw new Error('maxAttempts must be >= 1');
    args.push(`max_attempts => ${spec.maxAttempts}`);
  }
  if (spec.jobKeyMode) args.push(`job_key_mode => '${spec.jobKeyMode}'`);
  return `(graphile_worker.add_job(${args.join(', ')})).id`;
}
