import type { User } from '../../models';
import type { Agent, TestContext } from './harness';

/** The header htmx sends with each of its requests. */
export const HX = { 'HX-Request': 'true' };

/** A plain form post, as a browser without JavaScript sends it (the CSRF token in a hidden field). */
export const form = (a: Agent, url: string, body: Record<string, string> = {}) =>
  a.http.post(url).type('form').send({ _csrf: a.csrf, ...body });

/** The same form posted by htmx (the CSRF token in a header). */
export const hx = (a: Agent, url: string, body: Record<string, string> = {}) =>
  a.http.post(url).set(HX).set('X-CSRF-Token', a.csrf).type('form').send(body);

/** The people of the page tests: an instructor of two courses, a candidate, and a student enrolled in the first. */
export interface PageCast {
  instructor: User;
  candidate: User;
  student: User;
  /** Realtime Web, the course the student is enrolled in. */
  courseId: number;
}

export async function seedPageCast(ctx: TestContext): Promise<PageCast> {
  const instructor = await ctx.createUser('instructor', { name: 'Ines Teacher' });
  const candidate = await ctx.createUser('candidate', { name: 'Cam Candidate' });
  const student = await ctx.createUser('candidate', { name: 'Stu Student' });
  const course = await ctx.createCourse(instructor, { title: 'Realtime Web', description: 'Sockets', students: [student] });
  await ctx.createCourse(instructor, { title: 'PostgreSQL in Practice' });
  return { instructor, candidate, student, courseId: course.id };
}
