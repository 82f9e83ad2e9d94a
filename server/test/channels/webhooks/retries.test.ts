/**
 * Retries against real receivers on loopback, on the harness's job runner with the production schedule scaled
 * down twentyfold (tries 2 and 3 come 250-750 ms and 1.5-4.5 s after the one before): each retry arrives inside its
 * window, the deliveries that failed together come back spread out, and no job ever throws (graphile-worker's own
 * fixed backoff is not what brings them back).
 */
import { scaleSchedule } from '../../../channels/webhooks';
import type { Course } from '../../../models';
import { waitFor } from '../../support/wait';
import type { Agent } from '../../support/harness';
import { createWebhookContext, type WebhookContext, type WebhookReceiver } from '../../support/webhook-receiver';

const windows = scaleSchedule(1 / 20);
/**
 * A retry may come this much after its window closes: the runner polls for due jobs every 200 ms, then sends (and
 * with two jobs at once, eight due together wait their turn). graphile-worker's own backoff (2.7 s, then 7.4 s)
 * lands far outside.
 */
const LATE_MS = 600;

let ctx: WebhookContext;
let admin: Agent;
let course: Course;
const jobErrors: string[] = [];

beforeAll(async () => {
  ctx = await createWebhookContext({ webhookRetryWindows: windows });
  ctx.jobs!.runner.runner.events.on('job:error', ({ job, error }) => jobErrors.push(`${job.task_identifier}: ${String(error)}`));
  admin = await ctx.login(await ctx.createUser('admin'));
  course = await ctx.createCourse(await ctx.createUser('instructor'), { students: [await ctx.createUser('candidate')] });
});
afterAll(() => ctx.close());

async function endpoint(): Promise<WebhookReceiver> {
  const r = await ctx.receiver();
  const created = await admin.post('/api/admin/webhooks/', { url: r.url, events: ['broadcast.sent'], description: 'retries' }).expect(201);
  r.secret = created.body.secret;
  return r;
}

const broadcast = (title: string) =>
  ctx.services.notifications.fanOut({ kind: 'course', courseId: course.id }, { type: 'announcement', title, message: '', senderId: null });

test('failing twice then succeeding: each retry inside its window, same id and body, three attempts logged', async () => {
  const r = await endpoint();
  r.answers.push(503, 500);
  await broadcast('Retry timing');
  await waitFor(() => r.received.length === 3, 15_000);

  expect(r.received.map((w) => w.status)).toEqual([503, 500, 200]);
  expect(new Set(r.received.map((w) => w.id)).size).toBe(1);
  expect(new Set(r.received.map((w) => w.raw)).size).toBe(1);
  for (const w of r.received) expect(w.verifyError).toBeUndefined();
  const gaps = [r.received[1].at - r.received[0].at, r.received[2].at - r.received[1].at];
  expect(gaps[0]).toBeGreaterThanOrEqual(windows[0][0]);
  expect(gaps[0]).toBeLessThanOrEqual(windows[0][1] + LATE_MS);
  expect(gaps[1]).toBeGreaterThanOrEqual(windows[1][0]);
  expect(gaps[1]).toBeLessThanOrEqual(windows[1][1] + LATE_MS);

  const [{ id }] = (await admin.get('/api/admin/webhooks/').expect(200)).body.results.filter((e: { url: string }) => e.url === r.url);
  await waitFor(async () => (await admin.get(`/api/admin/webhooks/${id}/deliveries/`).expect(200)).body.results[0].status === 'succeeded');
  const [delivery] = (await admin.get(`/api/admin/webhooks/${id}/deliveries/`).expect(200)).body.results;
  expect(delivery.attempts.map((a: { attempt: number; status_code: number }) => [a.attempt, a.status_code])).toEqual([
    [1, 503],
    [2, 500],
    [3, 200],
  ]);
  expect(jobErrors).toEqual([]);
});

test('deliveries that failed together come back spread over the window, not in one burst', async () => {
  const rs: WebhookReceiver[] = [];
  for (let i = 0; i < 8; i += 1) rs.push(await endpoint());
  for (const r of rs) r.answers.push(503);
  await broadcast('Thundering herd');
  await waitFor(() => rs.every((r) => r.received.length === 2), 15_000);

  const gaps = rs.map((r) => r.received[1].at - r.received[0].at);
  for (const g of gaps) {
    expect(g).toBeGreaterThanOrEqual(windows[0][0]);
    expect(g).toBeLessThanOrEqual(windows[0][1] + 2 * LATE_MS);
  }
  // Eight uniform draws over 500 ms all within 100 ms of each other: about 1 in 12,000.
  expect(Math.max(...gaps) - Math.min(...gaps)).toBeGreaterThan(100);
  expect(jobErrors).toEqual([]);
});
