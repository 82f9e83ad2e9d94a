import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { freePort } from '../../../db/embedded';

/** Whether a redis-server binary exists here; the Redis restart test needs one of its own. */
export function redisServerBinary(): string | null {
  const r = spawnSync('sh', ['-c', 'command -v redis-server'], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : null;
}

/**
 * A Redis of this test's own on a free port, no persistence, so it can be killed and restarted under load. The
 * machine's shared Redis on 6379 is never touched.
 */
export class OwnRedis {
  #child: ChildProcess | undefined;
  private constructor(
    readonly bin: string,
    readonly port: number,
  ) {}

  get url() {
    return `redis://127.0.0.1:${this.port}`;
  }

  static async create(bin: string): Promise<OwnRedis> {
    const r = new OwnRedis(bin, await freePort());
    await r.start();
    return r;
  }

  async start() {
    const child = spawn(this.bin, ['--port', String(this.port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: ['ignore', 'pipe', 'pipe'] });
    this.#child = child;
    process.once('exit', () => child.kill('SIGKILL'));
    await new Promise<void>((resolve, reject) => {
      let out = '';
      const t = setTimeout(() => reject(new Error(`redis-server did not start:\n${out}`)), 10_000);
      child.stdout!.on('data', (d) => {
        out += d;
        if (/Ready to accept connections/.test(out)) {
          clearTimeout(t);
          resolve();
        }
      });
      child.once('exit', (code) => reject(new Error(`redis-server exited (${code}):\n${out}`)));
    });
  }

  /** Kills our own redis-server (by its pid), as a crash would. */
  async stop() {
    const child = this.#child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const gone = new Promise((r) => child.once('exit', r));
    child.kill('SIGKILL');
    await gone;
  }
}
