import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { freePort } from '../../server/db/embedded';
import { log, sleep } from './log';

export const ROOT = path.resolve(__dirname, '..', '..');

/** The secret every bench server and every seeded cookie share; new per bench run. */
export function benchSecret(): string {
  return randomBytes(36).toString('base64url');
}

/** What the seed must match: production cookies are `secure`, idle timeout is the server's default. */
export const SERVER_SESSION = { idleMs: 120 * 60_000, secure: true };

export interface BenchServer {
  port: number;
  origin: string;
  pid: number;
  /** The primary and, with WEB_CONCURRENCY > 1, its workers: whatever the server process tree is now. */
  pids(): number[];
  stop(): Promise<void>;
}

/**
 * Starts Herald as it runs in production: its own process (`node --import tsx server/main.ts`, no watch, no
 * dev tooling), NODE_ENV=production, LOG_LEVEL=warn, no demo data, on loopback only, no effective API rate limit.
 */
export async function startServer(opts: {
  databaseUrl: string;
  secret: string;
  webConcurrency?: number;
  /** JOB_WORKERS: job processes of their own beside the serving ones (a cluster primary then runs even with one). */
  jobWorkers?: number;
  env?: Record<string, string>;
  readyTimeoutMs?: number;
  /** Write V8 CPU profiles of every server process here (on exit), to see where the time goes. */
  cpuProfileDir?: string;
}): Promise<BenchServer> {
  const port = await freePort();
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    NODE_ENV: 'production',
    PORT: String(port),
    HOST: '127.0.0.1',
    DATABASE_URL: opts.databaseUrl,
    SESSION_SECRET: opts.secret,
    SEED_DEMO: 'false',
    LOG_LEVEL: 'warn',
    WEB_CONCURRENCY: String(opts.webConcurrency ?? 1),
    JOB_WORKERS: String(opts.jobWorkers ?? 0),
    // A benchmark sends thousands of requests a minute from one session: the limit still counts each one (its
    // cost is in the figures) but never refuses.
    API_RATE_LIMIT_PER_MINUTE: '1000000000',
    // The load generators open thousands of sockets at once from a handful of loopback addresses: the per-address
    // cap on connections still in their handshake (32 by default, against one client flooding) would refuse most
    // of them, which is a property of the bench's client, not of Herald's capacity.
    MAX_PENDING_CONNECTIONS_PER_IP: '1000000',
    ...opts.env,
  };
  const prof = opts.cpuProfileDir ? ['--cpu-prof', `--cpu-prof-dir=${opts.cpuProfileDir}`] : [];
  const child = spawn(process.execPath, [...prof, '--import', 'tsx', 'server/main.ts'], {
    cwd: ROOT,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const tail: string[] = [];
  const keep = (b: Buffer) => {
    for (const line of b.toString().split('\n')) if (line.trim()) tail.push(line);
    if (tail.length > 40) tail.splice(0, tail.length - 40);
  };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  let exited: number | null | undefined;
  child.on('exit', (code) => (exited = code));
  registerCleanup(child);

  const origin = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + (opts.readyTimeoutMs ?? 60_000);
  for (;;) {
    if (exited !== undefined) throw new Error(`server exited with ${exited} before listening:\n${tail.join('\n')}`);
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`server did not answer /healthz in time:\n${tail.join('\n')}`);
    }
    if ((await probe(`${origin}/healthz`)) === 200) break;
    await sleep(200);
  }
  // With a cluster, /healthz may answer before every worker listens; wait until the tree has them all.
  const workers = (opts.webConcurrency ?? 1) + (opts.jobWorkers ?? 0);
  const want = workers > 1 ? workers + 1 : 1;
  const nodes = () => processTree(child.pid!).filter((pid) => readStat(pid)?.comm === 'node').length;
  while (nodes() < want && Date.now() < deadline) await sleep(200);
  await sleep(want > 1 ? 1500 : 300);
  log(`server up on ${origin} (pid ${child.pid}, ${nodes()} node process(es))`);

  return {
    port,
    origin,
    pid: child.pid!,
    // Only the Node processes: tsx's esbuild helper is not part of the server's running cost.
    pids: () => processTree(child.pid!).filter((pid) => readStat(pid)?.comm === 'node'),
    stop: () => stopChild(child, tail),
  };
}

