import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { simpleParser, type ParsedMail } from 'mailparser';
import type { Browser } from 'playwright-core';
import { ensureAdminBuild } from '../../../admin/scripts/build-if-stale';
import { DEMO_PASSWORD } from '../../services/demo-seed';
import { consoleSignIn, launchChromium, newUserContext, screenshot } from '../support/browser';
import { createTestContext, type TestContext } from '../support/harness';
import { npmStart, type NpmStart } from '../support/npm-start';
import { api, login } from '../support/realtime';
import { until } from '../resilience/support/processes';
import { startSmtpSink, type SmtpSink } from '../support/smtp-sink';

/**
 * Issue 12's acceptance, walked as a newcomer would: `npm start` (development, the demo data, no SMTP server),
 * the candidate asks for an email when an application decision stays unread, applies, the instructor approves,
 * nobody reads it: after the delay an `.eml` lands in MAIL_DIR, and the console's Deliveries page lists the email
 * as sent. Then the same with SMTP_URL at a real SMTP server: the message arrives there and is listed as sent.
 * Each walk has a database of its own (cloned empty from the migrated template; `npm start` seeds the demo).
 */
jest.setTimeout(240_000);

const DELAY_SECONDS = 2;
const COURSE = 'Realtime Web with WebSockets'; // the demo instructor's, with no application from the candidate yet
const demo = (who: 'candidate' | 'instructor' | 'admin') => ({ email: `${who}@example.com` });

let browser: Browser;
let mailDir: string;
let smtp: SmtpSink;
const contexts: TestContext[] = [];
const servers: NpmStart[] = [];

beforeAll(async () => {
  if (!ensureAdminBuild()) throw new Error('`npm run build` failed');
  mailDir = mkdtempSync(path.join(tmpdir(), 'herald-mail-acceptance-'));
  smtp = await startSmtpSink();
  browser = await launchChromium();
}, 400_000);

afterAll(async () => {
  await browser?.close();
  for (const s of servers) await s.stop();
  for (const c of contexts) await c.close();
  await smtp?.close();
  if (mailDir) rmSync(mailDir, { recursive: true, force: true });
});

async function start(env: Record<string, string>): Promise<NpmStart> {
  const ctx = await createTestContext();
  contexts.push(ctx);
  const server = await npmStart({ DATABASE_URL: ctx.dbUrl, MAIL_DIR: mailDir, EMAIL_UNREAD_DELAY_SECONDS: String(DELAY_SECONDS), ...env });
  servers.push(server);
  return server;
}

/**
 * The walk up to "nobody reads it": preference set through the API, an application, its approval. Returns the
 * candidate's approval notification (its id and title) and when the approval answered.
 */
async function approveUnread(url: string): Promise<{ candidateId: number; notificationId: number; title: string; approvedAt: number }> {
  const candidate = await login(url, demo('candidate'), DEMO_PASSWORD);
  const prefs = await api(url, candidate, 'PATCH', '/api/preferences/', { types: { application_approved: { email: 'unread' } } });
  expect(prefs.status).toBe(200);
  expect(prefs.body.types.application_approved).toMatchObject({ in_app: true, email: 'unread' });
  const me = await api(url, candidate, 'GET', '/api/auth/me');
  const courses = await api(url, candidate, 'GET', '/api/courses/');
  const course = (courses.body.results as Array<{ id: number; title: string }>).find((c) => c.title === COURSE)!;
  const applied = await api(url, candidate, 'POST', `/api/courses/${course.id}/applications/`, { motivation: 'Sockets all day; I want fan-out done properly.' });
  expect(applied.status).toBe(201);

  const instructor = await login(url, demo('instructor'), DEMO_PASSWORD);
  const approved = await api(url, instructor, 'POST', `/api/applications/${applied.body.id}/approve/`);
  expect(approved.status).toBe(200);
  const approvedAt = Date.now();
  // Listing does not read: the notification stays unread, as nobody looked at it.
  const list = await api(url, candidate, 'GET', '/api/notifications/?limit=5');
  const n = (list.body.results as Array<{ id: number; type: string; title: string; read_at: string | null }>).find((r) => r.type === 'application_approved')!;
  expect(n.read_at).toBeNull();
  return { candidateId: me.body.user.id, notificationId: n.id, title: n.title, approvedAt };
}

