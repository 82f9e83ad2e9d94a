import type { Page } from 'playwright-core';
import type { User } from '../../models';
import { auditPage } from '../support/audit';
import { PASSWORD } from '../support/harness';
import { consoleSignIn, expectBadge, screenshot, waitLive } from '../support/browser';
import { type Person, useBrowserWorld } from '../support/browser-world';

/**
 * The Angular admin console, built for production and served by the real app at /admin, in Debian's Chromium:
 * an admin signs in, reads the dashboard, filters notifications and sends an announcement to a course, which a
 * student of that course, in another browser, sees arrive in their bell. A candidate is turned away.
 */
jest.setTimeout(120_000);

const world = useBrowserWorld({ console: true });
let admin: User;
let student: User;
let candidate: User;
let courseId: number;
let adm: Person;
let stu: Person;
let adminPage: Page;
let studentPage: Page;

beforeAll(async () => {
  admin = await world.ctx.createUser('admin', { name: 'Ada Admin' });
  const instructor = await world.ctx.createUser('instructor', { name: 'Ines Instructor' });
  student = await world.ctx.createUser('candidate', { name: 'Sam Student' });
  const classmate = await world.ctx.createUser('candidate', { name: 'Stella Student' });
  const other = await world.ctx.createUser('candidate', { name: 'Otto Outsider' });
  candidate = await world.ctx.createUser('candidate', { name: 'Cody Candidate' });
  const { Application, Course, Enrollment } = world.ctx.models;
  courseId = (await Course.create({ title: 'Realtime Web', description: 'Sockets and fan-out.', instructorId: instructor.id })).id;
  const otherCourse = await Course.create({ title: 'TypeScript from Zero', description: 'Types.', instructorId: instructor.id });
  await Enrollment.bulkCreate([
    { courseId, studentId: student.id },
    { courseId, studentId: classmate.id },
    { courseId: otherCourse.id, studentId: other.id },
  ]);
  await Application.create({ courseId: otherCourse.id, candidateId: candidate.id, motivation: 'I want to learn types.' });
  const send = (userId: number, type: 'exam_result' | 'message' | 'announcement', title: string, message: string) =>
    world.ctx.services.notifications.fanOut({ kind: 'user', userId }, { type, title, message, senderId: instructor.id, courseId });
  await send(student.id, 'exam_result', 'Midterm results are out', 'You scored 17/20.');
  await send(classmate.id, 'message', 'Office hours moved', 'Thursday 3 pm instead of Wednesday.');
  await send(other.id, 'announcement', 'Library closed on Friday', 'Maintenance.');

  adm = await world.person();
  stu = await world.person();
  adminPage = await adm.context.newPage();
  studentPage = await stu.context.newPage();
});

test('an admin signs in through the console and sees the dashboard numbers', async () => {
  await consoleSignIn(adminPage, world.server.url, admin);
  await adminPage.getByRole('heading', { name: 'Dashboard' }).waitFor();

  await expectText(adminPage, '[data-testid="users-total"]', '6');
  await expectText(adminPage, '[data-testid="notifications-today"]', '3 today');
  await expectText(adminPage, '[data-testid="unread-rate"]', '100%');
  await expectText(adminPage, '[data-testid="applications-pending"]', '1 pending');
  // The console's own socket. (The test app is built without the hub's count, so the card says 0 here.)
  await adminPage.locator('.live.open').waitFor();
  await expectText(adminPage, '[data-testid="sockets-open"]', '0');
  expect(await adminPage.locator('herald-bar-chart').count()).toBe(1);
  await screenshot(adminPage, 'admin-dashboard-desktop');
});

