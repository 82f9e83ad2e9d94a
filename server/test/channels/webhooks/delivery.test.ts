/**
 * Webhooks end to end: endpoints registered over the API → a request that commits and publishes → the webhooks
 * channel's one statement (deliveries + keyed jobs) → the job runner the harness starts as main.ts does → real HTTP
 * receivers on loopback that verify every signature with the official `standardwebhooks` package.
 */
import Ajv2020 from 'ajv/dist/2020';
import { QueryTypes } from 'sequelize';
import { scaleSchedule } from '../../../channels/webhooks';
import type { Course, User } from '../../../models';
import { waitFor } from '../../support/wait';
import type { Agent } from '../../support/harness';
import { createWebhookContext, type WebhookContext, type WebhookReceiver } from '../../support/webhook-receiver';
import { withContent } from '../../support/content';

let ctx: WebhookContext;
let admin: Agent;
let teacherA: Agent;
let teacherB: Agent;
let courseA: Course;
let courseB: Course;
let students: User[];
const receivers: Record<'admin' | 'a' | 'b', WebhookReceiver> = {} as Record<'admin' | 'a' | 'b', WebhookReceiver>;
let adminEndpointId: number;

beforeAll(async () => {
  // Production's schedule, twentyfold faster: the retry below comes 250-750 ms after the failure.
  ctx = await createWebhookContext({ webhookRetryWindows: scaleSchedule(1 / 20) });
  for (const k of ['admin', 'a', 'b'] as const) receivers[k] = await ctx.receiver();

  const instructorA = await ctx.createUser('instructor');
  const instructorB = await ctx.createUser('instructor');
  students = [await ctx.createUser('candidate'), await ctx.createUser('candidate'), await ctx.createUser('candidate')];
  courseA = await ctx.createCourse(instructorA, { students });
  courseB = await ctx.createCourse(instructorB, { students: [students[0]] });
  admin = await ctx.login(await ctx.createUser('admin'));
  teacherA = await ctx.login(instructorA);
  teacherB = await ctx.login(instructorB);

  const all = ['notification.created', 'application.submitted', 'application.decided', 'broadcast.sent', 'notification.read'];
  const created = await admin.post('/api/admin/webhooks/', { url: receivers.admin.url, events: all, description: 'audit' }).expect(201);
  expect(created.body.secret).toMatch(/^whsec_[A-Za-z0-9+/]{32,}={0,2}$/);
  receivers.admin.secret = created.body.secret;
  adminEndpointId = created.body.id;
  const a = await teacherA.post('/api/webhooks/', { url: receivers.a.url, events: all, course_id: courseA.id }).expect(201);
  receivers.a.secret = a.body.secret;
  const b = await teacherB.post('/api/webhooks/', { url: receivers.b.url, events: all, course_id: courseB.id }).expect(201);
  receivers.b.secret = b.body.secret;
});
afterAll(() => ctx.close());

const ofType = (r: WebhookReceiver, type: string) => r.received.filter((w) => w.body?.type === type);
const idle = () => ctx.channel.idle();

test('the secret is shown once: lists never carry it, and another instructor’s course is a 404', async () => {
  const list = await admin.get('/api/admin/webhooks/').expect(200);
  expect(list.body.results.length).toBe(3);
  expect(JSON.stringify(list.body)).not.toContain('whsec_');
  const mine = await teacherA.get('/api/webhooks/').expect(200);
  expect(mine.body.results.map((e: { course_id: number }) => e.course_id)).toEqual([courseA.id]);
  await teacherA.post('/api/webhooks/', { url: receivers.a.url, events: ['broadcast.sent'], course_id: courseB.id }).expect(404);
  await teacherA.delete(`/api/webhooks/${list.body.results.find((e: { course_id: number }) => e.course_id === courseB.id).id}/`).expect(404);
});

