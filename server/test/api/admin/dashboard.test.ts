import express from 'express';
import request from 'supertest';
import { adminOperations } from '../../../api/admin';
import { jsonErrors } from '../../../api';
import { operationsRouter } from '../../../api/mount';
import type { User } from '../../../models';
import { createTestContext, type TestContext } from '../../support/harness';
import { insertNotification, utcDay } from '../../support/admin-fixtures';

let ctx: TestContext;
let admin: User;

beforeAll(async () => {
  ctx = await createTestContext();
  admin = await ctx.createUser('admin');
  const [c1, c2, c3] = await Promise.all([
    ctx.createUser('candidate'),
    ctx.createUser('candidate'),
    ctx.createUser('candidate', { isActive: false }),
  ]);
  const instructor = await ctx.createUser('instructor');
  await ctx.createUser('instructor');
  const course = await ctx.models.Course.create({ title: 'Stats 101', instructorId: instructor.id });
  const course2 = await ctx.models.Course.create({ title: 'Stats 102', instructorId: instructor.id });
  await ctx.models.Application.bulkCreate([
    { courseId: course.id, candidateId: c1.id },
    { courseId: course.id, candidateId: c2.id },
    { courseId: course2.id, candidateId: c1.id, status: 'approved' },
    { courseId: course2.id, candidateId: c3.id, status: 'rejected' },
  ]);
  // days ago -> [unread, read]
  const plan: Array<[number, number, number]> = [
    [0, 2, 1],
    [2, 2, 0],
    [6, 0, 1],
    [7, 3, 1], // just outside "week"
    [29, 1, 0], // the oldest day of the chart
    [30, 5, 0], // outside the chart, still in the total
  ];
  for (const [daysAgo, unread, read] of plan) {
    for (let i = 0; i < unread; i++) await insertNotification(ctx, { recipientId: c1.id, daysAgo });
    for (let i = 0; i < read; i++) await insertNotification(ctx, { recipientId: c2.id, daysAgo, read: true });
  }
});
afterAll(() => ctx.close());

test('stats count users, courses, applications and notifications on known data', async () => {
  const agent = await ctx.login(admin);
  const { body } = await agent.get('/api/admin/stats').expect(200);
  expect(Object.keys(body)).toEqual([
    'users_by_role',
    'courses',
    'applications_by_status',
    'notifications',
    'sockets_open',
    'per_day',
  ]);
  expect(body.users_by_role).toEqual({ candidate: 3, instructor: 2, admin: 1 });
  expect(body.courses).toBe(2);
  expect(body.applications_by_status).toEqual({ pending: 2, approved: 1, rejected: 1 });
  // 16 in all, 3 read; today 3; the last 7 UTC days 3 + 2 + 1.
  expect(body.notifications).toEqual({ today: 3, week: 6, total: 16, unread_rate: 13 / 16 });
  expect(body.sockets_open).toBe(0);

  expect(body.per_day).toHaveLength(30);
  expect(body.per_day[0]).toEqual({ date: utcDay(29), count: 1 });
  expect(body.per_day[29]).toEqual({ date: utcDay(0), count: 3 });
  const byDate = Object.fromEntries(body.per_day.map((d: { date: string; count: number }) => [d.date, d.count]));
  expect(byDate[utcDay(2)]).toBe(2);
  expect(byDate[utcDay(6)]).toBe(1);
  expect(byDate[utcDay(7)]).toBe(4);
  expect(byDate[utcDay(1)]).toBe(0);
  expect(body.per_day.map((d: { date: string }) => d.date)).toEqual(
    Array.from({ length: 30 }, (_, i) => utcDay(29 - i)),
  );
  expect(body.per_day.reduce((s: number, d: { count: number }) => s + d.count, 0)).toBe(11);
});

test('an empty platform has zeros everywhere, not nulls or NaN', async () => {
  // A fresh database of its own: the other tests keep their data.
  const empty = await createTestContext();
  try {
    const result = await empty.services.stats.platform();
    expect(result.users_by_role).toEqual({ candidate: 0, instructor: 0, admin: 0 });
    expect(result.applications_by_status).toEqual({ pending: 0, approved: 0, rejected: 0 });
    expect(result.notifications).toEqual({ today: 0, week: 0, total: 0, unread_rate: 0 });
    expect(result.per_day).toHaveLength(30);
    expect(result.per_day.every((d) => d.count === 0)).toBe(true);
  } finally {
    await empty.close();
  }
});

test('stats take a constant number of statements', async () => {
  const { statements } = await ctx.countStatements(() => ctx.services.stats.platform());
  expect(statements).toHaveLength(2);
});

test('sockets_open comes from the injected counter', async () => {
  const app = express();
  app.use((req, _res, next) => {
    req.user = admin;
    next();
  });
  const logger = { error: () => undefined } as never;
  app.use(operationsRouter(adminOperations, { config: ctx.config, logger, services: ctx.services, socketsOpen: async () => 7 }));
  app.use(jsonErrors(logger));
  const { body } = await request(app).get('/admin/stats').expect(200);
  expect(body.sockets_open).toBe(7);
});
