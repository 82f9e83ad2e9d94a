/**
 * The floor under every socket fan-out on this machine: one process writes one frame (the size of a fan-out's
 * notification frame, ~380 bytes) to each of N loopback sockets held by load-generator processes,
 * with nothing else in the way (no database, no event, no rendering). Plain TCP (`net`) and WebSockets (`ws`, the
 * server's library) side by side, so what the kernel costs per write and what the WebSocket layer adds show apart.
 * Reports the writing loop's wall time and CPU, and the time until every socket received its frame.
 *
 *   npx tsx bench/socket-floor.ts [--sockets 10000] [--runs 7]
 */
import { fork, type ChildProcess } from 'node:child_process';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { WebSocket, WebSocketServer } from 'ws';
import { intArg, parseArgs } from './lib/args';
import { log, nowMs, sleep } from './lib/log';
import { environment, writeResult } from './lib/results';
import { percentile, round } from './lib/stats';

type Mode = 'tcp' | 'ws';
const FRAME = JSON.stringify({ type: 'notification', notification: { id: 123456789, title: 'x'.repeat(200), message: 'y'.repeat(100) } });
const PER_CHILD = 5000;

/** A load-generator child: opens its sockets, then reports each frame's arrival time in one batch per run. */
function child(): void {
  const [mode, port, count] = [process.argv[3] as Mode, Number(process.argv[4]), Number(process.argv[5])];
  let received: number[] = [];
  let open = 0;
  const arrived = () => {
    received.push(nowMs());
    if (received.length === count) {
      process.send!({ ev: 'run', times: received });
      received = [];
    }
  };
  for (let i = 0; i < count; i++) {
    if (mode === 'tcp') {
      const s = net.connect(port, '127.0.0.1', () => ++open === count && process.send!({ ev: 'open' }));
      s.on('data', arrived); // one small write arrives as one chunk on loopback
      s.on('error', (err) => process.send!({ ev: 'error', message: String(err) }));
    } else {
      const w = new WebSocket(`ws://127.0.0.1:${port}/`);
      w.on('open', () => ++open === count && process.send!({ ev: 'open' }));
      w.on('message', arrived);
      w.on('error', (err) => process.send!({ ev: 'error', message: String(err) }));
    }
  }
  process.on('disconnect', () => process.exit(0));
}

async function runMode(mode: Mode, sockets: number, runs: number) {
  const conns: Array<{ write(b: string): void }> = [];
  let close: () => void;
  let port: number;
  if (mode === 'tcp') {
    const server = net.createServer((s) => {
      s.setNoDelay(true);
      conns.push({ write: (b) => s.write(b) });
    });
    // A backlog for every socket at once: the default 511 drops SYNs, and the retries take seconds.
    await new Promise<void>((r) => server.listen({ port: 0, host: '127.0.0.1', backlog: sockets }, r));
    port = (server.address() as AddressInfo).port;
    close = () => server.close();
  } else {
    const server = new WebSocketServer({ host: '127.0.0.1', port: 0, backlog: sockets, perMessageDeflate: false });
    await new Promise<void>((r) => server.on('listening', r));
    server.on('connection', (w) => conns.push({ write: (b) => w.send(b) }));
    port = (server.address() as AddressInfo).port;
    close = () => server.close();
  }
  const children: ChildProcess[] = [];
  for (let left = sockets; left > 0; left -= PER_CHILD) {
    children.push(fork(__filename, ['--child', mode, String(port), String(Math.min(PER_CHILD, left))], { execArgv: ['--import', 'tsx'] }));
  }
  await Promise.all(children.map((c) => new Promise((r) => c.once('message', r))));
  while (conns.length < sockets) await sleep(10);
  await sleep(500);
  const out: Array<{ loop_ms: number; loop_cpu_ms: number; last_frame_ms: number }> = [];
  for (let i = 0; i < runs + 1; i++) {
    const done = Promise.all(children.map((c) => new Promise<number[]>((r) => c.once('message', (m: { times: number[] }) => r(m.times)))));
    const t0 = nowMs();
    const cpu = process.cpuUsage();
    for (const c of conns) c.write(FRAME);
    const used = process.cpuUsage(cpu);
    const loop = nowMs() - t0;
    const last = Math.max(...(await done).flat()) - t0;
    if (i > 0) out.push({ loop_ms: round(loop), loop_cpu_ms: round((used.user + used.system) / 1000), last_frame_ms: round(last) });
    log(`${mode} ${i === 0 ? 'warm-up' : `run ${i}`}: writing ${round(loop)} ms, last frame ${round(last)} ms`);
    await sleep(300);
  }
  for (const c of children) c.kill();
  close();
  const med = (k: keyof (typeof out)[number]) => percentile(out.map((r) => r[k]), 50);
  return { sockets, us_per_write_p50: round((med('loop_ms') * 1000) / sockets, 1), loop_ms_p50: med('loop_ms'), last_frame_ms_p50: med('last_frame_ms'), runs: out };
}

if (process.argv[2] === '--child') child();
else {
  const args = parseArgs();
  const sockets = intArg(args, 'sockets', 10_000);
  const runs = intArg(args, 'runs', 7);
  (async () => {
    const env = environment();
    const tcp = await runMode('tcp', sockets, runs);
    const ws = await runMode('ws', sockets, runs);
    const r = {
      benchmark: 'socket-floor',
      environment: env,
      method:
        `One Node process writes one ${FRAME.length}-byte frame to each of ${sockets} loopback sockets held by ` +
        `${Math.ceil(sockets / PER_CHILD)} load-generator process(es), in one synchronous loop; ${runs} runs after a ` +
        `warm-up, medians. No database, no events: the cost of the writes alone.`,
      frame_bytes: FRAME.length,
      tcp,
      ws,
    };
    log(JSON.stringify({ tcp: { ...tcp, runs: undefined }, ws: { ...ws, runs: undefined } }));
    log(`wrote ${writeResult('socket-floor', r)}`);
    process.exit(0);
  })().catch((err) => {
    console.error(err);
    process.exit(1);
  });
}
