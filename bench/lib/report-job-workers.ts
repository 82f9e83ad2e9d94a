import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { RESULTS_DIR } from './results';

type Json = Record<string, any>;

/**
 * 7c: every `push-fanout-jobworkers-*` run (bench:push -- --fanout-sockets 1000 --job-workers n [--job-nice k]
 * --name ...), in the order they ran, one row each: the A/B of 7b against JOB_WORKERS=0 and JOB_WORKERS=1.
 */
export function jobWorkersSection(table: (head: string[], rows: Array<Array<string | number>>) => string): string {
  const runs = readdirSync(RESULTS_DIR)
    .filter((f) => /^push-fanout-jobworkers-.*\.json$/.test(f))
    .map((f): Json => ({ name: f.replace(/\.json$/, ''), ...(JSON.parse(readFileSync(path.join(RESULTS_DIR, f), 'utf8')) as Json) }))
    .sort((a, b) => String(a.environment.date).localeCompare(String(b.environment.date)));
  if (runs.length === 0) return '';
  const cpu = (c: Json) => Object.entries(c).map(([role, ms]) => `${role} ${((ms as number) / 1000).toFixed(1)}`).join(', ');
  const rows = runs.map((r) => {
    const p = r.result;
    const f = p.fanout_last_frame_ms;
    return [
      r.name.replace('push-fanout-jobworkers-', ''),
      String(r.environment.date).slice(11, 19),
      `${p.job_workers}${p.job_nice ? ` (nice ${p.job_nice})` : ''}`,
      `${f.quiet.p50} / ${f.quiet.p90}`,
      `${f.pushing.p50} / ${f.pushing.p90}`,
      `${Math.round((f.pushing.p50 / f.quiet.p50 - 1) * 100)}%`,
      p.push_batches.map((b: Json) => b.per_second).join(', '),
      `${cpu(p.cpu_ms_by_role.quiet)} / ${cpu(p.cpu_ms_by_role.pushing)}`,
      `${p.serving_loop_delay_ms.quiet.p99_ms} / ${p.serving_loop_delay_ms.pushing.p99_ms}`,
      `${r.environment.loadavg_at_start[0]} → ${p.loadavg_at_end[0]}`,
      p.all_delivered ? 'yes' : '**no**',
    ];
  });
  return [
    '## 7c. Socket fan-out while pushes go out, job runner in the serving process vs a job process (JOB_WORKERS)',
    '',
    `Method: as 7b (1,000 sockets, 10,000 pushes per batch, 3 rounds ABBA inside each run), one run per row, the runs ` +
      `themselves in ABBA order of JOB_WORKERS. CPU in seconds per process role over each phase's total time ` +
      `(single = the one process of JOB_WORKERS=0); serving loop delay = the serving process's event-loop delay p99 ` +
      `(prom-client, 10 ms resolution), median over the phase's 3 occurrences.`,
    '',
    table(
      ['run', 'UTC', 'JOB_WORKERS', 'quiet p50 / p90 ms', 'pushing p50 / p90 ms', 'p50 change', 'pushes/s per batch', 'CPU s quiet / pushing', 'serving loop p99 ms quiet / pushing', 'load 1 min start → end', 'all delivered'],
      rows,
    ),
    '',
  ].join('\n');
}
