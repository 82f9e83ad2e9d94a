import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { signUnsubscribeToken } from '../../channels/email';
import type { User } from '../../models';
import { DEMO_PASSWORD, seedDemo } from '../../services/demo-seed';
import { auditPage, type Findings, focusStops, overflowFindings, toggleGridFindings, toolbarFindings } from '../support/audit';
import { ARTIFACTS, loginAs, waitLive, type Problems } from '../support/browser';
import { useBrowserWorld } from '../support/browser-world';

/**
 * Issue 16 (items 3, 7, 10): every page of both apps, as each role, at 1280 and at 390 px, on the demo data:
 * axe-core finds nothing serious or critical, the page never scrolls sideways on a phone, every tab stop shows a
 * visible focus ring at both widths, the console's toolbar is whole and its compose audience toggle a tidy grid on
 * a phone, and no flow (validation errors swapped in, sends) logs a console error or a CSP violation.
 * One browser; per role one desktop and one phone context.
 */
jest.setTimeout(180_000);

const world = useBrowserWorld({ console: true });
const users: Record<'candidate' | 'instructor' | 'admin', User> = {} as never;
let ownCourse: number; // the instructor's, with students, no application from the candidate
let notificationId: string;

beforeAll(async () => {
  await seedDemo(world.ctx.sequelize, world.ctx.models);
  const byEmail = (email: string) => world.ctx.models.User.findOne({ where: { email }, rejectOnEmpty: true });
  users.candidate = await byEmail('candidate@example.com');
  users.instructor = await byEmail('instructor@example.com');
  users.admin = await byEmail('admin@example.com');
  const course = await world.ctx.models.Course.findOne({ where: { title: 'Realtime Web with WebSockets' }, rejectOnEmpty: true });
  ownCourse = course.id;
  // Something in every list: one notification of each kind the labels colour, and one the instructor gets.
  const send = (type: 'announcement' | 'exam_result' | 'session_start' | 'course_update', title: string) =>
    world.ctx.services.notifications.fanOut(
      { kind: 'user', userId: users.candidate.id },
      { type, title, message: `${title}. Details inside.`, senderId: users.instructor.id, courseId: ownCourse },
    );
  await send('course_update', 'Slides updated');
  await send('session_start', 'Live session starts');
  await send('exam_result', 'Midterm results');
  await send('announcement', 'Room change');
  const latest = await world.ctx.models.Notification.findOne({ where: { recipientId: users.candidate.id }, order: [['id', 'DESC']] });
  notificationId = String(latest!.id);
  const pg = await world.ctx.models.Course.findOne({ where: { title: 'PostgreSQL in Practice' }, rejectOnEmpty: true });
  await world.ctx.services.applications.apply(users.candidate, pg.id, 'I run PostgreSQL at work and want to tune it.');
});

afterAll(() => {
  // How much the focus walks covered, beside the screenshots.
  mkdirSync(ARTIFACTS, { recursive: true });
  writeFileSync(path.join(ARTIFACTS, 'focus-walk.json'), `${JSON.stringify(focusStops)}\n`);
});

/**
 * One visitor seen two ways: a desktop window (1280 px) and a phone (390 px, touch, mobile viewport), each its own
 * context signed in as the same user. Their problems are checked at the end of each test.
 */
interface Visitor {
  desk: Page;
  phone: Page;
  problems: Problems[];
  close(): Promise<void>;
}

async function open(user?: User): Promise<Visitor> {
  const d = await world.person();
  const p = await world.person({ phone: true });
  const [desk, phone] = await Promise.all([d.context.newPage(), p.context.newPage()]);
  if (user) await Promise.all([signIn(desk, user), signIn(phone, user)]);
  return {
    desk,
    phone,
    problems: [d.problems, p.problems],
    close: async () => {
      await d.context.close();
      await p.context.close();
    },
  };
}

const signIn = (page: Page, user: User) => loginAs(page, world.server.url, user, DEMO_PASSWORD);

/** Opens `path` on the desktop and on the phone, each audited with the focus walk. */
async function both(v: Visitor, path: string, name: string, ready: (page: Page) => Promise<void>): Promise<Findings> {
  const found: Findings = [];
  for (const page of [v.desk, v.phone]) {
    await page.goto(`${world.server.url}${path}`);
    await ready(page);
    found.push(...(await auditPage(page, name, { focus: true })));
  }
  return found;
}

const pageReady = (signedIn: boolean) => async (page: Page) => {
  await page.locator('main > *').first().waitFor();
  if (signedIn) await waitLive(page);
};

async function walkPages(v: Visitor, role: string, paths: string[], signedIn = true): Promise<Findings> {
  const found: Findings = [];
  for (const p of paths) found.push(...(await both(v, p, `${role}${p.replace(/[/?=]+/g, '-')}`, pageReady(signedIn))));
  return found;
}

/** The console is ready when the page's heading is there and nothing is loading any more. */
async function consoleReady(page: Page) {
  await page.locator('main h1').first().waitFor();
  await page.waitForFunction(() => !document.querySelector('[mode=indeterminate], mat-spinner, mat-progress-spinner'));
  await page.waitForTimeout(100);
}

