import type { TaskList } from '../../jobs';
import { ESCALATE_TASK } from '../../jobs/notification-jobs';
import { claimAndSend, type EmailJobPayload, type EmailSelection, type EmailTaskDeps } from './select';

/**
 * Escalation (`email: "unread"`): one job per fan-out batch (or per single notification), due
 * EMAIL_UNREAD_DELAY_SECONDS after it was written. At its due time one query picks the batch's recipients whose
 * notification is still unread and whose effective email preference for its type is `unread`, outside their
 * quiet hours, with no email delivery that is sent, failed, cancelled or held by another job; the claim and that
 * choice are one statement. It sends in chunks, so a 10,000-recipient batch never holds 10,000 leases. Those in
 * quiet hours get a follow-up job at the earliest end of them; the same query then finds them (and only them,
 * if still unread).
 */
export { ESCALATE_TASK };

export type EscalatePayload = EmailJobPayload;

const ESCALATION: EmailSelection = { mode: 'unread', unreadOnly: true };

export function escalationTasks(deps: EmailTaskDeps): TaskList {
  return { [ESCALATE_TASK]: claimAndSend(ESCALATE_TASK, ESCALATION, deps) };
}
