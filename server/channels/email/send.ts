import type { DeliveryService } from '../../services/deliveries';
import { classifySendError, type MailMessage, type Mailer } from './transport';
import { eachLimited } from '../pool';

/** A message and the deliveries it settles (one for a notification email, several for a digest). */
export interface OutgoingEmail {
  deliveryIds: number[];
  message: MailMessage;
}

export interface SendReport {
  sent: number[];
  failed: number[];
  /** Left pending for the job's retry. */
  retry: number[];
}

/** Thrown after a batch when some sends failed transiently: the job fails, and graphile-worker retries it. */
export class TransientSendError extends Error {
  constructor(readonly report: SendReport, reason: string) {
    super(`${report.retry.length} deliveries will be retried: ${reason}`);
    this.name = 'TransientSendError';
  }
}

/**
 * Sends with at most `concurrency` messages in flight and records each outcome as soon as it is known: a sent
 * delivery is marked the moment the server accepted it, so the only duplicate a crash can cause is a message
 * accepted in the few milliseconds before its UPDATE committed. A 5xx fails only its own delivery; 4xx and
 * connection errors leave theirs pending and make the whole call throw once the rest is done, for the retry.
 */
export async function sendEmails(
  deps: { mailer: Mailer; deliveries: DeliveryService; concurrency?: number },
  emails: OutgoingEmail[],
): Promise<SendReport> {
  const report: SendReport = { sent: [], failed: [], retry: [] };
  let lastTransient = '';
  await eachLimited(emails, deps.concurrency ?? 8, async (email) => {
    let providerMessageId: string;
    try {
      ({ providerMessageId } = await deps.mailer.send(email.message));
    } catch (err) {
      const failure = classifySendError(err);
      const rows = email.deliveryIds.map((id) => ({ id, error: failure.reason }));
      if (failure.kind === 'permanent') {
        await deps.deliveries.markFailed(rows);
        report.failed.push(...email.deliveryIds);
      } else {
        await deps.deliveries.release(rows);
        report.retry.push(...email.deliveryIds);
        lastTransient = failure.reason;
      }
      return;
    }
    await deps.deliveries.markSent(email.deliveryIds.map((id) => ({ id, providerMessageId })));
    report.sent.push(...email.deliveryIds);
  });
  if (report.retry.length > 0) throw new TransientSendError(report, lastTransient);
  return report;
}
