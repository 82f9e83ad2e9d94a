import { QueryTypes, type Sequelize } from 'sequelize';

/** The snooze menu's choices; each is a time in the user's own time zone (their preferences' `timezone`). */
export const SNOOZE_PRESETS = ['hour', 'evening', 'morning', 'week'] as const;
export type SnoozePreset = (typeof SNOOZE_PRESETS)[number];

/**
 * When a preset ends for this user, computed by PostgreSQL in their time zone (so daylight-saving days come out
 * right): in an hour; this evening at 18:00 (tomorrow's when it is already past 18:00 there); tomorrow morning at
 * 08:00; next week on Monday at 08:00.
 */
export async function snoozePresetTime(db: Sequelize, userId: number, preset: SnoozePreset): Promise<Date> {
  const [row] = await db.query<{ until: Date }>(
    `WITH z AS (SELECT COALESCE((SELECT timezone FROM notification_settings WHERE user_id = :userId), 'UTC') AS tz),
          l AS (SELECT z.tz, now() AT TIME ZONE z.tz AS t, date_trunc('day', now() AT TIME ZONE z.tz) AS d FROM z)
     SELECT CASE CAST(:preset AS text)
              WHEN 'hour' THEN now() + interval '1 hour'
              WHEN 'evening' THEN (d + interval '18 hours' + CASE WHEN t >= d + interval '18 hours' THEN interval '1 day' ELSE interval '0' END) AT TIME ZONE tz
              WHEN 'morning' THEN (d + interval '1 day 8 hours') AT TIME ZONE tz
              ELSE (date_trunc('week', t) + interval '7 days 8 hours') AT TIME ZONE tz
            END AS until
       FROM l`,
    { replacements: { userId, preset }, type: QueryTypes.SELECT },
  );
  return new Date(row.until);
}

/**
 * A wall-clock time in the user's time zone (`YYYY-MM-DDTHH:MM`, what a datetime-local field sends) as an instant.
 * The caller has checked that it is a real calendar time; a time skipped by a daylight-saving change comes out as
 * PostgreSQL resolves it (an hour later).
 */
export async function localTimeToInstant(db: Sequelize, userId: number, local: string): Promise<Date> {
  const [row] = await db.query<{ at: Date }>(
    `SELECT CAST(:local AS timestamp) AT TIME ZONE
            COALESCE((SELECT timezone FROM notification_settings WHERE user_id = :userId), 'UTC') AS at`,
    { replacements: { userId, local }, type: QueryTypes.SELECT },
  );
  return new Date(row.at);
}
