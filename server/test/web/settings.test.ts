import type { User } from '../../models';
import { createTestContext, type Agent, type TestContext } from '../support/harness';

let ctx: TestContext;
let candidate: User;
let me: Agent;

beforeAll(async () => {
  ctx = await createTestContext();
  candidate = await ctx.createUser('candidate');
  me = await ctx.login(candidate);
});
afterAll(() => ctx.close());

const HX = { 'HX-Request': 'true' };
const page = '/settings/notifications';
const form = (a: Agent, body: Record<string, string>) => a.http.post(page).type('form').send({ _csrf: a.csrf, ...body });
const hx = (a: Agent, body: Record<string, string>) => a.http.post(page).set(HX).set('X-CSRF-Token', a.csrf).type('form').send(body);
const prefs = async () => ctx.services.preferences.get(candidate.id);

describe('the notification settings page', () => {
  test('needs a login; linked from the account menu; a row per type with every choice explained', async () => {
    const anon = await ctx.anonymous();
    await anon.get(page).expect(303).expect('Location', `/login?next=${encodeURIComponent(page)}`);
    const res = await me.get(page).expect(200);
    expect(res.text).toContain(`href="${page}" aria-current="page"`);
    for (const type of Object.keys((await prefs()).types)) expect(res.text).toContain(`id="pref-${type}"`);
    expect(res.text).toContain('Off: kept in your inbox for history and search');
    expect(res.text).toContain('An email only if you have not read it in Herald');
    // A locked channel is shown disabled, saying why.
    const approved = res.text.slice(res.text.indexOf('id="pref-application_approved"'));
    expect(approved.slice(0, approved.indexOf('</form>'))).toMatch(/name="in_app" value="on" checked disabled/);
    expect(res.text).toContain('Always on');
    expect(res.text).toContain('<option value="Europe/Paris">Europe/Paris</option>');
    // Without JavaScript each form has its button.
    expect(res.text).toContain('<noscript><button type="submit"');
  });

  test('htmx: a change saves at once and answers with that row only', async () => {
    const res = await hx(me, { type: 'announcement', in_app: 'on', email: 'immediate' }).expect(200);
    expect(res.text.trim()).toMatch(/^<form id="pref-announcement"/);
    expect(res.text).toContain('Saved');
    expect(res.text).toContain('hx-swap-oob="innerHTML:#live-announcer"');
    expect(res.text).toMatch(/id="pref-announcement-email-immediate" name="email" value="immediate" checked/);
    expect((await prefs()).types.announcement).toEqual({ in_app: true, email: 'immediate', push: false });
    // An unchecked box is absent from the post: off.
    await hx(me, { type: 'announcement', email: 'immediate', push: 'on' }).expect(200);
    expect((await prefs()).types.announcement).toEqual({ in_app: false, email: 'immediate', push: true });
  });

  test('a refused change is explained in its row, beside what is still saved', async () => {
    await hx(me, { type: 'message', in_app: 'on', email: 'unread' }).expect(200);
    const res = await hx(me, { type: 'message', email: 'unread' }).expect(422);
    expect(res.text).toContain('need “In the app” on');
    expect(res.text).toMatch(/id="pref-message-in_app" name="in_app" value="on" checked/);
    expect((await prefs()).types.message).toEqual({ in_app: true, email: 'unread', push: false });
  });

  test('a locked channel stays on whatever the post says', async () => {
    await hx(me, { type: 'application_approved', email: 'unread' }).expect(200);
    expect((await prefs()).types.application_approved).toEqual({ in_app: true, email: 'unread', push: false });
  });

  test('time zone, quiet hours and digest hour; wrong values shown inline', async () => {
    const ok = await hx(me, { timezone: 'Asia/Tokyo', quiet: 'on', quiet_start: '21:30', quiet_end: '06:45', digest_hour: '7' }).expect(200);
    expect(ok.text.trim()).toMatch(/^<form id="pref-general"/);
    expect(await prefs()).toMatchObject({ timezone: 'Asia/Tokyo', quiet_hours: { start: '21:30', end: '06:45' }, digest_hour: 7 });
    const bad = await hx(me, { timezone: 'Asia/Tokyo', quiet: 'on', quiet_start: '', quiet_end: '06:45', digest_hour: '7' }).expect(422);
    expect(bad.text).toContain('id="pref-quiet-start-error"');
    expect(bad.text).toContain('Enter a time such as 22:00.');
    const zone = await hx(me, { timezone: 'Mars/Base', digest_hour: '7' }).expect(422);
    expect(zone.text).toContain('Choose a time zone from the list.');
    await hx(me, { timezone: 'Asia/Tokyo', digest_hour: '7' }).expect(200);
    expect((await prefs()).quiet_hours).toBeNull();
  });

  test('without JavaScript: post, redirect back, saved; an error re-renders the page', async () => {
    await form(me, { type: 'exam_result', in_app: 'on', email: 'digest' }).expect(303).expect('Location', `${page}?saved=exam_result#pref-exam_result`);
    expect((await prefs()).types.exam_result.email).toBe('digest');
    expect((await me.get(`${page}?saved=exam_result`).expect(200)).text).toContain('Saved.');
    const bad = await form(me, { type: 'exam_result', email: 'digest' }).expect(422);
    expect(bad.text).toContain('<h1>Notification settings</h1>');
    expect(bad.text).toContain('need “In the app” on');
  });

  test('CSRF is required; a forged type is a 400', async () => {
    await me.http.post(page).type('form').send({ type: 'message', email: 'off' }).expect(403);
    await hx(me, { type: 'nonsense', email: 'off' }).expect(400);
  });
});