test('the notifications table filters by type and by text', async () => {
  await adminPage.getByRole('link', { name: 'Notifications' }).click();
  await adminPage.waitForURL(/\/admin\/notifications$/);
  await expectRows(adminPage, ['Library closed on Friday', 'Office hours moved', 'Midterm results are out']);

  await adminPage.getByRole('combobox', { name: 'Types', exact: true }).click();
  await adminPage.getByRole('option', { name: 'Exam result' }).click();
  await adminPage.keyboard.press('Escape'); // a multiple select stays open for more
  await expectRows(adminPage, ['Midterm results are out']);
  await expect(adminPage.locator('tr.clickable').first().textContent()).resolves.toContain('Sam Student');

  await adminPage.getByRole('button', { name: 'Clear filters' }).click();
  await expectRows(adminPage, ['Library closed on Friday', 'Office hours moved', 'Midterm results are out']);
  // 16.12: the empty search field shows its whole label, clear of its icon (it was cut under it).
  const search = await adminPage.evaluate(() => {
    const field = document.querySelector('mat-form-field:has(input[type="search"])')!;
    const label = field.querySelector<HTMLElement>('.mdc-floating-label')!;
    const icon = field.querySelector('mat-icon')!.getBoundingClientRect();
    return { truncated: label.scrollWidth > label.clientWidth, underIcon: label.getBoundingClientRect().right > icon.left };
  });
  expect(search).toEqual({ truncated: false, underIcon: false });
  await adminPage.getByLabel('Search', { exact: true }).fill('thursday');
  await expectRows(adminPage, ['Office hours moved']);
  await adminPage.getByLabel('Search', { exact: true }).fill('no such words');
  await adminPage.getByText('No notifications match these filters.').waitFor();
  await adminPage.getByRole('button', { name: 'Clear filters' }).first().click();
  await expectRows(adminPage, ['Library closed on Friday', 'Office hours moved', 'Midterm results are out']);
  await screenshot(adminPage, 'admin-notifications-desktop');
});

test('search and filters: full text with an exclusion, state, marked words, and a link that reopens the view', async () => {
  // The sender's name is searched too (every row is from Ines); -type: leaves the announcement out.
  await adminPage.getByLabel('Search', { exact: true }).fill('ines -type:announcement');
  await expectRows(adminPage, ['Office hours moved', 'Midterm results are out']);
  await adminPage.getByRole('combobox', { name: 'Course' }).click();
  await adminPage.getByRole('option', { name: 'Realtime Web' }).click();
  await adminPage.getByRole('combobox', { name: 'State' }).click();
  await adminPage.getByRole('option', { name: 'Unread' }).click();
  await adminPage.getByLabel('Search', { exact: true }).fill('thursday ines');
  await expectRows(adminPage, ['Office hours moved']);
  expect(await adminPage.locator('tr.clickable mark').allTextContents()).toEqual(['Thursday']);
  await adminPage.waitForURL((url) => url.searchParams.get('q') === 'thursday ines');
  const shared = new URL(adminPage.url());
  expect(Object.fromEntries(shared.searchParams)).toEqual({ q: 'thursday ines', course: String(courseId), status: 'unread' });

  // Another moderator opens the link: the same view, at phone width, with nothing sideways and nothing for axe.
  const other = await adm.context.newPage();
  try {
    await other.setViewportSize({ width: 390, height: 844 });
    await other.goto(shared.toString());
    await expectRows(other, ['Office hours moved']);
    expect(await other.getByLabel('Search', { exact: true }).inputValue()).toBe('thursday ines');
    await expect(other.getByRole('combobox', { name: 'State' }).textContent()).resolves.toContain('Unread');
    expect(await auditPage(other, 'admin-notifications-search')).toEqual([]);

    // A state with no such rows: the empty state, and its own way out.
    await other.getByRole('combobox', { name: 'State' }).click();
    await other.getByRole('option', { name: 'Done (archived)' }).click();
    await other.getByText('No notifications match these filters.').waitFor();
    await other.locator('td.empty').getByRole('button', { name: 'Clear filters' }).click();
    await expectRows(other, ['Library closed on Friday', 'Office hours moved', 'Midterm results are out']);
    await other.waitForURL((url) => url.search === '');
  } finally {
    await other.close();
  }
  await adminPage.getByRole('button', { name: 'Clear filters' }).first().click();
  await expectRows(adminPage, ['Library closed on Friday', 'Office hours moved', 'Midterm results are out']);
});

