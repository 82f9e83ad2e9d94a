/**
 * Push made live, end to end: an HTTP request → the statement that writes the notification and its push job →
 * the job runner the harness starts as main.ts does → the local push service, which checks the VAPID header and
 * decrypts the payload. A visible tab means no push (recorded skipped); quiet hours hold it until they end; push
 * off means no job at all; a fan-out is one job for the whole batch.
 */
import { QueryTypes } from 'sequelize';
import { PUSH_TASK } from '../../../channels/push';
import type { User } from '../../../models';
import { waitFor } from '../../support/wait';
import { startServer } from '../../support/realtime';
import { createPushContext } from '../../support/push-context';
import type { FakeBrowser, PushService } from '../../support/push-service';
import type { Agent, TestContext } from '../../support/harness';

let ctx: TestContext;
let service: PushService;
let srv: Awaited<ReturnType<typeof startServer>>;
let teacher: User;
let teacherAgent: Agent;
/** The payloads of the push jobs the runner started. */
const started: Array<{ notificationIds?: number[]; batchId?: string }> = [];

beforeAll(async () => {
  ({ ctx, service } = await createPushContext());
  srv = await startServer(ctx);
  ctx.jobs!.runner.runner.events.on('job:start', ({ job }) => {
    if (job.task_identifier === PUSH_TASK) started.push(job.payload as (typeof started)[number]);
  });
  teacher = await ctx.createUser('instructor');
  teacherAgent = await ctx.login(teacher);
});
afterAll(async () => {
  await srv.close();
  await ctx.close();
  await service.close();
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const pushesTo = (b: FakeBrowser) => service.received.filter((r) => r.endpoint === b.endpoint);
const pushJobsDone = () => ctx.jobs!.done.filter((t) => t === PUSH_TASK).length;

/** A candidate with the types' push preference set, and a device subscribed at the local push service. */
async function candidate(types: object, device = true): Promise<{ user: User; browser: FakeBrowser }> {
  const user = await ctx.createUser('candidate');
  await ctx.services.preferences.patch(user.id, { types });
  const browser = service.subscribe();
  if (device) await ctx.services.pushSubscriptions.save(user.id, browser.json);
  return { user, browser };
}

/** The instructor approves the candidate's application through the API; answers the decision's notification id. */
async function approve(user: User): Promise<number> {
  const course = await ctx.createCourse(teacher);
  const application = await ctx.models.Application.create({ courseId: course.id, candidateId: user.id, motivation: 'Keen' });
  await teacherAgent.post(`/api/applications/${application.id}/approve/`).expect(200);
  const [row] = await ctx.sequelize.query<{ id: string }>(
    "SELECT id FROM notifications WHERE recipient_id = :u AND type = 'application_approved' AND application_id = :a",
    { replacements: { u: user.id, a: application.id }, type: QueryTypes.SELECT },
  );
  return Number(row.id);
}

async function pushDelivery(notificationId: number) {
  const [row] = await ctx.sequelize.query<{ status: string; last_error: string | null }>(
    "SELECT status, last_error FROM deliveries WHERE notification_id = :id AND channel = 'push'",
    { replacements: { id: notificationId }, type: QueryTypes.SELECT },
  );
  return row;
}

/** The push jobs about this notification: those the runner started, then those still queued (a follow-up). */
async function pushJobsFor(notificationId: number) {
  const queued = await ctx.sequelize.query<{ key: string | null; run_at: Date }>(
    `SELECT v.key, v.run_at FROM graphile_worker.jobs v JOIN graphile_worker._private_jobs j USING (id)
      WHERE v.task_identifier = :task AND CAST(j.payload AS jsonb)->'notificationIds' @> to_jsonb(CAST(:id AS bigint))`,
    { replacements: { task: PUSH_TASK, id: notificationId }, type: QueryTypes.SELECT },
  );
  const ran = started.filter((p) => p.notificationIds?.includes(notificationId)).map(() => ({ key: null, run_at: null }));
  return [...ran, ...queued];
}

test('an approval reaches the candidate with every tab closed: one push, the decision, kept a day, urgent', async () => {
  const { user, browser } = await candidate({ application_approved: { push: true } });
  const id = await approve(user);
  await waitFor(async () => (await pushDelivery(id))?.status === 'sent');
  expect(pushesTo(browser)).toHaveLength(1);
  const [push] = pushesTo(browser);
  expect(push.payload).toEqual({
    id,
    title: expect.stringMatching(/^Your application to .* was approved$/),
    body: expect.stringMatching(/^Welcome to .*! You are now enrolled\.$/),
    url: `/notifications/${id}`,
    tag: expect.stringMatching(/^application-\d+$/),
    type: 'application_approved',
  });
  expect(push).toMatchObject({ ttl: '86400', urgency: 'high', topic: push.payload && (push.payload as { tag: string }).tag });
  expect(service.rejected).toEqual([]);
  await sleep(300); // a duplicate would have gone out by now
  expect(pushesTo(browser)).toHaveLength(1);
  expect(await pushJobsFor(id)).toHaveLength(1); // one job for the notice
});

test('with a visible tab no push goes out: the delivery is recorded skipped', async () => {
  const { user, browser } = await candidate({ application_approved: { push: true } });
  const tab = await srv.tabOf(user);
  tab.send({ type: 'visibility', visible: true });
  await waitFor(async () => {
    const rows = await ctx.sequelize.query('SELECT 1 FROM realtime_visible WHERE user_id = :u', {
      replacements: { u: user.id },
      type: QueryTypes.SELECT,
    });
    return rows.length > 0;
  });
  const id = await approve(user);
  await waitFor(async () => (await pushDelivery(id))?.status !== undefined && (await pushDelivery(id)).status !== 'pending');
  expect(await pushDelivery(id)).toEqual({ status: 'skipped', last_error: 'shown in a visible tab' });
  expect(pushesTo(browser)).toEqual([]);
});

test('in quiet hours the push waits for their end, then goes out', async () => {
  const { user, browser } = await candidate({ application_approved: { push: true } });
  // Quiet hours (UTC) that began an hour ago and end in three seconds: time columns keep seconds.
  await ctx.sequelize.query(
    `INSERT INTO notification_settings (user_id, timezone, quiet_start, quiet_end)
     VALUES (:u, 'UTC', CAST(now() AT TIME ZONE 'UTC' - interval '1 hour' AS time),
                        CAST(now() AT TIME ZONE 'UTC' + interval '3 seconds' AS time))`,
    { replacements: { u: user.id } },
  );
  const id = await approve(user);
  // Held: no delivery, and a follow-up job keyed to the end of the quiet hours.
  await waitFor(async () => (await pushJobsFor(id)).some((j) => j.key === `${PUSH_TASK}:quiet:${id}`));
  expect(await pushDelivery(id)).toBeUndefined();
  expect(pushesTo(browser)).toEqual([]);
  const [followUp] = (await pushJobsFor(id)).filter((j) => j.key === `${PUSH_TASK}:quiet:${id}`);
  expect(new Date(followUp.run_at!).getTime()).toBeGreaterThan(Date.now() - 1_000);

  await waitFor(async () => (await pushDelivery(id))?.status === 'sent', 15_000);
  expect(pushesTo(browser)).toHaveLength(1);
  expect((pushesTo(browser)[0].payload as { id: number }).id).toBe(id);
});

test('push off: no job, no delivery, no push', async () => {
  const { user, browser } = await candidate({ application_approved: { push: false } });
  const id = await approve(user);
  await sleep(500); // a job would have started by now (the runner polls every 200 ms)
  expect(await pushJobsFor(id)).toEqual([]);
  expect(await pushDelivery(id)).toBeUndefined();
  expect(pushesTo(browser)).toEqual([]);
});

test('push on but no device: no job either', async () => {
  const { user } = await candidate({ application_approved: { push: true } }, false);
  const id = await approve(user);
  await sleep(500);
  expect(await pushJobsFor(id)).toEqual([]);
});

test('a fan-out to 50 students with push on: 50 pushes, one job', async () => {
  const students = await Promise.all(Array.from({ length: 50 }, () => candidate({ announcement: { push: true } })));
  const course = await ctx.createCourse(teacher, { students: students.map((s) => s.user) });
  const before = pushJobsDone();
  const res = await teacherAgent
    .post(`/api/courses/${course.id}/notify-students/`, { notification_type: 'announcement', title: 'Room change', message: 'Room B12' })
    .expect(201);
  const batchId = res.body.batch_id;
  const [job] = await ctx.sequelize.query<{ n: string }>(
    'SELECT count(*) AS n FROM graphile_worker.jobs WHERE task_identifier = :task AND key = :key',
    { replacements: { task: PUSH_TASK, key: `${PUSH_TASK}:${batchId}` }, type: QueryTypes.SELECT },
  );
  expect(Number(job.n)).toBeLessThanOrEqual(1); // the runner may already have taken and finished it
  await waitFor(() => students.every((s) => pushesTo(s.browser).length === 1), 15_000);
  await waitFor(() => pushJobsDone() > before);
  await sleep(300);
  expect(pushJobsDone() - before).toBe(1);
  expect(started.filter((p) => p.batchId === batchId)).toHaveLength(1);
  for (const s of students) {
    expect(pushesTo(s.browser)[0]).toMatchObject({ ttl: '3600', urgency: 'normal', payload: { type: 'announcement', title: 'Room change', body: 'Room B12' } });
  }
  const [sent] = await ctx.sequelize.query<{ n: string }>(
    "SELECT count(*) AS n FROM deliveries d JOIN notifications n ON n.id = d.notification_id WHERE n.batch_id = :b AND d.channel = 'push' AND d.status = 'sent'",
    { replacements: { b: batchId }, type: QueryTypes.SELECT },
  );
  expect(Number(sent.n)).toBe(50);
  expect(service.rejected).toEqual([]);
});
