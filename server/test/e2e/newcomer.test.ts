import type { Page } from 'playwright-core';
import type { User } from '../../models';
import { expectBadge, screenshot, waitLive } from '../support/browser';
import { useBrowserWorld } from '../support/browser-world';

/** Issue 16's small things, as a newcomer sees them in Chromium at 1280 px and at 390 px. */
jest.setTimeout(90_000);

const world = useBrowserWorld();
const { pageAs } = world;
let instructor: User;
let candidate: User;
let admin: User;
let courseId: number;

beforeAll(async () => {
  instructor = await world.ctx.createUser('instructor', { name: 'Ines Instructor' });
  candidate = await world.ctx.createUser('candidate', { name: 'Camille Candidate' });
  admin = await world.ctx.createUser('admin', { name: 'Ada Admin' });
  courseId = (await world.ctx.createCourse(instructor, { title: 'Realtime Web', students: [candidate] })).id;
});

function notify(title: string) {
  return world.ctx.services.notifications.fanOut(
    { kind: 'user', userId: candidate.id },
    { type: 'announcement', title, message: 'Read me.', senderId: instructor.id, courseId },
  );
}

test('16.12: the page’s "Mark all as read" is disabled with nothing unread and enabled live when one arrives', async () => {
  const page = await pageAs(candidate);
  await page.goto(`${world.server.url}/notifications`);
  await waitLive(page);
  const button = page.locator('main [data-mark-all]');
  expect(await button.isDisabled()).toBe(true);
  await notify('Room change');
  await expectBadge(page, '1');
  await page.waitForFunction(() => !(document.querySelector('main [data-mark-all]') as HTMLButtonElement).disabled);
  await button.click();
  await expectBadge(page, null);
  await page.waitForFunction(() => (document.querySelector('main [data-mark-all]') as HTMLButtonElement).disabled);
  await page.context().close();
});

test('16.12: a review row pushed for an application already on the page appears once', async () => {
  const applicant = await world.ctx.createUser('candidate', { name: 'Dora Duplicate' });
  const a = await world.ctx.services.applications.apply(applicant, courseId, 'Rendered and pushed at once');
  const page = await pageAs(instructor);
  const frames: string[] = [];
  page.on('websocket', (ws) => ws.on('framereceived', (f) => frames.push(String(f.payload))));
  await page.goto(`${world.server.url}/instructor/applications`);
  await waitLive(page);
  // The push that raced the render: the same new application announced again once the page has it.
  world.ctx.events.publish({ type: 'application.changed', applicationId: a.id, status: 'pending', courseId, instructorId: instructor.id, candidateId: applicant.id });
  const other = await world.ctx.createUser('candidate', { name: 'Otto Other' });
  await world.ctx.services.applications.apply(other, courseId, 'Pushed after');
  await page.locator('#review-list .review-row', { hasText: 'Otto Other' }).waitFor();
  // The repeated row did reach the page (pushes are in order, and Otto's came after it)...
  expect(frames.some((f) => f.includes(`id="application-${a.id}"`))).toBe(true);
  // ...and the page still shows it once.
  expect(await page.locator(`[id="application-${a.id}"]`).count()).toBe(1);
  await page.context().close();
});

test('16.12: the open reject form keeps its button under Approve and its reason field the column wide', async () => {
  const applicant = await world.ctx.createUser('candidate', { name: 'Rita Reject' });
  const a = await world.ctx.services.applications.apply(applicant, courseId, 'Please have a look');
  const page = await pageAs(instructor);
  await page.goto(`${world.server.url}/instructor/applications`);
  await waitLive(page);
  const row = page.locator(`[id="application-${a.id}"]`);
  await row.locator('summary', { hasText: 'Reject' }).click();
  const box = async (sel: string) => (await row.locator(sel).first().boundingBox())!;
  const [approve, reject, reason] = [await box('button:has-text("Approve")'), await box('summary'), await box('textarea')];
  // Right edges line up (to the pixel), the button sits below Approve, and the field spans the side column.
  expect(Math.abs(approve.x + approve.width - (reject.x + reject.width))).toBeLessThanOrEqual(1);
  expect(reject.y).toBeGreaterThan(approve.y);
  expect(reason.width).toBeGreaterThan(reject.width * 2);
  await page.context().close();
});

