import { freeToClaim } from '../deliveries/sql';
import { notificationRows } from '../notifications/store/channel-reads';
import { effectivePreferencesJoin } from '../preferences/sql';

/**
 * What is digestible, as `FROM ... WHERE ...` for a set-based statement (`n` is the notification, `ep` its
 * recipient's effective preferences, `s` their notification settings): unread, effective email `digest` for its
 * type, written since the user's previous digest, no email delivery yet except a free pending one. The admin's
 * count (`DigestRuns`) and the digest job's claim (server/channels/email/digest.ts) share it, so what a run is
 * announced for is what it sends. `where` is SQL written in code, never input.
 *
 * "Since the previous digest" is `last_digest_at` (a first digest looks back one day), less ten minutes: a
 * notification whose transaction began before the previous digest but committed after it is not lost, and the
 * delivery row already keeps what that digest listed from being listed again.
 */
export const digestibleFrom = (where: string) => `
  FROM ${notificationRows('n')}
  ${effectivePreferencesJoin('ep', 'n.recipient_id', 'n.type')}
  JOIN users u ON u.id = n.recipient_id AND u.is_active
  LEFT JOIN notification_settings s ON s.user_id = n.recipient_id
 WHERE (${where}) AND ep.email = 'digest' AND n.read_at IS NULL
   AND n.created_at > COALESCE(s.last_digest_at, now() - interval '1 day') - interval '10 minutes'
   AND ${freeToClaim('email', 'n.id')}`;
