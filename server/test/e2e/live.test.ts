import type { Page } from 'playwright-core';
import type { User } from '../../models';
import { expectBadge, screenshot, waitLive, type Problems } from '../support/browser';
import { type Person, useBrowserWorld } from '../support/browser-world';

/**
 * Herald in Debian's Chromium: two people (a candidate and an instructor) in separate browser contexts, watching
 * each other's actions arrive over the live bell without reloading. One server, one browser, reused throughout.
 */
jest.setTimeout(90_000);

const world = useBrowserWorld();
let instructor: User;
let candidate: User;
let courseId: number;
let inst: Person;
let cand: Person;
let instPage: Page;
let candApps: Page;
let candNotes: Page;
/** Console errors a server outage legitimately causes (the socket failing to reconnect while the port is closed). */
const OUTAGE_NOISE = /WebSocket connection to .* failed|htmx:ws:error|ERR_CONNECTION_REFUSED/;
/** Per browser context, the [from, to) console entries recorded during the outage: only there is that noise allowed. */
const outage = new Map<Problems, [number, number]>();

beforeAll(async () => {
  instructor = await world.ctx.createUser('instructor', { name: 'Ines Instructor' });
  candidate = await world.ctx.createUser('candidate', { name: 'Camille Candidate' });
  courseId = (await world.ctx.models.Course.create({ title: 'Realtime Web', description: 'Sockets, backpressure and fan-out.', instructorId: instructor.id })).id;
  await world.ctx.models.Course.create({ title: 'TypeScript from Zero', description: 'Types and generics.', instructorId: instructor.id });
  inst = await world.person();
  cand = await world.person();
  instPage = await inst.context.newPage();
  candApps = await cand.context.newPage();
  await world.login(instPage, instructor);
  await world.login(candApps, candidate);
});

test('a candidate applies: the instructor’s bell, open in another browser, goes to 1 without a reload', async () => {
  await instPage.goto(`${world.server.url}/instructor`);
  await waitLive(instPage);
  await expectBadge(instPage, null);

  await candApps.goto(`${world.server.url}/courses/${courseId}`);
  await candApps.fill('#motivation', 'I build chat apps and want to understand fan-out.');
  await candApps.click('text=Send application');
  await candApps.waitForSelector('#apply-panel >> text=Application sent');

  await expectBadge(instPage, '1');
  await instPage.click('.bell-button');
  await instPage.waitForSelector('#bell-menu:popover-open >> text=New application to Realtime Web');
  await instPage.keyboard.press('Escape');
});

test('the instructor approves: the candidate’s badge, dropdown, notifications page and application update live', async () => {
  await candApps.goto(`${world.server.url}/applications`);
  candNotes = await cand.context.newPage();
  await candNotes.goto(`${world.server.url}/notifications`);
  await Promise.all([waitLive(candApps), waitLive(candNotes)]);
  await candNotes.waitForSelector('text=No notifications yet');

  await instPage.goto(`${world.server.url}/instructor/applications?status=pending`);
  const row = instPage.locator('.review-row', { hasText: 'Camille Candidate' });
  await row.locator('button', { hasText: 'Approve' }).click();
  await row.locator('.status-chip', { hasText: 'Approved' }).waitFor();

  await expectBadge(candNotes, '1');
  await candNotes.locator('#notification-list .notification-card', { hasText: 'was approved' }).waitFor();
  expect(await candNotes.locator('.empty-state').isVisible()).toBe(false);
  await expectBadge(candApps, '1');
  await candApps.locator('.status-chip.status-approved').waitFor();
  await candApps.click('.bell-button');
  await candApps.locator('#bell-items .bell-item.is-unread', { hasText: 'was approved' }).waitFor();
  await candApps.keyboard.press('Escape');
  await candApps.locator('[role="status"]#connection-status >> text=Live').waitFor();
});

