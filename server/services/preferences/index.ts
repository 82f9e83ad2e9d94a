import { QueryTypes, type Sequelize, type Transaction } from 'sequelize';
import { NotFound, ValidationError } from '../../errors';
import type { NotificationType } from '../../models';
import {
  DefaultsPatch,
  PreferencesPatch,
  parseOrThrow,
  type EmailMode,
  type PreferenceChannel,
  type TypePreferencePatch,
} from './schema';

import { localTimeToInstant, snoozePresetTime, type SnoozePreset } from './snooze';

export { effectivePreferencesJoin } from './sql';
export { SNOOZE_PRESETS, type SnoozePreset } from './snooze';
export { EMAIL_MODES, PREFERENCE_CHANNELS, type EmailMode, type PreferenceChannel } from './schema';

export interface TypePreference {
  in_app: boolean;
  email: EmailMode;
  push: boolean;
}

/** The JSON shape of GET/PATCH /api/preferences/ (issue 12). */
export interface Preferences {
  timezone: string;
  quiet_hours: { start: string; end: string } | null;
  digest_hour: number;
  types: Record<string, TypePreference>;
  /** Only the types with a locked channel appear. */
  locked: Record<string, PreferenceChannel[]>;
}

/** GET/PATCH /api/admin/preferences/defaults/. */
export type PreferenceDefaults = Pick<Preferences, 'types' | 'locked'>;

interface EffectiveRow {
  type: string;
  in_app: boolean;
  email: EmailMode;
  push: boolean;
  locked: PreferenceChannel[];
  timezone: string;
  quiet_start: string | null;
  quiet_end: string | null;
  digest_hour: number;
}

/**
 * Per user, per notification type, per channel: what reaches them where. Reads come from the
 * effective_notification_preferences view (defaults, overrides and locks resolved in SQL, the same view the
 * fan-out joins), so what a user sees here is what the fan-out does.
 */
export class PreferenceService {
  readonly #db: Sequelize;

  constructor(deps: { sequelize: Sequelize }) {
    this.#db = deps.sequelize;
  }

  /** When a snooze preset ("this evening", ...) ends for this user, in their time zone. */
  snoozeUntil(userId: number, preset: SnoozePreset): Promise<Date> {
    return snoozePresetTime(this.#db, userId, preset);
  }

  /** A wall-clock time the user chose (`YYYY-MM-DDTHH:MM`), in their time zone, as an instant. */
  localTime(userId: number, local: string): Promise<Date> {
    return localTimeToInstant(this.#db, userId, local);
  }

  async get(userId: number, transaction?: Transaction): Promise<Preferences> {
    const rows = await this.#db.query<EffectiveRow>(
      `SELECT ep.type, ep.in_app, ep.email, ep.push, d.locked, ep.timezone,
              to_char(ep.quiet_start, 'HH24:MI') AS quiet_start, to_char(ep.quiet_end, 'HH24:MI') AS quiet_end,
              ep.digest_hour
         FROM effective_notification_preferences ep JOIN notification_type_defaults d USING (type)
        WHERE ep.user_id = :userId ORDER BY ep.type`,
      { type: QueryTypes.SELECT, replacements: { userId }, transaction },
    );
    if (rows.length === 0) throw new NotFound('User');
    const first = rows[0];
    return {
      timezone: first.timezone,
      quiet_hours: first.quiet_start && first.quiet_end ? { start: first.quiet_start, end: first.quiet_end } : null,
      digest_hour: Number(first.digest_hour),
      ...typesAndLocks(rows),
    };
  }

  /**
   * A partial update; answers the whole shape. Checked against the result, not only the patch: turning in_app
   * off while email stays `unread` is refused just like asking for both at once.
   */
  async patch(userId: number, input: unknown): Promise<Preferences> {
    const patch = parseOrThrow(PreferencesPatch, input);
    return this.#db.transaction(async (transaction) => {
      // Serialises two PATCHes of one user, so each validates against what the other wrote.
      await this.#db.query('SELECT pg_advisory_xact_lock(7420012, :userId)', { replacements: { userId }, transaction });
      const current = await this.get(userId, transaction);
      checkTypes(patch.types ?? {}, current, 'user');

      if (patch.timezone !== undefined || patch.quiet_hours !== undefined || patch.digest_hour !== undefined) {
        // Quiet hours are replaced as a pair (null clears them); left out, they stay as they were.
        const keep = patch.quiet_hours === undefined;
        await this.#db.query(
          `INSERT INTO notification_settings AS s (user_id, timezone, quiet_start, quiet_end, digest_hour)
           VALUES (:userId, COALESCE(:timezone, 'UTC'), CAST(:qs AS time), CAST(:qe AS time), COALESCE(:digestHour, 8))
           ON CONFLICT (user_id) DO UPDATE SET
             timezone = COALESCE(:timezone, s.timezone),
             quiet_start = EXCLUDED.quiet_start,
             quiet_end = EXCLUDED.quiet_end,
             digest_hour = COALESCE(:digestHour, s.digest_hour),
             updated_at = now()`,
          {
            transaction,
            replacements: {
              userId,
              timezone: patch.timezone ?? null,
              qs: keep ? current.quiet_hours?.start ?? null : patch.quiet_hours?.start ?? null,
              qe: keep ? current.quiet_hours?.end ?? null : patch.quiet_hours?.end ?? null,
              digestHour: patch.digest_hour ?? null,
            },
          },
        );
      }
      const entries = Object.entries(patch.types ?? {});
      if (entries.length > 0) {
        // One statement for every changed type; a channel left out keeps its override (or its default).
        await this.#db.query(
          `INSERT INTO notification_preferences AS p (user_id, type, in_app, email, push)
           SELECT :userId, r.type, r.in_app, r.email, r.push
             FROM jsonb_to_recordset(CAST(:rows AS jsonb)) AS r(type text, in_app boolean, email text, push boolean)
           ON CONFLICT (user_id, type) DO UPDATE SET
             in_app = COALESCE(EXCLUDED.in_app, p.in_app),
             email = COALESCE(EXCLUDED.email, p.email),
             push = COALESCE(EXCLUDED.push, p.push),
             updated_at = now()`,
          { transaction, replacements: { userId, rows: JSON.stringify(entries.map(([type, v]) => ({ type, ...v }))) } },
        );
      }
      return this.get(userId, transaction);
    });
  }

  async getDefaults(transaction?: Transaction): Promise<PreferenceDefaults> {
    const rows = await this.#db.query<EffectiveRow>(
      'SELECT type, in_app, email, push, locked FROM notification_type_defaults ORDER BY type',
      { type: QueryTypes.SELECT, transaction },
    );
    return typesAndLocks(rows);
  }

  /** Admins change what everyone who never chose gets. A locked channel cannot be switched off here either. */
  async patchDefaults(input: unknown): Promise<PreferenceDefaults> {
    const patch = parseOrThrow(DefaultsPatch, input);
    return this.#db.transaction(async (transaction) => {
      await this.#db.query('SELECT pg_advisory_xact_lock(7420012, 0)', { transaction });
      checkTypes(patch.types, await this.getDefaults(transaction), 'admin');
      const entries = Object.entries(patch.types);
      if (entries.length > 0) {
        await this.#db.query(
          `UPDATE notification_type_defaults d SET
             in_app = COALESCE(r.in_app, d.in_app), email = COALESCE(r.email, d.email),
             push = COALESCE(r.push, d.push), updated_at = now()
             FROM jsonb_to_recordset(CAST(:rows AS jsonb)) AS r(type text, in_app boolean, email text, push boolean)
            WHERE d.type = r.type`,
          { transaction, replacements: { rows: JSON.stringify(entries.map(([type, v]) => ({ type, ...v }))) } },
        );
      }
      return this.getDefaults(transaction);
    });
  }
}

