import type { Page } from 'playwright-core';
import type { User } from '../../models';
import { expectBadge, screenshot, waitLive } from '../support/browser';
import { useBrowserWorld } from '../support/browser-world';

/**
 * Issue 14's density in Chromium: the notifications page as compact rows (ten on a 1280x800 laptop screen, nothing
 * wider than a 390 px phone), the bell's All / Unread tabs kept right live, and its per-item actions on hover and
 * focus, followed by the user's other tab.
 */
jest.setTimeout(90_000);

const world = useBrowserWorld();
const { pageAs } = world;
let instructor: User;
let courseId: number;

beforeAll(async () => {
  instructor = await world.ctx.createUser('instructor', { name: 'Ines Instructor' });
  courseId = (await world.ctx.createCourse(instructor, { title: 'PostgreSQL in Practice' })).id;
});

/** One notification for `user`, sent the way an instructor's announcement is; its id. */
async function notify(user: User, title: string, message = 'Bring your laptop: we set up PostgreSQL 16 together and load the sample data.') {
  await world.ctx.services.notifications.fanOut(
    { kind: 'user', userId: user.id },
    { type: 'announcement', title, message, senderId: instructor.id, courseId },
  );
  return (await world.ctx.services.notifications.bell(user.id)).latest[0].id;
}

const opacity = (page: Page, selector: string) => page.$eval(selector, (el) => Number(getComputedStyle(el).opacity));
/** The bell items a person sees, top to bottom, by title. */
const bellShown = (page: Page) =>
  page.$$eval('#bell-items > .bell-item', (els) =>
    els.filter((e) => e.getClientRects().length > 0).map((e) => e.querySelector('.bell-item-title')!.textContent!.replace('Unread: ', '').trim()),
  );

test('the page lists compact rows: ten on a 1280x800 screen, actions on hover and focus, none wider than 390 px', async () => {
  const user = await world.ctx.createUser('candidate', { name: 'Rowan Rows' });
  const ids: number[] = [];
  for (let i = 1; i <= 14; i++) ids.push(await notify(user, `Week ${i}: a session on indexes, joins and query plans for the whole group`));
  const page = await pageAs(user);
  await page.goto(`${world.server.url}/notifications`);
  await waitLive(page);
  const inView = await page.$$eval('#notification-list .notification-card', (els) =>
    els.filter((e) => {
      const r = e.getBoundingClientRect();
      return r.height > 0 && r.top >= 0 && r.bottom <= window.innerHeight;
    }).length,
  );
  expect(inView).toBeGreaterThanOrEqual(10);
  // Title and excerpt on one line: the excerpt is cut with an ellipsis, not wrapped.
  const newest = `#notification-${ids[13]}`;
  const line = await page.$eval(`${newest} .notification-message`, (el) => ({
    cut: el.scrollWidth > el.clientWidth,
    ellipsis: getComputedStyle(el).textOverflow,
    lines: Math.round(el.getBoundingClientRect().height / parseFloat(getComputedStyle(el).lineHeight)),
  }));
  expect(line).toEqual({ cut: true, ellipsis: 'ellipsis', lines: 1 });

  // The actions show on hover and on focus within the row, and stay hidden otherwise.
  expect(await opacity(page, `${newest} .notification-actions`)).toBe(0);
  await page.hover(`${newest} .notification-title`, { position: { x: 10, y: 5 } });
  expect(await opacity(page, `${newest} .notification-actions`)).toBe(1);
  await page.mouse.move(5, 5);
  expect(await opacity(page, `${newest} .notification-actions`)).toBe(0);
  await page.focus(`${newest} .notif-status button`);
  expect(await opacity(page, `${newest} .notification-actions`)).toBe(1);
  await screenshot(page, 'density-rows-1280');

  // At 390 px (touch, no hover) the actions are always there, and the page never scrolls sideways.
  const phone = await pageAs(user, { phone: true });
  await phone.goto(`${world.server.url}/notifications`);
  await waitLive(phone);
  expect(await opacity(phone, `${newest} .notification-actions`)).toBe(1);
  expect(await phone.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth)).toBe(true);
  await phone.locator(`${newest} .notif-status button`).click();
  await phone.locator(`${newest} .notif-status.is-read`).waitFor();
  await screenshot(phone, 'density-rows-390');
  await page.context().close();
  await phone.context().close();
});