test('an announcement to a course: the confirmation counts the enrolled, and a student’s bell gets it live', async () => {
  await world.login(studentPage, student);
  await studentPage.goto(`${world.server.url}/notifications`);
  await waitLive(studentPage);
  await expectBadge(studentPage, '1');

  await adminPage.getByRole('link', { name: 'Compose' }).click();
  await adminPage.waitForURL(/\/admin\/compose$/);
  await adminPage.locator('mat-button-toggle', { hasText: 'A course' }).click();
  await adminPage.getByRole('combobox', { name: 'Course' }).click();
  await adminPage.getByRole('option', { name: 'Realtime Web (2 enrolled)' }).click();
  await adminPage.getByLabel('Title').fill('Room change for Monday');
  await adminPage.getByLabel('Message').fill('We meet in room B12 from now on.');
  await adminPage.locator('.preview .bell-title', { hasText: 'Room change for Monday' }).waitFor();
  await adminPage.getByRole('button', { name: /Send to everyone in Realtime Web/ }).click();

  const dialog = adminPage.getByRole('alertdialog');
  await dialog.getByText('2 people will receive this.').waitFor();
  await settled(adminPage, 'mat-dialog-container');
  await screenshot(adminPage, 'admin-compose-confirm-desktop');
  await dialog.getByRole('button', { name: 'Send' }).click();
  await adminPage.getByRole('status').filter({ hasText: 'was sent to 2 people' }).waitFor();
  // 16.4: beside the success, the emptied form looks fresh, not failed: no field red, no "required".
  await settled(adminPage, 'herald-compose');
  expect(await adminPage.getByLabel('Title').inputValue()).toBe('');
  expect(await adminPage.locator('mat-error, .mat-form-field-invalid, [aria-invalid="true"]').count()).toBe(0);

  await expectBadge(studentPage, '2');
  await studentPage.locator('#notification-list .notification-card', { hasText: 'Room change for Monday' }).waitFor();
  await studentPage.click('.bell-button');
  await studentPage.locator('#bell-items .bell-item.is-unread', { hasText: 'Room change for Monday' }).waitFor();
  await studentPage.keyboard.press('Escape');

  // Only the course's students got it: the table (refreshed live) shows exactly those two.
  await adminPage.getByRole('link', { name: 'Notifications' }).click();
  await adminPage.getByLabel('Search', { exact: true }).fill('room change');
  await expectRows(adminPage, ['Room change for Monday', 'Room change for Monday']);
  const recipients = await adminPage.locator('tr.clickable .person').allTextContents();
  expect(recipients.map((r) => r.trim().split(/\s+/).slice(0, 2).join(' ')).sort()).toEqual(['Sam Student', 'Stella Student']);
});

test('the console at tablet width', async () => {
  await adminPage.setViewportSize({ width: 768, height: 1024 });
  await adminPage.getByRole('link', { name: 'Dashboard', exact: true }).click();
  await expectText(adminPage, '[data-testid="notifications-today"]', '5 today');
  await screenshot(adminPage, 'admin-dashboard-tablet');
  await adminPage.getByRole('link', { name: 'Notifications' }).click();
  await expectRows(adminPage, 5);
  // Every column, the row actions included, fits without scrolling sideways.
  const widths = await adminPage.evaluate(() => {
    const wrap = document.querySelector('.table-wrap')!;
    return { scroll: wrap.scrollWidth, client: wrap.clientWidth };
  });
  expect(widths.scroll).toBeLessThanOrEqual(widths.client);
  await screenshot(adminPage, 'admin-notifications-tablet');
  await adminPage.getByRole('link', { name: 'Compose' }).click();
  await adminPage.getByRole('heading', { name: 'Compose a notification' }).waitFor();
  await screenshot(adminPage, 'admin-compose-tablet');
  await adminPage.setViewportSize({ width: 1280, height: 800 });
});

test('applications: approving in the console; users: the table with the admin marked', async () => {
  await adminPage.getByRole('link', { name: 'Applications' }).click();
  await adminPage.waitForURL(/\/admin\/applications$/);
  await adminPage.getByRole('button', { name: 'Approve Cody Candidate for TypeScript from Zero' }).click();
  await adminPage.getByText('No applications here.').waitFor();
  await adminPage.locator('mat-button-toggle', { hasText: 'Approved' }).click();
  await adminPage.locator('tr.mat-mdc-row', { hasText: 'Cody Candidate' }).locator('.status-approved').waitFor();
  expect(await world.ctx.models.Application.count({ where: { status: 'approved' } })).toBe(1);
  expect(await world.ctx.models.Notification.count({ where: { recipientId: candidate.id, type: 'application_approved' } })).toBe(1);

  await adminPage.getByRole('link', { name: 'Users' }).click();
  await adminPage.waitForURL(/\/admin\/users$/);
  const rows = adminPage.locator('table[aria-label="Users"] tr.mat-mdc-row');
  await adminPage.locator('table[aria-label="Users"] tr.mat-mdc-row', { hasText: 'Otto Outsider' }).waitFor();
  expect(await rows.count()).toBe(6);
  await rows.filter({ hasText: 'Ada Admin' }).locator('.you').waitFor();
  await screenshot(adminPage, 'admin-users-desktop');
});

