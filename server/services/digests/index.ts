import { QueryTypes, type Sequelize } from 'sequelize';
import { DIGEST_QUEUE, DIGEST_TASK } from '../../jobs/notification-jobs';
import { digestibleFrom } from './sql';

export { digestibleFrom } from './sql';

/**
 * The admin's "send now": one statement counts the users with something to digest (those in quiet hours
 * included: theirs goes out when the hours end) and, if any, enqueues the `all` run. A second click while the
 * first run still waits replaces it (same job key) rather than queueing another. The run itself is the email
 * channel's (server/channels/email/digest.ts).
 */
export class DigestRuns {
  readonly #db: Sequelize;

  constructor(deps: { sequelize: Sequelize }) {
    this.#db = deps.sequelize;
  }

  async requestAll(): Promise<{ users: number; job_id: string | null }> {
    // Written out rather than with enqueueJobSql, which has no queue name (the digest jobs must run serially).
    const [row] = await this.#db.query<{ users: number; job_id: string | null }>(
      `WITH due AS (SELECT count(DISTINCT n.recipient_id)::int AS users ${digestibleFrom('TRUE')}),
            job AS (SELECT (graphile_worker.add_job(identifier => '${DIGEST_TASK}',
                              payload => json_build_object('scope', 'all'),
                              queue_name => '${DIGEST_QUEUE}',
                              job_key => '${DIGEST_TASK}:run')).id AS id
                     WHERE (SELECT users FROM due) > 0)
       SELECT (SELECT users FROM due) AS users, CAST((SELECT id FROM job) AS text) AS job_id`,
      { type: QueryTypes.SELECT },
    );
    return { users: Number(row.users), job_id: row.job_id ?? null };
  }
}
