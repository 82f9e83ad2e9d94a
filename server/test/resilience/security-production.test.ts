/**
 * Cookie flags in production behind a TLS-terminating proxy (NODE_ENV=production, TRUST_PROXY=true). A file of its
 * own: the harness binds the Sequelize models to one context per file.
 */
import { createTestContext, listen, PASSWORD, type TestContext } from '../support/harness';
import { record } from './support/stats';

let ctx: TestContext;
let server: Awaited<ReturnType<typeof listen>>;

beforeAll(async () => {
  ctx = await createTestContext({ env: { NODE_ENV: 'production', TRUST_PROXY: 'true' } });
  server = await listen(ctx.app);
});
afterAll(async () => {
  record('inputs', 'security probes', 4);
  server.server.closeAllConnections();
  await new Promise((r) => server.server.close(r));
  await ctx.close();
});

test('session and XSRF cookies are HttpOnly (session), Secure and SameSite=Lax, before and after login', async () => {
  const { url } = server;
  const user = await ctx.createUser('candidate');
  const https = { 'x-forwarded-proto': 'https' };
  const a = await fetch(`${url}/api/auth/csrf`, { headers: https });
  const cookies = a.headers.getSetCookie();
  // Before login no session exists (issue 10.8): the anonymous CSRF token is bound to its own cookie instead.
  expect(cookies.some((c) => c.startsWith('herald.sid='))).toBe(false);
  const anon = cookies.find((c) => c.startsWith('herald.csrf='))!;
  expect(anon).toMatch(/; HttpOnly/i);
  expect(anon).toMatch(/; Secure/i);
  expect(anon).toMatch(/; SameSite=Lax/i);
  const xsrf = cookies.find((c) => c.startsWith('XSRF-TOKEN='))!;
  expect(xsrf).toMatch(/; Secure/i);
  expect(xsrf).toMatch(/; SameSite=Lax/i);

  const { csrf_token } = (await a.json()) as { csrf_token: string };
  const cookie = cookies.map((c) => c.split(';')[0]).join('; ');
  const b = await fetch(`${url}/api/auth/login`, {
    method: 'POST',
    headers: { ...https, 'content-type': 'application/json', 'x-csrf-token': csrf_token, cookie, origin: `https://${new URL(url).host}` },
    body: JSON.stringify({ email: user.email, password: PASSWORD }),
  });
  expect(b.status).toBe(200);
  const loggedIn = b.headers.getSetCookie().find((c) => c.startsWith('herald.sid='))!;
  expect(loggedIn).toMatch(/; HttpOnly/i);
  expect(loggedIn).toMatch(/; Secure/i);
  expect(loggedIn).toMatch(/; SameSite=Lax/i);

  // Over plain http in production no session cookie is handed out at all, and an http Origin is foreign.
  const plain = await fetch(`${url}/api/auth/csrf`);
  expect(plain.headers.getSetCookie().some((c) => c.startsWith('herald.sid='))).toBe(false);
});
