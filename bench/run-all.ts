/**
 * `npm run bench`: every benchmark in turn against one PostgreSQL (DATABASE_URL, else a throwaway embedded
 * cluster), each in a database of its own that is dropped afterwards; writes bench/results/*.json and
 * bench/RESULTS.md. Bounded: a step that would start past the budget is skipped and recorded as such.
 *
 *   npm run bench -- [--quick] [--only fanout,latency,email,push,push-fanout,inbox]
 */
import { parseArgs } from './lib/args';
import { openTarget } from './lib/database';
import { log } from './lib/log';
import { writeReport } from './lib/report';
import { writeResult } from './lib/results';
import { runConnections } from './connections';
import { runEmail } from './email';
import { runFanout } from './fanout';
import { runInbox } from './inbox';
import { runLatency } from './latency';
import { runPages } from './pages';
import { runProfile } from './profile';
import { runPush } from './push';
import { runPushFanout } from './push-fanout';
import { runQueries } from './queries';

/** Whole run under 15 minutes: no step starts after this many seconds. */
const START_BUDGET_S = 12 * 60;

async function main() {
  const args = parseArgs();
  const quick = args.has('quick'); // small sizes: checks the pipeline in about two minutes
  const only = args.get('only')?.split(',');
  const t0 = Date.now();
  const target = await openTarget();
  const steps: Array<[string, () => Promise<object>]> = [
    ['queries', () => runQueries({ rows: quick ? 500_000 : 5_000_000, perUser: 50_000, requests: quick ? 300 : 2000, target })],
    ['fanout', () => runFanout({ sizes: quick ? [200, 1000] : [1000, 10000], runs: quick ? 3 : 7, warmup: 2, webConcurrency: 1, target })],
    [
      'connections',
      () => runConnections({ single: quick ? 2000 : 19_000, multi: quick ? 4000 : 50_000, multiProcesses: quick ? 2 : 4, target }),
    ],
    [
      'latency',
      () => runLatency({ levels: [1, 16, 64], approvals: quick ? [50, 200, 400] : [300, 2000, 4000], seconds: quick ? 8 : 20, courses: 64, target }),
    ],
    ['pages', () => runPages({ seconds: quick ? 3 : 10, connections: 16, target })],
    ['email', () => runEmail({ students: quick ? 1000 : 10_000, delaySeconds: 1, target })],
    ['push', () => runPush({ pushes: quick ? 2000 : 10_000, sample: 100, target })],
    [
      'push-fanout',
      () =>
        runPushFanout({
          pushes: quick ? 2000 : 10_000,
          sockets: quick ? 300 : 1000,
          rounds: quick ? 2 : 3,
          quietRuns: quick ? 5 : 20,
          gapMs: 150,
          sample: 100,
          target,
        }),
    ],
    // Its seed (5,000,000 rows with their search vectors) takes minutes: late in the run, so the budget skips it
    // rather than the others; `--only inbox` runs it alone.
    [
      'inbox',
      () => runInbox({ rows: quick ? 500_000 : 5_000_000, perUser: quick ? 10_000 : 100_000, requests: quick ? 100 : 500, warmup: quick ? 20 : 100, target }),
    ],
    ['profile', () => runProfile({ target })],
  ];
  try {
    for (const [name, run] of steps) {
      if (only && !only.includes(name)) continue;
      const elapsed = (Date.now() - t0) / 1000;
      if (elapsed > START_BUDGET_S) {
        log(`skipping ${name}: ${Math.round(elapsed)} s spent, over the start budget`);
        writeResult(name, { benchmark: name, skipped: `the run had used ${Math.round(elapsed)} s of its budget` });
        continue;
      }
      log(`=== ${name}`);
      try {
        writeResult(name, await run());
      } catch (err) {
        log(`${name} failed: ${err instanceof Error ? err.stack : err}`);
        writeResult(name, { benchmark: name, error: err instanceof Error ? (err.stack ?? err.message) : String(err) });
      }
    }
  } finally {
    await target.stop();
  }
  const file = writeReport({ totalSeconds: (Date.now() - t0) / 1000 });
  log(`wrote ${file} in ${Math.round((Date.now() - t0) / 1000)} s`);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
