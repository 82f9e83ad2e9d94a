/**
 * Issue 10, item 7: a fan-out renders its push once and builds each recipient's copy from it. Whatever the user
 * typed must reach every recipient exactly as it reaches the page, on both protocols.
 */
import type { User } from '../../models';
import { Renderer } from '../../web/render';
import { createServerContext, login, type ServerContext } from '../support/realtime';

let ctx: ServerContext;

beforeAll(async () => {
  ctx = await createServerContext();
});
afterAll(() => ctx.close());

function connect(path: '/ws/notifications' | '/ws/bell', cookie: string) {
  return ctx.srv.connect(path, { cookie });
}

/** The stand-in the push renderer used for the id until 10.7, and look-alikes of any stand-in one could pick. */
const TRAPS = ['__herald_nid__', '{{ n.id }}', '<id>', '{id}', '$1', '$&'];
const TITLE = `Room ${TRAPS.join(' ')} change`;
const MESSAGE = `Read __herald_nid__ and ${TRAPS.join('|')} twice: __herald_nid____herald_nid__`;

async function studentsOfOneCourse(n: number) {
  const instructor = await ctx.createUser('instructor');
  const course = await ctx.models.Course.create({ title: 'Placeholders', instructorId: instructor.id });
  const students: User[] = [];
  for (let i = 0; i < n; i++) students.push(await ctx.createUser('candidate'));
  await ctx.models.Enrollment.bulkCreate(students.map((s) => ({ courseId: course.id, studentId: s.id })));
  return { instructor, course, students };
}

test('10.7 user text containing the id placeholder is never rewritten in pushes', async () => {
  const { instructor, course, students } = await studentsOfOneCourse(2);
  const cookies = await Promise.all(students.map(async (s) => (await login(ctx.srv.url, s)).cookie));
  const json = cookies.map((cookie) => connect('/ws/notifications', cookie));
  const bell = cookies.map((cookie) => connect('/ws/bell', cookie));
  await Promise.all([...json, ...bell].map((c) => c.next(() => true)));

  await ctx.services.notifications.fanOut(
    { kind: 'course', courseId: course.id },
    { type: 'announcement', title: TITLE, message: MESSAGE, senderId: instructor.id, courseId: course.id },
  );

  for (const [i, student] of students.entries()) {
    const [mine] = (await ctx.services.notifications.bell(student.id)).latest;
    expect(mine.title).toBe(TITLE);

    // JSON: the notification as the API shows it, the user's text untouched.
    const frame = await json[i].type('notification');
    expect(frame.notification).toMatchObject({ id: mine.id, title: TITLE, message: MESSAGE });

    // Bell: the same escaped text as the page renders, and the recipient's id only where the markup puts it.
    const html = (await bell[i].next((f) => f.text.includes('bell-item-'), { from: 1 })).text;
    const page = await (await ctx.login(student)).get('/notifications').expect(200);
    const escapedTitle = escapeHtml(TITLE);
    expect(page.text).toContain(escapedTitle);
    expect(html).toContain(escapedTitle);
    expect(html).toContain(`data-title="${escapedTitle}"`);
    expect(html).toContain(escapeHtml(MESSAGE));
    expect(html).toContain(`id="bell-item-${mine.id}"`);
    expect(html).toContain(`id="notification-${mine.id}"`);
    // The id shows up in the markup's own places only: never inside the user's words.
    expect(html).not.toContain(`Room ${mine.id}`);
    expect(html).not.toContain(`Read ${mine.id}`);
  }
});

test('10.7 a recipient\'s copy of the shared push is exactly the push rendered for that recipient alone', async () => {
  const u = await ctx.createUser('candidate');
  await ctx.services.notifications.fanOut({ kind: 'user', userId: u.id }, { type: 'message', title: TITLE, message: MESSAGE, senderId: null });
  const [n] = (await ctx.services.notifications.bell(u.id)).latest;
  const renderer = new Renderer();
  const alone = renderer.badgePush(4) + renderer.render('partials/push-new.njk', { n });
  expect(renderer.newNotificationPush({ ...n, id: 999_999 })(n.id, 4)).toBe(alone);
});

function escapeHtml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');
}
