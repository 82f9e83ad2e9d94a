import { QueryTypes } from 'sequelize';
import type { User } from '../../../models';
import { createApiContext, type ApiContext } from '../../support/api';
import type { Agent } from '../../support/harness';
import { insertNotification } from '../../support/admin-fixtures';

let ctx: ApiContext;
let admin: Agent;

beforeAll(async () => {
  ctx = await createApiContext();
  admin = (await ctx.party('admin')).agent;
});
afterAll(() => ctx.close());

const fields = (body: { error: { details: Array<{ field: string }> } }) => body.error.details.map((d) => d.field);

describe('notification defaults', () => {
  test('admins read and change them; users who never chose follow, those who chose keep theirs', async () => {
    const { body } = await admin.get('/api/admin/preferences/defaults/').expect(200);
    expect(body.types.announcement).toEqual({ in_app: true, email: 'off', push: false });
    expect(body.locked).toEqual({ application_approved: ['in_app'], application_rejected: ['in_app'] });
    expect(Object.keys(body)).toEqual(['types', 'locked']);

    const chooser = await ctx.login(await ctx.createUser('candidate'));
    await chooser.patch('/api/preferences', { types: { announcement: { email: 'off' } } }).expect(200);
    const follower = await ctx.login(await ctx.createUser('candidate'));

    const changed = (await admin.patch('/api/admin/preferences/defaults', { types: { announcement: { email: 'digest', push: true } } }).expect(200)).body;
    expect(changed.types.announcement).toEqual({ in_app: true, email: 'digest', push: true });
    expect((await admin.get('/api/admin/preferences/defaults').expect(200)).body).toEqual(changed);
    expect((await follower.get('/api/preferences').expect(200)).body.types.announcement).toEqual({ in_app: true, email: 'digest', push: true });
    expect((await chooser.get('/api/preferences').expect(200)).body.types.announcement.email).toBe('off');
    await admin.patch('/api/admin/preferences/defaults', { types: { announcement: { email: 'off', push: false } } }).expect(200);
  });

  test('a locked in-app default cannot be switched off; unknown types and values are 400 naming the field', async () => {
    const locked = await admin.patch('/api/admin/preferences/defaults', { types: { application_approved: { in_app: false } } }).expect(400);
    expect(fields(locked.body)).toEqual(['types.application_approved.in_app']);
    expect(fields((await admin.patch('/api/admin/preferences/defaults', { types: { nope: {} } }).expect(400)).body)).toEqual(['types.nope']);
    expect(fields((await admin.patch('/api/admin/preferences/defaults', { types: { message: { email: 'x' } } }).expect(400)).body)).toEqual([
      'types.message.email',
    ]);
    expect(fields((await admin.patch('/api/admin/preferences/defaults', { timezone: 'UTC', types: {} }).expect(400)).body)).toEqual(['timezone']);
  });

  test('admins only', async () => {
    const candidate = (await ctx.party('candidate')).agent;
    await candidate.get('/api/admin/preferences/defaults').expect(403);
    await candidate.patch('/api/admin/preferences/defaults', { types: {} }).expect(403);
    await candidate.get('/api/admin/deliveries').expect(403);
  });
});

