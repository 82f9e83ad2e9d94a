/**
 * The security suite, part one, against the real app on a real port: CSRF (missing, foreign, replayed, pre-login
 * tokens; text/plain and form bodies to JSON endpoints; foreign Origins), session fixation and cookie flags. Every
 * refused request must also leave the data exactly as it was. The other parts: security-*.test.ts.
 */
import { listRoutes } from '../support/contract';
import { PASSWORD } from '../support/harness';
import { login } from '../support/realtime';
import { callerFor } from './support/world';
import { ctx, server, world, as, call, unchanged, mutatingApiOps, JSON_TYPE, SOME_BODY, useSecurityTarget } from './support/security';

useSecurityTarget();

describe('CSRF', () => {
  test('every state-changing API route refuses a missing, garbage, foreign or pre-login token, and foreign Origins', async () => {
    const ops = mutatingApiOps().filter((o) => !o.path.endsWith('/logout'));
    expect(ops.length).toBeGreaterThan(10);
    // A token from before login (the anonymous session's) must be dead after login: the session id changed.
    const preLogin = await callerFor(server.url, 'anonymous');
    const relogged = { ...(await login(server.url, world.users.candidate)), name: 'candidate' as const };
    await unchanged(async () => {
      for (const op of ops) {
        const attempts: Array<[string, Parameters<typeof call>[2]]> = [
          ['missing', { who: as.admin, csrf: null }],
          ['garbage', { who: as.admin, csrf: 'A'.repeat(64) }],
          ['foreign session', { who: as.admin, csrf: as.candidate.csrf }],
          ['pre-login', { who: relogged, csrf: preLogin.csrf }],
          ['foreign origin', { who: as.admin, origin: 'http://evil.example' }],
          ['null origin', { who: as.admin, origin: 'null' }],
          ['look-alike origin', { who: as.admin, origin: `${server.url}.evil.example` }],
          ['cross-site fetch', { who: as.admin, csrf: null, headers: { 'sec-fetch-site': 'cross-site' } }],
        ];
        for (const [what, opts] of attempts) {
          const res = await call(op.method, op.path, { ...opts, body: SOME_BODY, type: JSON_TYPE });
          if (res.status !== 403) throw new Error(`${op.method} ${op.path} with a ${what} token answered ${res.status}`);
          expect(res.json?.error.code).toMatch(/^csrf_/);
        }
      }
    });
  });

  test('a token replayed after logout, or from another user, opens nothing', async () => {
    const victim = await callerFor(server.url, 'candidate', world.users.victim);
    const out = await call('POST', '/api/auth/logout', { who: victim, body: '{}', type: JSON_TYPE });
    expect(out.status).toBe(204);
    await unchanged(async () => {
      // The logged-out cookie with its old token: the session is gone, so no user and no token state.
      for (const path of ['/api/notifications/mark_all_read', `/api/notifications/${world.notifications.victim[0]}/mark_read`]) {
        const replay = await call('POST', path, { who: victim, body: '{}', type: JSON_TYPE });
        expect([401, 403]).toContain(replay.status);
        // The victim's old token on the attacker's own session.
        const cross = await call('POST', path, { who: as.candidate, csrf: victim.csrf, body: '{}', type: JSON_TYPE });
        expect(cross.status).toBe(403);
      }
    });
  });

  test('text/plain and form bodies to JSON endpoints are refused (415), even with a valid token', async () => {
    await unchanged(async () => {
      for (const op of mutatingApiOps()) {
        if (op.path.endsWith('/logout')) continue;
        for (const [type, body] of [
          ['text/plain', SOME_BODY],
          ['text/plain;charset=UTF-8', SOME_BODY],
          ['application/x-www-form-urlencoded', `_csrf=${encodeURIComponent(as.admin.csrf)}&title=t&message=m`],
          ['multipart/form-data; boundary=x', `--x\r\nContent-Disposition: form-data; name="title"\r\n\r\nt\r\n--x--\r\n`],
        ]) {
          // Both with the header token and (the forgery case) with only the form field.
          for (const csrf of [undefined, null]) {
            const res = await call(op.method, op.path, { who: as.admin, csrf, body, type });
            if (![403, 415].includes(res.status)) throw new Error(`${op.method} ${op.path} as ${type} answered ${res.status}`);
            if (csrf === undefined) expect(res.status).toBe(415);
          }
        }
      }
    });
  });

  test('every page form refuses a missing or foreign token and a foreign Origin', async () => {
    const forms = listRoutes(ctx.app as never).filter((r) => r.method === 'post' && !r.path.startsWith('/api') && r.path !== '/logout');
    expect(forms.length).toBeGreaterThan(5);
    const ids: Record<string, number> = {
      courseId: world.courses.own,
      applicationId: world.applications.victimOwn,
      notificationId: world.notifications.candidate[0],
    };
    await unchanged(async () => {
      for (const f of forms) {
        const path = f.path.replace(/\{(\w+)\}/g, (_m, k: string) => String(ids[k] ?? 1));
        const who = path.startsWith('/instructor') || path.endsWith('/notify') ? as.instructor : as.candidate;
        const fields = 'title=t&message=m&notification_type=message&motivation=I+would+like+to+join+this&reason=r&email=a%40b.c&password=x';
        for (const [what, body, origin] of [
          ['missing', fields, undefined],
          ['foreign', `${fields}&_csrf=${encodeURIComponent(as.victim.csrf)}`, undefined],
          ['foreign origin', `${fields}&_csrf=${encodeURIComponent(who.csrf)}`, 'http://evil.example'],
        ] as const) {
          const res = await call('POST', path, { who, csrf: null, body, type: 'application/x-www-form-urlencoded', origin });
          // One-click unsubscribe is exempt from CSRF by design (RFC 8058): its signed token is refused instead.
          const refused = path.startsWith('/unsubscribe/') ? 400 : 403;
          if (res.status !== refused) throw new Error(`POST ${path} with a ${what} token answered ${res.status}`);
        }
      }
    });
    // The logout form too: without a token the session survives.
    const res = await call('POST', '/logout', { who: as.candidate, csrf: null, body: '', type: 'application/x-www-form-urlencoded' });
    expect(res.status).toBe(403);
    expect((await call('GET', '/api/auth/me', { who: as.candidate })).status).toBe(200);
  });
});

