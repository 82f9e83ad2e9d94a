import { createTestContext, PASSWORD, type TestContext } from '../support/harness';

let ctx: TestContext;
beforeAll(async () => {
  ctx = await createTestContext();
});
afterAll(() => ctx.close());

test('logging in over another user’s session ends that session (and so closes its sockets)', async () => {
  const first = await ctx.createUser('candidate');
  const second = await ctx.createUser('candidate');
  const agent = await ctx.login(first);
  const [firstSid] = (await ctx.sequelize.query(`SELECT sid FROM session WHERE (sess ->> 'userId')::int = ${first.id}`))[0] as Array<{ sid: string }>;
  ctx.published.length = 0;

  const res = await agent.post('/api/auth/login', { email: second.email, password: PASSWORD }).expect(200);
  expect(res.body.user.id).toBe(second.id);
  expect(ctx.published).toContainEqual({ type: 'session.ended', sessionIds: [firstSid.sid] });
  const [rows] = await ctx.sequelize.query(`SELECT 1 FROM session WHERE sid = '${firstSid.sid}'`);
  expect(rows).toHaveLength(0);
});

test('a burst of parallel wrong passwords gets no more guesses than the limit', async () => {
  const victim = await ctx.createUser('candidate');
  const anon = await ctx.anonymous();
  const attempts = await Promise.all(
    Array.from({ length: 15 }, () => anon.post('/api/auth/login', { email: victim.email, password: 'wrong-guess' })),
  );
  const statuses = attempts.map((r) => r.status);
  // Five failures per account per window; every attempt past them is refused before any password check.
  expect(statuses.filter((s) => s === 401)).toHaveLength(5);
  expect(statuses.filter((s) => s === 429)).toHaveLength(10);
  // Even the right password is refused while the account is locked.
  await anon.post('/api/auth/login', { email: victim.email, password: PASSWORD }).expect(429);
});
