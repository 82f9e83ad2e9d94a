import { createTestContext } from './harness';
import { login, startServer } from './realtime';

/**
 * Issue 10.12: the suite once ended with "A worker process has failed to exit gracefully": something a test file
 * opened outlived it. Every file builds on this harness, so the harness itself must leave nothing behind: a
 * context with its job runner, a server with sockets of both protocols and an event stream, once closed, hold no
 * socket, timer or server open. (`npx jest --detectOpenHandles` over the whole suite reports none either.)
 */

/** The process's live resources by kind (sockets, servers, timers), without the worker's own stdio pipes. */
function resources(): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const kind of process.getActiveResourcesInfo()) counts[kind] = (counts[kind] ?? 0) + 1;
  return counts;
}

test('10.12 a closed test context, server, sockets, stream and job runner leave no handle open', async () => {
  // Warm up once: first use loads modules that keep process-wide state (none of it a handle, as checked below).
  const warm = await createTestContext();
  await warm.close();
  await new Promise((r) => setTimeout(r, 200));
  const before = resources();

  const ctx = await createTestContext({ jobs: true });
  const srv = await startServer(ctx);
  const user = await ctx.createUser('candidate');
  const who = await login(srv.url, user);
  const json = srv.connect('/ws/notifications', { cookie: who.cookie });
  const bell = srv.connect('/ws/bell', { cookie: who.cookie });
  await json.next((f) => f.json?.type === 'connection_established');
  await bell.next(() => true);
  const stream = await fetch(`${srv.url}/api/notifications/stream/`, { headers: { cookie: who.cookie } });
  expect(stream.status).toBe(200);
  await stream.body?.cancel();

  await srv.close();
  await ctx.close();
  // Sockets report their close on the next turns of the event loop.
  let after = resources();
  for (let i = 0; i < 50 && JSON.stringify(after) !== JSON.stringify(before); i++) {
    await new Promise((r) => setTimeout(r, 100));
    after = resources();
  }
  expect(after).toEqual(before);
});
