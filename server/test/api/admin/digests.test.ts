import request from 'supertest';
import { DIGEST_TASK } from '../../../channels/email';
import type { User } from '../../../models';
import { createApiContext, type ApiContext } from '../../support/api';
import type { Agent } from '../../support/harness';

/** POST /api/admin/digests/run: the admin's "send the digests now" (the job itself is tested in channels/email/digest.test.ts). */
describe('POST /api/admin/digests/run', () => {
  let ctx: ApiContext;
  let admin: Agent;

  beforeAll(async () => {
    ctx = await createApiContext();
    admin = await ctx.loginChecked(await ctx.createUser('admin'));
  });
  afterAll(() => ctx.close());

  const queued = async () => {
    const [rows] = (await ctx.sequelize.query('SELECT id::text, key, queue_name FROM graphile_worker.jobs WHERE task_identifier = :t', {
      replacements: { t: DIGEST_TASK },
    })) as [Array<{ id: string; key: string; queue_name: string }>, unknown];
    return rows;
  };

  async function digestUserWithNews(): Promise<User> {
    const u = await ctx.createUser('candidate');
    await ctx.services.preferences.patch(u.id, { types: { announcement: { email: 'digest' } } });
    await ctx.sequelize.query(`INSERT INTO notifications (recipient_id, type, title) VALUES (:u, 'announcement', 'News')`, {
      replacements: { u: u.id },
    });
    return u;
  }

  test('admins only', async () => {
    await request(ctx.app).post('/api/admin/digests/run').expect(403); // no CSRF token either
    const anon = ctx.contract.wrap(await ctx.anonymous());
    expect((await anon.post('/api/admin/digests/run').expect(401)).body.error.code).toBe('unauthorized');
    for (const role of ['candidate', 'instructor'] as const) {
      const agent = (await ctx.party(role)).agent;
      await agent.post('/api/admin/digests/run').expect(403);
    }
    expect(await queued()).toEqual([]);
  });

  test('nobody with anything to digest: nothing queued', async () => {
    const u = await ctx.createUser('candidate');
    await ctx.services.preferences.patch(u.id, { types: { announcement: { email: 'digest' } } });
    const res = await admin.post('/api/admin/digests/run').expect(200);
    expect(res.body).toEqual({ users: 0, job_id: null });
    expect(await queued()).toEqual([]);
  });

  test('counts the users and queues one run in the digest queue; a repeat neither doubles it nor re-counts', async () => {
    await digestUserWithNews();
    await digestUserWithNews();
    const first = await admin.post('/api/admin/digests/run').set('Idempotency-Key', 'digest-now-1').expect(200);
    expect(first.body).toEqual({ users: 2, job_id: expect.stringMatching(/^\d+$/) });
    const replay = await admin.post('/api/admin/digests/run').set('Idempotency-Key', 'digest-now-1').expect(200);
    expect(replay.headers['idempotent-replayed']).toBe('true');
    expect(replay.body).toEqual(first.body);
    // Another click without a key while the run still waits: the job key keeps it one run.
    await admin.post('/api/admin/digests/run').expect(200);
    const jobs = await queued();
    expect(jobs).toHaveLength(1);
    expect(jobs[0]).toMatchObject({ key: `${DIGEST_TASK}:run`, queue_name: DIGEST_TASK });
  });
});
