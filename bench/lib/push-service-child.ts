/**
 * The local push service (push.ts's `startPushService`) in a process of its own. In the bench process, its TLS
 * work (a thousand requests a second) would delay the very POSTs whose latency the push-fanout bench times, only
 * in the phase with pushes: a bias in exactly the comparison it makes. Driven over IPC by `RemotePushService`.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { registerCleanup } from './server';

type Command =
  | { cmd: 'start'; key: string; cert: string; sample: number }
  | { cmd: 'subscribe'; count: number }
  | { cmd: 'vapid'; key: string }
  | { cmd: 'stats' }
  | { cmd: 'close' };

export interface PushStats {
  count: number;
  /** nowMs() of the latest arrival (comparable across processes); 0 before any. */
  last: number;
  checked: number;
  problems: string[];
}

export interface Subscription {
  endpoint: string;
  p256dh: string;
  auth: string;
}

/** The parent's handle: arrivals are reported every 20 ms while they change, exact figures on `stats()`. */
export class RemotePushService {
  count = 0;
  last = 0;
  readonly #child: ChildProcess;
  readonly #waiters: Array<{ ev: string; resolve: (m: any) => void }> = []; // eslint-disable-line @typescript-eslint/no-explicit-any

  private constructor(child: ChildProcess) {
    this.#child = child;
    child.on('message', (m: { ev: string; count?: number; last?: number }) => {
      if (m.ev === 'progress') {
        this.count = m.count!;
        this.last = m.last!;
        return;
      }
      const i = this.#waiters.findIndex((w) => w.ev === m.ev);
      if (i >= 0) this.#waiters.splice(i, 1)[0].resolve(m);
    });
  }

  static async start(o: { key: string; cert: string; sample: number }): Promise<{ service: RemotePushService; origin: string }> {
    const child = fork(__filename, [], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    registerCleanup(child);
    const service = new RemotePushService(child);
    const started = await service.#ask<{ origin: string }>('started', { cmd: 'start', ...o });
    return { service, origin: started.origin };
  }

  async subscribe(count: number): Promise<Subscription[]> {
    return (await this.#ask<{ subs: Subscription[] }>('subscribed', { cmd: 'subscribe', count })).subs;
  }

  setVapidKey(key: string): void {
    this.#child.send({ cmd: 'vapid', key } satisfies Command);
  }

  async stats(): Promise<PushStats> {
    const s = await this.#ask<PushStats>('stats', { cmd: 'stats' });
    this.count = s.count;
    this.last = s.last;
    return s;
  }

  async close(): Promise<void> {
    if (this.#child.exitCode !== null) return;
    const exited = new Promise<void>((r) => this.#child.once('exit', () => r()));
    this.#child.send({ cmd: 'close' } satisfies Command);
    await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
    if (this.#child.exitCode === null) this.#child.kill('SIGKILL');
  }

  #ask<T>(ev: string, command: Command): Promise<T> {
    const p = new Promise<T>((resolve) => this.#waiters.push({ ev, resolve }));
    this.#child.send(command);
    return p;
  }
}

/** The child side: push.ts's push service, its arrivals reported to the parent. */
async function child(): Promise<void> {
  const { startPushService } = await import('../push.js');
  let service: Awaited<ReturnType<typeof startPushService>> | undefined;
  let vapidKey = '';
  let reported = 0;
  const send = (m: object) => process.send?.(m);
  const stats = (): PushStats => ({
    count: service?.arrivals.length ?? 0,
    last: service?.arrivals.length ? service.arrivals[service.arrivals.length - 1] : 0,
    checked: service?.checked() ?? 0,
    problems: service?.problems.slice(0, 5) ?? [],
  });
  const timer = setInterval(() => {
    const s = stats();
    if (s.count !== reported) (reported = s.count), send({ ev: 'progress', count: s.count, last: s.last });
  }, 20);
  process.on('disconnect', () => process.exit(0)); // orphaned: the bench is gone
  process.on('message', async (m: Command) => {
    switch (m.cmd) {
      case 'start':
        service = await startPushService({ key: m.key, cert: m.cert, sample: m.sample, vapidKey: () => vapidKey });
        send({ ev: 'started', origin: service.origin });
        break;
      case 'subscribe':
        send({ ev: 'subscribed', subs: Array.from({ length: m.count }, (_, i) => service!.subscribe(i)) });
        break;
      case 'vapid':
        vapidKey = m.key;
        break;
      case 'stats':
        send({ ev: 'stats', ...stats() });
        break;
      case 'close':
        clearInterval(timer);
        await service?.close();
        process.exit(0);
    }
  });
}

if (require.main === module) void child();
