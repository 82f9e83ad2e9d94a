import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { createMailer } from '../../channels/email';
import { loadEmailConfig } from '../../config';
import { createLogger } from '../../logger';
import { processTasks } from '../../process/jobs';
import { createTestContext, type TestContext } from '../support/harness';

/**
 * A production runner takes every job the code can enqueue. Each durable job's identifier is declared as an
 * exported `<NAME>_TASK` constant beside the code that enqueues it; the test harness composes its own runner, so
 * only this check catches a task that production forgot (it happened: the snooze wake-up was lost in a merge
 * and snoozed notifications never came back under `npm start`).
 */
let ctx: TestContext;
beforeAll(async () => {
  ctx = await createTestContext();
});
afterAll(() => ctx.close());

function declaredTasks(dir: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) {
      if (entry.name !== 'test') out.push(...declaredTasks(full));
    } else if (entry.name.endsWith('.ts')) {
      for (const m of readFileSync(full, 'utf8').matchAll(/export const \w+_TASK = '([^']+)'/g)) out.push(m[1]);
    }
  }
  return out;
}

test('the production task list runs every task the code declares', () => {
  const declared = declaredTasks(path.join(__dirname, '..', '..'));
  expect(declared).toEqual(expect.arrayContaining(['notifications:wake', 'push:send', 'email:escalate', 'webhook:deliver']));
  const mailer = createMailer(loadEmailConfig({}));
  try {
    const tasks = processTasks({ sequelize: ctx.sequelize, services: ctx.services }, ctx.config, mailer, createLogger('silent'));
    expect(declared.filter((t) => !(t in tasks))).toEqual([]);
  } finally {
    mailer.close();
  }
});
