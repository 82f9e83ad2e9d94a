import http from 'node:http';
import { QueryTypes, type Sequelize } from 'sequelize';
import type { Role, User } from '../../../models';
import type { TestContext } from '../../support/harness';
import { login } from '../../support/realtime';

/** A logged-in (or anonymous) HTTP client as a browser would hold it: cookie header and CSRF token. */
export interface Caller {
  name: Role | 'anonymous';
  user?: User;
  cookie: string;
  csrf: string;
}

/**
 * A small world for the fuzz and security suites: the three roles, a victim candidate and a second instructor
 * whose rows nobody else may touch, courses, applications and notifications on both sides.
 */
export interface World {
  users: Record<Role | 'victim' | 'instructor2', User>;
  courses: { own: number; foreign: number };
  applications: { victimOwn: number; candidateForeign: number };
  notifications: { candidate: number[]; victim: number[] };
  /** A send (its broadcast id) of each instructor's, each to themselves: only its sender (or an admin) may see it. */
  sends: { own: string; foreign: string };
}

export async function buildWorld(ctx: TestContext): Promise<World> {
  const users = {
    candidate: await ctx.createUser('candidate'),
    instructor: await ctx.createUser('instructor'),
    admin: await ctx.createUser('admin'),
    victim: await ctx.createUser('candidate'),
    instructor2: await ctx.createUser('instructor'),
  };
  const own = await ctx.models.Course.create({ title: 'Own course', instructorId: users.instructor.id });
  const foreign = await ctx.models.Course.create({ title: 'Foreign course', instructorId: users.instructor2.id });
  await ctx.models.Enrollment.create({ courseId: own.id, studentId: users.candidate.id });
  await ctx.models.Enrollment.create({ courseId: own.id, studentId: users.victim.id });
  await ctx.models.Enrollment.create({ courseId: foreign.id, studentId: users.victim.id });
  const victimOwn = await ctx.models.Application.create({ courseId: own.id, candidateId: users.victim.id });
  const candidateForeign = await ctx.models.Application.create({ courseId: foreign.id, candidateId: users.candidate.id });
  const notes = async (u: User, n: number) => {
    const rows = await ctx.sequelize.query<{ id: string }>(
      `INSERT INTO notifications (recipient_id, sender_id, type, title, message)
       SELECT :u, :s, 'message', 'Note ' || g, 'Body ' || g FROM generate_series(1, :n) g RETURNING id`,
      { replacements: { u: u.id, s: users.instructor.id, n }, type: QueryTypes.SELECT },
    );
    return rows.map((r) => Number(r.id));
  };
  const send = async (sender: User) =>
    (
      await ctx.services.notifications.fanOut(
        { kind: 'user', userId: sender.id },
        { type: 'message', title: 'A send', message: 'to myself', senderId: sender.id, courseId: null },
      )
    ).batchId;
  return {
    users,
    sends: { own: await send(users.instructor), foreign: await send(users.instructor2) },
    courses: { own: own.id, foreign: foreign.id },
    applications: { victimOwn: victimOwn.id, candidateForeign: candidateForeign.id },
    notifications: { candidate: await notes(users.candidate, 6), victim: await notes(users.victim, 4) },
  };
}

export async function callerFor(baseUrl: string, name: Caller['name'], user?: User): Promise<Caller> {
  if (user) return { name, user, ...(await login(baseUrl, user)) };
  const res = await fetch(`${baseUrl}/api/auth/csrf`);
  const cookie = res.headers.getSetCookie().map((c) => c.split(';')[0]).join('; ');
  const { csrf_token } = (await res.json()) as { csrf_token: string };
  return { name, cookie, csrf: csrf_token };
}

/** Tables whose rows are the product's data. Sessions, rate-limit counters and presence change on their own. */
const VOLATILE = new Set(['session', 'rate_limits', 'login_throttle', 'realtime_presence', 'SequelizeMeta']);

/**
 * Digests of the data: `all` covers every product table; `protected` covers what no non-admin fuzz caller may
 * ever change: the victim's existing notifications (new ones may legitimately arrive, e.g. an approval), every
 * user row, and the second instructor's course with its enrollments and applications.
 */
export async function digester(sequelize: Sequelize, world: World) {
  const tables = (
    await sequelize.query<{ t: string }>(
      "SELECT table_name AS t FROM information_schema.tables WHERE table_schema = 'public' AND table_type = 'BASE TABLE'",
      { type: QueryTypes.SELECT },
    )
  )
    .map((r) => r.t)
    .filter((t) => !VOLATILE.has(t))
    .sort();
  const all = tables.map((t) => `SELECT '${t}:' || md5(coalesce(string_agg(x::text, ',' ORDER BY x::text), '')) FROM "${t}" x`).join(' UNION ALL ');
  const sql = `
    SELECT (SELECT md5(string_agg(d, '|' ORDER BY d)) FROM (${all}) AS s(d)) AS all,
           md5(concat_ws('|',
             (SELECT string_agg(n::text, ',' ORDER BY n.id) FROM notifications n WHERE n.id IN (:victimNotes)),
             (SELECT string_agg(u::text, ',' ORDER BY u.id) FROM users u),
             (SELECT string_agg(c::text, ',' ORDER BY c.id) FROM courses c WHERE c.id = :foreign),
             (SELECT string_agg(e::text, ',' ORDER BY e.student_id) FROM enrollments e WHERE e.course_id = :foreign),
             (SELECT string_agg(a::text, ',' ORDER BY a.id) FROM applications a WHERE a.course_id = :foreign))) AS protected`;
  return async (): Promise<{ all: string; protected: string }> => {
    const [row] = await sequelize.query<{ all: string; protected: string }>(sql, {
      replacements: { victimNotes: world.notifications.victim, foreign: world.courses.foreign },
      type: QueryTypes.SELECT,
    });
    return row;
  };
}

export interface RawResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

const keepAlive = new http.Agent({ keepAlive: true, maxSockets: 4 });

/**
 * One HTTP request with exactly these bytes: raw paths (invalid percent-encoding included), raw body buffers
 * (invalid UTF-8 included). A connection the server resets answers status 0 instead of throwing.
 */
export function rawRequest(
  baseUrl: string,
  opts: { method: string; path: string; headers?: Record<string, string>; body?: Buffer },
): Promise<RawResponse> {
  const u = new URL(baseUrl);
  return new Promise((resolve) => {
    const req = http.request(
      {
        host: u.hostname,
        port: u.port,
        method: opts.method,
        path: opts.path,
        headers: { ...opts.headers, ...(opts.body ? { 'content-length': String(opts.body.length) } : {}) },
        agent: keepAlive,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', () => resolve({ status: 0, headers: {}, body: '' }));
      },
    );
    req.on('error', () => resolve({ status: 0, headers: {}, body: '' }));
    req.end(opts.body);
  });
}

export function closeKeepAlive() {
  keepAlive.destroy();
}
