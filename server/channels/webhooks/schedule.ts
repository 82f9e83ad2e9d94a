/**
 * When a failed webhook delivery is tried again. graphile-worker's own backoff (exp(attempts) seconds) is the
 * same for every job, so deliveries that failed together (a receiver down for a minute) would all come back in
 * the same instant, again and again. Each retry is instead drawn uniformly from a window: the first tries come
 * soon, then the windows widen, close to the schedule the Standard Webhooks authors (Svix) publish, with one
 * more early try so that three come within two minutes.
 */
export type RetryWindow = readonly [minMs: number, maxMs: number];

const S = 1000;
const M = 60 * S;
const H = 60 * M;

/**
 * The wait after failed try n (1-based) before try n + 1. Bounds, whatever the draws:
 * - try 3 comes at most 15 s + 90 s = 1 min 45 s after the first: three tries within two minutes;
 * - the last try (the ninth) comes 24 h 30 min to 30 h 44 min after the first: at least a day, so an endpoint
 *   whose every try failed has been failing for a day by then and is disabled (`DISABLE_AFTER_MS`).
 */
export const RETRY_WINDOWS: readonly RetryWindow[] = [
  [5 * S, 15 * S],
  [30 * S, 90 * S],
  [4 * M, 6 * M],
  [25 * M, 35 * M],
  [105 * M, 135 * M],
  [4.5 * H, 5.5 * H],
  [9 * H, 11 * H],
  [9 * H, 11 * H],
];

/** How many tries a delivery gets: the first and one per window. */
export const tries = (windows: readonly RetryWindow[] = RETRY_WINDOWS) => windows.length + 1;

/**
 * The wait in ms before the next try, after `failedTries` failures (1 after the first try), or null when that was
 * the last. `random` is in [0, 1), like Math.random (tests pass their own).
 */
export function retryDelayMs(failedTries: number, windows: readonly RetryWindow[] = RETRY_WINDOWS, random = Math.random): number | null {
  const window = windows[failedTries - 1];
  if (!window) return null;
  const [min, max] = window;
  return Math.round(min + random() * (max - min));
}

/** The same schedule, every window multiplied by `factor` (tests run it in seconds instead of a day). */
export function scaleSchedule(factor: number, windows: readonly RetryWindow[] = RETRY_WINDOWS): RetryWindow[] {
  return windows.map(([min, max]) => [min * factor, max * factor] as const);
}
