/** The hub and its connections without any transport: routing, per-session closing, snapshot ordering. */
import { Connection, Hub, type Socket } from '../../realtime';

function fake() {
  const sent: string[] = [];
  const closed: number[] = [];
  const socket: Socket = { send: (d) => void sent.push(d), close: (code) => void closed.push(code) };
  return { socket, sent, closed };
}
const conn = (userId: number, sessionId: string, s: Socket, isAdmin = false) =>
  new Connection({ userId, sessionId, isAdmin, protocol: 'json' }, s);

test('a user holds a set of connections; sessions close independently', () => {
  const hub = new Hub();
  const [f1, f2, f3, f4] = [fake(), fake(), fake(), fake()];
  const [a1, a2, a3, b] = [conn(1, 's1', f1.socket), conn(1, 's1', f2.socket), conn(1, 's2', f3.socket), conn(2, 's3', f4.socket, true)];
  for (const c of [a1, a2, a3, b]) hub.add(c);
  expect(hub.size).toBe(4);
  expect(hub.of(1)?.size).toBe(3);
  expect([...hub.admins()]).toEqual([b]);
  expect(hub.closeSession('s1', 4401, 'bye')).toBe(2);
  expect([f1.closed, f2.closed, f3.closed, f4.closed]).toEqual([[4401], [4401], [], []]);
  hub.remove(a1);
  hub.remove(a2);
  hub.remove(a2); // idempotent
  expect(hub.size).toBe(2);
  expect(hub.closeUser(1, 4401, 'bye')).toBe(1);
  hub.remove(a3);
  hub.remove(b);
  expect(hub.size).toBe(0);
  expect(hub.userIds()).toEqual([]);
  expect(hub.sessionIds()).toEqual([]);
});

test('live pushes wait for the snapshot, and copies the snapshot already carried are dropped', () => {
  const f = fake();
  const c = conn(1, 's', f.socket);
  c.push('live-10', 10);
  c.push('count');
  c.push('live-11', 11);
  expect(f.sent).toEqual([]);
  c.sendNow('snapshot');
  c.sendNow('replay-10', 10);
  c.open([10]);
  expect(f.sent).toEqual(['snapshot', 'replay-10', 'count', 'live-11']);
  c.push('live-10-again', 10);
  expect(f.sent).toHaveLength(4);
  expect(c.lastPosition).toBe(11);
  c.close(1000, 'done');
  c.push('after close');
  expect(f.sent).toHaveLength(4);
});

test('pause() puts an open connection back to queueing until the next snapshot opens it', () => {
  const f = fake();
  const c = conn(1, 's', f.socket);
  c.open();
  c.push('live-10', 10);
  c.pause(); // a resync begins
  c.push('live-12', 12);
  expect(f.sent).toEqual(['live-10']);
  expect(c.lastPosition).toBe(10); // the replay point stays where the client really is
  c.sendNow('snapshot');
  c.sendNow('replay-11', 11);
  c.sendNow('replay-12', 12);
  c.open([11, 12]);
  expect(f.sent).toEqual(['live-10', 'snapshot', 'replay-11', 'replay-12']);
});

test('sessionSize counts one session’s sockets', () => {
  const hub = new Hub();
  const [a, b, d] = [conn(1, 's1', fake().socket), conn(1, 's1', fake().socket), conn(1, 's2', fake().socket)];
  for (const c of [a, b, d]) hub.add(c);
  expect([hub.sessionSize('s1'), hub.sessionSize('s2'), hub.sessionSize('none')]).toEqual([2, 1, 0]);
});

test('watch indexes a connection by the courses its page shows; a new watch replaces the old, removal forgets it', () => {
  const hub = new Hub();
  const [a, b, stranger] = [conn(1, 's1', fake().socket), conn(2, 's2', fake().socket), conn(3, 's3', fake().socket)];
  hub.add(a);
  hub.add(b);
  hub.watch(a, [7, 8]);
  hub.watch(b, [8]);
  hub.watch(stranger, [8]); // not in the hub (closed before its message was read): ignored
  expect([...(hub.watching(8) ?? [])]).toEqual([a, b]);
  hub.watch(a, [9]); // a search swapped the catalog's cards
  expect(hub.watching(7)).toBeUndefined();
  expect([...(hub.watching(8) ?? [])]).toEqual([b]);
  expect([...(hub.watching(9) ?? [])]).toEqual([a]);
  hub.remove(a);
  hub.remove(b);
  expect([hub.watching(8), hub.watching(9)]).toEqual([undefined, undefined]);
});
