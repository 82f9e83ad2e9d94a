import net from 'node:net';
import type { Page } from 'playwright-core';
import type { User } from '../../models';
import { waitLive } from '../support/browser';
import { useBrowserWorld, type Person } from '../support/browser-world';

/**
 * "Nothing is lost when a tab sleeps" (issue 14) on the notifications page: one tab loses its network (its laptop
 * sleeps: every connection through its TCP proxy is cut and new ones are refused) while rows are done, read, marked
 * unread, undone, snoozed, deleted and removed by a moderator; back, it reconnects with ?since= past the last change
 * it followed and ends with the same rows, in the same order and read states, as a tab of the same user that stayed
 * awake. (The layout turns hx-ws's pauseOnBackground off, so a hidden tab keeps its socket: a drop is how one sleeps.)
 * Debian's Chromium.
 */
jest.setTimeout(90_000);

const world = useBrowserWorld();
let user: User;
let who: Person;
let proxy: Awaited<ReturnType<typeof sleepyProxy>> | undefined;

beforeAll(async () => {
  user = await world.ctx.createUser('candidate', { name: 'Sam Sleeper' });
  who = await world.person();
});

// The proxy and the sockets it still carries.
afterAll(async () => {
  await proxy?.close();
});

const notify = (title: string) =>
  world.ctx.sequelize.transaction((t) => world.ctx.services.notifications.create({ recipientId: user.id, type: 'message', title }, t));

/** The list as the user sees it, top to bottom: each row's id and whether it shows as unread. */
const rows = (page: Page) =>
  page.$$eval('#notification-list > .notification-card', (els) =>
    els.map((e) => `${e.id}${e.querySelector('.notif-status.is-unread') ? ' unread' : ''}`),
  );

/**
 * A TCP proxy to `port` that can "sleep": cut every connection it carries (the browser sees 1006 and retries) and
 * refuse new ones until it wakes. Same host as the server, so the same session cookie and Origin rules apply.
 */
async function sleepyProxy(port: number) {
  const open = new Set<net.Socket>();
  let asleep = false;
  const server = net.createServer((client) => {
    if (asleep) return void client.destroy();
    const upstream = net.connect(port, '127.0.0.1');
    for (const s of [client, upstream]) {
      open.add(s);
      s.on('close', () => open.delete(s));
      s.on('error', () => undefined);
    }
    client.pipe(upstream).pipe(client);
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as net.AddressInfo).port}`,
    sleep() {
      asleep = true;
      for (const s of open) s.destroy();
    },
    wake() {
      asleep = false;
    },
    close() {
      for (const s of open) s.destroy();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

test('a notifications tab that slept through state changes ends where a tab that stayed awake is', async () => {
  const ids: Record<string, number> = {};
  for (const title of ['keep', 'done', 'read', 'unread', 'undone', 'deleted', 'moderated', 'snoozed', 'readBefore']) ids[title] = await notify(title);
  const inbox = world.ctx.services.notifications.inbox;
  await inbox.markRead(user.id, ids.unread);
  await inbox.act(user.id, ids.undone, 'done');

  proxy = await sleepyProxy(Number(new URL(world.server.url).port));
  const asleep = await who.context.newPage();
  await world.login(asleep, user); // cookies are per host, not port: the proxied tab is signed in too
  const awake = await who.context.newPage();
  await Promise.all([asleep.goto(`${proxy.url}/notifications`), awake.goto(`${world.server.url}/notifications`)]);
  await Promise.all([waitLive(asleep), waitLive(awake)]);
  expect(await rows(asleep)).toEqual(await rows(awake));

  // A change both tabs follow live: its position is where the sleeping tab resumes from.
  await inbox.markRead(user.id, ids.readBefore);
  await asleep.locator(`#notification-${ids.readBefore} .notif-status.is-read`).waitFor();
  proxy.sleep();
  await asleep.waitForSelector('#connection-status:not([data-state="live"])', { state: 'attached', timeout: 5_000 });

  await inbox.act(user.id, ids.done, 'done');
  await inbox.markRead(user.id, ids.read);
  await inbox.act(user.id, ids.unread, 'unread');
  await inbox.act(user.id, ids.undone, 'undone');
  await inbox.snooze(user.id, ids.snoozed, new Date(Date.now() + 3600_000));
  await inbox.remove(user.id, ids.deleted);
  expect(await world.ctx.services.moderation.removeMany([ids.moderated])).toBe(1);
  const missed = await notify('missed');
  // The awake tab followed every change live: it is the reference.
  await awake.locator(`#notification-${ids.moderated}`).waitFor({ state: 'detached' });
  await awake.locator(`#notification-${ids.undone}`).waitFor();
  await awake.locator(`#notification-${missed}`).waitFor();
  const expected = await rows(awake);
  expect(expected).toEqual([
    `notification-${missed} unread`,
    `notification-${ids.readBefore}`,
    `notification-${ids.undone}`,
    `notification-${ids.unread} unread`,
    `notification-${ids.read}`,
    `notification-${ids.keep} unread`,
  ]);
  expect(await rows(asleep)).not.toEqual(expected); // it heard nothing while cut off

  const reconnect = asleep.waitForEvent('websocket', (ws) => ws.url().includes('/ws/bell'));
  proxy.wake();
  const since = Number(new URL((await reconnect).url()).searchParams.get('since'));
  // Past the newest row it showed: the read it followed live (live.js reads the state frame's position).
  expect(since).toBeGreaterThan(ids.readBefore);
  await waitLive(asleep);
  // The replay arrives at once after the snapshot; the rows then stay as they are (nothing else changes meanwhile).
  await asleep.locator(`#notification-${ids.undone}`).waitFor();
  let got = await rows(asleep);
  for (const until = Date.now() + 5_000; JSON.stringify(got) !== JSON.stringify(expected) && Date.now() < until; got = await rows(asleep)) {
    await asleep.waitForTimeout(100);
  }
  expect(got).toEqual(expected);
  expect(await asleep.locator('#bell-badge').textContent()).toBe(await awake.locator('#bell-badge').textContent());
  expect(who.problems.console.filter((m) => !/WebSocket|htmx:ws/.test(m))).toEqual([]);
  expect(who.problems.csp).toEqual([]);
});
