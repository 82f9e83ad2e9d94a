/** /ws/notifications with an access token on the upgrade (clients that are not browsers), and its revocation. */
import type { User } from '../../models';
import { createTestContext, type TestContext } from '../support/harness';
import { Client, startServer, wsUrl } from '../support/realtime';

let ctx: TestContext;
let srv: Awaited<ReturnType<typeof startServer>>;
const clients: Client[] = [];

beforeAll(async () => {
  ctx = await createTestContext();
  srv = await startServer(ctx, { sessionCheckMs: 200 });
});
afterAll(async () => {
  for (const c of clients) c.close();
  await srv.close();
  await ctx.close();
});

function connect(token: string | undefined, opts: { origin?: string | null } = {}) {
  const c = new Client(wsUrl(srv.url, '/ws/notifications'), { origin: opts.origin ?? null, headers: token ? { authorization: `Bearer ${token}` } : {} });
  clients.push(c);
  return c;
}

async function tokenFor(user: User, scopes: Parameters<TestContext['services']['tokens']['create']>[1]['scopes']) {
  return ctx.services.tokens.create(user, { name: 'bot', scopes, expiresInDays: null });
}

const notify = (user: User, title: string) =>
  ctx.notify({ recipientId: user.id, type: 'message', title, message: 'body' });

test('a token with notifications:read gets the JSON protocol without a cookie or an Origin', async () => {
  const user = await ctx.createUser('candidate');
  const { token } = await tokenFor(user, ['notifications:read']);
  const c = connect(token);
  expect(await c.refused).toBeNull();
  await c.next((f) => f.json?.type === 'connection_established');
  await notify(user, 'for the bot');
  const frame = await c.next((f) => f.json?.type === 'notification');
  expect((frame.json?.notification as { title: string }).title).toBe('for the bot');
});

test('an invalid token, or one without notifications:read, is closed with 4401', async () => {
  const user = await ctx.createUser('candidate');
  const { token } = await tokenFor(user, ['applications:read']);
  for (const t of [token, 'hrld_unknown']) {
    const c = connect(t);
    expect((await c.closed).code).toBe(4401);
    expect(c.frames).toEqual([]);
  }
});

test('revoking the token closes its sockets (4401), and only those', async () => {
  const user = await ctx.createUser('candidate');
  const a = await tokenFor(user, ['notifications:read']);
  const b = await tokenFor(user, ['notifications:read']);
  const first = connect(a.token);
  const second = connect(a.token);
  const other = connect(b.token);
  for (const c of [first, second, other]) await c.next((f) => f.json?.type === 'connection_established');
  await ctx.services.tokens.revoke(a.id, user.id);
  expect((await first.closed).code).toBe(4401);
  expect((await second.closed).code).toBe(4401);
  await notify(user, 'still here');
  await other.next((f) => f.json?.type === 'notification');
});

test('a token that expires while its socket is open is closed by the periodic check, not left open', async () => {
  const user = await ctx.createUser('candidate');
  const { id, token } = await ctx.services.tokens.create(user, { name: 'x', scopes: ['notifications:read'], expiresInDays: 1 });
  const c = connect(token);
  await c.next((f) => f.json?.type === 'connection_established');
  await ctx.sequelize.query("UPDATE api_tokens SET expires_at = now() - interval '1 second' WHERE id = :id", { replacements: { id } });
  expect((await c.closed).code).toBe(4401);
});

test('the periodic session check leaves live token sockets open', async () => {
  const user = await ctx.createUser('candidate');
  const { token } = await tokenFor(user, ['notifications:read']);
  const c = connect(token);
  await c.next((f) => f.json?.type === 'connection_established');
  await new Promise((r) => setTimeout(r, 600)); // three checks
  await notify(user, 'after the checks');
  await c.next((f) => f.json?.type === 'notification');
});
