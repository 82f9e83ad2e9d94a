/**
 * Each serving process records its socket count (`realtime_presence`) every PRESENCE_EVERY_MS; a row older than
 * PRESENCE_STALE_MS (three missed reports) belongs to a process that is gone. One definition for every reader:
 * the cluster-wide socket count, and Web Push's "a tab is visible on a live process" (channels/push/decide.ts),
 * which would push to people looking at Herald if the two ever disagreed.
 */
export const PRESENCE_EVERY_MS = 5_000;
export const PRESENCE_STALE_MS = 3 * PRESENCE_EVERY_MS;
