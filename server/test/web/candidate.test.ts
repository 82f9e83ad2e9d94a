import type { User } from '../../models';
import { createTestContext, type TestContext } from '../support/harness';
import { HX, hx, seedPageCast } from '../support/web';

/** The candidate's pages: searching the catalogue, applying to a course. */

let ctx: TestContext;
let candidate: User;
let courseId: number;

beforeAll(async () => {
  ctx = await createTestContext();
  ({ candidate, courseId } = await seedPageCast(ctx));
});
afterAll(() => ctx.close());

describe('candidate', () => {
  test('catalog search: a page without htmx, the result list alone with it', async () => {
    const cand = await ctx.login(candidate);
    const page = await cand.get('/courses?q=realtime').expect(200);
    expect(page.text).toContain('Realtime Web');
    expect(page.text).not.toContain('PostgreSQL in Practice');
    const frag = await cand.get('/courses?q=postgres').set(HX).expect(200);
    expect(frag.text.trimStart()).toMatch(/^<div id="course-results"/);
    expect(frag.text).toContain('PostgreSQL in Practice');
    expect(frag.text).not.toContain('<html');
    expect((await cand.get('/courses?q=zzz').set(HX)).text).toContain('No courses');
  });

  test('apply: field message beside the motivation, then the panel shows the pending application', async () => {
    const cand = await ctx.login(candidate);
    const course = await cand.get(`/courses/${courseId}`).expect(200);
    expect(course.text).toContain('Apply to this course');
    const invalid = await hx(cand, `/courses/${courseId}/apply`, { motivation: 'short' }).expect(422);
    expect(invalid.text).toContain('id="motivation-error"');
    expect(invalid.text).toContain('aria-invalid="true"');
    const ok = await hx(cand, `/courses/${courseId}/apply`, { motivation: 'I would love to learn sockets.' }).expect(200);
    expect(ok.text).toContain('Application sent');
    expect(ok.text).toContain('Pending review');
    const again = await hx(cand, `/courses/${courseId}/apply`, { motivation: 'I would love to learn sockets.' });
    expect(again.text).toContain('Your application');
    const mine = await cand.get('/applications').expect(200);
    expect(mine.text).toContain('Realtime Web');
    expect(mine.text).toMatch(/id="application-\d+-status" class="status-chip status-pending"/);
  });
});

