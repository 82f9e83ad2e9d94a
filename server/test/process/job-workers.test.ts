/**
 * JOB_WORKERS=1 with WEB_CONCURRENCY=1, as production runs it (server/main.ts through tsx, real PostgreSQL, a
 * local https push service): a primary, one serving process and one job process. The job runner runs in the job
 * process only (the runners' connections, named `herald-jobs:<pid>`, come from that process alone; graphile-worker's
 * "Completed task" line comes from its pid), a decision's push is sent and recorded once, a kill -9 of the job
 * process between a push's two attempts is replaced and the push still completes once, and SIGTERM stops the
 * serving process before the job process, which first lets its running job finish. JOB_NICE lowers the job
 * process's priority, not the serving one's.
 */
import os from 'node:os';
import { until } from '../resilience/support/processes';
import { startJobWorld, type JobWorld } from './support';

let w: JobWorld;

beforeAll(async () => {
  w = await startJobWorld({ JOB_WORKERS: '1', JOB_STALE_SECONDS: '1', JOB_NICE: '5' });
}, 60_000);

afterAll(async () => {
  await w?.close();
});

test('the job process runs the runner, the serving process none; a push is sent and recorded once, by the job process', async () => {
  const [web] = w.started('web');
  const [jobs] = await until('the job process to start', async () => w.started('jobs').length > 0 && w.started('jobs'));
  expect(web).toBeDefined();
  expect(jobs).not.toBe(web);
  // JOB_NICE lowers the job process only: the serving process keeps the scheduler's first call on the CPU.
  expect([os.getPriority(web), os.getPriority(jobs)]).toEqual([os.getPriority(), 5]);
  // Only the job process's runner is connected; a runner in the serving process would show its pid here.
  expect(await until('the job runner to connect', async () => (await w.runnerPids()).length > 0 && w.runnerPids())).toEqual([jobs]);

  const { browser, notificationId } = await w.approvedWithDevice();
  await until('the push to be recorded sent', async () => (await w.pushRows(notificationId))[0]?.status === 'sent');
  expect(await w.pushRows(notificationId)).toEqual([{ status: 'sent' }]);
  const received = w.service.received.filter((r) => r.endpoint === browser.endpoint);
  expect(received.map((r) => [r.status, (r.payload as { type: string }).type])).toEqual([[201, 'application_approved']]);
  expect(w.service.rejected).toEqual([]);
  await until('the completion to be logged', async () => w.completedBy().length > 0);
  expect(new Set(w.completedBy())).toEqual(new Set([jobs]));
  expect(await w.runnerPids()).toEqual([jobs]); // still no runner anywhere else
});

test('kill -9 of the job process between a push’s attempts: a new job process takes over, the push completes once', async () => {
  const [first] = w.started('jobs');
  // The first attempt is told to come back in 3 s: the row waits, held, with a keyed follow-up job in the queue.
  const { browser, notificationId } = await w.approvedWithDevice({ status: 429, headers: { 'Retry-After': '3' } });
  await until('the first attempt (429)', async () => w.service.received.some((r) => r.endpoint === browser.endpoint));
  expect((await w.pushRows(notificationId)).map((r) => r.status)).toEqual(['pending']);
  const completedBefore = w.completedBy().length;

  process.kill(first, 'SIGKILL');
  const second = await until('a new job process', async () => w.started('jobs').find((p) => p !== first), 20_000);
  expect(await until('its runner to connect', async () => (await w.runnerPids()).includes(second) && w.runnerPids())).toEqual([second]);

  await until('the push to be recorded sent', async () => (await w.pushRows(notificationId))[0]?.status === 'sent', 20_000);
  expect(await w.pushRows(notificationId)).toEqual([{ status: 'sent' }]);
  expect(w.service.received.filter((r) => r.endpoint === browser.endpoint).map((r) => r.status)).toEqual([429, 201]);
  expect(w.service.rejected).toEqual([]);
  // The follow-up ran in the new job process; the serving process still runs no runner.
  await until('the follow-up completion to be logged', async () => w.completedBy().length > completedBefore);
  expect(new Set(w.completedBy().slice(completedBefore))).toEqual(new Set([second]));
  expect(await w.runnerPids()).toEqual([second]);
});

test('SIGTERM to the primary while a push is in flight: the serving process stops first, the running job finishes, then the job process and the primary stop cleanly', async () => {
  const [jobs] = w.started('jobs').slice(-1);
  const { browser, notificationId } = await w.approvedWithDevice({ status: 201, delayMs: 1_500 });
  await until('the push to be in flight', async () => w.service.received.some((r) => r.endpoint === browser.endpoint));
  expect((await w.pushRows(notificationId)).map((r) => r.status)).toEqual(['pending']);
  w.server.child.kill('SIGTERM');
  await w.server.exited;
  expect(w.server.child.exitCode).toBe(0);
  // The job that was running when the signal came finished and recorded its push before its process left.
  expect(await w.pushRows(notificationId)).toEqual([{ status: 'sent' }]);
  expect(w.completedBy().at(-1)).toBe(jobs);
  const byes = w.logLines().filter((l) => l.msg === 'bye');
  expect(byes.map((l) => l.role ?? 'primary')).toEqual(['web', 'jobs', 'primary']);
  expect(await w.runnerPids()).toEqual([]);
});
