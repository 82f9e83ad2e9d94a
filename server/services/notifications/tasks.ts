import type { Task, TaskList } from 'graphile-worker';
import { WAKE_TASK } from './store';
import type { NotificationService } from './index';

/**
 * The notifications' own durable jobs: the snooze wake-up. Enqueued by the snooze statement itself (one job per
 * notification, keyed, so a new snooze moves it), run by whichever process's runner is free when it falls due,
 * so a restart in between loses nothing. The work is idempotent: a job for a row no longer snoozed does nothing.
 */
export function notificationTasks(deps: { notifications: NotificationService }): TaskList {
  const wake: Task = async (payload) => {
    const id = Number((payload as { id?: unknown } | null)?.id);
    if (!Number.isSafeInteger(id) || id <= 0) return; // malformed: nothing to retry
    await deps.notifications.wake(id);
  };
  return { [WAKE_TASK]: wake };
}
