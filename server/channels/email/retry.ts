import type { TaskList } from '../../jobs';
import type { ClaimSource } from '../../services/deliveries';
import { deliveryRetry, type RetryPayload } from '../delivery-retry';
import type { EmailTaskDeps } from './select';

export type { RetryPayload };

/**
 * An admin's retry (`POST /api/admin/deliveries/{id}/retry/`): the failed row went back to pending, and this job
 * sends exactly those rows again, by delivery id. It asks nothing of how the row was first chosen: not the read
 * state (the admin asked for this email; the notification may have been read since) and not the email mode it
 * had (an immediate, an escalation or a digest row all resend the same way). Only what the recipient may still
 * refuse counts: a type whose email is now off is skipped with the reason, and quiet hours hold the send until
 * they end, as for every email.
 *
 * A digest row is resent as a one-notification email, not as the digest it came in: the row records no digest
 * (one delivery per notification, with nothing tying it to the others that went in the same message), the admin
 * retries one row and must settle only that row, and a digest rebuilt later would list a different set than the
 * one that failed. The message then carries its own link, unsubscribe and `Message-ID` (`<delivery-ID...>`).
 */
export const RETRY_TASK = 'email:deliveries';

const queries = deliveryRetry('email', "ep.email = 'off'");

/** The claim of this job: `DeliveryService.claim` leases the rows with the same lease check as every email job. */
export const retrySource = (p: RetryPayload): ClaimSource => queries.source(p);

export function retryTasks(deps: EmailTaskDeps): TaskList {
  return {
    [RETRY_TASK]: queries.task({
      task: RETRY_TASK,
      sequelize: deps.sequelize,
      claim: (source) => deps.deliveries.claim('email', source, { leaseSeconds: deps.leaseSeconds }),
      markSkipped: (rows) => deps.deliveries.markSkipped(rows),
      send: async (claimed) => {
        const report = await deps.sender.sendEach(claimed);
        return { sent: report.sent.length, failed: report.failed.length };
      },
    }),
  };
}