/**
 * Nothing found, no CSP violation, and no console error but the one line Chromium logs for each answer a flow
 * expects to be an error status (the 404 page, a refused login, a 422 validation answer).
 */
function expectClean(found: Findings, v: Visitor, expectedStatuses: number[] = []) {
  const expected = (line: string) =>
    expectedStatuses.some((s) => line.startsWith(`Failed to load resource: the server responded with a status of ${s} `));
  const console = v.problems.flatMap((p) => p.console).filter((line) => !expected(line));
  const csp = v.problems.flatMap((p) => p.csp);
  expect({ findings: found, console, csp }).toEqual({ findings: [], console: [], csp: [] });
}

test('anonymous: the login, unsubscribe, error and console sign-in pages', async () => {
  const v = await open();
  const token = signUnsubscribeToken(world.ctx.config.sessionSecret, users.candidate.id, 'announcement');
  const found = await walkPages(v, 'anon', ['/login', `/unsubscribe/${token}`, '/no-such-page'], false);
  // A failed sign-in comes back with its error.
  const page = v.phone;
  await page.goto(`${world.server.url}/login`);
  await page.fill('#email', users.candidate.email);
  await page.fill('#password', 'wrong password');
  await page.click('button[type=submit]');
  await page.locator('main [role=alert], main .field-error, main .notice').first().waitFor();
  found.push(...(await auditPage(page, 'anon-login-failed')));
  found.push(...(await both(v, '/admin/login', 'anon-admin-login', consoleReady)));
  await v.close();
  expectClean(found, v, [404, 401]);
});

test('candidate: every page, a validation error swapped into a resized textarea, then an application', async () => {
  const v = await open(users.candidate);
  const paths = ['/courses', `/courses/${ownCourse}`, '/applications', '/notifications', `/notifications/${notificationId}`];
  const found = await walkPages(v, 'candidate', [...paths, '/settings/notifications', '/settings/devices', '/settings/tokens']);

  // The bell's dropdown, open.
  for (const page of [v.desk, v.phone]) {
    await page.goto(`${world.server.url}/notifications`);
    await waitLive(page);
    await page.click('.bell-button');
    await page.locator('#bell-menu').waitFor();
    found.push(...(await auditPage(page, 'candidate-bell-open')));
    await page.keyboard.press('Escape');
  }

  // A person drags the textarea's corner (the browser writes its size into the style attribute), then submits
  // too short a motivation: the error comes back as a swap of the panel.
  let page = v.desk;
  await page.goto(`${world.server.url}/courses/${ownCourse}`);
  await waitLive(page);
  await page.locator('#motivation').evaluate((t: HTMLTextAreaElement) => (t.style.height = '220px'));
  await page.fill('#motivation', 'short');
  await page.click('#apply button[type=submit]');
  await page.locator('#apply-panel .field-error, #apply-panel [aria-invalid=true]').first().waitFor();
  found.push(...(await auditPage(page, 'candidate-apply-invalid')));
  await page.locator('#motivation').evaluate((t: HTMLTextAreaElement) => (t.style.height = '260px'));
  await page.fill('#motivation', 'Sockets are what I work on all day; I want to learn fan-out properly.');
  await page.click('#apply button[type=submit]');
  await page.locator('#apply-panel #apply').waitFor({ state: 'detached' });

  // Tokens, on the phone: a missing name is a validation swap too.
  page = v.phone;
  await page.goto(`${world.server.url}/settings/tokens`);
  await waitLive(page);
  await page.click('#token-panel form button[type=submit]');
  await page.locator('#token-panel .field-error, #token-panel [aria-invalid=true]').first().waitFor();
  found.push(...(await auditPage(page, 'candidate-token-invalid')));
  await v.close();
  expectClean(found, v, [422]);
});

test('instructor: every page, the notify form’s validation error and a send', async () => {
  const v = await open(users.instructor);
  const found = await walkPages(v, 'instructor', [
    '/instructor',
    '/instructor/applications',
    `/courses/${ownCourse}`,
    '/courses',
    '/notifications',
    '/settings/notifications',
  ]);

  const page = v.phone;
  await page.goto(`${world.server.url}/courses/${ownCourse}`);
  await waitLive(page);
  const panel = `#notify-${ownCourse}`;
  await page.locator(`${panel} textarea`).evaluate((t: HTMLTextAreaElement) => (t.style.height = '200px'));
  await page.fill(`${panel} textarea`, 'No title yet.');
  await page.click(`${panel} .notify-form button[type=submit]`);
  await page.locator(`${panel} .field-error`).first().waitFor();
  found.push(...(await auditPage(page, 'instructor-notify-invalid')));
  await page.locator(`${panel} textarea`).evaluate((t: HTMLTextAreaElement) => (t.style.height = '240px'));
  await page.fill(`#notify-title-${ownCourse}`, 'Room change');
  await page.click(`${panel} .notify-form button[type=submit]`);
  await page.locator(`${panel} .notice-success`).waitFor();
  found.push(...(await auditPage(page, 'instructor-notify-sent')));
  await v.close();
  expectClean(found, v, [422]);
});

