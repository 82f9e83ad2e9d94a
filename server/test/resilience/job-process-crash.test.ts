/**
 * kill -9 of a job process (JOB_WORKERS=1) in the middle of a running job: its push was in flight at the push
 * service, its graphile-worker job locked by the dead process, its delivery row leased to it. The primary starts a
 * new job process; that runner sees the dead runner's advisory lock gone and frees the job (JOB_STALE_SECONDS),
 * the freed job finds the row still leased and leaves a follow-up for the lease's end (120 s), which sends it. The
 * delivery is recorded sent once; the push service saw the in-flight attempt and the one that counted (a send
 * whose answer was never recorded can only be repeated: at least once, recorded once). In the resilience suite
 * because the lease makes it take over two minutes.
 */
import { QueryTypes } from 'sequelize';
import { startJobWorld, type JobWorld } from '../process/support';
import { until } from './support/processes';

let w: JobWorld;

beforeAll(async () => {
  w = await startJobWorld({ JOB_WORKERS: '1', JOB_STALE_SECONDS: '1' });
}, 60_000);

afterAll(async () => {
  await w?.close();
});

test('kill -9 of the job process while its push is in flight: replaced, the job freed, the push recorded sent once', async () => {
  const [first] = await until('the job process to start', async () => w.started('jobs').length > 0 && w.started('jobs'));
  // The push service holds its first answer long enough for the kill to land while the job runs.
  const { browser, notificationId } = await w.approvedWithDevice({ status: 201, delayMs: 10_000 });
  const mine = () => w.service.received.filter((r) => r.endpoint === browser.endpoint);
  await until('the push to be in flight', async () => mine().length > 0);
  const [locked] = await w.ctx.sequelize.query<{ n: string }>(
    "SELECT count(*) AS n FROM graphile_worker.jobs WHERE task_identifier LIKE 'push:%' AND locked_by IS NOT NULL",
    { type: QueryTypes.SELECT },
  );
  expect(Number(locked.n)).toBe(1);

  process.kill(first, 'SIGKILL');
  const second = await until('a new job process', async () => w.started('jobs').find((p) => p !== first), 20_000);
  await until('the dead runner’s job to be freed', async () => w.logLines().some((l) => l.pid === second && l.msg === 'freed the jobs of workers that died'), 30_000);

  await until('the push to be recorded sent', async () => (await w.pushRows(notificationId))[0]?.status === 'sent', 200_000, 500);
  expect(await w.pushRows(notificationId)).toEqual([{ status: 'sent' }]);
  expect(mine().map((r) => r.status)).toEqual([201, 201]);
  expect(w.service.rejected).toEqual([]);
  expect(w.completedBy().at(-1)).toBe(second);
  expect(await w.runnerPids()).toEqual([second]);
  // Nothing left behind: no job still queued, locked or failed for good.
  const [left] = await w.ctx.sequelize.query<{ n: string }>("SELECT count(*) AS n FROM graphile_worker.jobs WHERE task_identifier LIKE 'push:%'", {
    type: QueryTypes.SELECT,
  });
  expect(Number(left.n)).toBe(0);
}, 300_000);