function checkMail(mail: ParsedMail, title: string) {
  expect(mail.subject).toBe(title);
  expect(Array.isArray(mail.to) ? '' : mail.to?.value[0].address).toBe('candidate@example.com');
  expect(mail.text).toContain(COURSE);
}

/** The admin's view: the API the console calls, then the console's Deliveries page in Chromium. */
async function expectListedAsSent(server: NpmStart, w: { candidateId: number; notificationId: number }, shot: string) {
  const admin = await login(server.url, demo('admin'), DEMO_PASSWORD);
  const listed = await api(server.url, admin, 'GET', `/api/admin/deliveries/?channel=email&recipient=${w.candidateId}`);
  expect(listed.status).toBe(200);
  const rows = (listed.body.results as Array<{ notification_id: number; channel: string; status: string }>).filter(
    (d) => d.notification_id === w.notificationId,
  );
  expect(rows).toEqual([expect.objectContaining({ channel: 'email', status: 'sent' })]);

  const { context, problems } = await newUserContext(browser);
  const page = await context.newPage();
  await consoleSignIn(page, server.url, demo('admin'), DEMO_PASSWORD);
  await page.getByRole('link', { name: 'Deliveries' }).click();
  await page.waitForURL(/\/admin\/deliveries$/);
  await page.getByRole('combobox', { name: 'Channel' }).click();
  await page.getByRole('option', { name: 'email', exact: true }).click();
  const row = page.locator('table[aria-label="Deliveries"] tr.mat-mdc-row', { hasText: `notification ${w.notificationId}` });
  await row.locator('.status[data-status="sent"]').waitFor({ timeout: 10_000 });
  expect(await row.count()).toBe(1);
  expect(await row.locator('td').nth(2).innerText()).toBe('email');
  await screenshot(page, shot);
  await context.close();
  expect(problems).toEqual({ console: [], csp: [], dialogs: [] });
}

test('npm start without SMTP_URL: the unread approval lands as an .eml in MAIL_DIR and the console lists it as sent', async () => {
  const server = await start({});
  const walk = await approveUnread(server.url);
  const file = await until(
    'the .eml file',
    async () => readdirSync(mailDir).find((f) => f.endsWith('.eml') && f.includes(`notification-${walk.notificationId}`)),
    30_000,
    100,
  );
  // Escalation, not an immediate send: nothing before the delay.
  expect(Date.now() - walk.approvedAt).toBeGreaterThanOrEqual(DELAY_SECONDS * 1000 - 200);
  checkMail(await simpleParser(readFileSync(path.join(mailDir, file))), walk.title);
  expect(smtp.received).toEqual([]);
  await expectListedAsSent(server, walk, 'acceptance-email-eml-deliveries');
  await server.stop();
});

test('npm start with SMTP_URL: the same walk delivers to the SMTP server and the console lists it as sent', async () => {
  const before = readdirSync(mailDir).length;
  const server = await start({ SMTP_URL: smtp.url });
  const walk = await approveUnread(server.url);
  const mail = await until('the message at the SMTP server', async () => smtp.received.find((m) => m.subject === walk.title), 30_000, 100);
  expect(Date.now() - walk.approvedAt).toBeGreaterThanOrEqual(DELAY_SECONDS * 1000 - 200);
  checkMail(mail, walk.title);
  expect(mail.messageId).toContain(`notification-${walk.notificationId}`);
  expect(smtp.received).toHaveLength(1);
  // SMTP only: no file written this time.
  expect(readdirSync(mailDir)).toHaveLength(before);
  await expectListedAsSent(server, walk, 'acceptance-email-smtp-deliveries');
  await server.stop();
});