test('the instructor’s review page gets new applications live, and decisions made elsewhere update them', async () => {
  await instPage.goto(`${world.server.url}/instructor/applications?status=pending`);
  await waitLive(instPage);
  // A course of its own, so the students counted by the later tests stay the same.
  const reviewCourse = (await world.ctx.models.Course.create({ title: 'Review Queue', instructorId: instructor.id })).id;
  const [second, third] = await Promise.all([
    world.ctx.createUser('candidate', { name: 'Dana Second' }),
    world.ctx.createUser('candidate', { name: 'Eli Third' }),
  ]);
  const applied = await world.ctx.services.applications.apply(second, reviewCourse, 'Pushed rows <img src=x onerror=alert(1)>');
  const row = instPage.locator(`#review-list > #application-${applied.id}`);
  await row.waitFor();
  expect(await instPage.locator('#review-list > .review-row').first().getAttribute('id')).toBe(`application-${applied.id}`);
  expect(await row.locator('.motivation').textContent()).toBe('Pushed rows <img src=x onerror=alert(1)>');
  expect(await row.locator('img').count()).toBe(0);

  // Approved elsewhere (another tab, the admin console): the row shows the decision without a reload.
  await world.ctx.services.applications.approve(instructor, applied.id);
  await row.locator('.status-chip.status-approved').waitFor();
  expect(await row.locator('button', { hasText: 'Approve' }).count()).toBe(0);

  // A pushed row's own forms work too: boosted by the list, with the body's CSRF header.
  const pushed = await world.ctx.services.applications.apply(third, reviewCourse, 'Second pushed row');
  const thirdRow = instPage.locator(`#application-${pushed.id}`);
  await thirdRow.locator('button', { hasText: 'Approve' }).click();
  await thirdRow.locator('.status-chip.status-approved').waitFor();
  expect(new URL(instPage.url()).search).toBe('?status=pending');
  expect(await instPage.locator(`#application-${pushed.id}`).count()).toBe(1);
});

test('two tabs of one user: marking read in one clears the badge in the other', async () => {
  await candNotes.locator('.notification-card button', { hasText: 'Mark as read' }).first().click();
  await candNotes.locator('.notification-card .notif-status.is-read').first().waitFor();
  await expectBadge(candNotes, null);
  await expectBadge(candApps, null);
});

test('hostile titles show as text and do nothing', async () => {
  const evil = '<img src=x onerror=alert(1)> <div hx-get="/logout" hx-trigger="load">boom</div>';
  const requests: string[] = [];
  candNotes.on('request', (r) => requests.push(new URL(r.url()).pathname));
  await instPage.goto(`${world.server.url}/courses/${courseId}`);
  await instPage.selectOption('select[name="notification_type"]', 'announcement');
  await instPage.fill('input[name="title"]', evil);
  await instPage.fill('textarea[name="message"]', evil);
  await instPage.click('text=Send to students');
  await instPage.locator('.notify-panel .notice-success', { hasText: '1 student' }).waitFor();

  const card = candNotes.locator('.notification-card', { hasText: 'onerror=alert(1)' }).first();
  await card.waitFor();
  expect(await card.locator('.notification-title').textContent()).toBe(evil);
  await candNotes.reload();
  await candNotes.locator('.notification-card', { hasText: 'onerror=alert(1)' }).first().waitFor();
  await candNotes.waitForTimeout(300);
  expect(await candNotes.locator('#main img, #bell img').count()).toBe(0);
  expect(requests.filter((p) => p === '/logout' || p === '/x')).toEqual([]);
  expect(cand.problems.dialogs).toEqual([]);
});

test('the server restarts: reconnecting, then live, and a notification sent meanwhile shows up', async () => {
  await waitLive(candApps);
  for (const who of [inst, cand]) outage.set(who.problems, [who.problems.console.length, Infinity]);
  await world.server.stop();
  await candApps.waitForSelector('#connection-status[data-state="reconnecting"]');
  await world.ctx.services.notifications.fanOut(
    { kind: 'user', userId: candidate.id },
    { type: 'session_start', title: 'Live session starts now', message: 'Join the room.', senderId: instructor.id, courseId },
  );
  await world.server.start();
  await candApps.waitForSelector('#connection-status[data-state="live"]', { timeout: 20_000 });
  await waitLive(instPage);
  for (const who of [inst, cand]) outage.set(who.problems, [outage.get(who.problems)![0], who.problems.console.length]);
  await candApps.locator('#bell-items .bell-item', { hasText: 'Live session starts now' }).waitFor({ state: 'attached' });
  await expectBadge(candApps, '2');
});

