import type { Page } from 'playwright-core';
import type { User } from '../../models';
import { screenshot } from '../support/browser';
import { type Person, useBrowserWorld } from '../support/browser-world';

/**
 * The notification settings page in Debian's Chromium: a change is saved at once (no button), survives a reload,
 * and the whole page works from the keyboard alone, focus staying on the control that was changed.
 */
jest.setTimeout(90_000);

const world = useBrowserWorld();
let user: Person;
let candidate: User;
let page: Page;

beforeAll(async () => {
  candidate = await world.ctx.createUser('candidate', { name: 'Kim Keyboard' });
  user = await world.person();
  page = await user.context.newPage();
  await world.login(page, candidate);
});

const SETTINGS = '/settings/notifications';
const saved = () => world.ctx.services.preferences.get(candidate.id);

/** Does `act`, waits for the save it triggers and for its answer to be swapped in. */
async function saving(act: () => Promise<unknown>, swapped: string): Promise<void> {
  await Promise.all([
    page.waitForResponse((r) => r.url().endsWith(SETTINGS) && r.request().method() === 'POST' && r.status() === 200),
    act(),
  ]);
  await page.waitForFunction((sel) => document.querySelector(sel) !== null, swapped);
}

const activeId = () => page.evaluate(() => document.activeElement?.id ?? '');

/** Tabs forward until the element with this id has focus (at most `max` presses). */
async function tabTo(id: string, max = 120): Promise<void> {
  for (let i = 0; i < max; i++) {
    if ((await activeId()) === id) return;
    await page.keyboard.press('Tab');
  }
  throw new Error(`Tab never reached #${id}; focus is on #${await activeId()}`);
}

test('reached from the account menu; a change is saved at once and is still there after a reload', async () => {
  await page.goto(`${world.server.url}/courses`);
  await page.click('.usermenu summary');
  await Promise.all([page.waitForURL((u) => u.pathname === SETTINGS), page.click(`.usermenu-panel a[href="${SETTINGS}"]`)]);
  await page.waitForSelector('#pref-announcement');
  // The inbox always gets decisions: shown, and not changeable.
  expect(await page.isDisabled('#pref-application_approved-in_app')).toBe(true);

  await saving(() => page.check('#pref-announcement-email-unread'), '#pref-announcement .pref-saved');
  expect((await saved()).types.announcement.email).toBe('unread');

  await page.reload();
  expect(await page.isChecked('#pref-announcement-email-unread')).toBe(true);
  expect(await page.isChecked('#pref-announcement-email-off')).toBe(false);
  await screenshot(page, 'settings-notifications');
});

test('keyboard only: Tab to a control, Space and arrow keys change it, focus stays put, it sticks', async () => {
  await page.goto(`${world.server.url}${SETTINGS}`);
  await page.waitForSelector('#pref-message');

  // Space on a checkbox: the message type goes silent in the app.
  await tabTo('pref-message-in_app');
  await saving(() => page.keyboard.press('Space'), '#pref-message .pref-saved');
  expect(await activeId()).toBe('pref-message-in_app');
  expect(await page.isChecked('#pref-message-in_app')).toBe(false);

  // Tab enters the email radio group on its checked option; an arrow key moves the choice.
  await page.keyboard.press('Tab');
  expect(await activeId()).toBe('pref-message-email-off');
  await saving(() => page.keyboard.press('ArrowDown'), '#pref-message-email-immediate:checked');
  expect(await activeId()).toBe('pref-message-email-immediate');

  // Space on push.
  await page.keyboard.press('Tab');
  expect(await activeId()).toBe('pref-message-push');
  await saving(() => page.keyboard.press('Space'), '#pref-message-push:checked');

  // Quiet hours on, then the digest hour one step later with an arrow key.
  await tabTo('pref-quiet', 400);
  await saving(() => page.keyboard.press('Space'), '#pref-quiet:checked');
  await tabTo('pref-digest-hour');
  await saving(() => page.keyboard.press('ArrowDown'), '#pref-digest-hour option[value="9"]:checked');

  expect(await saved()).toMatchObject({
    quiet_hours: { start: '22:00', end: '07:00' },
    digest_hour: 9,
    types: { message: { in_app: false, email: 'immediate', push: true } },
  });
  await page.reload();
  expect(await page.isChecked('#pref-message-in_app')).toBe(false);
  expect(await page.isChecked('#pref-message-email-immediate')).toBe(true);
  expect(await page.isChecked('#pref-message-push')).toBe(true);
  expect(await page.isChecked('#pref-quiet')).toBe(true);
  expect(await page.inputValue('#pref-digest-hour')).toBe('9');
  expect(user.problems).toEqual({ console: [], csp: [], dialogs: [] });
});