function typesAndLocks(rows: Array<Pick<EffectiveRow, 'type' | 'in_app' | 'email' | 'push' | 'locked'>>): PreferenceDefaults {
  const types: Record<string, TypePreference> = {};
  const locked: Record<string, PreferenceChannel[]> = {};
  for (const r of rows) {
    types[r.type] = { in_app: r.in_app, email: r.email, push: r.push };
    if (r.locked.length > 0) locked[r.type] = r.locked;
  }
  return { types, locked };
}

/**
 * The rules zod cannot see alone: locks, and `unread`/`digest` needing the inbox, on the merged result. Admins
 * may change a locked email or push default (that default is what the lock holds users to), never locked in-app.
 */
function checkTypes(
  patch: Partial<Record<NotificationType, TypePreferencePatch>>,
  current: PreferenceDefaults,
  who: 'user' | 'admin',
) {
  const details: Array<{ field: string; message: string }> = [];
  for (const [type, change] of Object.entries(patch) as Array<[string, TypePreferencePatch]>) {
    const locked = current.locked[type] ?? [];
    const merged = { ...current.types[type], ...change };
    if (locked.includes('in_app') && change.in_app === false) {
      details.push({ field: `types.${type}.in_app`, message: 'This type always reaches the inbox; in_app cannot be switched off.' });
    }
    if (who === 'user' && locked.includes('email') && change.email !== undefined && change.email !== current.types[type].email) {
      details.push({ field: `types.${type}.email`, message: 'Email is locked for this type.' });
    }
    if (who === 'user' && locked.includes('push') && change.push !== undefined && change.push !== current.types[type].push) {
      details.push({ field: `types.${type}.push`, message: 'Push is locked for this type.' });
    }
    if (!merged.in_app && (merged.email === 'unread' || merged.email === 'digest')) {
      details.push({
        field: `types.${type}.${change.email !== undefined ? 'email' : 'in_app'}`,
        message: `email "${merged.email}" needs in_app on: it depends on the notification staying unread in the inbox.`,
      });
    }
  }
  if (details.length > 0) throw new ValidationError(details.map((d) => `${d.field}: ${d.message}`).join('; '), details);
}
