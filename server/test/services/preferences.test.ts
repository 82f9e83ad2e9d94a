import { QueryTypes } from 'sequelize';
import { NOTIFICATION_TYPES } from '../../models';
import { PreferenceService, effectivePreferencesJoin } from '../../services/preferences';
import { createTestContext, type TestContext } from '../support/harness';

describe('notification preferences', () => {
  let ctx: TestContext;
  let prefs: PreferenceService;

  beforeAll(async () => {
    ctx = await createTestContext();
    prefs = new PreferenceService({ sequelize: ctx.sequelize });
  });
  afterAll(() => ctx.close());

  async function fieldsOf(p: Promise<unknown>): Promise<string[]> {
    const err = (await p.then(
      () => {
        throw new Error('expected a 400');
      },
      (e: unknown) => e,
    )) as { status: number; details: Array<{ field: string }> };
    expect(err.status).toBe(400);
    return err.details.map((d) => d.field);
  }

  test('a new user gets the defaults, every type, and the locks', async () => {
    const u = await ctx.createUser('candidate');
    const p = await prefs.get(u.id);
    expect(p).toMatchObject({ timezone: 'UTC', quiet_hours: null, digest_hour: 8 });
    expect(Object.keys(p.types).sort()).toEqual([...NOTIFICATION_TYPES].sort());
    expect(p.types.message).toEqual({ in_app: true, email: 'off', push: false });
    expect(p.locked).toEqual({ application_approved: ['in_app'], application_rejected: ['in_app'] });
  });

  test('patch is partial and answers the whole shape', async () => {
    const u = await ctx.createUser('candidate');
    const p = await prefs.patch(u.id, {
      timezone: 'europe/paris',
      quiet_hours: { start: '22:00', end: '07:00' },
      digest_hour: 18,
      types: { application_approved: { email: 'unread' }, message: { push: true } },
    });
    expect(p).toMatchObject({ timezone: 'Europe/Paris', quiet_hours: { start: '22:00', end: '07:00' }, digest_hour: 18 });
    expect(p.types.application_approved).toEqual({ in_app: true, email: 'unread', push: false });
    expect(p.types.message).toEqual({ in_app: true, email: 'off', push: true });

    const q = await prefs.patch(u.id, { digest_hour: 6, types: { message: { email: 'digest' } } });
    expect(q).toMatchObject({ timezone: 'Europe/Paris', quiet_hours: { start: '22:00', end: '07:00' }, digest_hour: 6 });
    expect(q.types.message).toEqual({ in_app: true, email: 'digest', push: true });
    expect((await prefs.patch(u.id, { quiet_hours: null })).quiet_hours).toBeNull();
    expect(await prefs.get(u.id)).toEqual(await prefs.patch(u.id, {}));
  });

  test('unknown types, channels, values, zones and times are 400 naming the field', async () => {
    const u = await ctx.createUser('candidate');
    expect(await fieldsOf(prefs.patch(u.id, { types: { bogus: { email: 'off' } } }))).toEqual(['types.bogus']);
    expect(await fieldsOf(prefs.patch(u.id, { types: { message: { sms: true } } }))).toEqual(['types.message.sms']);
    expect(await fieldsOf(prefs.patch(u.id, { types: { message: { email: 'weekly' } } }))).toEqual(['types.message.email']);
    expect(await fieldsOf(prefs.patch(u.id, { types: { message: { push: 'yes' } } }))).toEqual(['types.message.push']);
    expect(await fieldsOf(prefs.patch(u.id, { timezone: 'Mars/Olympus_Mons' }))).toEqual(['timezone']);
    expect(await fieldsOf(prefs.patch(u.id, { timezone: '+01:00' }))).toEqual(['timezone']);
    expect(await fieldsOf(prefs.patch(u.id, { quiet_hours: { start: '24:00', end: '07:00' } }))).toEqual(['quiet_hours.start']);
    expect(await fieldsOf(prefs.patch(u.id, { quiet_hours: { start: '22:00', end: '7:00' } }))).toEqual(['quiet_hours.end']);
    expect(await fieldsOf(prefs.patch(u.id, { quiet_hours: { start: '22:00' } }))).toEqual(['quiet_hours.end']);
    expect(await fieldsOf(prefs.patch(u.id, { digest_hour: 24 }))).toEqual(['digest_hour']);
    expect(await fieldsOf(prefs.patch(u.id, { locked: {} }))).toEqual(['locked']);
    // Nothing of a refused patch was written.
    expect((await prefs.get(u.id)).timezone).toBe('UTC');
  });

  test('unread and digest need in_app on, whichever side the patch changes', async () => {
    const u = await ctx.createUser('candidate');
    expect(await fieldsOf(prefs.patch(u.id, { types: { message: { in_app: false, email: 'unread' } } }))).toEqual([
      'types.message.email',
    ]);
    await prefs.patch(u.id, { types: { message: { email: 'digest' } } });
    expect(await fieldsOf(prefs.patch(u.id, { types: { message: { in_app: false } } }))).toEqual(['types.message.in_app']);
    const ok = await prefs.patch(u.id, { types: { message: { in_app: false, email: 'immediate' } } });
    expect(ok.types.message).toEqual({ in_app: false, email: 'immediate', push: false });
  });

  test('switching a locked channel off is a 400, for users and for admin defaults', async () => {
    const u = await ctx.createUser('candidate');
    expect(await fieldsOf(prefs.patch(u.id, { types: { application_rejected: { in_app: false } } }))).toEqual([
      'types.application_rejected.in_app',
    ]);
    expect(await fieldsOf(prefs.patchDefaults({ types: { application_approved: { in_app: false } } }))).toEqual([
      'types.application_approved.in_app',
    ]);
    expect((await prefs.patch(u.id, { types: { application_rejected: { in_app: true } } })).types.application_rejected.in_app).toBe(true);
  });

  test('admin defaults reach users who never chose, not those who did', async () => {
    const chose = await ctx.createUser('candidate');
    const never = await ctx.createUser('candidate');
    await prefs.patch(chose.id, { types: { course_update: { email: 'immediate' } } });
    const d = await prefs.patchDefaults({ types: { course_update: { email: 'digest' } } });
    expect(d.types.course_update).toEqual({ in_app: true, email: 'digest', push: false });
    expect((await prefs.getDefaults()).locked.application_approved).toEqual(['in_app']);
    expect((await prefs.get(never.id)).types.course_update.email).toBe('digest');
    expect((await prefs.get(chose.id)).types.course_update.email).toBe('immediate');
    await prefs.patchDefaults({ types: { course_update: { email: 'off' } } });
  });

  test('the fan-out join yields each recipient’s effective preferences: default, override, locked', async () => {
    const byDefault = await ctx.createUser('candidate');
    const overridden = await ctx.createUser('candidate');
    const silenced = await ctx.createUser('candidate');
    await prefs.patchDefaults({ types: { announcement: { email: 'digest' }, application_approved: { email: 'unread' } } });
    await prefs.patch(overridden.id, { types: { announcement: { email: 'immediate', push: true } } });
    // Written behind the API's back, as an old row or a later lock would be: the view still resolves it.
    await ctx.sequelize.query(
      `INSERT INTO notification_preferences (user_id, type, in_app) VALUES (:u, 'announcement', false), (:u, 'application_approved', false)`,
      { replacements: { u: silenced.id } },
    );
    const read = (type: string) =>
      ctx.sequelize.query<{ user_id: number; in_app: boolean; email: string; push: boolean }>(
        `SELECT r.id AS user_id, ep.in_app, ep.email, ep.push
           FROM (SELECT unnest(CAST(:ids AS int[])) AS id) r ${effectivePreferencesJoin('ep', 'r.id', ':type')}
          ORDER BY r.id`,
        { type: QueryTypes.SELECT, replacements: { ids: `{${byDefault.id},${overridden.id},${silenced.id}}`, type } },
      );
    expect(await read('announcement')).toEqual([
      { user_id: byDefault.id, in_app: true, email: 'digest', push: false },
      { user_id: overridden.id, in_app: true, email: 'immediate', push: true },
      // in_app off: the digest of unread items cannot apply, so email resolves to off.
      { user_id: silenced.id, in_app: false, email: 'off', push: false },
    ]);
    expect(await read('application_approved')).toEqual([
      { user_id: byDefault.id, in_app: true, email: 'unread', push: false },
      { user_id: overridden.id, in_app: true, email: 'unread', push: false },
      // Locked on in-app: the stored "off" is ignored.
      { user_id: silenced.id, in_app: true, email: 'unread', push: false },
    ]);
    await prefs.patchDefaults({ types: { announcement: { email: 'off' }, application_approved: { email: 'off' } } });
  });

  test('an unknown user is a 404', async () => {
    await expect(prefs.get(99_999_999)).rejects.toMatchObject({ status: 404 });
    await expect(prefs.patch(99_999_999, { digest_hour: 3 })).rejects.toMatchObject({ status: 404 });
  });
});