function probe(url: string): Promise<number> {
  return new Promise((resolve) => {
    const req = http.get(url, { agent: false, timeout: 1000 }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('error', () => resolve(0));
    req.on('timeout', () => req.destroy());
  });
}

async function stopChild(child: ChildProcess, tail: string[]): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) {
    // It died under load: what it said last is the only clue to why.
    log(`server had already exited (code ${child.exitCode}, signal ${child.signalCode}); its last output:\n${tail.slice(-15).join('\n')}`);
    return;
  }
  const done = new Promise<void>((r) => child.once('exit', () => r()));
  child.kill('SIGTERM');
  const killed = await Promise.race([done.then(() => false), sleep(15_000).then(() => true)]);
  if (killed) {
    log('server did not stop within 15 s of SIGTERM; killing it');
    for (const pid of processTree(child.pid!).reverse()) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        /* already gone */
      }
    }
    await done;
  }
  const errors = tail.filter((l) => /"level":(50|60)|Error/.test(l));
  if (errors.length) log(`server logged errors (last ${Math.min(5, errors.length)}):\n${errors.slice(-5).join('\n')}`);
}

/** A process and all its descendants, from /proc (the cluster's workers are children of the primary). */
export function processTree(root: number): number[] {
  const children = new Map<number, number[]>();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const st = readStat(Number(name));
    if (!st) continue;
    const list = children.get(st.ppid) ?? [];
    list.push(Number(name));
    children.set(st.ppid, list);
  }
  const out: number[] = [];
  const walk = (pid: number) => {
    out.push(pid);
    for (const c of children.get(pid) ?? []) walk(c);
  };
  if (readStat(root)) walk(root);
  return out;
}

interface Stat {
  comm: string;
  ppid: number;
  /** user + system CPU in milliseconds */
  cpuMs: number;
  rssBytes: number;
}

const TICK_MS = 10; // CLK_TCK is 100 on Linux
const PAGE = 4096;

export function readStat(pid: number): Stat | null {
  let s: string;
  try {
    s = readFileSync(`/proc/${pid}/stat`, 'latin1');
  } catch {
    return null;
  }
  // comm may contain spaces and parentheses: the fields after it start at the last ')'.
  const close = s.lastIndexOf(')');
  const comm = s.slice(s.indexOf('(') + 1, close);
  const f = s.slice(close + 2).split(' ');
  // f[0] is field 3 (state): utime is field 14 -> f[11], stime f[12], rss (pages) field 24 -> f[21].
  return { comm, ppid: Number(f[1]), cpuMs: (Number(f[11]) + Number(f[12])) * TICK_MS, rssBytes: Number(f[21]) * PAGE };
}

/** Total CPU milliseconds used so far by these processes (the ones gone since are simply missing). */
export function cpuMs(pids: number[]): number {
  return pids.reduce((sum, pid) => sum + (readStat(pid)?.cpuMs ?? 0), 0);
}

/** CPU per process now, so a later delta can skip processes that exited in between (their CPU is gone). */
export function cpuSnapshot(pids: number[]): Map<number, number> {
  return new Map(pids.map((pid) => [pid, readStat(pid)?.cpuMs ?? 0]));
}

export function cpuSince(snap: Map<number, number>): number {
  let sum = 0;
  for (const [pid, before] of snap) {
    const now = readStat(pid)?.cpuMs;
    if (now !== undefined && now >= before) sum += now - before;
  }
  return sum;
}

export function rssBytes(pids: number[]): number {
  return pids.reduce((sum, pid) => sum + (readStat(pid)?.rssBytes ?? 0), 0);
}

/** Every PostgreSQL process on the machine (the server's backends included); its CPU is reported beside ours. */
export function postgresPids(): number[] {
  return readdirSync('/proc')
    .filter((n) => /^\d+$/.test(n))
    .map(Number)
    .filter((pid) => readStat(pid)?.comm === 'postgres');
}

/** Child processes that must not outlive the bench, even when it fails or is interrupted. */
const live = new Set<ChildProcess>();
let hooked = false;
export function registerCleanup(child: ChildProcess): void {
  live.add(child);
  child.once('exit', () => live.delete(child));
  if (hooked) return;
  hooked = true;
  const killAll = () => {
    for (const c of live) {
      // Children first-listed last, so a cluster primary cannot respawn a worker we just killed.
      for (const pid of processTree(c.pid!).reverse()) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          /* gone */
        }
      }
    }
  };
  process.once('exit', killAll);
  for (const sig of ['SIGINT', 'SIGTERM'] as const) {
    process.once(sig, () => {
      killAll();
      process.exit(130);
    });
  }
}
