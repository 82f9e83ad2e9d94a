import { Client as PgClient } from 'pg';
import { createSequelize } from '../../db';
import { migrate } from '../../db/migrate';
import { initModels } from '../../models';
import { OwnPostgres } from '../resilience/support/own-postgres';
import { withDatabase } from '../support/global-setup';
import { sleep } from '../support/realtime';
import { CHECK_MS, expectClosedWhenStoreExpires, open, world, ZONES, type World } from './session-world';

/**
 * The way a fresh `npm start` gets its zone: the embedded cluster is initialised under the machine's TZ and keeps
 * it as its default TimeZone. West of UTC (New York) once closed every socket after ~30 s; east of it (Tokyo) an
 * expired session's sockets stayed open for hours. One cluster per zone, shared by that zone's test.
 */
const clusters = new Map<string, { embedded: OwnPostgres; pg: { url: string; template: string } }>();
const worlds: World[] = [];

beforeAll(async () => {
  // initdb dominates, so the clusters start side by side; the migrations bind the models, so one at a time.
  const started = await Promise.all(ZONES.map((zone) => OwnPostgres.create({ TZ: zone }))); // initdb writes the zone into postgresql.conf
  for (const [i, zone] of ZONES.entries()) {
    const embedded = started[i];
    const template = 'herald_tz_tpl';
    const pg = { url: withDatabase(embedded.url, 'postgres'), template };
    clusters.set(zone, { embedded, pg });
    const admin = new PgClient({ connectionString: pg.url });
    await admin.connect();
    await admin.query(`CREATE DATABASE ${template}`);
    await admin.end();
    const url = withDatabase(embedded.url, template);
    const sequelize = createSequelize({ url });
    initModels(sequelize);
    await migrate(sequelize, url);
    await sequelize.close();
  }
}, 180_000);

afterAll(async () => {
  for (const w of worlds) await w.close();
  await Promise.all([...clusters.values()].map((c) => c.embedded.destroy()));
});

describe('10.1 socket sessions and the database time zone (embedded cluster initialised under TZ)', () => {
  // One zone after the other: a world binds the models to its database while it sets up.
  test.each(ZONES)('TZ=%s: sockets of a fresh login stay open over many re-checks, and close (4401) when the session expires', async (zone) => {
    const { pg } = clusters.get(zone)!;
    const admin = new PgClient({ connectionString: pg.url });
    await admin.connect();
    const { rows } = await admin.query('SHOW timezone');
    await admin.end();
    expect(rows[0].TimeZone).toBe(zone);

    const w = await world(undefined, { pg });
    worlds.push(w);
    // /ws/notifications (JSON) and /ws/bell, re-checked every CHECK_MS: eight re-checks leave a fresh session alone.
    await sleep(CHECK_MS * 8);
    expect(open(w)).toEqual([true, true]);
    expect(await w.unread()).toBe(200);
    await expectClosedWhenStoreExpires(w);
  });
});
