/**
 * Where the server's time goes: short runs of the approval path and of the list/count requests against a
 * server started with V8's --cpu-prof, summarised by package and by function into results/profile.json.
 * (Profiling slows the server a little; the figures of the other benches come from unprofiled runs.)
 *
 *   npm run bench:profile
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { PgTarget } from './lib/database';
import { log } from './lib/log';
import { summarizeProfiles } from './lib/profile';
import { environment, writeResult } from './lib/results';
import { runLatency } from './latency';
import { runQueries } from './queries';

export async function runProfile(o: { target?: PgTarget } = {}) {
  const result: Record<string, unknown> = { benchmark: 'profile', environment: environment() };
  const approve = mkdtempSync(path.join(os.tmpdir(), 'herald-prof-approve-'));
  const queries = mkdtempSync(path.join(os.tmpdir(), 'herald-prof-queries-'));
  try {
    log('profiling approvals (concurrency 16)');
    const l = await runLatency({ levels: [16], approvals: [1000], seconds: 15, courses: 16, target: o.target, cpuProfileDir: approve });
    result.approvals = {
      workload: '1,000 approvals at concurrency 16 over 16 courses, candidates connected',
      measured: (l.levels as Record<string, unknown>)['16'],
      cpu: summarizeProfiles(approve),
    };
    log('profiling list and unread-count requests');
    const q = await runQueries({ rows: 500_000, perUser: 50_000, requests: 1500, target: o.target, cpuProfileDir: queries });
    result.queries = {
      workload: '1,500 sequential GETs each of unread_count, page 1 and page 500 (500,000-row table)',
      measured: q.http,
      cpu: summarizeProfiles(queries),
    };
  } finally {
    rmSync(approve, { recursive: true, force: true });
    rmSync(queries, { recursive: true, force: true });
  }
  return result;
}

if (require.main === module) {
  runProfile()
    .then((r) => log(`wrote ${writeResult('profile', r)}`))
    .catch((err) => {
      console.error(err);
      process.exit(1);
    });
}
