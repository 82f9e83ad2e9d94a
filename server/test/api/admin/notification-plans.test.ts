import type { User } from '../../../models';
import { createApiContext, type ApiContext } from '../../support/api';
import { type Agent } from '../../support/harness';
import { planNodes, vacuumedAtRest } from '../../support/plans';

let ctx: ApiContext;
let agent: Agent;
let reader: User;
let others: User[];

// 50,000 rows, one in 50 the reader's, created one second apart (the newest last): enough for the planner to walk
// notifications_created_idx backwards for one recipient's page, as it did on 1,000,000 rows (bench/FINDINGS.md).
const TOTAL = 50_000;
const STRIDE = 50;

beforeAll(async () => {
  ctx = await createApiContext();
  agent = await ctx.loginChecked(await ctx.createUser('admin'));
  reader = await ctx.createUser('candidate');
  others = await Promise.all(Array.from({ length: 9 }, () => ctx.createUser('candidate')));
  await ctx.sequelize.query(
    `INSERT INTO notifications (recipient_id, type, title, message, created_at)
     SELECT CASE WHEN i % :stride = 0 THEN :reader ELSE (CAST(:others AS integer[]))[1 + i % 9] END,
            'message', 'Note ' || i, 'body', TIMESTAMPTZ '2026-06-01T00:00:00Z' + make_interval(secs => i)
       FROM generate_series(1, :total) AS i`,
    { replacements: { stride: STRIDE, reader: reader.id, others: `{${others.map((u) => u.id).join(',')}}`, total: TOTAL } },
  );
  await vacuumedAtRest(ctx.sequelize, 'notifications');
});

afterAll(async () => {
  await ctx.sequelize.query('DELETE FROM notifications WHERE recipient_id IN (:ids)', {
    replacements: { ids: [reader.id, ...others.map((u) => u.id)] },
  });
  await ctx.close();
});

test('one recipient by id reads their rows through notifications_recipient_id_idx, not the whole date index', async () => {
  // count(*) OVER () needs every match, yet PostgreSQL costs the window as if LIMIT stopped early: without the
  // fence in store/search.ts it walked notifications_created_idx backwards through every row of the table.
  const { statements, result } = await ctx.countStatements(() =>
    agent.get('/api/admin/notifications').query({ recipient: reader.id, page_size: 25, page: 2 }).expect(200),
  );
  const body = result.body as { total: number; results: Array<{ title: string; recipient: { id: number } }> };
  expect(body.total).toBe(TOTAL / STRIDE);
  // Newest first: page 2 starts at the reader's 26th newest row.
  expect(body.results.map((r) => r.title)).toEqual(Array.from({ length: 25 }, (_, k) => `Note ${TOTAL - (25 + k) * STRIDE}`));
  expect(body.results.every((r) => r.recipient.id === reader.id)).toBe(true);
  const plan = await planNodes(ctx.sequelize, statements.find((s) => s.includes('count(*) OVER ()'))!);
  const indexes = plan.map((n) => n['Index Name']);
  expect(indexes).toContain('notifications_recipient_id_idx');
  expect(indexes).not.toContain('notifications_created_idx');
});

test('a date range alone still reads notifications_created_idx', async () => {
  const { statements, result } = await ctx.countStatements(() =>
    agent.get('/api/admin/notifications').query({ from: '2026-06-01T13:00:00Z', page_size: 25 }).expect(200),
  );
  expect((result.body as { total: number }).total).toBe(TOTAL - 13 * 3600 + 1);
  const plan = await planNodes(ctx.sequelize, statements.find((s) => s.includes('count(*) OVER ()'))!);
  expect(plan.map((n) => n['Index Name'])).toContain('notifications_created_idx');
});
