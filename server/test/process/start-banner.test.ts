import { DEMO_LOGINS, DEMO_PASSWORD } from '../../services/demo-seed';
import { createTestContext, type TestContext } from '../support/harness';
import { npmStart, type NpmStart } from '../support/npm-start';

/**
 * Issue 16.11, the terminal of `npm start` as a newcomer reads it: the start banner (server/process/core.ts) says
 * where Herald is and which demo logins to use, in plain lines (never inside a JSON object, never split by a log
 * line), and the requests that follow are one short readable line each, not 1.8 KB of JSON.
 */
jest.setTimeout(180_000);

let ctx: TestContext;
let server: NpmStart;
let out: string;
/** What each first-look request answered (redirects not followed), to find its log line by. */
const answered: Array<[string, number]> = [];

beforeAll(async () => {
  ctx = await createTestContext();
  server = await npmStart({ DATABASE_URL: ctx.dbUrl });
  // A few requests a newcomer's first look makes.
  for (const p of ['/login', '/courses', '/no-such-page']) {
    answered.push([p, (await fetch(`${server.url}${p}`, { redirect: 'manual' })).status]);
  }
  await new Promise((r) => setTimeout(r, 300));
  out = server.stdout();
}, 200_000);

afterAll(async () => {
  await server?.stop();
  await ctx?.close();
});

/** The banner: from its "ready" line to the console link, as printed. */
function banner(): string[] {
  const lines = out.split('\n');
  const from = lines.findIndex((l) => l.includes('Herald is ready at'));
  const to = lines.findIndex((l, i) => i > from && l.includes('Admin console:'));
  expect({ from: from >= 0, to: to > from }).toEqual({ from: true, to: true });
  return lines.slice(from, to + 1);
}

test('the banner gives the URL, the demo password and every demo login, one per line, in plain text', () => {
  const url = `http://localhost:${server.port}`;
  const b = banner();
  expect(b[0].trim()).toBe(`Herald is ready at ${url} (demo data created)`);
  expect(b[1].trim()).toBe(`Demo logins (password: ${DEMO_PASSWORD}):`);
  const logins = b.slice(2, 2 + DEMO_LOGINS.length);
  expect(logins.map((l) => l.trim().split(/\s+/))).toEqual(DEMO_LOGINS.map((d) => [d.email, d.role]));
  // Roles in one column, so the eye finds a login's role without counting spaces.
  expect(new Set(logins.map((l) => l.indexOf(l.trim().split(/\s+/)[1]))).size).toBe(1);
  expect(b[2 + DEMO_LOGINS.length].trim()).toBe(`Admin console: ${url}/admin`);
  expect(b).toHaveLength(3 + DEMO_LOGINS.length);
  // Nothing in it is a log line: no JSON, no timestamp and level.
  for (const line of b) {
    expect(line).not.toMatch(/^\s*\{/);
    expect(line).not.toMatch(/^\d\d:\d\d:\d\d (INFO|WARN|ERROR)/);
    expect(line.length).toBeLessThanOrEqual(80);
  }
  // Set apart by blank lines from the log above and below it.
  const lines = out.split('\n');
  const at = lines.indexOf(b[0]);
  expect([lines[at - 1], lines[at + b.length]]).toEqual(['', '']);
});

test('around it, development logs one short readable line per request, never JSON', () => {
  const lines = out.split('\n').filter((l) => l.trim());
  expect(lines.filter((l) => l.trimStart().startsWith('{'))).toEqual([]);
  expect(answered.map(([, status]) => status)).toEqual([200, expect.any(Number), 404]);
  for (const [path, status] of answered) {
    const line = lines.find((l) => new RegExp(`^\\d\\d:\\d\\d:\\d\\d (INFO|WARN) +GET ${path} ${status} \\d+ms$`).test(l));
    expect({ path, line: line !== undefined }).toEqual({ path, line: true });
  }
  expect(server.stderr()).toBe('');
});
