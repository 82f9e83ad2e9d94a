import type { Page } from 'playwright-core';
import type { User } from '../../models';
import { screenshot, waitLive } from '../support/browser';
import { useBrowserWorld } from '../support/browser-world';

/**
 * Issue 16 item 1: after a decision every tab that shows the application or the course's counts says the same
 * thing, live, and what it says is what a reload would say: no "Approved" beside "The instructor will review it",
 * no catalog card left on "Pending review", and the enrolled count moves for everyone looking at the course.
 */
jest.setTimeout(60_000);

const world = useBrowserWorld();
const { pageAs } = world;
let instructor: User;

beforeAll(async () => {
  instructor = await world.ctx.createUser('instructor', { name: 'Ines Instructor' });
});

/** What a piece says, whitespace collapsed (a count's number and word are separate flex items). */
const text = async (page: Page, sel: string) => ((await page.locator(sel).textContent()) ?? '').replace(/\s+/g, ' ').trim();

/** Waits until `sel` says `expected` (pushed, not reloaded). */
async function says(page: Page, sel: string, expected: RegExp): Promise<void> {
  await page.waitForFunction(([s, src]) => new RegExp(src).test((document.querySelector(s)?.textContent ?? '').replace(/\s+/g, ' ')), [sel, expected.source] as const, {
    timeout: 5_000,
  });
}

test('an approval: the candidate’s course page and catalog tab, and another viewer’s catalog, all agree at once', async () => {
  const candidate = await world.ctx.createUser('candidate', { name: 'Camille Candidate' });
  const classmate = await world.ctx.createUser('candidate', { name: 'Cleo Classmate' });
  const viewer = await world.ctx.createUser('candidate', { name: 'Vic Viewer' });
  const course = await world.ctx.createCourse(instructor, { title: 'Realtime Web', students: [classmate] });
  await world.ctx.createCourse(instructor, { title: 'Other course' });
  const application = await world.ctx.services.applications.apply(candidate, course.id, 'I build chat apps and want to learn fan-out.');

  const coursePage = await pageAs(candidate);
  await coursePage.goto(`${world.server.url}/courses/${course.id}`);
  const catalog = await coursePage.context().newPage();
  await catalog.goto(`${world.server.url}/courses`);
  const viewerCatalog = await pageAs(viewer);
  await viewerCatalog.goto(`${world.server.url}/courses`);
  await Promise.all([coursePage, catalog, viewerCatalog].map(waitLive));

  const card = `#course-${course.id}`;
  expect(await text(coursePage, '#apply-panel')).toMatch(/Pending review[\s\S]*The instructor will review it/);
  expect(await text(coursePage, '.course-hero')).toContain('1 enrolled');
  expect(await text(catalog, card)).toMatch(/Pending review[\s\S]*1 enrolled/);
  expect(await text(viewerCatalog, card)).toMatch(/Apply[\s\S]*1 enrolled/);

  await world.ctx.services.applications.approve(instructor, application.id);

  await says(coursePage, '#apply-panel', /You are enrolled/);
  await says(coursePage, '.course-hero', /2 enrolled/);
  await says(catalog, card, /Enrolled[\s\S]*2 enrolled/);
  await says(viewerCatalog, card, /2 enrolled/);
  const panel = await text(coursePage, '#apply-panel');
  expect(panel).toContain('Approved');
  // Nothing contradicts the decision anywhere on the candidate's pages.
  for (const page of [coursePage, catalog]) {
    const body = await text(page, 'main');
    expect(body).not.toMatch(/Pending review|will review it|Send application/);
  }
  expect(await text(viewerCatalog, card)).toMatch(/Apply/); // the viewer's own standing is untouched
  await screenshot(coursePage, 'app-state-course-after-approval');
  await screenshot(catalog, 'app-state-catalog-after-approval');

  // What the push left is what a reload shows: one partial per piece, the same words.
  const pushed = { panel, hero: await text(coursePage, '.course-hero'), card: await text(catalog, card), viewer: await text(viewerCatalog, card) };
  await Promise.all([coursePage.reload(), catalog.reload(), viewerCatalog.reload()]);
  expect({
    panel: await text(coursePage, '#apply-panel'),
    hero: await text(coursePage, '.course-hero'),
    card: await text(catalog, card),
    viewer: await text(viewerCatalog, card),
  }).toEqual(pushed);
  await coursePage.context().close();
  await viewerCatalog.context().close();
});

test('a rejection: the course page says so with no "will review", and the count stays', async () => {
  const candidate = await world.ctx.createUser('candidate', { name: 'Rae Rejected' });
  const course = await world.ctx.createCourse(instructor, { title: 'Full course' });
  const application = await world.ctx.services.applications.apply(candidate, course.id, 'Please let me in, I am keen.');
  const coursePage = await pageAs(candidate);
  await coursePage.goto(`${world.server.url}/courses/${course.id}`);
  const catalog = await coursePage.context().newPage();
  await catalog.goto(`${world.server.url}/courses`);
  await Promise.all([waitLive(coursePage), waitLive(catalog)]);

  await world.ctx.services.applications.reject(instructor, application.id, 'The course is full.');
  await says(coursePage, '#apply-panel', /did not accept/);
  await says(catalog, `#course-${course.id}`, /Not accepted/);
  const panel = await text(coursePage, '#apply-panel');
  expect(panel).toContain('Not accepted');
  expect(panel).not.toMatch(/will review|Pending review/);
  expect(await text(coursePage, '.course-hero')).toContain('0 enrolled');
  await coursePage.reload();
  expect(await text(coursePage, '#apply-panel')).toBe(panel);
  await coursePage.context().close();
});
