import { fork, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { registerCleanup } from './server';
import type { OpenReport } from './sockets';

/** Most sockets one load-generator child may hold: under the 20,000 descriptor limit with room to spare. */
export const MAX_PER_WORKER = 18_000;

interface Worker {
  child: ChildProcess;
  waiters: Array<{ ev: string; resolve: (m: any) => void }>;
}

export interface Delivery {
  count: number;
  expected: number;
  /** Absolute arrival times (ms, performance.timeOrigin based) of each matching frame. */
  times: number[];
}

/**
 * Sockets spread over child processes, each with a source address of its own (127.0.0.2, 127.0.0.3, ...),
 * so neither descriptors nor ephemeral ports run out. Cookie i goes to the i-th socket overall.
 */
export class WsFleet {
  readonly #workers: Worker[] = [];

  static async open(o: {
    url: string;
    origin: string;
    cookies: string[];
    workers?: number;
    concurrency?: number;
    deflate?: boolean;
    timeoutMs?: number;
    /** Distinct source addresses, one per worker; the default gives worker k 127.0.0.(k+2). */
    sourceAddresses?: boolean;
  }): Promise<{ fleet: WsFleet; reports: OpenReport[] }> {
    const n = Math.max(o.workers ?? 1, Math.ceil(o.cookies.length / MAX_PER_WORKER));
    const fleet = new WsFleet();
    const per = Math.ceil(o.cookies.length / n);
    const reports = await Promise.all(
      Array.from({ length: n }, async (_, k) => {
        const w = fleet.#spawn();
        const share = o.cookies.slice(k * per, (k + 1) * per);
        w.child.send({
          cmd: 'open',
          options: {
            url: o.url,
            origin: o.origin,
            cookies: share,
            localAddress: o.sourceAddresses === false ? undefined : `127.0.0.${k + 2}`,
            concurrency: o.concurrency ?? 64,
            deflate: o.deflate ?? false,
            timeoutMs: o.timeoutMs ?? 120_000,
          },
        });
        return (await fleet.#next(w, 'opened')).report as OpenReport;
      }),
    );
    return { fleet, reports };
  }

  #spawn(): Worker {
    const child = fork(path.join(__dirname, 'ws-worker.ts'), [], {
      execArgv: ['--import', 'tsx'],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      serialization: 'advanced',
    });
    registerCleanup(child);
    const w: Worker = { child, waiters: [] };
    child.on('message', (m: { ev: string }) => {
      const i = w.waiters.findIndex((x) => x.ev === m.ev);
      if (i >= 0) w.waiters.splice(i, 1)[0].resolve(m);
    });
    child.on('exit', (code) => {
      for (const x of w.waiters.splice(0)) x.resolve({ ev: x.ev, error: `worker exited with ${code}` });
    });
    this.#workers.push(w);
    return w;
  }

  #next(w: Worker, ev: string): Promise<any> {
    return new Promise((resolve) => w.waiters.push({ ev, resolve }));
  }

  get pids(): number[] {
    return this.#workers.map((w) => w.child.pid!);
  }

  /**
   * Arms every worker to wait for a notification frame whose title contains `marker`, and resolves once
   * they are armed. `done` resolves when every open socket got it or the timeout passed.
   */
  async expect(marker: string, timeoutMs: number): Promise<{ expected: number; done: Promise<Delivery> }> {
    const results = this.#workers.map((w) => this.#next(w, 'received'));
    const armed = this.#workers.map((w) => this.#next(w, 'armed'));
    for (const w of this.#workers) w.child.send({ cmd: 'expect', marker, timeoutMs });
    const acks = await Promise.all(armed);
    const done = Promise.all(results).then((rs) => ({
      count: rs.reduce((s, r) => s + (r.count ?? 0), 0),
      expected: rs.reduce((s, r) => s + (r.expected ?? 0), 0),
      times: rs.flatMap((r) => r.times ?? []),
    }));
    return { expected: acks.reduce((s, a) => s + (a.expected ?? 0), 0), done };
  }

  /** `duplicates`: frames of the last armed marker beyond the first on one socket, counted even after its run ended. */
  async stats(): Promise<{ open: number; closedUnexpectedly: number; rss: number; duplicates: number }> {
    const rs = await Promise.all(
      this.#workers.map((w) => {
        const p = this.#next(w, 'stats');
        w.child.send({ cmd: 'stats' });
        return p;
      }),
    );
    return {
      open: rs.reduce((s, r) => s + (r.open ?? 0), 0),
      closedUnexpectedly: rs.reduce((s, r) => s + (r.closedUnexpectedly ?? 0), 0),
      rss: rs.reduce((s, r) => s + (r.rss ?? 0), 0),
      duplicates: rs.reduce((s, r) => s + (r.duplicates ?? 0), 0),
    };
  }

  async close(): Promise<void> {
    await Promise.all(
      this.#workers.map(async (w) => {
        if (w.child.exitCode !== null) return;
        const exited = new Promise<void>((r) => w.child.once('exit', () => r()));
        const closed = this.#next(w, 'closed');
        w.child.send({ cmd: 'close' });
        await Promise.race([closed.then(() => exited), new Promise((r) => setTimeout(r, 10_000))]);
        if (w.child.exitCode === null) w.child.kill('SIGKILL');
      }),
    );
  }
}
