import type { Page } from 'playwright-core';
import { QueryTypes } from 'sequelize';
import type { User } from '../../models';
import { insertNotification } from '../support/admin-fixtures';
import { consoleSignIn, screenshot } from '../support/browser';
import { type Person, useBrowserWorld } from '../support/browser-world';

/**
 * The console's Deliveries and Notification defaults pages in Debian's Chromium: an admin retries a failed email
 * (its send is queued), reads the table on a phone (it scrolls inside itself, the page does not), and changes a
 * default, which a user who never chose then has.
 */
jest.setTimeout(120_000);

const world = useBrowserWorld({ console: true });
let adm: Person;
let page: Page;
let student: User;
let failedId: number;

beforeAll(async () => {
  const admin = await world.ctx.createUser('admin', { name: 'Ada Admin' });
  student = await world.ctx.createUser('candidate', { name: 'Sam Student' });
  const d = world.ctx.services.deliveries;
  const claimOne = async () => (await d.claim('email', [await insertNotification(world.ctx, { recipientId: student.id })]))[0].id;
  const sentId = await claimOne();
  await d.markSent([{ id: sentId, providerMessageId: '<sent@herald>' }]);
  failedId = await claimOne();
  await d.markFailed([{ id: failedId, error: '550 5.1.1 mailbox unavailable: the address does not exist here' }]);

  adm = await world.person();
  page = await adm.context.newPage();
  await consoleSignIn(page, world.server.url, admin);
});

// The "no rows" line is a mat-mdc-row too; real rows have no .empty cell.
const rows = () => page.locator('table[aria-label="Deliveries"] tr.mat-mdc-row:not(:has(td.empty))');

test('Deliveries: a failed email is retried from its row, and its send is queued', async () => {
  await page.getByRole('link', { name: 'Deliveries' }).click();
  await page.waitForURL(/\/admin\/deliveries$/);
  const failed = rows().filter({ hasText: 'failed' });
  await failed.getByText('550 5.1.1 mailbox unavailable', { exact: false }).waitFor();
  expect(await rows().count()).toBe(2);
  await screenshot(page, 'admin-deliveries-desktop');

  await failed.getByRole('button', { name: `Retry delivery ${failedId}` }).click();
  await rows().filter({ hasText: 'pending' }).waitFor();
  expect(await page.getByRole('button', { name: /Retry/ }).count()).toBe(0);
  expect((await world.ctx.services.deliveries.get(failedId)).status).toBe('pending');
  const [job] = await world.ctx.sequelize.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM graphile_worker.jobs WHERE key = :key`,
    { type: QueryTypes.SELECT, replacements: { key: `email:deliveries:${failedId}` } },
  );
  expect(job.n).toBe(1);
});

test('Deliveries on a phone: the table scrolls inside itself, the page does not', async () => {
  await page.setViewportSize({ width: 390, height: 844 });
  try {
    await phoneChecks();
  } finally {
    // The next tests work at desktop width whatever happened here.
    await page.setViewportSize({ width: 1280, height: 800 });
  }
});

async function phoneChecks() {
  await rows().first().waitFor();
  const widths = await page.evaluate(() => {
    const wrap = document.querySelector('.table-wrap')!;
    return { wrap: wrap.scrollWidth, wrapClient: wrap.clientWidth, doc: document.documentElement.scrollWidth, viewport: window.innerWidth };
  });
  expect(widths.wrap).toBeGreaterThan(widths.wrapClient);
  // What sticks out of the viewport, outside the two things that scroll sideways on purpose (table, nav) and the
  // CDK overlay layer (fixed, never scrolls the page: a tooltip of the previous test may still be fading out there).
  const wide = await page.evaluate(() =>
    [...document.querySelectorAll('body *')]
      .filter((e) => e.getBoundingClientRect().right > window.innerWidth + 1 && !e.closest('.table-wrap, .nav, .cdk-overlay-container'))
      .slice(0, 8)
      .map((e) => `${e.tagName.toLowerCase()}.${[...e.classList].join('.')} ${Math.round(e.getBoundingClientRect().right)}`),
  );
  expect(wide).toEqual([]);
  expect(widths.doc).toBeLessThanOrEqual(widths.viewport);
  await screenshot(page, 'admin-deliveries-phone');
}

test('Notification defaults: a change is saved at once; locked in-app shown and disabled', async () => {
  await page.getByRole('link', { name: 'Defaults' }).click();
  await page.waitForURL(/\/admin\/defaults$/);
  const approvedInApp = page.getByRole('switch', { name: 'In the app, Application approved' });
  await approvedInApp.waitFor();
  expect(await approvedInApp.isDisabled()).toBe(true);
  await page.locator('tr.mat-mdc-row', { hasText: 'Application approved' }).getByText('Locked').waitFor();

  await page.getByRole('switch', { name: 'Push, Announcement' }).click();
  await page.getByText('Announcement: default saved.').waitFor();
  expect((await world.ctx.services.preferences.getDefaults()).types.announcement.push).toBe(true);
  expect((await world.ctx.services.preferences.get(student.id)).types.announcement.push).toBe(true);
  await screenshot(page, 'admin-defaults-desktop');
});

test('no console errors and no CSP violations', () => {
  expect(adm.problems).toEqual({ console: [], csp: [], dialogs: [] });
});
