import { createTestContext, type TestContext } from '../../support/harness';
import { startServer } from '../../support/realtime';
import { buildWorld, callerFor, digester, type Caller, type World } from './world';
import { record } from './stats';

/* eslint-disable @typescript-eslint/no-explicit-any */
export type Json = Record<string, any>;

/*
 * The security files' shared target: the real app on a real port over a world of users and rows, a logged-in caller
 * per role and a victim. Jest loads this module afresh for each test file, so each file that calls
 * `useSecurityTarget()` has a target of its own; the bindings below are set by its beforeAll.
 */
export let ctx: TestContext;
export let server: Awaited<ReturnType<typeof startServer>>;
export let world: World;
export let doc: { paths: Record<string, Record<string, Json>> };
let digest: () => Promise<{ all: string; protected: string }>;
export const as = {} as Record<'anonymous' | 'candidate' | 'instructor' | 'admin' | 'victim', Caller>;
let checks = 0;

/** Registers the beforeAll that starts the target and the afterAll that records the probes and stops it. */
export function useSecurityTarget(): void {
  beforeAll(async () => {
    // Hundreds of refused requests per caller within a minute: the API's rate limit (tested in api/rate-limit.test.ts)
    // would answer 429 before the CSRF, IDOR and role checks this suite is about.
    ctx = await createTestContext({ env: { API_RATE_LIMIT_PER_MINUTE: '100000000' } });
    server = await startServer(ctx);
    world = await buildWorld(ctx);
    as.anonymous = await callerFor(server.url, 'anonymous');
    for (const role of ['candidate', 'instructor', 'admin'] as const) as[role] = await callerFor(server.url, role, world.users[role]);
    as.victim = await callerFor(server.url, 'candidate', world.users.victim);
    digest = await digester(ctx.sequelize, world);
    doc = await (await fetch(`${server.url}/api/openapi.json`)).json();
  }, 60_000);

  afterAll(async () => {
    record('inputs', 'security probes', checks);
    await server?.close();
    await ctx?.close();
  });
}

/** Probes made other than through `call` (sockets, rendered pages), for the suite's count. */
export function countProbes(n: number): void {
  checks += n;
}

export interface Res {
  status: number;
  headers: Headers;
  text: string;
  json?: Json;
}

/** One request as a browser (or an attacker) would send it. No redirects are followed. */
export async function call(
  method: string,
  path: string,
  opts: { who?: Caller; csrf?: string | null; body?: string; type?: string; origin?: string; headers?: Record<string, string> } = {},
): Promise<Res> {
  const headers: Record<string, string> = { ...opts.headers };
  if (opts.who?.cookie) headers.cookie = opts.who.cookie;
  const token = opts.csrf === undefined ? opts.who?.csrf : opts.csrf;
  if (token) headers['x-csrf-token'] = token;
  if (opts.type) headers['content-type'] = opts.type;
  if (opts.origin) headers.origin = opts.origin;
  checks += 1;
  const res = await fetch(`${server.url}${path}`, { method, headers, body: opts.body, redirect: 'manual' });
  const text = await res.text();
  let json: Json | undefined;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.status, headers: res.headers, text, json };
}

/** Runs `fn` and fails if any product data changed meanwhile. */
export async function unchanged(fn: () => Promise<void>) {
  const before = await digest();
  await fn();
  expect(await digest()).toEqual(before);
}

/** The API's state-changing operations, with ids of objects the caller could legitimately touch. */
export function mutatingApiOps(): Array<{ method: string; path: string; roles: string }> {
  const out: Array<{ method: string; path: string; roles: string }> = [];
  for (const [p, ops] of Object.entries(doc.paths)) {
    for (const [method, op] of Object.entries(ops)) {
      if (['get', 'head', 'options'].includes(method)) continue;
      const roles = /Roles: ([^.]+)\./.exec(op.description ?? '')?.[1] ?? (/No login needed/.test(op.description ?? '') ? 'anyone' : 'user');
      out.push({ method: method.toUpperCase(), path: `/api${fill(p, 'own')}`, roles });
    }
  }
  return out;
}

/** A documented path with real ids: the caller's own objects, or the victim's. */
export function fill(p: string, which: 'own' | 'victim'): string {
  const ids: Record<string, [number | string, number | string]> = {
    sends: [world.sends.own, world.sends.foreign],
    notifications: [world.notifications.candidate[0], world.notifications.victim[0]],
    applications: [world.applications.victimOwn, world.applications.candidateForeign],
    courses: [world.courses.own, world.courses.foreign],
    users: [world.users.victim.id, world.users.victim.id],
  };
  return p.replace(/\/(\w+)\/\{\w+\}/g, (_m, c: string) => `/${c}/${ids[c]?.[which === 'own' ? 0 : 1] ?? 1}`);
}

export const JSON_TYPE = 'application/json';
export const SOME_BODY = JSON.stringify({ title: 't', message: 'm', notification_type: 'message', motivation: 'I would like to join.', reason: 'r', student_id: 1, ids: [1], audience: { kind: 'all' }, email: 'a@b.c', password: 'x', action: 'done', until: new Date(Date.now() + 3_600_000).toISOString() });

