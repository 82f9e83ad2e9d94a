import { CloseCode } from '../../realtime';
import { sleep } from '../support/realtime';
import { CHECK_MS, expectClosedWhenStoreExpires, open, within, world, ZONES, type World } from './session-world';

describe('10.1 socket sessions and the database time zone', () => {
  const worlds: World[] = [];
  afterAll(async () => {
    await Promise.all(worlds.map((w) => w.close()));
  });

  test.each(ZONES)('%s: a fresh login keeps both sockets open over many re-checks, HTTP answers 200', async (zone) => {
    const w = await world(zone);
    worlds.push(w);
    await sleep(CHECK_MS * 8);
    expect(open(w)).toEqual([true, true]);
    expect(await w.unread()).toBe(200);
  });

  test.each(ZONES)('%s: a session the store expires closes both sockets with 4401 at the next re-check', async (zone) => {
    const w = await world(zone);
    worlds.push(w);
    await expectClosedWhenStoreExpires(w);
  });

  // SESSION_IDLE_MINUTES=1 for real: the sockets stay open well past the 30 s that once closed them west of UTC,
  // and close soon after the idle minute east of it, although they ping all along: a socket alone keeps nothing alive.
  test('an idle minute: sockets stay open for it and close after it, in both zones; an open socket does not extend it', async () => {
    // One after the other: the models are bound to the latest context's database while it sets up.
    // Times count from the logins: the first session expires a minute after `first` at the earliest, the last a
    // minute after `last` at the latest (setting the worlds up can take seconds on a loaded machine).
    const ws: World[] = [];
    const first = Date.now();
    for (const zone of ZONES) ws.push(await world(zone, { env: { SESSION_IDLE_MINUTES: '1' } }));
    const last = Date.now();
    worlds.push(...ws);
    await sleep(Math.max(0, first + 45_000 - Date.now()));
    for (const w of ws) expect(open(w)).toEqual([true, true]);
    const closed = await Promise.all(
      ws.flatMap((w) => w.sockets.map((s) => within(s.closed, last + 75_000 - Date.now()))),
    );
    expect(closed.map((c) => c?.code)).toEqual(ws.flatMap(() => [CloseCode.Unauthorized, CloseCode.Unauthorized]));
    expect(Date.now() - last).toBeLessThan(65_000);
    for (const w of ws) expect(await w.unread()).toBe(401);
  }, 120_000);
});
