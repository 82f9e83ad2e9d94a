import { QueryTypes } from 'sequelize';
import { noVisibleTab } from '../../../channels/push';
import type { User } from '../../../models';
import { createTestContext, type TestContext } from '../../support/harness';
import { sleep, startServer } from '../../support/realtime';

/**
 * "No visible tab" for the push decision: sockets report their tab's visibility, the realtime layer records who
 * has a visible tab per process, and the set-based condition reads it. Real sockets, real PostgreSQL.
 */
let ctx: TestContext;
let srv: Awaited<ReturnType<typeof startServer>>;

beforeAll(async () => {
  ctx = await createTestContext();
  srv = await startServer(ctx);
});
afterAll(async () => {
  await srv.close();
  await ctx.close();
});

/** Which of these users the push decision would reach now. */
async function wouldPush(users: User[]): Promise<number[]> {
  const rows = await ctx.sequelize.query<{ id: number }>(
    `SELECT u.id FROM users u WHERE u.id IN (:ids) AND ${noVisibleTab('u.id')} ORDER BY u.id`,
    { replacements: { ids: users.map((u) => u.id) }, type: QueryTypes.SELECT },
  );
  return rows.map((r) => r.id);
}

async function until(check: () => Promise<boolean>) {
  for (let i = 0; i < 100; i++) {
    if (await check()) return;
    await sleep(20);
  }
  throw new Error('condition not reached');
}

test('a socket counts as visible only once it said so; hidden again, or closed, it no longer does', async () => {
  const [ana, ben] = [await ctx.createUser('candidate'), await ctx.createUser('candidate')];
  const a1 = await srv.tabOf(ana);
  const a2 = await srv.tabOf(ana);
  await srv.tabOf(ben);
  expect(await wouldPush([ana, ben])).toEqual([ana.id, ben.id]); // connected, silent: not visible

  a1.send({ type: 'visibility', visible: true });
  await until(async () => (await wouldPush([ana, ben])).length === 1);
  expect(await wouldPush([ana, ben])).toEqual([ben.id]);

  a2.send({ type: 'visibility', visible: true });
  a1.send({ type: 'visibility', visible: false });
  await sleep(100);
  expect(await wouldPush([ana])).toEqual([]); // the second tab is still on screen

  a2.close();
  await until(async () => (await wouldPush([ana])).length === 1);
});

test('a malformed visibility frame is an error and changes nothing', async () => {
  const cy = await ctx.createUser('candidate');
  const c = await srv.tabOf(cy);
  c.send({ type: 'visibility', visible: 'yes' });
  expect(await c.type('error')).toMatchObject({ code: 'invalid_message' });
  expect(await wouldPush([cy])).toEqual([cy.id]);
});

test('a visible tab on a process that stopped reporting presence no longer counts', async () => {
  const dee = await ctx.createUser('candidate');
  await ctx.sequelize.query(
    `INSERT INTO realtime_presence (instance_id, sockets, updated_at) VALUES ('dead-process', 1, now() - interval '1 minute');
     INSERT INTO realtime_visible (user_id, instance_id) VALUES (${dee.id}, 'dead-process')`,
  );
  expect(await wouldPush([dee])).toEqual([dee.id]);
  await ctx.sequelize.query(`UPDATE realtime_presence SET updated_at = now() WHERE instance_id = 'dead-process'`);
  expect(await wouldPush([dee])).toEqual([]);
});