test('a broadcast to the course is ONE signed broadcast.sent per endpoint that may hear it, not one per student', async () => {
  await teacherA
    .post(`/api/courses/${courseA.id}/notify-students`, { notification_type: 'announcement', title: 'Exam moved', message: 'to Friday' })
    .expect(201);
  await idle();
  await waitFor(() => ofType(receivers.admin, 'broadcast.sent').length === 1 && ofType(receivers.a, 'broadcast.sent').length === 1);
  for (const r of [receivers.admin, receivers.a]) {
    const [w] = ofType(r, 'broadcast.sent');
    expect(w.verifyError).toBeUndefined();
    expect(w.body).toEqual({
      type: 'broadcast.sent',
      timestamp: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
      data: expect.objectContaining({ course_id: courseA.id, type: 'announcement', title: 'Exam moved', message: 'to Friday', recipients: 3 }),
    });
    expect(w.id).toMatch(/^msg_/);
    expect(w.headers['webhook-signature']).toMatch(/^v1,[A-Za-z0-9+/]+=*$/);
  }
  // No notification.created per student: the fan-out is one event.
  expect(ofType(receivers.admin, 'notification.created')).toHaveLength(0);
  expect(receivers.b.received).toHaveLength(0);
});

test('the same event handed over three times (three processes) is one delivery', async () => {
  // A fresh broadcast: this process's dispatcher hands it over once, two more processes' copies are simulated.
  await teacherA.post(`/api/courses/${courseA.id}/notify-students`, { notification_type: 'announcement', title: 'Thrice', message: 'x' }).expect(201);
  const [row] = await ctx.sequelize.query<{ batch_id: string }>(`SELECT batch_id FROM ${withContent()} WHERE title = 'Thrice' LIMIT 1`, {
    type: QueryTypes.SELECT,
  });
  ctx.channel.notify({ batchId: row.batch_id }, Date.now());
  ctx.channel.notify({ batchId: row.batch_id }, Date.now() + 5);
  const thrice = () => ofType(receivers.admin, 'broadcast.sent').filter((w) => (w.body?.data as { title?: string }).title === 'Thrice');
  await waitFor(() => thrice().length >= 1);
  await idle();
  await new Promise((r) => setTimeout(r, 600));
  expect(thrice()).toHaveLength(1);
});

test('application events and their notifications reach the admin and the course’s instructor only', async () => {
  const candidate = await ctx.createUser('candidate');
  const agent = await ctx.login(candidate);
  const applied = await agent.post(`/api/courses/${courseA.id}/applications`, { motivation: 'keen' }).expect(201);
  await idle();
  await waitFor(() => ofType(receivers.a, 'application.submitted').length === 1 && ofType(receivers.a, 'notification.created').length === 1);
  expect(ofType(receivers.a, 'application.submitted')[0].body!.data).toEqual({
    id: applied.body.id,
    course_id: courseA.id,
    candidate_id: candidate.id,
    instructor_id: expect.any(Number),
    status: 'pending',
  });
  expect(ofType(receivers.a, 'notification.created')[0].body!.data).toMatchObject({ type: 'application_submitted', course_id: courseA.id });

  await teacherA.post(`/api/applications/${applied.body.id}/approve`).expect(200);
  await idle();
  await waitFor(() => ofType(receivers.a, 'application.decided').length === 1 && ofType(receivers.admin, 'application.decided').length === 1);
  expect(ofType(receivers.a, 'application.decided')[0].body!.data).toMatchObject({ status: 'approved' });
  expect(receivers.b.received).toHaveLength(0);

  // Reading is a user's business, not a course's: admins' endpoints only.
  const note = (await agent.get('/api/notifications/').expect(200)).body.results[0];
  await agent.post(`/api/notifications/${note.id}/mark_read`).expect(200);
  await idle();
  await waitFor(() => ofType(receivers.admin, 'notification.read').length === 1);
  expect(ofType(receivers.admin, 'notification.read')[0].body!.data).toEqual({ recipient_id: candidate.id, all: false, ids: [note.id] });
  expect(ofType(receivers.a, 'notification.read')).toHaveLength(0);
  for (const r of Object.values(receivers)) for (const w of r.received) expect(w.verifyError).toBeUndefined();
});

