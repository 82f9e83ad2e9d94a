/**
 * Hostile WebSocket frames, property-based: generated frames at both endpoints (/ws/notifications, /ws/bell) from a
 * candidate's sockets. Properties: every answer is a frame of a known kind; the only closes are the two named ones a
 * hostile frame may cause (1007, 1009); nothing but the candidate's own read state changes; Object.prototype is never
 * polluted; the process keeps answering. The HTTP side: fuzz-http.test.ts.
 */
import fc from 'fast-check';
import { WebSocket } from 'ws';
import { sleep, wsUrl } from '../support/realtime';
import { callers, ctx, deepNesting, digest, HUGE_NUMBERS, jsonText, RUNS, SEED, server, useFuzzTarget, world } from './support/fuzz';
import { record } from './support/stats';
import { assertProperty } from './support/property';

useFuzzTarget();

// --- WebSocket frames

class FrameClient {
  ws!: WebSocket;
  replies: string[] = [];
  closeCode: number | null = null;
  constructor(readonly path: string, readonly cookie: string) {}
  async open() {
    this.closeCode = null;
    this.ws = new WebSocket(wsUrl(server.url, this.path), { headers: { cookie: this.cookie, origin: server.url }, perMessageDeflate: false });
    this.ws.on('error', () => undefined);
    this.ws.on('message', (d) => this.replies.push(d.toString()));
    this.ws.on('close', (code) => (this.closeCode = code));
    await new Promise<void>((resolve, reject) => {
      this.ws.once('open', () => resolve());
      this.ws.once('close', (code) => reject(new Error(`closed at once: ${code}`)));
    });
  }
  /**
   * Sends `frames`, then a ping, and waits for its pong, or, when a frame must close the socket, for that close:
   * a generated ping frame earlier in the batch can be answered before the server reaches the bad frame, and
   * returning on that pong would blame the close on the next batch.
   */
  async roundTrip(frames: Array<string | Buffer>, binary: boolean[], expectClose: boolean): Promise<void> {
    const from = this.replies.length;
    for (let i = 0; i < frames.length; i++) this.ws.send(frames[i], { binary: binary[i] });
    if (this.ws.readyState === WebSocket.OPEN) this.ws.send('{"type":"ping"}');
    const deadline = Date.now() + 5_000;
    while (Date.now() < deadline) {
      if (this.closeCode !== null) return;
      if (!expectClose && this.replies.slice(from).some((r) => r.includes('"pong"'))) return;
      await sleep(2);
    }
    throw new Error(`no ${expectClose ? 'close' : 'pong'} within 5 s after ${JSON.stringify(frames.map((f) => String(f).slice(0, 80)))}`);
  }
}

test(`${Math.round(RUNS * 0.4)} generated WebSocket frames on both endpoints: answers or named closes, never a crash`, async () => {
  const candidate = callers[1];
  const clients = [new FrameClient('/ws/notifications', candidate.cookie), new FrameClient('/ws/bell', candidate.cookie)];
  for (const c of clients) await c.open();
  // Frames may legitimately mark the candidate's own notifications read; nothing else may change.
  const othersDigest = async () => {
    const [row] = await ctx.sequelize.query<{ d: string }>(
      `SELECT md5(string_agg(n::text, ',' ORDER BY n.id)) AS d FROM notifications n WHERE recipient_id <> :me`,
      { replacements: { me: world.users.candidate.id }, type: 'SELECT' as never },
    );
    return row.d;
  };
  const before = await othersDigest();
  const protectedBefore = (await digest()).protected;
  const frame = fc.oneof(
    jsonText,
    fc.record({ type: fc.constantFrom('mark_as_read', 'mark_all_as_read', 'ping', 'subscribe', '__proto__'), id: fc.oneof(fc.constantFrom(...HUGE_NUMBERS), fc.constantFrom(String(world.notifications.victim[0]), `"${world.notifications.victim[1]}"`, String(world.notifications.candidate[1]))) })
      .map((m) => `{"type":"${m.type}","id":${m.id}}`),
    fc.constantFrom('{"type":"mark_as_read","id":' + world.notifications.victim[0] + ',"__proto__":{"polluted":1}}', 'null', '[]', '"x"', '1e309', ''),
    deepNesting,
    fc.string({ unit: 'binary', maxLength: 200 }),
  );
  const special = fc.oneof(
    // A text frame past 64 KiB (deep nesting can be) is an oversized one: ws closes it with 1009.
    { weight: 12, arbitrary: frame.map((f) => ({ bytes: f as string | Buffer, binary: false, kind: Buffer.byteLength(f) > 64 * 1024 ? 'oversized' : 'text' })) },
    { weight: 1, arbitrary: fc.uint8Array({ maxLength: 64 }).map((b) => ({ bytes: Buffer.from(b) as string | Buffer, binary: true, kind: 'binary' })) },
    // Text frames whose bytes are not UTF-8: ws closes with 1007.
    { weight: 1, arbitrary: fc.constant({ bytes: Buffer.from([0x7b, 0xc3, 0x28, 0xff]) as string | Buffer, binary: false, kind: 'bad-utf8' }) },
    // Past the 64 KiB frame limit: 1009.
    { weight: 1, arbitrary: fc.constant({ bytes: 'x'.repeat(65 * 1024 + 1) as string | Buffer, binary: false, kind: 'oversized' }) },
  );
  let frames = 0;
  const closes = new Map<number, number>();
  await assertProperty(
    fc.asyncProperty(fc.nat({ max: 1 }), fc.array(special, { minLength: 1, maxLength: 4 }), async (which, batch) => {
      const c = clients[which];
      frames += batch.length;
      const mustClose = batch.some((b) => b.kind === 'bad-utf8' || b.kind === 'oversized');
      await c.roundTrip(batch.map((b) => b.bytes), batch.map((b) => b.binary), mustClose);
      for (const r of c.replies.splice(0)) {
        // Every answer is a JSON frame of a known kind, or (bell) an HTML fragment.
        if (r.startsWith('<')) continue;
        const msg = JSON.parse(r);
        // (notification_state, group_updated and group_removed: the inbox's frames, #14; a mark_as_read sends notification_state too.)
        expect(['pong', 'error', 'notification_read', 'notification_state', 'unread_count', 'connection_established', 'notification', 'group_updated', 'group_removed']).toContain(msg.type);
      }
      if (c.closeCode !== null) {
        // Only the two named closes a hostile frame may cause; anything else is a bug.
        expect([1007, 1009]).toContain(c.closeCode);
        expect(mustClose).toBe(true);
        closes.set(c.closeCode, (closes.get(c.closeCode) ?? 0) + 1);
        await c.open();
      }
      for (const k in {}) throw new Error(`Object.prototype polluted with ${k}`);
    }),
    { numRuns: Math.round(RUNS * 0.4), seed: SEED },
  );
  await sleep(200); // mark_as_read frames are answered asynchronously
  expect(await othersDigest()).toBe(before);
  expect((await digest()).protected).toBe(protectedBefore);
  record('inputs', 'WebSocket frames', frames);
  for (const c of clients) c.ws.terminate();
  expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
}, 600_000);
