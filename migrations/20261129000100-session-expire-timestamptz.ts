import { QueryTypes } from 'sequelize';
import type { MigrationContext } from '../server/db/migrate';

/**
 * connect-pg-simple writes `expire` as `to_timestamp(...)` (an instant) through its own pool, whose TimeZone is the
 * database's; the realtime layer's re-check compares it with now() on Sequelize connections pinned to UTC. In a
 * `timestamp without time zone` column the two disagree by the zone's offset (sockets closed after 30 s west of UTC,
 * kept for hours past expiry east of it). As `timestamptz` the column holds an instant, whatever zone reads it.
 *
 * Existing rows were written in the database's default zone: `reset_val` is that zone (Sequelize only SETs its own
 * later), so they keep meaning the same instant.
 */
export async function up({ context: qi }: { context: MigrationContext }) {
  const zone = await defaultZone(qi);
  await qi.sequelize.query(`ALTER TABLE session ALTER COLUMN expire TYPE timestamptz(6) USING expire AT TIME ZONE :zone`, {
    replacements: { zone },
  });
}

export async function down({ context: qi }: { context: MigrationContext }) {
  const zone = await defaultZone(qi);
  await qi.sequelize.query(`ALTER TABLE session ALTER COLUMN expire TYPE timestamp(6) USING expire AT TIME ZONE :zone`, {
    replacements: { zone },
  });
}

async function defaultZone(qi: MigrationContext): Promise<string> {
  const [row] = await qi.sequelize.query<{ zone: string }>(`SELECT reset_val AS zone FROM pg_settings WHERE name = 'TimeZone'`, {
    type: QueryTypes.SELECT,
  });
  return row.zone;
}