test('a receiver failing then succeeding: retried within seconds with the same id and body, every attempt logged', async () => {
  receivers.admin.answers.push(503);
  const before = receivers.admin.received.length;
  const broadcast = await ctx.services.notifications.fanOut({ kind: 'course', courseId: courseB.id }, { type: 'message', title: 'Retry me', message: '', senderId: null });
  await idle();
  await waitFor(() => receivers.admin.received.slice(before).some((w) => w.status === 200 && w.body?.data.batch_id === broadcast.batchId), 15_000);
  const tries = receivers.admin.received.slice(before).filter((w) => w.body?.data.batch_id === broadcast.batchId);
  expect(tries.map((w) => w.status)).toEqual([503, 200]);
  expect(tries[0].id).toBe(tries[1].id);
  expect(tries[0].raw).toBe(tries[1].raw);

  const log = await admin.get(`/api/admin/webhooks/${adminEndpointId}/deliveries/`).expect(200);
  const delivery = log.body.results.find((d: { event_id: string }) => d.event_id === tries[0].id);
  expect(delivery).toMatchObject({ event_type: 'broadcast.sent', status: 'succeeded' });
  expect(delivery.attempts).toEqual([
    expect.objectContaining({ attempt: 1, status_code: 503, response_excerpt: 'try later', error: null }),
    expect.objectContaining({ attempt: 2, status_code: 200, response_excerpt: 'ok' }),
  ]);

  // "Send again": the same delivery, once more, logged as a third attempt.
  await admin.post(`/api/admin/webhooks/${adminEndpointId}/deliveries/${delivery.id}/retry/`).expect(202);
  await waitFor(() => receivers.admin.received.filter((w) => w.id === tries[0].id).length === 3);
  await waitFor(async () => {
    const again = await admin.get(`/api/admin/webhooks/${adminEndpointId}/deliveries/`).expect(200);
    return again.body.results.find((d: { id: number }) => d.id === delivery.id).attempts.length === 3;
  });
  await admin.post(`/api/admin/webhooks/${adminEndpointId}/deliveries/999999/retry/`).expect(404);
});

test('every body received matches the OpenAPI document’s `webhooks` entry for its type', async () => {
  const doc = (await admin.get('/api/openapi.json').expect(200)).body;
  const ajv = new Ajv2020({ strict: false, allErrors: true });
  ajv.addFormat('date-time', /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?Z$/);
  ajv.addFormat('uuid', /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i);
  expect(Object.keys(doc.webhooks).sort()).toEqual(
    ['application.decided', 'application.submitted', 'broadcast.sent', 'notification.created', 'notification.read'],
  );
  const seen = new Set<string>();
  for (const r of Object.values(receivers)) {
    for (const w of r.received) {
      const schema = doc.webhooks[w.body!.type].post.requestBody.content['application/json'].schema;
      const validate = ajv.compile(schema);
      expect([w.body!.type, validate(w.body), ajv.errorsText(validate.errors)]).toEqual([w.body!.type, true, 'No errors']);
      seen.add(w.body!.type);
    }
  }
  expect(seen.size).toBe(5);
});

test('deleting an endpoint: its owner or an admin; it hears nothing afterwards', async () => {
  const mine = (await teacherB.get('/api/webhooks/').expect(200)).body.results[0];
  await teacherB.delete(`/api/webhooks/${mine.id}/`).expect(204);
  await teacherB.delete(`/api/webhooks/${mine.id}/`).expect(404);
  await admin.delete(`/api/admin/webhooks/${adminEndpointId}/`).expect(204);
  expect((await admin.get('/api/admin/webhooks/').expect(200)).body.results).toHaveLength(1);
  await admin.get(`/api/admin/webhooks/${adminEndpointId}/deliveries/`).expect(404);
});
