import type { JobHelpers, TaskList } from '../../jobs';
import type { ClaimSource } from '../../services/deliveries';
import { deliveryRetry, retryIds, type RetryPayload } from '../delivery-retry';
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
    [RETRY_TASK]: async (raw: unknown, helpers: JobHelpers) => {
      const payload = raw as RetryPayload;
      const claimed = await deps.deliveries.claim('email', retrySource(payload), { leaseSeconds: deps.leaseSeconds });
      const off = new Set(await queries.refused(deps.sequelize, claimed.map((c) => c.id)));
      await deps.deliveries.markSkipped([...off].map((id) => ({ id, error: 'email turned off for this type since' })));
      // A transient failure throws: the job retries with backoff, and the released rows are claimed again then.
      const report = await deps.sender.sendEach(claimed.filter((c) => !off.has(c.id)));
      const wakeAt = await queries.nextLook(deps.sequelize, payload);
      if (wakeAt) {
        await helpers.addJob(RETRY_TASK, payload, { runAt: wakeAt, jobKey: `${RETRY_TASK}:later:${retryIds(payload)}` });
      }
      helpers.logger.info(`${RETRY_TASK} sent ${report.sent.length}, failed ${report.failed.length}, skipped ${off.size}`);
    },
  };
}
