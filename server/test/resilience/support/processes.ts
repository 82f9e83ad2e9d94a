import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { freePort } from '../../../db/embedded';

const ROOT = path.join(__dirname, '..', '..', '..', '..');
/** The harness's secret: a cookie from a test login works on every spawned process. */
export const TEST_SESSION_SECRET = 'test-secret-test-secret-test-secret-123';
/** /metrics needs a bearer token; every spawned process gets this one. */
export const TEST_METRICS_TOKEN = 'metrics-token-for-the-tests-0123456789';

const children = new Set<ChildProcess>();
// A crashed test run must not leave servers (or their database connections) behind.
process.on('exit', () => {
  for (const c of children) c.kill('SIGKILL');
});

/** A real Herald process (`server/main.ts` through tsx), as production runs it. */
export interface ServerProcess {
  url: string;
  port: number;
  child: ChildProcess;
  output(): string;
  /** Resolves when the process has exited (after kill or on its own). */
  exited: Promise<void>;
  kill(signal: NodeJS.Signals): Promise<void>;
}

/**
 * Spawns `server/main.ts` on `port` (a free one if omitted) against `databaseUrl` and waits for /readyz. The
 * process is killed when the test process exits, whatever happens.
 */
export async function spawnServer(opts: {
  databaseUrl: string;
  port?: number;
  env?: Record<string, string | undefined>;
  readyTimeoutMs?: number;
}): Promise<ServerProcess> {
  const port = opts.port ?? (await freePort());
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    NODE_ENV: 'test',
    PORT: String(port),
    HOST: '127.0.0.1',
    DATABASE_URL: opts.databaseUrl,
    SESSION_SECRET: TEST_SESSION_SECRET,
    SEED_DEMO: 'false',
    WEB_CONCURRENCY: '1',
    LOG_LEVEL: 'warn',
    ALLOWED_ORIGINS: '',
    REDIS_URL: undefined,
    METRICS_TOKEN: TEST_METRICS_TOKEN,
    ...opts.env,
  };
  for (const k of Object.keys(env)) if (env[k] === undefined) delete env[k];
  const child = spawn(process.execPath, ['--import', 'tsx', 'server/main.ts'], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  children.add(child);
  let out = '';
  const keep = (d: Buffer) => {
    out += d;
    if (out.length > 200_000) out = out.slice(-100_000);
  };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  const exited = new Promise<void>((resolve) =>
    child.once('exit', () => {
      children.delete(child);
      resolve();
    }),
  );
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + (opts.readyTimeoutMs ?? 30_000);
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) throw new Error(`server exited early:\n${out}`);
    const ok = await fetch(`${url}/readyz`).then((r) => r.status === 200, () => false);
    if (ok) break;
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`server not ready in time:\n${out}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    url,
    port,
    child,
    output: () => out,
    exited,
    async kill(signal) {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      await exited;
    },
  };
}

/** Waits until `fn` resolves truthy, polling; throws with `what` after the timeout. */
export async function until<T>(what: string, fn: () => Promise<T | undefined | null | false>, timeoutMs = 15_000, everyMs = 50): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ''}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}
