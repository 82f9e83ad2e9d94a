import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { freePort } from '../../db/embedded';

const ROOT = path.join(__dirname, '..', '..', '..');

/** Herald as a newcomer starts it: `npm start` in the repository, in development, with the demo data. */
export interface NpmStart {
  url: string;
  port: number;
  /** A directory of its own for `.data` (the development session secret): the checkout's stays untouched. */
  dataDir: string;
  /** Everything the process printed so far, stdout and stderr apart (npm's own lines included). */
  stdout(): string;
  stderr(): string;
  /** SIGTERM to the whole process group (npm, tsx, node), SIGKILL after `graceMs`; removes `dataDir`. */
  stop(graceMs?: number): Promise<void>;
}

const running = new Set<number>();
// A crashed test run must not leave a server (or its database connections) behind.
process.on('exit', () => {
  for (const pgid of running) {
    try {
      process.kill(-pgid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
});

/**
 * Runs `npm start` (prestart's console build check, then `tsx server/main.ts`) exactly as the README says, with
 * only what a newcomer could set in the environment: `env` (DATABASE_URL, MAIL_DIR, SMTP_URL, ...). NODE_ENV is
 * removed (jest sets it to `test`), so the process runs as in development. Resolves once /readyz answers.
 * The process leads a group of its own so that stopping it reaches node behind npm and tsx.
 */
export async function npmStart(env: Record<string, string | undefined>, opts: { readyTimeoutMs?: number } = {}): Promise<NpmStart> {
  const port = await freePort();
  const dataDir = mkdtempSync(path.join(tmpdir(), 'herald-npmstart-'));
  const full: NodeJS.ProcessEnv = { ...process.env, PORT: String(port), HOST: '127.0.0.1', HERALD_DATA_DIR: dataDir, ...env };
  for (const k of ['NODE_ENV', 'SESSION_SECRET', 'LOG_LEVEL', 'SEED_DEMO', 'REDIS_URL', 'WEB_CONCURRENCY', 'JOB_WORKERS', 'SMTP_URL', 'PUBLIC_URL']) {
    if (!(k in env)) delete full[k];
  }
  for (const k of Object.keys(full)) if (full[k] === undefined) delete full[k];
  const child = spawn('npm', ['start'], { cwd: ROOT, env: full, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  const pgid = child.pid!;
  running.add(pgid);
  let out = '';
  let err = '';
  child.stdout!.on('data', (d: Buffer) => void (out += d));
  child.stderr!.on('data', (d: Buffer) => void (err += d));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const signal = (s: NodeJS.Signals) => {
    try {
      process.kill(-pgid, s);
    } catch {
      // the group is gone already
    }
  };
  const stop = async (graceMs = 10_000) => {
    signal('SIGTERM');
    const timer = setTimeout(() => signal('SIGKILL'), graceMs);
    await exited;
    clearTimeout(timer);
    // npm may exit before node does: make sure nothing of the group outlives the test.
    signal('SIGKILL');
    running.delete(pgid);
    rmSync(dataDir, { recursive: true, force: true });
  };

  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + (opts.readyTimeoutMs ?? 120_000);
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) {
      await stop();
      throw new Error(`npm start exited early:\n${out}\n${err}`);
    }
    if (await fetch(`${url}/readyz`).then((r) => r.status === 200, () => false)) break;
    if (Date.now() > deadline) {
      await stop(0);
      throw new Error(`npm start was not ready in time:\n${out}\n${err}`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  return { url, port, dataDir, stdout: () => out, stderr: () => err, stop };
}
