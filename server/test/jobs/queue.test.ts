import { Client } from 'pg';
import { enqueueJobSql, startJobRunner, type JobRunner, type TaskList } from '../../jobs';
import { createTestContext, type TestContext } from '../support/harness';
import { waitFor } from '../support/wait';

const quiet = { info: () => undefined };

describe('job queue (graphile-worker on our database)', () => {
  let ctx: TestContext;
  const runners: JobRunner[] = [];
  const runs: Array<{ task: string; key: string; attempt: number }> = [];

  async function start(tasks: TaskList, concurrency = 2) {
    const r = await startJobRunner({ connection: { connectionString: ctx.dbUrl }, log: quiet, tasks, concurrency, pollInterval: 200 });
    runners.push(r);
    return r;
  }

  const record: TaskList = {
    record: async (payload, helpers) => {
      runs.push({ task: 'record', key: (payload as { key: string }).key, attempt: helpers.job.attempts });
    },
  };

  beforeAll(async () => {
    ctx = await createTestContext();
  });
  afterEach(async () => {
    await Promise.all(runners.splice(0).map((r) => r.stop()));
    runs.length = 0;
  });
  afterAll(() => ctx.close());

  async function inTransaction(key: string, outcome: 'COMMIT' | 'ROLLBACK') {
    const c = new Client({ connectionString: ctx.dbUrl });
    await c.connect();
    try {
      await c.query('BEGIN');
      await c.query(`SELECT ${enqueueJobSql('record', { payload: "json_build_object('key', $1::text)", jobKey: '$1' })}`, [key]);
      await c.query(outcome);
    } finally {
      await c.end();
    }
  }

  test('the schema is installed by migrate(), so a cloned test database has it', async () => {
    const [rows] = await ctx.sequelize.query(`SELECT to_regprocedure('graphile_worker.add_job(text,json,text,timestamptz,integer,text,integer,text[],text)') AS fn`);
    expect((rows as Array<{ fn: string | null }>)[0].fn).not.toBeNull();
  });

  test('a job added in a committed transaction runs once', async () => {
    await start(record);
    await inTransaction('committed', 'COMMIT');
    await waitFor(() => runs.length === 1);
    await new Promise((r) => setTimeout(r, 600));
    expect(runs).toEqual([{ task: 'record', key: 'committed', attempt: 1 }]);
  });

  test('a job added in a rolled-back transaction never runs', async () => {
    await start(record);
    await inTransaction('rolled-back', 'ROLLBACK');
    await inTransaction('marker', 'COMMIT');
    await waitFor(() => runs.some((r) => r.key === 'marker'));
    await new Promise((r) => setTimeout(r, 600));
    expect(runs.map((r) => r.key)).toEqual(['marker']);
  });

  test('the same job key twice before it runs is one job', async () => {
    const utils = await start(record);
    await utils.addJob('record', { key: 'dup' }, { jobKey: 'dup', runAt: new Date(Date.now() + 500) });
    await utils.addJob('record', { key: 'dup' }, { jobKey: 'dup', runAt: new Date(Date.now() + 500) });
    await waitFor(() => runs.length >= 1);
    await new Promise((r) => setTimeout(r, 1200));
    expect(runs.map((r) => r.key)).toEqual(['dup']);
  });

  test('two runners on the same database run each job once', async () => {
    const slow: TaskList = {
      record: async (payload, helpers) => {
        await new Promise((r) => setTimeout(r, 5));
        await record.record!(payload, helpers);
      },
    };
    const a = await start(slow, 3);
    await start(slow, 3);
    const keys = Array.from({ length: 60 }, (_, i) => `k${i}`);
    await Promise.all(keys.map((key) => a.addJob('record', { key })));
    await waitFor(() => runs.length >= keys.length, 20_000);
    await new Promise((r) => setTimeout(r, 600));
    expect(runs.map((r) => r.key).sort()).toEqual([...keys].sort());
  });

  test('a failing job is retried with backoff, then succeeds', async () => {
    let calls = 0;
    const r = await start({
      flaky: async (_payload, helpers) => {
        calls += 1;
        runs.push({ task: 'flaky', key: 'f', attempt: helpers.job.attempts });
        if (calls === 1) throw new Error('transient');
      },
    });
    await r.addJob('flaky', {}, { maxAttempts: 3 });
    await waitFor(() => runs.length === 2, 15_000);
    expect(runs.map((x) => x.attempt)).toEqual([1, 2]);
    // The second attempt is recorded as it starts; the runner deletes the job once the attempt has returned.
    const left = async () => ((await ctx.sequelize.query('SELECT count(*)::int AS n FROM graphile_worker.jobs'))[0] as Array<{ n: number }>)[0].n;
    await waitFor(async () => (await left()) === 0, 5_000);
    expect(runs).toHaveLength(2); // succeeded: no third attempt
  });

  test('stop() waits for the running job, then releases the runner', async () => {
    let finished = false;
    let started = false;
    const r = await start({
      slow: async () => {
        started = true;
        await new Promise((res) => setTimeout(res, 400));
        finished = true;
      },
    });
    await r.addJob('slow', {});
    await waitFor(() => started);
    await r.stop();
    expect(finished).toBe(true);
    await r.stop(); // a second stop (shutdown racing a test's cleanup) is harmless
  });
});
