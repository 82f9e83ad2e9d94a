import fc from 'fast-check';
import { createTestContext, type TestContext } from '../../support/harness';
import { startServer } from '../../support/realtime';
import { buildWorld, callerFor, closeKeepAlive, digester, type Caller, type World } from './world';

/** FUZZ_RUNS scales the generated inputs (default 2500 HTTP requests; frames are 2/5 of that). FUZZ_SEED replays a run. */
export const RUNS = Number(process.env.FUZZ_RUNS ?? 2500);
export const SEED = process.env.FUZZ_SEED ? Number(process.env.FUZZ_SEED) : undefined;

/*
 * What the fuzz files aim at: a live server over a world of users and rows, a logged-in caller per role. Jest loads
 * this module afresh for each test file, so each file that calls `useFuzzTarget()` has a target of its own; the
 * bindings below are set by its beforeAll.
 */
export let ctx: TestContext;
export let server: Awaited<ReturnType<typeof startServer>>;
export let world: World;
/** anonymous, candidate, instructor, admin, in that order. */
export let callers: Caller[];
/** Digests of every product table (`all`) and of the rows no non-admin caller may change (`protected`). */
export let digest: () => Promise<{ all: string; protected: string }>;

/** Registers the beforeAll that starts the target and the afterAll that stops it. */
export function useFuzzTarget(): void {
  beforeAll(async () => {
    // The rate caps (the socket's, the API's per session) would refuse long before thousands of inputs; the fuzz is
    // about parsing, not flooding.
    ctx = await createTestContext({ env: { API_RATE_LIMIT_PER_MINUTE: '100000000' } });
    server = await startServer(ctx, { limits: { rateBurst: 1e9, ratePerSecond: 1e9 } });
    world = await buildWorld(ctx);
    callers = [
      await callerFor(server.url, 'anonymous'),
      await callerFor(server.url, 'candidate', world.users.candidate),
      await callerFor(server.url, 'instructor', world.users.instructor),
      await callerFor(server.url, 'admin', world.users.admin),
    ];
    digest = await digester(ctx.sequelize, world);
  }, 60_000);

  afterAll(async () => {
    closeKeepAlive();
    await server?.close();
    await ctx?.close();
  });
}

// --- generators shared by the HTTP bodies and the WebSocket frames

/** Keys that pollute prototypes when a parser or a merge treats them as paths. */
const HOSTILE_KEYS = ['__proto__', 'constructor', 'prototype', '__proto__[polluted]', 'constructor[prototype][polluted]', 'toString', 'hasOwnProperty', 'valueOf'];
/** Field names the handlers read, so generated bodies reach past the first "unknown field" check. */
const FIELDS = [
  'email', 'password', 'title', 'message', 'notification_type', 'data', 'motivation', 'reason', 'student_id', 'ids',
  'audience', 'kind', 'course_id', 'role', 'is_active', 'status', 'limit', 'cursor', 'type', 'q', 'page', 'page_size',
  'user_id', 'preset', '_csrf', 'id', 'next',
];
export const HUGE_NUMBERS = ['1e309', '-1e309', '123456789012345678901234567890', '9007199254740993', '-0', '1e-400', '0x7fffffff', '2147483648', 'NaN', 'Infinity'];

export const key = fc.oneof(fc.constantFrom(...HOSTILE_KEYS), fc.constantFrom(...FIELDS), fc.string({ maxLength: 12 }));
const scalarText = fc.oneof(
  fc.constantFrom(...HUGE_NUMBERS),
  fc.integer().map(String),
  fc.double().map((d) => (Number.isFinite(d) ? String(d) : '0')),
  fc.string({ maxLength: 30 }).map((s) => JSON.stringify(s)),
  fc.string({ unit: 'binary', maxLength: 20 }).map((s) => JSON.stringify(s)),
  fc.constantFrom('true', 'false', 'null', '"\\ud800"', '"\\u0000"', '"<script>alert(1)</script>"', '"admin"', '"instructor"', '"course"', '"all"'),
);
/** JSON text built by hand, so `__proto__` can be a real own key and numbers can exceed what JS holds. */
export const jsonText: fc.Arbitrary<string> = fc.letrec<{ v: string }>((tie) => ({
  v: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    scalarText,
    fc.array(tie('v'), { maxLength: 4 }).map((xs) => `[${xs.join(',')}]`),
    fc.array(fc.tuple(key, tie('v')), { maxLength: 5 }).map((kv) => `{${kv.map(([k, v]) => `${JSON.stringify(k)}:${v}`).join(',')}}`),
  ),
})).v;

export const deepNesting = fc.integer({ min: 100, max: 30_000 }).chain((n) =>
  fc.constantFrom('[', '{"a":').map((open) => (open === '[' ? '['.repeat(n) + ']'.repeat(n) : '{"a":'.repeat(n) + '1' + '}'.repeat(n))),
);

