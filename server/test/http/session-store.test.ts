import { QueryTypes } from 'sequelize';
import { createTestContext, type TestContext } from '../support/harness';

let ctx: TestContext;
beforeAll(async () => {
  ctx = await createTestContext();
});
afterAll(() => ctx.close());

/** The stored expiry of every session of this user, in ms from now. */
async function ttls(userId: number): Promise<number[]> {
  const rows = await ctx.sequelize.query<{ ttl: string }>(
    `SELECT extract(epoch FROM expire - localtimestamp) * 1000 AS ttl FROM session WHERE (sess ->> 'userId')::integer = :userId`,
    { replacements: { userId }, type: QueryTypes.SELECT },
  );
  return rows.map((r) => Number(r.ttl));
}

test('GETs rewrite the stored expiry at most once a minute, and keep the idle timeout', async () => {
  const user = await ctx.createUser('candidate');
  const agent = await ctx.login(user);
  const idle = ctx.config.sessionIdleMs;
  await ctx.sequelize.query(
    `UPDATE session SET expire = localtimestamp + make_interval(secs => :secs) WHERE (sess ->> 'userId')::integer = :userId`,
    { replacements: { secs: (idle - 30_000) / 1000, userId: user.id } },
  );
  // Written 30 s ago: within the minute, so a GET leaves the row alone.
  await agent.get('/api/notifications/unread_count').expect(200);
  let [ttl] = await ttls(user.id);
  expect(Math.abs(ttl - (idle - 30_000))).toBeLessThan(5_000);

  // Written 90 s ago: the next GET rolls it forward to a full idle timeout.
  await ctx.sequelize.query(
    `UPDATE session SET expire = localtimestamp + make_interval(secs => :secs) WHERE (sess ->> 'userId')::integer = :userId`,
    { replacements: { secs: (idle - 90_000) / 1000, userId: user.id } },
  );
  await agent.get('/api/notifications/unread_count').expect(200);
  [ttl] = await ttls(user.id);
  expect(Math.abs(ttl - idle)).toBeLessThan(5_000);

  // An expired row is gone for good: no touch brings it back.
  await ctx.sequelize.query(`UPDATE session SET expire = localtimestamp - interval '1 second' WHERE (sess ->> 'userId')::integer = :userId`, {
    replacements: { userId: user.id },
  });
  await agent.get('/api/notifications/unread_count').expect(401);
});
