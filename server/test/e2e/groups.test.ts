import type { Page } from 'playwright-core';
import type { Course, User } from '../../models';
import { expectBadge, screenshot } from '../support/browser';
import { type Person, useBrowserWorld } from '../support/browser-world';

/**
 * Groups in Debian's Chromium (issue 14), as an instructor would see them: applications to one course are ONE line
 * on the notifications page and in the bell; another application arrives live and the line grows (count and
 * names), still one line, in both tabs; "Show all" loads the members in place; "Done" on the line files the whole
 * group, and the other tab follows.
 */
jest.setTimeout(90_000);

const world = useBrowserWorld();
let instructor: User;
let course: Course;
let key: string;
let who: Person;
let tabA: Page;
let tabB: Page;

const line = (page: Page) => page.locator(`#notification-list > [data-group="${key}"]`);
const bellLine = (page: Page) => page.locator(`#bell-items > [data-group="${key}"]`);

async function apply(name: string): Promise<void> {
  const candidate = await world.ctx.createUser('candidate', { name });
  await world.ctx.services.applications.apply(candidate, course.id, 'I would like to join.');
}

beforeAll(async () => {
  instructor = await world.ctx.createUser('instructor', { name: 'Ines Instructor' });
  course = await world.ctx.createCourse(instructor, { title: 'PostgreSQL in Practice' });
  key = `application_submitted:course:${course.id}`;
  await apply('Camille');
  await apply('Dario');
  ({ who, pages: [tabA, tabB] } = await world.tabs(instructor, ['/notifications', '/notifications']));
});

test('two applications to a course are one line on the page and in the bell', async () => {
  for (const tab of [tabA, tabB]) {
    await expect(line(tab).count()).resolves.toBe(1);
    await expect(line(tab).locator('.notification-title').textContent()).resolves.toBe('Dario and Camille applied to PostgreSQL in Practice');
    // No card of its own for either member.
    await expect(tab.locator('#notification-list > .notification-card').count()).resolves.toBe(1);
    await expect(bellLine(tab).count()).resolves.toBe(1);
    await expect(tab.locator('#bell-items > li').count()).resolves.toBe(1);
    await expectBadge(tab, '2');
  }
});

test('another application grows the line live in both tabs: new names and count, still one line, on top', async () => {
  await apply('Ewa');
  for (const tab of [tabA, tabB]) {
    await line(tab).locator('.notification-title', { hasText: 'Ewa, Dario and Camille applied to PostgreSQL in Practice' }).waitFor();
    await expect(line(tab).locator('[data-group-count]').textContent()).resolves.toBe('3 notifications');
    await expect(line(tab).count()).resolves.toBe(1);
    await expect(tab.locator('#notification-list > .notification-card').count()).resolves.toBe(1);
    // The bell's dropdown is closed: its line is there, not visible.
    await bellLine(tab).locator('.bell-item-title', { hasText: 'Ewa, Dario and Camille' }).waitFor({ state: 'attached' });
    await expect(tab.locator('#bell-items > li').count()).resolves.toBe(1);
    await expectBadge(tab, '3');
  }
  // A message is not part of the group: it is a line of its own, above the group now.
  await world.ctx.message(instructor, 'Room change on Monday');
  for (const tab of [tabA, tabB]) await tab.locator('#notification-list > .notification-card').nth(1).waitFor();
  await apply('Farid');
  for (const tab of [tabA, tabB]) {
    await line(tab).locator('.notification-title', { hasText: 'Farid, Ewa, Dario and 1 other applied' }).waitFor();
    // Moved to the top, above the message.
    await expect(tab.locator('#notification-list > .notification-card').first().getAttribute('data-group')).resolves.toBe(key);
    await expect(line(tab).count()).resolves.toBe(1);
  }
});

test('"Show all" loads the members in place', async () => {
  await line(tabA).locator('[data-group-expand]').click();
  await expect(line(tabA).locator('[data-group-expand]').getAttribute('aria-expanded')).resolves.toBe('true');
  await line(tabA).locator('.group-members .notification-card').nth(3).waitFor();
  await expect(line(tabA).locator('.group-members .notification-card').count()).resolves.toBe(4);
  expect(tabA.url()).toBe(`${world.server.url}/notifications`);
  await screenshot(tabA, 'groups-expanded');
});

test('"Done" on the line files the whole group; the other tab follows; the Done tab lists the members', async () => {
  await line(tabA).locator('form[action$="/done"] button').first().click();
  for (const tab of [tabA, tabB]) {
    await line(tab).waitFor({ state: 'detached' });
    await bellLine(tab).waitFor({ state: 'detached' });
    await expectBadge(tab, '1'); // the message is still unread
  }
  await tabB.goto(`${world.server.url}/notifications?status=done`);
  await expect(tabB.locator('#notification-list > .notification-card').count()).resolves.toBe(4);
  expect(who.problems.console).toEqual([]);
  expect(who.problems.csp).toEqual([]);
});
