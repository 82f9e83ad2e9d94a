/**
 * State changes replay on the bell protocol too (issue 14, "nothing is lost when a tab sleeps"): a notifications
 * page whose /ws/bell socket resumes with `?since=` (live.js: the newest position it shows) gets, after the bell's
 * snapshot and the missed cards, the fragments the live pushes would have brought for every row it had that changed
 * while it slept: done, snoozed and deleted rows leave, read ones show as read, unread ones get their "mark as read"
 * back, and rows back in the inbox (undone) come as cards marked data-return; then the lines of the groups touched.
 * Nothing about rows it did not have, and no second bell.
 */
import { QueryTypes } from 'sequelize';
import type { User } from '../../models';
import { api, createServerContext, groupMembers, login, sleep, type Frame, type ServerContext } from '../support/realtime';

let ctx: ServerContext;

beforeAll(async () => {
  ctx = await createServerContext();
});
afterAll(() => ctx.close());

function notify(recipient: User, title: string) {
  return ctx.sequelize.transaction((t) => ctx.services.notifications.create({ recipientId: recipient.id, type: 'message', title }, t));
}

type Who = { cookie: string; csrf: string };
const post = (who: Who, path: string, body?: object) => api(ctx.srv.url, who, 'POST', path, body);

/** Everything a bell socket resuming from `since` gets: its snapshot first, then the replay. */
async function resume(cookie: string, since: number): Promise<Frame[]> {
  const c = ctx.srv.connect(`/ws/bell?since=${since}`, { cookie });
  await c.next(() => true);
  await sleep(300); // the replay follows the snapshot at once; nothing else is sent meanwhile
  c.close();
  return c.frames;
}

/** The position a bell state frame starts with (public/live.js reads it), if any. */
function statePosition(html: string): number | undefined {
  const m = /^<template data-state-position="(\d+)"><\/template>/.exec(html);
  return m ? Number(m[1]) : undefined;
}

async function statePos(id: number): Promise<number> {
  const [r] = await ctx.sequelize.query<{ position: string }>(
    `SELECT state_pos AS position FROM notifications WHERE id = :id
     UNION ALL SELECT position FROM notification_tombstones WHERE notification_id = :id`,
    { replacements: { id }, type: QueryTypes.SELECT },
  );
  return Number(r.position);
}

/** The rows a replay's fragments touch, by what they do to them. */
function effects(html: string) {
  const ids = (re: RegExp) => [...html.matchAll(re)].map((m) => Number(m[1])).sort((x, y) => x - y);
  return {
    // A done row leaves every list but one showing it done (a Done tab rendered after the change).
    deleted: ids(/hx-swap-oob="delete:(?:#notification-list > )?#notification-(\d+)(?::not\(\.is-done\))?"/g),
    read: ids(/<span class="notif-status is-read" hx-swap-oob="outerHTML:#notification-(\d+) \.notif-status">Read<\/span>/g),
    unread: ids(/<form class="notif-status is-unread" method="post" action="\/notifications\/\d+\/read" hx-swap-oob="outerHTML:#notification-(\d+) \.notif-status"/g),
    returning: ids(/<article id="notification-(\d+)"[^>]* data-return/g),
  };
}

