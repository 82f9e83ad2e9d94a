import { Client as PgClient } from 'pg';
import { createSequelize } from '../../db';
import { migrate } from '../../db/migrate';
import { initModels } from '../../models';
import { OwnPostgres } from '../resilience/support/own-postgres';
import { withDatabase } from '../support/global-setup';
import { sleep } from '../support/realtime';
import { CHECK_MS, expectClosedWhenStoreExpires, open, world, type World } from './session-world';

/**
 * The way a fresh `npm start` gets its zone: the embedded cluster is initialised under the machine's TZ and keeps
 * it as its default TimeZone. West of UTC is the case that closed every socket after ~30 s.
 */
const ZONE = 'America/New_York';
let embedded: OwnPostgres | undefined;
let pg: { url: string; template: string };
let w: World | undefined;

beforeAll(async () => {
  embedded = await OwnPostgres.create({ TZ: ZONE }); // initdb writes the zone it runs under into postgresql.conf
  const template = 'herald_tz_tpl';
  pg = { url: withDatabase(embedded.url, 'postgres'), template };
  const admin = new PgClient({ connectionString: pg.url });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${template}`);
  await admin.end();
  const url = withDatabase(embedded.url, template);
  const sequelize = createSequelize({ url });
  initModels(sequelize);
  await migrate(sequelize, url);
  await sequelize.close();
}, 60_000);

afterAll(async () => {
  await w?.close();
  await embedded?.destroy();
});

describe('10.1 socket sessions and the database time zone (embedded cluster initialised under TZ)', () => {
  test(`TZ=${ZONE}: sockets of a fresh login stay open over many re-checks, and close when the session expires`, async () => {
    const admin = new PgClient({ connectionString: pg.url });
    await admin.connect();
    const { rows } = await admin.query('SHOW timezone');
    await admin.end();
    expect(rows[0].TimeZone).toBe(ZONE);

    w = await world(undefined, { pg });
    await sleep(CHECK_MS * 8);
    expect(open(w)).toEqual([true, true]);
    expect(await w.unread()).toBe(200);
    await expectClosedWhenStoreExpires(w);
  });
});
