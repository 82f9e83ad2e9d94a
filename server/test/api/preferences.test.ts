import { NOTIFICATION_TYPES, type User } from '../../models';
import { createApiContext, type ApiContext } from '../support/api';
import type { Agent } from '../support/harness';

let ctx: ApiContext;

beforeAll(async () => {
  ctx = await createApiContext();
});
afterAll(() => ctx.close());

async function signedIn(role: User['role'] = 'candidate'): Promise<Agent> {
  return (await ctx.party(role)).agent;
}

const fields = (body: { error: { details: Array<{ field: string }> } }) => body.error.details.map((d) => d.field);

describe('GET /api/preferences/', () => {
  test('a new user sees every type with the defaults and the locks', async () => {
    const me = await signedIn();
    const { body } = await me.get('/api/preferences/').expect(200);
    expect(body).toMatchObject({ timezone: 'UTC', quiet_hours: null, digest_hour: 8 });
    expect(Object.keys(body.types).sort()).toEqual([...NOTIFICATION_TYPES].sort());
    expect(body.types.message).toEqual({ in_app: true, email: 'off', push: false });
    expect(body.locked).toEqual({ application_approved: ['in_app'], application_rejected: ['in_app'] });
  });

  test('needs a login', async () => {
    const anon = ctx.contract.wrap(await ctx.anonymous());
    await anon.get('/api/preferences').expect(401);
    await anon.patch('/api/preferences', { digest_hour: 3 }).expect(401);
  });
});

describe('PATCH /api/preferences/', () => {
  test('partial: the same shape back, the rest untouched, and it stays', async () => {
    const me = await signedIn('instructor');
    const { body } = await me
      .patch('/api/preferences/', {
        timezone: 'America/New_York',
        quiet_hours: { start: '22:00', end: '07:00' },
        types: { application_approved: { email: 'unread' }, message: { push: true } },
      })
      .expect(200);
    expect(body).toMatchObject({ timezone: 'America/New_York', quiet_hours: { start: '22:00', end: '07:00' }, digest_hour: 8 });
    expect(body.types.application_approved).toEqual({ in_app: true, email: 'unread', push: false });
    expect(body.types.message).toEqual({ in_app: true, email: 'off', push: true });
    expect(body.types.announcement).toEqual({ in_app: true, email: 'off', push: false });

    const second = (await me.patch('/api/preferences', { digest_hour: 18 }).expect(200)).body;
    expect(second).toEqual({ ...body, digest_hour: 18 });
    expect((await me.get('/api/preferences').expect(200)).body).toEqual(second);
    expect((await me.patch('/api/preferences', { quiet_hours: null }).expect(200)).body.quiet_hours).toBeNull();
  });

  test('each user has their own', async () => {
    const a = await signedIn();
    const b = await signedIn();
    await a.patch('/api/preferences', { types: { announcement: { email: 'immediate' } } }).expect(200);
    expect((await b.get('/api/preferences').expect(200)).body.types.announcement.email).toBe('off');
  });

  test.each([
    [{ types: { bogus: { email: 'off' } } }, ['types.bogus']],
    [{ types: { message: { sms: true } } }, ['types.message.sms']],
    [{ types: { message: { email: 'weekly' } } }, ['types.message.email']],
    [{ types: { message: { push: 'yes' } } }, ['types.message.push']],
    [{ timezone: 'Mars/Olympus' }, ['timezone']],
    [{ timezone: '+02:00' }, ['timezone']],
    [{ quiet_hours: { start: '25:00', end: '07:00' } }, ['quiet_hours.start']],
    [{ quiet_hours: { start: '07:00', end: '07:00' } }, ['quiet_hours.end']],
    [{ digest_hour: 24 }, ['digest_hour']],
    [{ locked: {} }, ['locked']],
    [{ types: { application_approved: { in_app: false } } }, ['types.application_approved.in_app']],
    [{ types: { message: { in_app: false, email: 'digest' } } }, ['types.message.email']],
  ])('%j is a 400 naming %j', async (patch, expected) => {
    const me = await signedIn();
    const before = (await me.get('/api/preferences').expect(200)).body;
    const { body } = await me.patch('/api/preferences', patch).expect(400);
    expect(body.error.code).toBe('validation_error');
    expect(fields(body)).toEqual(expected);
    expect((await me.get('/api/preferences').expect(200)).body).toEqual(before);
  });

  test('in_app off while email stays "unread" is refused against the stored choice too', async () => {
    const me = await signedIn();
    await me.patch('/api/preferences', { types: { message: { email: 'unread' } } }).expect(200);
    const { body } = await me.patch('/api/preferences', { types: { message: { in_app: false } } }).expect(400);
    expect(fields(body)).toEqual(['types.message.in_app']);
  });
});
