import type { Page } from 'playwright-core';
import { QueryTypes } from 'sequelize';
import type { User } from '../../models';
import { waitLive, type Problems } from '../support/browser';
import { useBrowserWorld } from '../support/browser-world';

/**
 * "Recently sent" live in Debian's Chromium (issue 17; SEND_INLINE_MAX 1, chunks of 1): an instructor with the
 * course page open in two tabs sends from one; both follow the send without a reload (the other tab, loaded before
 * the send, gets its row on top of the list), and Cancel in the other tab stops it in both.
 */
jest.setTimeout(90_000);

const world = useBrowserWorld({ context: { env: { SEND_INLINE_MAX: '1', SEND_CHUNK_SIZE: '1' } } });
let instructor: User;
let courseId: number;

beforeAll(async () => {
  instructor = await world.ctx.createUser('instructor', { name: 'Ines Instructor' });
  const students = await Promise.all([1, 2, 3].map(() => world.ctx.createUser('candidate')));
  courseId = (await world.ctx.createCourse(instructor, { title: 'Live sends', students })).id;
});

/** The cancel's UPDATE is blocked on the chunk's row lock (so it lands right after that chunk, not later). */
async function cancelWaitingForTheChunk(): Promise<void> {
  for (let i = 0; i < 500; i++) {
    const [{ n }] = await world.ctx.sequelize.query<{ n: string }>(
      `SELECT count(*) AS n FROM pg_stat_activity
        WHERE datname = current_database() AND wait_event_type = 'Lock' AND query LIKE 'UPDATE broadcasts SET status%'`,
      { type: QueryTypes.SELECT },
    );
    if (Number(n) > 0) return;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error('the cancel never reached the database');
}

const row = (page: Page) => page.locator(`#notify-${courseId}-sends .recent-send`, { hasText: 'Exam moved' });

test('both tabs follow the send; Cancel in the one that did not send stops it in both', async () => {
  const { context, problems } = await world.person();
  const sender = await context.newPage();
  await world.login(sender, instructor);
  const other = await context.newPage();
  for (const p of [sender, other]) {
    await p.goto(`${world.server.url}/courses/${courseId}`);
    await waitLive(p);
  }
  await other.waitForSelector('text=Nothing sent to this course yet.');

  await sender.fill(`#notify-title-${courseId}`, 'Exam moved');
  await sender.click('text=Send to students');
  await sender.waitForSelector('text=students in parts');
  await row(sender).locator('text=Starting…').waitFor();
  const [{ id }] = await world.ctx.sequelize.query<{ id: string }>("SELECT id FROM broadcasts WHERE title = 'Exam moved'", { type: QueryTypes.SELECT });

  // The job, held inside its second chunk (its first committed and pushed) until Cancel was clicked in the other
  // tab; the cancel waits for that chunk, which then commits: stopped at 2 of 3.
  let release!: () => void;
  const held = new Promise<void>((r) => (release = r));
  const run = world.ctx.services.sends.run(id, { beforeCommit: async (n) => (n === 2 ? held : undefined) });
  for (const p of [sender, other]) await row(p).locator('text=1 of 3 students').waitFor();
  expect(await row(other).count()).toBe(1);
  await other.waitForSelector('text=Nothing sent to this course yet.', { state: 'detached' });

  // A mark that a reload would lose: the Cancel must be htmx's (the list boosts the pushed row's form).
  await other.evaluate(() => ((window as unknown as { stayed: boolean }).stayed = true));
  await row(other).locator('button', { hasText: 'Cancel' }).click();
  await cancelWaitingForTheChunk();
  release();
  await run;
  for (const p of [other, sender]) await row(p).locator('text=Cancelled at 2 of 3 students').waitFor();
  expect(await other.evaluate(() => (window as unknown as { stayed?: boolean }).stayed)).toBe(true);
  for (const p of [sender, other]) {
    expect(await row(p).count()).toBe(1);
    expect(await row(p).locator('button', { hasText: 'Cancel' }).count()).toBe(0);
  }
  const [{ status, n }] = await world.ctx.sequelize.query<{ status: string; n: string }>(
    'SELECT status, (SELECT count(*) FROM notifications WHERE batch_id = :id) AS n FROM broadcasts WHERE id = :id',
    { replacements: { id }, type: QueryTypes.SELECT },
  );
  expect([status, Number(n)]).toEqual(['cancelled', 2]);
  expect(problems).toEqual({ console: [], csp: [], dialogs: [] } satisfies Problems);
  await context.close();
});
