/**
 * A load-generator child: holds a share of the sockets so that no process, ours or the server's, goes past
 * the 20,000 file-descriptor limit. Driven by ws-fleet.ts over the IPC channel; exits when told or orphaned.
 */
import { SocketPool, type OpenOptions } from './sockets';

type Command =
  | { cmd: 'open'; options: OpenOptions }
  | { cmd: 'expect'; marker: string; timeoutMs: number }
  | { cmd: 'stats' }
  | { cmd: 'close' };

const pool = new SocketPool();
let armed:
  | { marker: string; seen: Uint8Array; times: number[]; expected: number; timer: NodeJS.Timeout }
  | undefined;

/** The last marker armed, kept after its run finished: a second frame for it on one socket is a duplicate. */
let last: { marker: string; seen: Uint8Array } | undefined;
let duplicates = 0;

const send = (m: object) => process.send?.(m);

function finish() {
  if (!armed) return;
  const a = armed;
  armed = undefined;
  clearTimeout(a.timer);
  send({ ev: 'received', marker: a.marker, count: a.times.length, expected: a.expected, times: a.times });
}

pool.onFrame((f) => {
  if (f.msg.type !== 'notification') return;
  const title = f.msg.notification?.title;
  if (typeof title !== 'string') return;
  if (last && title.includes(last.marker) && last.seen[f.index]++ > 0) duplicates++;
  if (!armed || !title.includes(armed.marker) || armed.seen[f.index]) return;
  armed.seen[f.index] = 1;
  armed.times.push(f.at);
  if (armed.times.length >= armed.expected) finish();
});

process.on('message', async (m: Command) => {
  switch (m.cmd) {
    case 'open': {
      const report = await pool.open(m.options);
      send({ ev: 'opened', report });
      break;
    }
    case 'expect': {
      finish();
      last = { marker: m.marker, seen: new Uint8Array(pool.sockets.length) };
      duplicates = 0;
      armed = {
        marker: m.marker,
        seen: new Uint8Array(pool.sockets.length),
        times: [],
        expected: pool.openCount,
        timer: setTimeout(finish, m.timeoutMs),
      };
      send({ ev: 'armed', expected: armed.expected });
      if (armed.expected === 0) finish();
      break;
    }
    case 'stats':
      send({ ev: 'stats', open: pool.openCount, closedUnexpectedly: pool.closedUnexpectedly, rss: process.memoryUsage.rss(), duplicates });
      break;
    case 'close':
      await pool.close();
      send({ ev: 'closed' });
      setTimeout(() => process.exit(0), 50);
      break;
  }
});

// The parent went away (crash, Ctrl-C): do not linger holding thousands of sockets.
process.on('disconnect', () => process.exit(0));
