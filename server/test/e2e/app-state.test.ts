import type { Browser, Page } from 'playwright-core';
import type { User } from '../../models';
import { createTestContext, type TestContext } from '../support/harness';
import { type LiveServer, loginAs, newUserContext, screenshot, startBrowser, waitLive, type Problems } from '../support/browser';

/**
 * Issue 16 item 1: after a decision every tab that shows the application or the course's counts says the same
 * thing, live, and what it says is what a reload would say: no "Approved" beside "The instructor will review it",
 * no catalog card left on "Pending review", and the enrolled count moves for everyone looking at the course.
 */
jest.setTimeout(60_000);

let ctx: TestContext;
let live: Awaited<ReturnType<typeof startBrowser>>;
let server: LiveServer;
let browser: Browser;
let instructor: User;
const seen: Problems[] = [];

beforeAll(async () => {
  ctx = await createTestContext();
  instructor = await ctx.createUser('instructor', { name: 'Ines Instructor' });
  live = await startBrowser(ctx);
  ({ server, browser } = live);
});

afterAll(async () => {
  await live?.stop();
  await ctx?.close();
});

afterEach(() => {
  for (const p of seen.splice(0)) {
    expect(p.console).toEqual([]);
    expect(p.csp).toEqual([]);
  }
});

async function signedIn(user: User): Promise<Page> {
  const { context, problems } = await newUserContext(browser);
  seen.push(problems);
  const page = await context.newPage();
  await loginAs(page, server.url, user);
  return page;
}

/** What a piece says, whitespace collapsed (a count's number and word are separate flex items). */
const text = async (page: Page, sel: string) => ((await page.locator(sel).textContent()) ?? '').replace(/\s+/g, ' ').trim();

/** Waits until `sel` says `expected` (pushed, not reloaded). */
async function says(page: Page, sel: string, expected: RegExp): Promise<void> {
  await page.waitForFunction(([s, src]) => new RegExp(src).test((document.querySelector(s)?.textContent ?? '').replace(/\s+/g, ' ')), [sel, expected.source] as const, {
    timeout: 5_000,
  });
}

test('an approval: the candidate’s course page and catalog tab, and another viewer’s catalog, all agree at once', async () => {
  const candidate = await ctx.createUser('candidate', { name: 'Camille Candidate' });
  const classmate = await ctx.createUser('candidate', { name: 'Cleo Classmate' });
  const viewer = await ctx.createUser('candidate', { name: 'Vic Viewer' });
  const course = await ctx.createCourse(instructor, { title: 'Realtime Web', students: [classmate] });
  await ctx.createCourse(instructor, { title: 'Other course' });
  const application = await ctx.services.applications.apply(candidate, course.id, 'I build chat apps and want to learn fan-out.');

  const coursePage = await signedIn(candidate);
  await coursePage.goto(`${server.url}/courses/${course.id}`);
  const catalog = await coursePage.context().newPage();
  await catalog.goto(`${server.url}/courses`);
  const viewerCatalog = await signedIn(viewer);
  await viewerCatalog.goto(`${server.url}/courses`);
  await Promise.all([coursePage, catalog, viewerCatalog].map(waitLive));

  const card = `#course-${course.id}`;
  expect(await text(coursePage, '#apply-panel')).toMatch(/Pending review[\s\S]*The instructor will review it/);
  expect(await text(coursePage, '.course-hero')).toContain('1 enrolled');
  expect(await text(catalog, card)).toMatch(/Pending review[\s\S]*1 enrolled/);
  expect(await text(viewerCatalog, card)).toMatch(/Apply[\s\S]*1 enrolled/);

  await ctx.services.applications.approve(instructor, application.id);

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
  const candidate = await ctx.createUser('candidate', { name: 'Rae Rejected' });
  const course = await ctx.createCourse(instructor, { title: 'Full course' });
  const application = await ctx.services.applications.apply(candidate, course.id, 'Please let me in, I am keen.');
  const coursePage = await signedIn(candidate);
  await coursePage.goto(`${server.url}/courses/${course.id}`);
  const catalog = await coursePage.context().newPage();
  await catalog.goto(`${server.url}/courses`);
  await Promise.all([waitLive(coursePage), waitLive(catalog)]);

  await ctx.services.applications.reject(instructor, application.id, 'The course is full.');
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
