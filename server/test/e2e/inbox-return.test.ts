import type { Page } from 'playwright-core';
import type { User } from '../../models';
import { expectBadge } from '../support/browser';
import { type Person, useBrowserWorld } from '../support/browser-world';

/**
 * Rows coming back to the inbox from another tab (issue 14): undone in the Done tab, or marked unread from Done,
 * the row appears in an open All list at its place (by position, not on top) and leaves the Done list, without a
 * reload; an Unread list takes only the unread one. Debian's Chromium, two tabs of one user.
 */
jest.setTimeout(90_000);

const world = useBrowserWorld();
let user: User;
let who: Person;
let done: Page;
let all: Page;
let unread: Page;
const ids: number[] = [];

/** The ids of the rows a tab shows, top to bottom. */
const shown = (page: Page) =>
  page.$$eval('#notification-list .notification-card', (els) => els.filter((e) => e.getClientRects().length > 0).map((e) => Number(e.id.split('-')[1])));

beforeAll(async () => {
  user = await world.ctx.createUser('candidate', { name: 'Camille Candidate' });
  for (const title of ['First', 'Second', 'Third', 'Fourth']) {
    ids.push(await world.ctx.message(user, title));
  }
  await world.ctx.services.notifications.inbox.bulk(user.id, [ids[1], ids[2]], 'done');
  ({ who, pages: [done, all, unread] } = await world.tabs(user, ['/notifications?status=done', '/notifications', '/notifications?status=unread']));
});

test('undone in the Done tab: the row leaves it and takes its place in the other tab’s All list, not the Unread one', async () => {
  const [first, second, third, fourth] = ids;
  expect(await shown(done)).toEqual([third, second]);
  expect(await shown(all)).toEqual([fourth, first]);
  await done.locator(`#notification-${second}`).click({ position: { x: 200, y: 10 } });
  await done.keyboard.press('e'); // the Done tab's "e": back to the inbox
  await done.locator(`#notification-${second}`).waitFor({ state: 'detached' });
  await all.locator(`#notification-${second}`).waitFor();
  expect(await shown(all)).toEqual([fourth, second, first]);
  await all.locator(`#notification-${second} .notif-status.is-read`).waitFor(); // undone comes back read
  expect(await shown(done)).toEqual([third]);
  expect(await shown(unread)).toEqual([fourth, first]);
});

test('marked unread from Done (the API): it leaves the Done tab and joins both the All and the Unread lists at its place', async () => {
  const [first, second, third, fourth] = ids;
  const res = await fetch(`${world.server.url}/api/notifications/${third}/mark_unread/`, {
    method: 'POST',
    headers: { authorization: `Bearer ${(await world.ctx.services.tokens.create(user, { name: 't', scopes: ['notifications:write'], expiresInDays: null })).token}` },
  });
  expect(res.status).toBe(200);
  await all.locator(`#notification-${third} .notif-status.is-unread`).waitFor();
  expect(await shown(all)).toEqual([fourth, third, second, first]);
  await unread.locator(`#notification-${third}`).waitFor();
  expect(await shown(unread)).toEqual([fourth, third, first]);
  await done.locator(`#notification-${third}`).waitFor({ state: 'detached' });
  expect(await shown(done)).toEqual([]);
  await expectBadge(all, '3');
  // Each row once, after every push.
  for (const tab of [all, unread, done]) {
    const dup = await tab.$$eval('#notification-list > [id]', (els) => els.length - new Set(els.map((e) => e.id)).size);
    expect(dup).toBe(0);
  }
  expect(who.problems.console).toEqual([]);
  expect(who.problems.csp).toEqual([]);
});