test('16.6: "See all notifications" stays visible in the bell dropdown with five items', async () => {
  for (let i = 1; i <= 5; i++) await notify(`A fairly long notification title number ${i} that wraps onto two lines`);
  for (const phone of [false, true]) {
    const page = await pageAs(candidate, { phone });
    await page.goto(`${world.server.url}/courses`);
    await waitLive(page);
    await page.click('.bell-button');
    await page.locator('#bell-menu').waitFor();
    expect(await page.locator('#bell-items .bell-item:visible').count()).toBe(5);
    // Visible means hit-testable where it is drawn: not scrolled away inside the dropdown, nor below the window.
    const onTop = await page.evaluate(() => {
      const link = document.querySelector('#bell-menu .bell-all')!;
      const r = link.getBoundingClientRect();
      const hit = document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2);
      return r.bottom <= window.innerHeight && !!hit && link.contains(hit);
    });
    expect(onTop).toBe(true);
    await screenshot(page, `bell-five-items-${phone ? 390 : 1280}`);
    await page.context().close();
  }
});

test('16.5: at 390 px "Desktop alerts" and "Live" keep visible labels and matching names', async () => {
  const page = await pageAs(candidate, { phone: true });
  await page.goto(`${world.server.url}/courses`);
  await waitLive(page);
  const optin = page.locator('#notify-optin');
  await optin.waitFor();
  const visibleText = (sel: string) =>
    page.evaluate((s) => {
      const el = document.querySelector(s) as HTMLElement;
      const r = el.getBoundingClientRect();
      return r.width > 4 && r.height > 4 ? el.innerText.trim() : '';
    }, sel);
  expect(await visibleText('#notify-optin .optin-label')).toBe('Desktop alerts');
  // Not a second bell: the only bell icon in the top bar is the bell's own.
  expect(await page.locator('.topbar svg:visible').evaluateAll((els) => els.filter((e) => !e.closest('#bell')).length)).toBe(0);
  expect(await visibleText('#connection-status .conn-label')).toBe('Live');
  expect(await page.getByRole('button', { name: 'Desktop alerts' }).count()).toBe(1);
  // And the bar still fits: no sideways scrolling of the page.
  expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
  await screenshot(page, 'topbar-390');
  await page.context().close();
});

test('16.9: an instructor or admin opening /applications lands on the review page, not a 403', async () => {
  const applicant = await world.ctx.createUser('candidate', { name: 'Pia Pending' });
  await world.ctx.services.applications.apply(applicant, courseId, 'Waiting for a decision');
  for (const [user, phone] of [[instructor, false], [admin, true]] as const) {
    const page = await pageAs(user, { phone });
    // As a person does: the address typed in (an old bookmark, a link from a candidate's view), filter kept.
    const statuses: number[] = [];
    page.on('response', (r) => {
      if (r.request().isNavigationRequest()) statuses.push(r.status());
    });
    const res = await page.goto(`${world.server.url}/applications?status=pending`);
    expect(res?.status()).toBe(200);
    expect(statuses).toEqual([303, 200]);
    const landed = new URL(page.url());
    expect(landed.pathname + landed.search).toBe('/instructor/applications?status=pending');
    expect(await page.locator('main h1').innerText()).toBe('Applications');
    await page.locator('#review-list .review-row', { hasText: 'Pia Pending' }).waitFor();
    await waitLive(page);
    await page.context().close();
  }
  // The candidate keeps their own page there.
  const own = await pageAs(candidate);
  expect((await own.goto(`${world.server.url}/applications`))?.status()).toBe(200);
  expect(new URL(own.url()).pathname).toBe('/applications');
  expect(await own.locator('main h1').innerText()).toBe('My applications');
  await own.context().close();
});