test('a candidate signed in on the pages who opens /admin is refused and sees no admin data', async () => {
  const cand = await world.person();
  const page = await cand.context.newPage();
  const adminCalls: Array<[string, number]> = [];
  page.on('response', (r) => {
    const url = new URL(r.url());
    if (url.pathname.startsWith('/api/admin/')) adminCalls.push([url.pathname, r.status()]);
  });
  await world.login(page, candidate);
  await page.goto(`${world.server.url}/admin/notifications`);
  await page.waitForURL(/\/admin\/login/);
  await page.getByRole('status').filter({ hasText: `signed in as ${candidate.email} (candidate)` }).waitFor();
  await page.getByText('This console is for administrators').waitFor();
  expect(await page.getByRole('heading', { name: 'Notifications' }).count()).toBe(0);
  expect(await page.locator('table').count()).toBe(0);
  expect(adminCalls).toEqual([]);
  await screenshot(page, 'admin-refused-candidate');

  // Signing in with the candidate's own password gets the same answer, and signs them out.
  await page.getByLabel('Email').fill(candidate.email);
  await page.getByLabel('Password', { exact: true }).fill(PASSWORD);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('alert').filter({ hasText: 'Only administrators can use Herald admin' }).waitFor();

  // The API itself refuses a candidate's session.
  await world.login(page, candidate);
  for (const p of ['/api/admin/stats', '/api/admin/notifications', '/api/admin/users']) {
    const res = await page.request.get(`${world.server.url}${p}`);
    expect([p, res.status()]).toEqual([p, 403]);
    expect((await res.json()).error.code).toBeDefined();
  }
  await cand.context.close();
  expect(cand.problems.csp).toEqual([]);
  expect(cand.problems.console).toEqual([]);
});

test('no console errors and no CSP violations in the console or on the student’s pages', () => {
  for (const who of [adm, stu]) {
    expect(who.problems.csp).toEqual([]);
    expect(who.problems.console).toEqual([]);
    expect(who.problems.dialogs).toEqual([]);
  }
});

async function expectText(page: Page, selector: string, text: string) {
  await page.waitForFunction(
    ([sel, t]) => document.querySelector(sel)?.textContent?.replace(/\s+/g, ' ').trim() === t,
    [selector, text] as const,
    { timeout: 10_000 },
  ).catch(async (err) => {
    const actual = await page.locator(selector).textContent().catch(() => null);
    throw new Error(`${selector}: expected “${text}”, got “${actual?.replace(/\s+/g, ' ').trim()}”\n${err}`);
  });
}

/** Waits until the table shows exactly these titles (in order), or this many rows. */
async function expectRows(page: Page, expected: string[] | number) {
  const titles = () => page.locator('tr.clickable .title-cell strong').allTextContents();
  const want = typeof expected === 'number' ? expected : JSON.stringify(expected);
  const deadline = Date.now() + 10_000;
  let got: string[] = [];
  while (Date.now() < deadline) {
    // Narrow screens prefix unread titles with a hidden "Unread:" for screen readers.
    got = (await titles()).map((t) => t.trim().replace(/^Unread:\s*/, ''));
    if (typeof expected === 'number' ? got.length === expected : JSON.stringify(got) === want) return;
    await page.waitForTimeout(100);
  }
  throw new Error(`table rows: expected ${want}, got ${JSON.stringify(got)}`);
}

/** Waits for the element's opening animations to end, so a screenshot shows it as a person sees it. */
async function settled(page: Page, selector: string) {
  await page.waitForFunction(
    (sel) => document.querySelector(sel)?.getAnimations({ subtree: true }).every((a) => a.playState !== 'running'),
    selector,
  );
}
