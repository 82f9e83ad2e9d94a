/**
 * The security suite, part two, against the real app on a real port: WebSocket Origin and logout, IDOR on every
 * object route, role escalation. Every refused request must also leave the data exactly as it was. The other
 * parts: security-*.test.ts.
 */
import { PASSWORD } from '../support/harness';
import { Client, wsUrl } from '../support/realtime';
import { callerFor } from './support/world';
import { server, world, doc, as, call, unchanged, fill, JSON_TYPE, SOME_BODY, countProbes, useSecurityTarget } from './support/security';

useSecurityTarget();

describe('WebSockets', () => {
  test('a foreign, null or missing Origin gets no socket, even with a valid session', async () => {
    for (const path of ['/ws/notifications', '/ws/bell']) {
      for (const origin of ['http://evil.example', 'null', null, `${server.url}.evil.example`]) {
        const c = new Client(wsUrl(server.url, path), { cookie: as.candidate.cookie, origin });
        expect(await c.refused).toBe(403);
        c.close();
        countProbes(1);
      }
    }
  });

  test('logout closes the open sockets of that session (4401), and its cookie opens no new one', async () => {
    const me = await callerFor(server.url, 'candidate', world.users.victim);
    const json = new Client(wsUrl(server.url, '/ws/notifications'), { cookie: me.cookie });
    const bell = new Client(wsUrl(server.url, '/ws/bell'), { cookie: me.cookie });
    await json.type('connection_established');
    await bell.next(() => true);
    expect((await call('POST', '/api/auth/logout', { who: me, body: '{}', type: JSON_TYPE })).status).toBe(204);
    expect((await json.closed).code).toBe(4401);
    expect((await bell.closed).code).toBe(4401);
    const again = new Client(wsUrl(server.url, '/ws/notifications'), { cookie: me.cookie });
    expect((await again.closed).code).toBe(4401);
    expect(again.frames).toEqual([]);
  });
});

describe('IDOR', () => {
  test('every object route answers 404 for another user’s object, and changes nothing', async () => {
    const objectOps = Object.entries(doc.paths).flatMap(([p, ops]) =>
      p.includes('{') && !p.startsWith('/admin') ? Object.keys(ops).map((m) => ({ method: m.toUpperCase(), path: p })) : [],
    );
    expect(objectOps.length).toBeGreaterThan(10);
    let tried = 0;
    await unchanged(async () => {
      for (const op of objectOps) {
        const collection = op.path.split('/')[1];
        // The candidate reaches for the victim's notifications and applications; the instructor for the other
        // instructor's applications and course.
        const who = collection === 'notifications' ? as.candidate : as.instructor;
        if (collection === 'courses' && op.method === 'GET') continue; // the catalogue is public by design
        if (collection === 'courses' && op.path.endsWith('/applications')) continue; // applying is open to candidates
        const path = `/api${fill(op.path, 'victim')}`;
        const res = await call(op.method, path, { who, body: op.method === 'GET' || op.method === 'DELETE' ? undefined : SOME_BODY, type: op.method === 'GET' || op.method === 'DELETE' ? undefined : JSON_TYPE });
        if (res.status !== 404) throw new Error(`${who.name} ${op.method} ${path} answered ${res.status}: ${res.text.slice(0, 200)}`);
        tried += 1;
      }
      // The same on the pages.
      for (const [who, path] of [
        [as.candidate, `/notifications/${world.notifications.victim[0]}/read`],
        [as.candidate, `/notifications/${world.notifications.victim[0]}/open`],
        [as.instructor, `/instructor/applications/${world.applications.candidateForeign}/approve`],
        [as.instructor, `/instructor/applications/${world.applications.candidateForeign}/reject`],
        [as.instructor, `/courses/${world.courses.foreign}/notify`],
      ] as const) {
        const res = await call('POST', path, { who, csrf: null, body: `_csrf=${encodeURIComponent(who.csrf)}&reason=r&title=t&message=m&notification_type=message`, type: 'application/x-www-form-urlencoded' });
        if (res.status !== 404) throw new Error(`${who.name} POST ${path} answered ${res.status}`);
        tried += 1;
      }
      // A WebSocket mark_as_read of someone else's notification.
      const c = new Client(wsUrl(server.url, '/ws/notifications'), { cookie: as.candidate.cookie });
      await c.type('connection_established');
      c.send({ type: 'mark_as_read', id: world.notifications.victim[0] });
      expect((await c.type('error')).code).toBe('not_found');
      c.close();
    });
    expect(tried).toBeGreaterThan(10);
  });
});

describe('roles', () => {
  test('a candidate gets 403 on every instructor or admin route; an instructor on every admin route', async () => {
    const ops = Object.entries(doc.paths).flatMap(([p, ops]) =>
      Object.entries(ops).map(([m, op]) => ({ method: m.toUpperCase(), path: p, roles: /Roles: ([^.]+)\./.exec(op.description ?? '')?.[1] })),
    );
    let tried = 0;
    await unchanged(async () => {
      for (const op of ops) {
        if (!op.roles) continue;
        for (const who of [as.candidate, as.instructor]) {
          if (op.roles.split(', ').includes(who.name)) continue;
          const path = `/api${fill(op.path, 'own')}`;
          const body = op.method === 'GET' || op.method === 'DELETE' ? undefined : JSON.stringify({ role: 'admin', is_active: true, title: 't', message: 'm', notification_type: 'message', audience: { kind: 'all' }, ids: [1], student_id: world.users.candidate.id });
          const res = await call(op.method, path, { who, body, type: body ? JSON_TYPE : undefined });
          if (res.status !== 403) throw new Error(`${who.name} ${op.method} ${path} answered ${res.status}`);
          tried += 1;
        }
      }
      for (const path of ['/instructor', '/instructor/applications']) {
        expect((await call('GET', path, { who: as.candidate })).status).toBe(403);
      }
    });
    expect(tried).toBeGreaterThan(10);
  });

  test('nobody changes their own role: not through the admin API, the login body or any unknown route', async () => {
    await unchanged(async () => {
      const self = world.users.candidate.id;
      expect((await call('PATCH', `/api/admin/users/${self}`, { who: as.candidate, body: '{"role":"admin"}', type: JSON_TYPE })).status).toBe(403);
      for (const path of ['/api/auth/me', `/api/users/${self}`, '/api/me']) {
        for (const method of ['PATCH', 'POST', 'PUT']) {
          const res = await call(method, path, { who: as.candidate, body: '{"role":"admin"}', type: JSON_TYPE });
          expect([404, 405]).toContain(res.status);
        }
      }
      // An admin cannot demote or deactivate themselves either (the last admin would lock everyone out).
      const demote = await call('PATCH', `/api/admin/users/${world.users.admin.id}`, { who: as.admin, body: '{"role":"candidate"}', type: JSON_TYPE });
      expect(demote.status).toBe(409);
    });
    // Extra fields on login are ignored: the role stays the stored one.
    const anon = await callerFor(server.url, 'anonymous');
    const res = await call('POST', '/api/auth/login', { who: anon, body: JSON.stringify({ email: world.users.candidate.email, password: PASSWORD, role: 'admin', is_admin: true }), type: JSON_TYPE });
    expect([200, 400]).toContain(res.status);
    if (res.status === 200) expect(res.json?.user.role).toBe('candidate');
    await world.users.candidate.reload();
    expect(world.users.candidate.role).toBe('candidate');
  });
});

