import { QueryTypes } from 'sequelize';
import { startProcessRunner, type JobRunner } from '../../../jobs';
import { notificationTasks } from '../../../services/notifications/tasks';
import { waitFor } from '../../support/wait';
import { createTestContext, type TestContext } from '../../support/harness';

let ctx: TestContext;
const runners: JobRunner[] = [];

beforeAll(async () => {
  ctx = await createTestContext();
});
afterAll(async () => {
  for (const r of runners) await r.stop();
  await ctx.close();
});

/** A job runner for the notifications' tasks on the test database, as every Herald process runs one. */
async function startRunner(): Promise<JobRunner> {
  const runner = await startProcessRunner({
    databaseUrl: ctx.dbUrl,
    log: { info: () => undefined },
    tasks: notificationTasks({ notifications: ctx.services.notifications, sends: ctx.services.sends }),
    pollInterval: 100,
  });
  runners.push(runner);
  return runner;
}

async function row(id: number) {
  const [r] = await ctx.sequelize.query<{ read_at: Date | null; snoozed_until: Date | null; sort_key: string }>(
    'SELECT read_at, snoozed_until, sort_key FROM notifications WHERE id = :id',
    { replacements: { id }, type: QueryTypes.SELECT },
  );
  return r;
}

test('a snooze wakes at its time through the job queue, even when no process was running then', async () => {
  const user = await ctx.createUser('candidate');
  const [{ id }] = await ctx.sequelize.query<{ id: string }>(
    "INSERT INTO notifications (recipient_id, type, title) VALUES (:u, 'message', 'Later') RETURNING id",
    { replacements: { u: user.id }, type: QueryTypes.SELECT },
  );
  const nid = Number(id);
  // A process with a runner takes the snooze, then stops (a restart) before the time comes.
  const first = await startRunner();
  await ctx.services.notifications.inbox.snooze(user.id, nid, new Date(Date.now() + 1500));
  await first.stop();
  expect(await ctx.services.notifications.unreadCount(user.id)).toBe(0);
  await new Promise((r) => setTimeout(r, 2000));
  // Nothing woke it while no runner ran: there is no timer.
  expect((await row(nid)).snoozed_until).not.toBeNull();

  ctx.published.length = 0;
  await startRunner();
  await waitFor(async () => (await row(nid)).snoozed_until === null, 10_000);
  const woken = await row(nid);
  expect(woken.read_at).toBeNull();
  expect(Number(woken.sort_key)).toBeGreaterThan(nid);
  expect(await ctx.services.notifications.unreadCount(user.id)).toBe(1);
  await waitFor(() => ctx.published.some((e) => e.type === 'notification.woken'));
  expect(ctx.published).toContainEqual({ type: 'notification.woken', recipientId: user.id, id: nid });
});

test('a job for a notification no longer snoozed (marked unread, done, deleted) changes nothing', async () => {
  const user = await ctx.createUser('candidate');
  const [{ id }] = await ctx.sequelize.query<{ id: string }>(
    "INSERT INTO notifications (recipient_id, type, title) VALUES (:u, 'message', 'Changed mind') RETURNING id",
    { replacements: { u: user.id }, type: QueryTypes.SELECT },
  );
  const nid = Number(id);
  await ctx.services.notifications.inbox.snooze(user.id, nid, new Date(Date.now() + 60_000));
  await ctx.services.notifications.inbox.act(user.id, nid, 'done');
  await ctx.sequelize.query("UPDATE graphile_worker._private_jobs SET run_at = now() WHERE key = :k", { replacements: { k: `notification-wake:${nid}` } });
  ctx.published.length = 0;
  await waitFor(async () => {
    const [j] = await ctx.sequelize.query<{ n: string }>("SELECT count(*) AS n FROM graphile_worker.jobs WHERE key = :k", {
      replacements: { k: `notification-wake:${nid}` },
      type: QueryTypes.SELECT,
    });
    return Number(j.n) === 0;
  });
  expect(ctx.published.filter((e) => e.type === 'notification.woken')).toEqual([]);
  const r = await row(nid);
  expect(r.read_at).not.toBeNull(); // still done, still read
});