test('a bell tab that slept gets the fragments that remove or update exactly the rows changed while away', async () => {
  const user = await ctx.createUser('candidate');
  const other = await ctx.createUser('candidate');
  const who = await login(ctx.srv.url, user);
  const [done, read, deleted, snoozed, unread, undone, moderated, keep] = [
    await notify(user, 'done'), await notify(user, 'read'), await notify(user, 'deleted'), await notify(user, 'snoozed'),
    await notify(user, 'unread'), await notify(user, 'undone'), await notify(user, 'moderated'), await notify(user, 'keep'),
  ];
  // Before the tab slept: one row read (marked unread later), one done (so not in its All list; undone later).
  expect((await api(ctx.srv.url, who, 'PATCH', `/api/notifications/${unread}/mark_read/`)).status).toBe(200);
  expect((await post(who, `/api/notifications/${undone}/done/`)).status).toBe(200);
  const theirs = await notify(other, 'not yours');
  const since = keep; // what live.js sends from a page that followed no state frame: the newest row it shows

  // While it slept, in another tab, the API, a bulk action and the admin console.
  const missed = await notify(user, 'missed');
  expect((await post(who, `/api/notifications/${done}/done/`)).status).toBe(200);
  expect((await api(ctx.srv.url, who, 'PATCH', `/api/notifications/${read}/mark_read/`)).status).toBe(200);
  expect((await api(ctx.srv.url, who, 'DELETE', `/api/notifications/${deleted}/`)).status).toBe(204);
  expect((await post(who, `/api/notifications/${snoozed}/snooze/`, { until: new Date(Date.now() + 3600_000).toISOString() })).status).toBe(200);
  expect((await post(who, '/api/notifications/bulk/', { ids: [unread], action: 'unread' })).body).toEqual({ updated: 1 });
  expect((await post(who, `/api/notifications/${undone}/undone/`)).status).toBe(200);
  expect(await ctx.services.moderation.removeMany([moderated])).toBe(1);
  await ctx.services.notifications.inbox.act(other.id, theirs, 'done'); // another user's: never in this replay
  await sleep(200);

  const frames = await resume(who.cookie, since);
  expect(frames[0].text).toMatch(/^<div id="bell"/);
  expect(frames[0].text).toMatch(new RegExp(`id="bell-badge"[^>]*>${await ctx.services.notifications.unreadCount(user.id)}<`));
  // The missed notification's card first (its position is below every change made after it), then the changes.
  expect(frames[1].text).toMatch(new RegExp(`^<div hx-swap-oob="afterbegin:#notification-list">\\s*<article id="notification-${missed}"`));
  const replay = frames.slice(2).map((f) => f.text).join('');
  expect(effects(replay)).toEqual({
    deleted: [done, deleted, snoozed, moderated].sort((x, y) => x - y),
    read: [read, undone].sort((x, y) => x - y), // undone leaves it in the inbox, read: its state now
    unread: [unread],
    returning: [read, unread, undone].sort((x, y) => x - y), // a list that lacks them (All lacked the done one) takes them in
  });
  expect(replay).toContain(`hx-swap-oob="delete:#notification-list > #notification-${done}:not(.is-done)"`);
  expect(replay).toContain(`hx-swap-oob="delete:#notification-${deleted}"`);
  expect(replay).not.toContain(`notification-${keep}`);
  expect(replay).not.toContain(`notification-${theirs}`);
  expect(replay).not.toContain('id="bell"'); // the snapshot brought the bell; only one per reconnect
  expect(replay).not.toContain('live-announcer');
  expect(replay).not.toMatch(/<script|\shx-(on|get|post|vals|headers)/);
  expect(frames.slice(2).every((f) => f.json === undefined)).toBe(true); // all fragments hx-ws swaps

  // Only the last state frame says its position, the highest change (live.js resumes from it); from there, nothing.
  const marked = frames.slice(2).map((f) => statePosition(f.text));
  expect(marked.slice(0, -1).every((at) => at === undefined)).toBe(true);
  expect(marked.at(-1)).toBe(await statePos(moderated));
  const now = await resume(who.cookie, marked.at(-1)!);
  expect(now.map((f) => f.text).join('')).not.toMatch(/#notification-\d+/);
});

test('a group action while away: the members leave and the group line is sent as it is now, after the states', async () => {
  const user = await ctx.createUser('instructor');
  const course = await ctx.createCourse(user, { title: 'Bell replay' });
  const who = await login(ctx.srv.url, user);
  const [g1, g2, g3] = await groupMembers(ctx, user.id, course.id, 3);
  const key = `application_submitted:course:${course.id}`;
  const since = g3;

  // One member read: the group's line stays, re-rendered with one unread fewer; the row gets no card of its own.
  expect((await api(ctx.srv.url, who, 'PATCH', `/api/notifications/${g1}/mark_read/`)).status).toBe(200);
  await sleep(200);
  const partly = (await resume(who.cookie, since)).slice(1).map((f) => f.text).join('');
  expect(effects(partly)).toEqual({ deleted: [], read: [g1], unread: [], returning: [] });
  const lineAt = partly.indexOf(`delete:#notification-list[data-grouped] > [data-group=&quot;${key}&quot;]`);
  expect(lineAt).toBeGreaterThan(partly.indexOf(`#notification-${g1} .notif-status`));
  expect(partly.slice(lineAt)).toMatch(/hx-swap-oob="afterbegin:#notification-list\[data-grouped\]">[\s\S]*data-return/);

  // The whole group done: every member leaves and so does the line, with nothing in its place.
  expect((await post(who, '/api/notifications/bulk/', { group_keys: [key], action: 'done' })).body).toEqual({ updated: 3 });
  await sleep(200);
  const gone = (await resume(who.cookie, since)).slice(1).map((f) => f.text).join('');
  expect(effects(gone)).toEqual({ deleted: [g1, g2, g3], read: [], unread: [], returning: [] });
  expect(gone).toContain(`delete:#notification-list[data-grouped] > [data-group=&quot;${key}&quot;]`);
  expect(gone).not.toContain('afterbegin:#notification-list[data-grouped]');
});

test('live state frames start with their position, which moves the resume point of the page and of the socket', async () => {
  const user = await ctx.createUser('candidate');
  const who = await login(ctx.srv.url, user);
  const [a, b, c] = [await notify(user, 'a'), await notify(user, 'b'), await notify(user, 'c')];
  const tab = ctx.srv.connect(`/ws/bell?since=${c}`, { cookie: who.cookie });
  await tab.next(() => true);
  expect((await post(who, `/api/notifications/${a}/done/`)).status).toBe(200);
  const done = await tab.next((f) => f.text.includes(`delete:#notification-${a}`));
  expect(statePosition(done.text)).toBe(await statePos(a));
  expect((await api(ctx.srv.url, who, 'PATCH', `/api/notifications/${b}/mark_read/`)).status).toBe(200);
  const read = await tab.next((f) => f.text.includes(`#notification-${b} .notif-status`));
  expect(statePosition(read.text)).toBe(await statePos(b));
  expect((await api(ctx.srv.url, who, 'DELETE', `/api/notifications/${c}/`)).status).toBe(204);
  const deleted = await tab.next((f) => f.text.includes(`delete:#notification-${c}`));
  expect(statePosition(deleted.text)).toBe(await statePos(c));
  // The server's own resume point (a bus resync replays after it) moved with them.
  const [conn] = ctx.srv.realtime.hub.of(user.id) ?? [];
  expect(conn.lastPosition).toBe(await statePos(c));
  tab.close();
  // The page resumes past what it followed live: no state comes again.
  const again = await resume(who.cookie, statePosition(deleted.text)!);
  expect(again.map((f) => f.text).join('')).not.toMatch(/#notification-\d+/);
  // From before them (the newest row it shows, as a page without the frames' positions would) all three come again.
  expect(effects((await resume(who.cookie, c)).slice(1).map((f) => f.text).join(''))).toEqual({ deleted: [a, c], read: [b], unread: [], returning: [b] });
});