test('desktop alerts: opt in, then a notification arriving in a hidden tab raises one that leads to it', async () => {
  await cand.context.grantPermissions(['notifications'], { origin: world.server.url });
  await candApps.goto(`${world.server.url}/courses`);
  await waitLive(candApps);
  // Headless Chromium shows no system notifications and its tabs never hide: record them, and pretend to hide.
  await candApps.evaluate(() => {
    const shown: Array<{ title: string; body?: string; click(): void }> = [];
    (window as unknown as { __shown: typeof shown }).__shown = shown;
    class Recorded {
      static permission = 'granted';
      static requestPermission = async () => 'granted';
      onclick: (() => void) | null = null;
      constructor(title: string, opts: { body?: string }) {
        shown.push({ title, body: opts.body, click: () => this.onclick?.() });
      }
      close() {}
    }
    Object.defineProperty(window, 'Notification', { value: Recorded, configurable: true });
    Object.defineProperty(document, 'hidden', { value: true, configurable: true });
  });
  await world.ctx.services.notifications.fanOut(
    { kind: 'user', userId: candidate.id },
    { type: 'exam_result', title: 'Your exam result is in', message: 'You passed.', senderId: instructor.id, courseId },
  );
  await candApps.waitForFunction(() => (window as unknown as { __shown: unknown[] }).__shown.length === 1);
  expect(await candApps.evaluate(() => (window as unknown as { __shown: Array<{ title: string; body: string }> }).__shown[0])).toMatchObject({
    title: 'Your exam result is in',
    body: 'You passed.',
  });
  await Promise.all([
    candApps.waitForURL(`${world.server.url}/courses/${courseId}`),
    candApps.evaluate(() => (window as unknown as { __shown: Array<{ click(): void }> }).__shown[0].click()),
  ]);
});

test('screenshots of the main pages on desktop and phone', async () => {
  const shots: Array<[Page, string, string]> = [
    [candApps, '/courses', 'candidate-catalog'],
    [candApps, `/courses/${courseId}`, 'candidate-course'],
    [candApps, '/applications', 'candidate-applications'],
    [candApps, '/notifications', 'candidate-notifications'],
    [instPage, '/instructor', 'instructor-courses'],
    [instPage, '/instructor/applications?status=all', 'instructor-applications'],
    [instPage, `/courses/${courseId}`, 'instructor-course'],
  ];
  for (const [page, path, name] of shots) {
    await page.goto(`${world.server.url}${path}`);
    await waitLive(page);
    await screenshot(page, `${name}-desktop`);
  }
  // The catalogue's search refreshes the results as one types (htmx), no submit needed.
  await candApps.goto(`${world.server.url}/courses`);
  await candApps.fill('#q', 'typescript');
  await candApps.waitForFunction(() => !document.getElementById('course-results')?.textContent?.includes('Realtime Web'));
  expect(await candApps.locator('#course-results .course-title').allTextContents()).toEqual(['TypeScript from Zero']);
  expect(new URL(candApps.url()).search).toBe('?q=typescript');
  await candApps.click('.bell-button');
  await candApps.waitForSelector('#bell-menu:popover-open');
  await screenshot(candApps, 'candidate-bell-desktop');

  const phone = await world.person({ phone: true });
  const p = await phone.context.newPage();
  await p.goto(`${world.server.url}/login`);
  await screenshot(p, 'login-phone');
  await world.login(p, candidate);
  for (const [, path, name] of shots.slice(0, 4)) {
    await p.goto(`${world.server.url}${path}`);
    await waitLive(p);
    await screenshot(p, `${name}-phone`);
  }
  await p.click('.bell-button');
  await p.waitForSelector('#bell-menu:popover-open');
  await screenshot(p, 'candidate-bell-phone');
  await phone.context.close();
  expect(phone.problems.console).toEqual([]);
  expect(phone.problems.csp).toEqual([]);
});

test('no console errors and no CSP violations anywhere', () => {
  for (const who of [inst, cand]) {
    expect(who.problems.csp).toEqual([]);
    const [from, to] = outage.get(who.problems) ?? [0, 0];
    const allowed = (t: string, i: number) => i >= from && i < to && OUTAGE_NOISE.test(t);
    expect(who.problems.console.filter((t, i) => !allowed(t, i))).toEqual([]);
    expect(who.problems.dialogs).toEqual([]);
  }
});
