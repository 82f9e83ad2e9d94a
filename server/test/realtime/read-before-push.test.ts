/**
 * A notification read (in another tab, over the API) between its commit and its push still reaches every open
 * tab, as read: a tab that keeps a list misses nothing, exactly as `?since=` replay would have given it. Silent
 * ones (in_app off) never arrive live. The bus is gated so that the read lands in that window every time (the soak
 * found it by chance: a "mark all read" racing a fan-out).
 */
import { createLogger } from '../../logger';
import { LocalBus } from '../../realtime';
import { PreferenceService } from '../../services/preferences';
import type { User } from '../../models';
import { createTestContext, type TestContext } from '../support/harness';
import { login, startServer, type Client, type TestServer } from '../support/realtime';

/** The in-process bus with a gate: while held, events wait (in order) instead of reaching the channels. */
class GatedBus extends LocalBus {
  #held: unknown[][] | null = null;
  hold() {
    this.#held = [];
  }
  release() {
    const held = this.#held ?? [];
    this.#held = null;
    for (const args of held) super.emit(...(args as [string, ...unknown[]]));
  }
  override emit(name: string | symbol, ...args: unknown[]): boolean {
    if (name === 'event' && this.#held) {
      this.#held.push([name, ...args]);
      return true;
    }
    return super.emit(name, ...args);
  }
}

let ctx: TestContext;
let srv: TestServer;
let bus: GatedBus;

beforeAll(async () => {
  ctx = await createTestContext();
  bus = new GatedBus(ctx.events, createLogger('silent'));
  srv = await startServer(ctx, { bus });
});
afterAll(async () => {
  await srv.close();
  await ctx.close();
});

const notificationsOf = (c: Client) => c.frames.filter((f) => f.json?.type === 'notification').map((f) => f.json!.notification as { id: number; is_read: boolean });

async function socket(u: User, path = '/ws/notifications') {
  const c = srv.connect(path, { cookie: (await login(srv.url, u)).cookie });
  await c.next(() => true);
  return c;
}

test('a fan-out row read before its push arrives read; silent rows never arrive; the others arrive unread', async () => {
  const teacher = await ctx.createUser('instructor');
  // The silent student is created first, so the shared content may well be read from its (read) row.
  const silent = await ctx.createUser('candidate');
  await new PreferenceService({ sequelize: ctx.sequelize }).patch(silent.id, { types: { announcement: { in_app: false } } });
  const [reader, bellReader, other] = [await ctx.createUser('candidate'), await ctx.createUser('candidate'), await ctx.createUser('candidate')];
  const course = await ctx.models.Course.create({ title: 'Race 101', instructorId: teacher.id });
  await ctx.models.Enrollment.bulkCreate([silent, reader, bellReader, other].map((s) => ({ courseId: course.id, studentId: s.id })));
  const [sSilent, sReader, sBell, sOther] = [await socket(silent), await socket(reader), await socket(bellReader, '/ws/bell'), await socket(other)];
  await srv.realtime.delivery.idle();

  bus.hold();
  const { batchId } = await ctx.services.notifications.fanOut(
    { kind: 'course', courseId: course.id },
    { type: 'announcement', title: 'Read in a flash', message: 'm', senderId: teacher.id, courseId: course.id },
  );
  // Read in another tab before this process pushed it.
  await ctx.services.notifications.inbox.markAllRead(reader.id);
  await ctx.services.notifications.inbox.markAllRead(bellReader.id);
  bus.release();

  const rows = await ctx.models.Notification.findAll({ where: { batchId } });
  const idOf = (u: User) => Number(rows.find((r) => r.recipientId === u.id)!.id);

  const got = await sReader.type('notification');
  expect(got.notification).toMatchObject({ id: idOf(reader), title: 'Read in a flash', is_read: true });
  expect(await sReader.type('unread_count')).toEqual({ type: 'unread_count', unread_count: 0 });

  expect((await sOther.type('notification')).notification).toMatchObject({ id: idOf(other), is_read: false, read_at: null });

  // The bell lists it, read (no unread dot), and does not announce it.
  const bellFrame = await sBell.next((f) => f.text.includes('Read in a flash'));
  expect(bellFrame.text).toContain(`bell-item-${idOf(bellReader)}`);
  expect(bellFrame.text).not.toContain('is-unread');
  expect(bellFrame.text).not.toContain('live-announcer');

  await srv.realtime.delivery.idle();
  expect(notificationsOf(sSilent)).toEqual([]);
});

test('a single notice read before its push arrives read, with the count', async () => {
  const u = await ctx.createUser('candidate');
  const c = await socket(u);
  await srv.realtime.delivery.idle();
  bus.hold();
  const id = await ctx.notify({ recipientId: u.id, type: 'message', title: 'Quick read', message: 'b' });
  await ctx.services.notifications.inbox.markRead(u.id, id);
  bus.release();
  expect((await c.type('notification')).notification).toMatchObject({ id, is_read: true });
  expect(await c.type('unread_count')).toEqual({ type: 'unread_count', unread_count: 0 });
  // ... and the read that followed it, in order.
  expect((await c.type('notification_read')).ids).toEqual([id]);
});