describe('deliveries', () => {
  let alice: User;
  let bob: User;
  const ids: Record<string, number> = {};

  beforeAll(async () => {
    alice = await ctx.createUser('candidate');
    bob = await ctx.createUser('candidate');
    const d = ctx.services.deliveries;
    const claim = async (channel: 'email' | 'push', recipient: number) =>
      (await d.claim(channel, [await insertNotification(ctx, { recipientId: recipient })]))[0].id;
    ids.aliceSent = await claim('email', alice.id);
    await d.markSent([{ id: ids.aliceSent, providerMessageId: '<a@herald>' }]);
    ids.aliceFailed = await claim('email', alice.id);
    await d.markFailed([{ id: ids.aliceFailed, error: '550 mailbox unavailable' }]);
    ids.bobPending = await claim('email', bob.id);
    ids.bobPush = await claim('push', bob.id);
    await d.markFailed([{ id: ids.bobPush, error: '410 gone' }]);
  });

  const list = async (query: Record<string, string | number>) => (await admin.get('/api/admin/deliveries/').query(query).expect(200)).body;

  test('newest first, filtered by channel, status and recipient, empty filters ignored', async () => {
    expect((await list({})).results.map((r: { id: number }) => r.id)).toEqual([ids.bobPush, ids.bobPending, ids.aliceFailed, ids.aliceSent]);
    expect((await list({ channel: 'email', status: '' })).results.map((r: { id: number }) => r.id)).toEqual([
      ids.bobPending,
      ids.aliceFailed,
      ids.aliceSent,
    ]);
    const failed = await list({ status: 'failed', recipient: alice.id });
    expect(failed.results).toEqual([
      expect.objectContaining({ id: ids.aliceFailed, recipient_id: alice.id, channel: 'email', status: 'failed', attempts: 1, last_error: '550 mailbox unavailable' }),
    ]);
    expect(failed.next_cursor).toBeNull();
    const sent = await list({ status: 'sent' });
    expect(sent.results[0]).toMatchObject({ provider_message_id: '<a@herald>', sent_at: expect.any(String) });
  });

  test('keyset pages', async () => {
    const p1 = await list({ limit: 3 });
    expect(p1.results).toHaveLength(3);
    const p2 = await list({ limit: 3, cursor: p1.next_cursor });
    expect(p2.results.map((r: { id: number }) => r.id)).toEqual([ids.aliceSent]);
    expect(p2.next_cursor).toBeNull();
  });

  test.each([
    [{ channel: 'sms' }, 'channel'],
    [{ status: 'lost' }, 'status'],
    [{ recipient: 'bob' }, 'recipient'],
    [{ limit: 0 }, 'limit'],
    [{ cursor: 'nonsense' }, 'cursor'],
  ])('%j is a 400 naming %s', async (query, field) => {
    const { body } = await admin.get('/api/admin/deliveries').query(query).expect(400);
    expect(JSON.stringify(body.error.details)).toContain(field);
  });

  test('retry: a failed email goes back to pending and a job to send it is queued in the same statement', async () => {
    const { body } = await admin.post(`/api/admin/deliveries/${ids.aliceFailed}/retry/`).expect(200);
    expect(body).toMatchObject({ id: ids.aliceFailed, status: 'pending', attempts: 1 });
    // The public view has no payload column; the private table holds it.
    const jobs = await ctx.sequelize.query<{ task_identifier: string; payload: { deliveryIds: number[] }; key: string }>(
      `SELECT v.task_identifier, j.payload, v.key
         FROM graphile_worker.jobs v JOIN graphile_worker._private_jobs j USING (id) WHERE v.key = :key`,
      { type: QueryTypes.SELECT, replacements: { key: `email:deliveries:${ids.aliceFailed}` } },
    );
    expect(jobs).toEqual([
      { task_identifier: 'email:deliveries', payload: { deliveryIds: [ids.aliceFailed] }, key: `email:deliveries:${ids.aliceFailed}` },
    ]);
  });

  test('retry refuses what is not failed (409) and unknown ids (404)', async () => {
    const sent = await admin.post(`/api/admin/deliveries/${ids.aliceSent}/retry`).expect(409);
    expect(sent.body.error.details).toEqual({ status: 'sent' });
    await admin.post(`/api/admin/deliveries/${ids.bobPending}/retry`).expect(409);
    await admin.post('/api/admin/deliveries/999999999/retry').expect(404);
  });

  test('retry: a failed push goes back to pending with its push:deliveries job; then, no longer failed, it is a 409', async () => {
    expect((await admin.get('/api/admin/deliveries').query({ channel: 'push' }).expect(200)).body.results[0].status).toBe('failed');
    const { body } = await admin.post(`/api/admin/deliveries/${ids.bobPush}/retry`).expect(200);
    expect(body).toMatchObject({ id: ids.bobPush, channel: 'push', status: 'pending' });
    const jobs = await ctx.sequelize.query<{ task_identifier: string; payload: { deliveryIds: number[] } }>(
      `SELECT v.task_identifier, j.payload
         FROM graphile_worker.jobs v JOIN graphile_worker._private_jobs j USING (id) WHERE v.key = :key`,
      { type: QueryTypes.SELECT, replacements: { key: `push:deliveries:${ids.bobPush}` } },
    );
    expect(jobs).toEqual([{ task_identifier: 'push:deliveries', payload: { deliveryIds: [ids.bobPush] } }]);
    const again = await admin.post(`/api/admin/deliveries/${ids.bobPush}/retry`).expect(409);
    expect(again.body.error.details).toEqual({ status: 'pending' });
  });
});
