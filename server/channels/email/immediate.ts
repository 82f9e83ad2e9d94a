import type { TaskList } from '../../jobs';
import { IMMEDIATE_TASK } from '../../jobs/notification-jobs';
import { claimAndSend, type EmailSelection, type EmailTaskDeps } from './select';

/**
 * Immediate (`email: "immediate"`): queued by the statement that writes the notifications, due at once, one job
 * per fan-out batch (or per statement of single notifications). Held only by quiet hours: the read state does
 * not matter (a recipient with in_app off and email immediate gets a row already read, and still the email), so
 * a held recipient gets the email at the end of their quiet hours even if they read it in the app meanwhile.
 */
export { IMMEDIATE_TASK };

const IMMEDIATE: EmailSelection = { mode: 'immediate', unreadOnly: false };

export function immediateTasks(deps: EmailTaskDeps): TaskList {
  return { [IMMEDIATE_TASK]: claimAndSend(IMMEDIATE_TASK, IMMEDIATE, deps) };
}
