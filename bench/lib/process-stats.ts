import { readFileSync } from 'node:fs';
import http from 'node:http';
import { readStat } from './server';

/**
 * Per-role figures of a running Herald: CPU per process role and the serving process's event-loop delay, to show
 * what moving jobs into processes of their own (JOB_WORKERS) changes where. Roles come from the environment the
 * cluster primary forked each worker with (HERALD_PROCESS_ROLE); a process without it is `primary` when it has
 * workers, else `single` (WEB_CONCURRENCY=1, JOB_WORKERS=0: serving and jobs in one process).
 */
export type Role = 'primary' | 'web' | 'jobs' | 'single';

export function roleOf(pid: number, pids: number[]): Role {
  let env = '';
  try {
    env = readFileSync(`/proc/${pid}/environ`, 'latin1');
  } catch {
    /* gone */
  }
  const m = /(?:^|\0)HERALD_PROCESS_ROLE=(web|jobs)(?:\0|$)/.exec(env);
  if (m) return m[1] as Role;
  return pids.some((p) => readStat(p)?.ppid === pid) ? 'primary' : 'single';
}

/** CPU ms per role since `cpuByRole` was taken. */
export class RoleCpu {
  readonly #pids: () => number[];
  constructor(pids: () => number[]) {
    this.#pids = pids;
  }

  snapshot(): Map<number, { role: Role; cpu: number }> {
    const pids = this.#pids();
    return new Map(pids.map((pid) => [pid, { role: roleOf(pid, pids), cpu: readStat(pid)?.cpuMs ?? 0 }]));
  }

  /** Adds the CPU each role used since `from` to `into` (processes gone since are missing). */
  static add(into: Partial<Record<Role, number>>, from: Map<number, { role: Role; cpu: number }>) {
    for (const [pid, { role, cpu }] of from) {
      const now = readStat(pid)?.cpuMs;
      if (now !== undefined && now >= cpu) into[role] = (into[role] ?? 0) + now - cpu;
    }
  }
}

export interface LoopDelay {
  p50_ms: number;
  p99_ms: number;
  max_ms: number;
}

/**
 * The event-loop delay of the process that answers /metrics (prom-client's monitorEventLoopDelay, reset at every
 * scrape: one scrape at a phase's start, one at its end gives that phase's figures). With WEB_CONCURRENCY=1 that
 * is the one serving process, the one writing the sockets' frames.
 */
export async function scrapeLoopDelay(origin: string, token: string): Promise<LoopDelay> {
  const text = await new Promise<string>((resolve, reject) => {
    http
      .get(`${origin}/metrics`, { headers: { authorization: `Bearer ${token}` }, agent: false }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => (body += d));
        res.on('end', () => (res.statusCode === 200 ? resolve(body) : reject(new Error(`/metrics answered ${res.statusCode}`))));
      })
      .on('error', reject);
  });
  const read = (name: string) => {
    const m = new RegExp(`^herald_nodejs_eventloop_lag_${name}_seconds(?:\\{[^}]*\\})? ([0-9.e+-]+)$`, 'm').exec(text);
    return m ? Math.round(Number(m[1]) * 1e5) / 100 : NaN;
  };
  return { p50_ms: read('p50'), p99_ms: read('p99'), max_ms: read('max') };
}