test('admin: the pages and every console screen, a compose validation error and a send', async () => {
  const v = await open(users.admin);
  const found = await walkPages(v, 'admin', ['/courses', '/notifications']);
  // The console's policy allows no inline style: only this answer's nonce, which Angular stamps on its <style>s.
  const index = await v.desk.request.get(`${world.server.url}/admin/dashboard`);
  const policy = index.headers()['content-security-policy'];
  const nonce = /style-src 'self' 'nonce-([^']+)'/.exec(policy)?.[1];
  expect(nonce).toBeTruthy();
  expect(await index.text()).toContain(`<app-root ngCspNonce="${nonce}">`);
  expect(policy).not.toContain('unsafe-inline');
  const again = (await v.desk.request.get(`${world.server.url}/admin/users`)).headers()['content-security-policy'];
  expect(again).not.toContain(`'nonce-${nonce}'`);
  // The console follows the system's colour scheme: the desktop sees it light, the phone dark.
  await v.phone.emulateMedia({ colorScheme: 'dark' });
  const screens = ['dashboard', 'notifications', 'compose', 'applications', 'deliveries', 'defaults', 'users', 'tokens', 'webhooks'];
  for (const s of screens) {
    found.push(...(await both(v, `/admin/${s}`, `console-${s}`, consoleReady)));
    // Issue 16.3: the toolbar whole on every screen, at both widths (both() leaves each page on this screen).
    for (const page of [v.desk, v.phone]) {
      found.push(...(await toolbarFindings(page)).map((f) => `console-${s} @${page.viewportSize()?.width}: ${f}`));
    }
    if (s === 'compose') found.push(...(await toggleGridFindings(v.phone, '.audience mat-button-toggle-group')).map((f) => `console-compose @390: ${f}`));
  }

  // The toolbar fits just past each of its breakpoints too (labels at 1500, brand and name at 1100, menu at 720).
  for (const width of [1501, 1101, 721]) {
    await v.desk.setViewportSize({ width, height: 800 });
    await v.desk.waitForTimeout(100);
    found.push(...[...(await overflowFindings(v.desk)), ...(await toolbarFindings(v.desk))].map((f) => `console toolbar @${width}: ${f}`));
  }
  await v.desk.setViewportSize({ width: 1280, height: 800 });

  // The account menu, open on the desktop; the phone's navigation menu, open.
  await v.desk.goto(`${world.server.url}/admin/dashboard`);
  await consoleReady(v.desk);
  await v.desk.locator('button.user').click();
  await v.desk.getByRole('menuitem', { name: 'Sign out' }).waitFor();
  found.push(...(await auditPage(v.desk, 'console-account-menu')));
  await v.desk.keyboard.press('Escape');
  // The dialogs: a notification's details, and rejecting an application.
  await v.desk.goto(`${world.server.url}/admin/notifications`);
  await consoleReady(v.desk);
  await v.desk.getByRole('button', { name: /^Details of/ }).first().click();
  await v.desk.locator('mat-dialog-container').waitFor();
  found.push(...(await auditPage(v.desk, 'console-notification-detail')));
  await v.desk.keyboard.press('Escape');
  await v.desk.goto(`${world.server.url}/admin/applications`);
  await consoleReady(v.desk);
  await v.desk.getByRole('button', { name: /^Reject / }).first().click();
  await v.desk.locator('mat-dialog-container').waitFor();
  found.push(...(await auditPage(v.desk, 'console-reject-dialog')));
  await v.desk.keyboard.press('Escape');
  const page = v.phone;
  await page.goto(`${world.server.url}/admin/dashboard`);
  await consoleReady(page);
  await page.getByRole('button', { name: 'Menu' }).click();
  await page.getByRole('menuitem', { name: 'Compose' }).click();
  await page.waitForURL(/\/admin\/compose$/);

  // Compose on the phone: sending with nothing filled in shows the errors; then a real send to a course.
  await consoleReady(page);
  await page.locator('textarea').first().evaluate((t: HTMLTextAreaElement) => (t.style.height = '200px'));
  await page.getByRole('button', { name: /^Send/ }).click();
  await page.locator('mat-error').first().waitFor();
  found.push(...(await auditPage(page, 'console-compose-invalid')));
  await page.locator('mat-button-toggle', { hasText: 'A course' }).click();
  await page.getByRole('combobox', { name: 'Course' }).click();
  await page.getByRole('option', { name: /Realtime Web with WebSockets/ }).click();
  await page.getByLabel('Title').fill('Room change for Monday');
  await page.getByLabel('Message').fill('We meet in room B12 from now on.');
  await page.getByRole('button', { name: /Send to everyone in/ }).click();
  await page.getByRole('alertdialog').waitFor();
  found.push(...(await auditPage(page, 'console-compose-confirm')));
  await page.getByRole('alertdialog').getByRole('button', { name: 'Send' }).click();
  await page.getByRole('status').filter({ hasText: 'was sent to' }).waitFor();
  found.push(...(await auditPage(page, 'console-compose-sent')));
  await v.close();
  expectClean(found, v);
});