describe('sessions', () => {
  test('login issues a new session id; the pre-login id is worthless afterwards (API and page login)', async () => {
    for (const via of ['api', 'page'] as const) {
      const anon = await callerFor(server.url, 'anonymous');
      const before = sid(anon.cookie);
      const res =
        via === 'api'
          ? await call('POST', '/api/auth/login', { who: anon, body: JSON.stringify({ email: world.users.victim.email, password: PASSWORD }), type: JSON_TYPE })
          : await call('POST', '/login', {
              who: anon,
              csrf: null,
              body: `email=${encodeURIComponent(world.users.victim.email)}&password=${encodeURIComponent(PASSWORD)}&_csrf=${encodeURIComponent(anon.csrf)}`,
              type: 'application/x-www-form-urlencoded',
            });
      expect([200, 303]).toContain(res.status);
      const after = sid(res.headers.getSetCookie().join('; '));
      expect(after).toBeTruthy();
      expect(after).not.toBe(before);
      // The fixated (pre-login) cookie does not carry the login.
      expect((await call('GET', '/api/auth/me', { who: anon })).status).toBe(401);
      expect((await call('GET', '/api/auth/me', { headers: { cookie: `herald.sid=${after}` } })).status).toBe(200);
    }
  });

  test('cookie flags in development: HttpOnly and SameSite=Lax, not Secure (production: security-production.test.ts)', async () => {
    // No session before login (issue 10.8): the anonymous token's cookie, then the session cookie login sets.
    const dev = await fetch(`${server.url}/api/auth/csrf`);
    const anon = dev.headers.getSetCookie().find((c) => c.startsWith('herald.csrf='))!;
    expect(anon).toMatch(/; HttpOnly/i);
    expect(anon).toMatch(/; SameSite=Lax/i);
    expect(anon).not.toMatch(/; Secure/i);
    const { csrf_token } = (await dev.json()) as { csrf_token: string };
    const user = await ctx.createUser('candidate');
    const loggedIn = await fetch(`${server.url}/api/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-csrf-token': csrf_token, cookie: anon.split(';')[0], origin: server.url },
      body: JSON.stringify({ email: user.email, password: PASSWORD }),
    });
    expect(loggedIn.status).toBe(200);
    const devSid = loggedIn.headers.getSetCookie().find((c) => c.startsWith('herald.sid='))!;
    expect(devSid).toMatch(/; HttpOnly/i);
    expect(devSid).toMatch(/; SameSite=Lax/i);
    expect(devSid).not.toMatch(/; Secure/i);
  });
});

function sid(cookieHeader: string): string | undefined {
  return /herald\.sid=([^;,\s]+)/.exec(cookieHeader)?.[1];
}