test('the bell’s Unread tab lists the latest unread ones, older ones included, and stays right live', async () => {
  const user = await world.ctx.createUser('candidate', { name: 'Uma Unread' });
  const older = [await notify(user, 'Older unread one'), await notify(user, 'Older unread two')];
  const read: number[] = [];
  for (let i = 1; i <= 6; i++) read.push(await notify(user, `Read news ${i}`));
  await world.ctx.services.notifications.inbox.bulk(user.id, read, 'read');
  const tabA = await pageAs(user);
  const tabB = await tabA.context().newPage();
  await tabA.goto(`${world.server.url}/courses`);
  await tabB.goto(`${world.server.url}/notifications`);
  await Promise.all([waitLive(tabA), waitLive(tabB)]);
  await expectBadge(tabA, '2');
  await tabA.click('.bell-button');
  await tabA.locator('#bell-menu').waitFor();
  expect(await bellShown(tabA)).toEqual(['Read news 6', 'Read news 5', 'Read news 4', 'Read news 3', 'Read news 2']);

  const unreadTab = tabA.locator('[data-bell-tab="unread"]');
  await unreadTab.click();
  expect(await unreadTab.getAttribute('aria-pressed')).toBe('true');
  expect(await tabA.locator('[data-bell-tab="all"]').getAttribute('aria-pressed')).toBe('false');
  expect(await bellShown(tabA)).toEqual(['Older unread two', 'Older unread one']);

  // Live: a new one arrives on top of Unread; the tab stays chosen across the pushed bell.
  await notify(user, 'Fresh off the press');
  await tabA.locator('#bell-items > .bell-item', { hasText: 'Fresh off the press' }).waitFor();
  await expectBadge(tabA, '3');
  expect(await bellShown(tabA)).toEqual(['Fresh off the press', 'Older unread two', 'Older unread one']);

  // Read in the other tab: it leaves Unread here, and the pushed bell keeps the Unread tab pressed.
  await tabB.locator(`#notification-${older[1]} .notif-status button`).click();
  await expectBadge(tabA, '2');
  // Read and older than the latest five, it is no longer in the bell at all.
  await tabA.locator(`#bell-item-${older[1]}`).waitFor({ state: 'detached' });
  expect(await bellShown(tabA)).toEqual(['Fresh off the press', 'Older unread one']);
  expect(await unreadTab.getAttribute('aria-pressed')).toBe('true');
  expect(await tabA.locator('#bell-menu:popover-open').count()).toBe(1);

  // Back to All: the latest five again, read ones included.
  await tabA.locator('[data-bell-tab="all"]').click();
  expect(await bellShown(tabA)).toEqual(['Fresh off the press', 'Read news 6', 'Read news 5', 'Read news 4', 'Read news 3']);
  await screenshot(tabA, 'density-bell-all');
  await tabA.context().close();
});

test('an item’s actions in the bell, on hover and from the keyboard: done, read and snooze, followed by the other tab', async () => {
  const user = await world.ctx.createUser('candidate', { name: 'Dana Done' });
  const first = await notify(user, 'Reading list for week one');
  const second = await notify(user, 'Room change for Monday');
  const tabA = await pageAs(user);
  const tabB = await tabA.context().newPage();
  await tabA.goto(`${world.server.url}/courses`);
  await tabB.goto(`${world.server.url}/notifications`);
  await Promise.all([waitLive(tabA), waitLive(tabB)]);
  await tabA.click('.bell-button');
  const item = `#bell-item-${second}`;
  await tabA.locator(item).waitFor();
  expect(await opacity(tabA, `${item} .bell-item-actions`)).toBe(0);

  // Hover: the actions show; Done takes it out of the bell here and off the page in the other tab.
  await tabA.hover(`${item} .bell-item-title`);
  expect(await opacity(tabA, `${item} .bell-item-actions`)).toBe(1);
  const done = tabA.getByRole('button', { name: 'Done: Room change for Monday' });
  await done.click();
  await tabA.locator(item).waitFor({ state: 'detached' });
  await tabB.locator(`#notification-${second}`).waitFor({ state: 'detached' });
  await expectBadge(tabB, '1');
  expect(await tabA.locator('#bell-menu:popover-open').count()).toBe(1);

  // Keyboard: Tab from the item reaches its "Mark read" (shown on focus); Enter marks it read in both tabs, and
  // focus stays on that control in the new bell (now "Mark unread").
  await tabA.focus(`#bell-item-${first} .bell-item-button`);
  await tabA.keyboard.press('Tab');
  expect(await tabA.evaluate(() => document.activeElement?.textContent?.trim())).toBe('Mark read: Reading list for week one');
  expect(await opacity(tabA, `#bell-item-${first} .bell-item-actions`)).toBe(1);
  await tabA.keyboard.press('Enter');
  await expectBadge(tabA, null);
  await tabB.locator(`#notification-${first} .notif-status.is-read`).waitFor();
  await tabA.waitForFunction(() => document.activeElement?.textContent?.trim() === 'Mark unread: Reading list for week one');
  expect(await tabA.locator('#bell-menu:popover-open').count()).toBe(1);
  await screenshot(tabA, 'density-bell-actions');

  // Snooze: its presets open as a line of the item; one of them takes it out of the bell and off the other tab.
  await tabA.click(`#bell-item-${first} summary[data-bell-action="snooze"]`);
  await screenshot(tabA, 'density-bell-snooze');
  await tabA.locator(`#bell-item-${first} .bell-snooze-options button`, { hasText: 'In an hour' }).click();
  await tabA.locator(`#bell-item-${first}`).waitFor({ state: 'detached' });
  await tabB.locator(`#notification-${first}`).waitFor({ state: 'detached' });
  expect(await tabA.locator('#bell-menu:popover-open').count()).toBe(1);
  await tabA.context().close();
});
