/**
 * The webhook retry schedule (#15: "exponential backoff and jitter, the first retries soon (three attempts within
 * two minutes), then widening over about a day"; an endpoint failing for a day is disabled). Pure arithmetic: the
 * timing against a real receiver is in retries.test.ts.
 */
import { DISABLE_AFTER_MS, RETRY_WINDOWS, retryDelayMs, scaleSchedule, tries } from '../../../channels/webhooks';

const MIN = 60_000;
const HOUR = 60 * MIN;
const lowest = () => 0;
const highest = () => 1 - Number.EPSILON;

/** When each try comes, in ms after the first, for one way of drawing. */
function timeline(random: () => number): number[] {
  const at = [0];
  for (let failed = 1; ; failed += 1) {
    const wait = retryDelayMs(failed, RETRY_WINDOWS, random);
    if (wait === null) return at;
    at.push(at[at.length - 1] + wait);
  }
}

test('nine tries: the first and one per window, then none', () => {
  expect(tries()).toBe(9);
  expect(timeline(Math.random)).toHaveLength(9);
  expect(retryDelayMs(8, RETRY_WINDOWS, lowest)).not.toBeNull();
  expect(retryDelayMs(9, RETRY_WINDOWS, lowest)).toBeNull();
});

test('three tries within two minutes, whatever the draws', () => {
  expect(timeline(highest)[2]).toBeLessThanOrEqual(2 * MIN);
  expect(timeline(lowest)[1]).toBeGreaterThanOrEqual(5_000); // not in a busy loop either
});

test('the last try comes about a day in, never before the endpoint would be disabled', () => {
  const earliest = timeline(lowest)[8];
  const latest = timeline(highest)[8];
  expect(earliest).toBeGreaterThanOrEqual(DISABLE_AFTER_MS);
  expect(latest).toBeLessThanOrEqual(31 * HOUR);
  for (let i = 0; i < 200; i += 1) {
    const last = timeline(Math.random)[8];
    expect(last).toBeGreaterThanOrEqual(earliest);
    expect(last).toBeLessThanOrEqual(latest);
  }
});

test('the waits widen, then level off: no window starts before the one before ends, except the last two (a day)', () => {
  for (let i = 1; i < RETRY_WINDOWS.length; i += 1) {
    const [min, max] = RETRY_WINDOWS[i];
    const [prevMin, prevMax] = RETRY_WINDOWS[i - 1];
    if (i < RETRY_WINDOWS.length - 1) expect(min).toBeGreaterThanOrEqual(prevMax);
    else expect([min, max]).toEqual([prevMin, prevMax]);
    expect(RETRY_WINDOWS[i][0]).toBeLessThan(RETRY_WINDOWS[i][1]);
  }
});

test('jitter: draws stay inside each window and spread across it, not bunched at one point', () => {
  RETRY_WINDOWS.forEach(([min, max], i) => {
    const draws = Array.from({ length: 2000 }, () => retryDelayMs(i + 1) as number);
    const width = max - min;
    expect(Math.min(...draws)).toBeGreaterThanOrEqual(min);
    expect(Math.max(...draws)).toBeLessThanOrEqual(max);
    // Uniform: the extremes reach near both ends, the mean sits near the middle, every tenth of the window is hit.
    expect(Math.min(...draws) - min).toBeLessThan(width * 0.02);
    expect(max - Math.max(...draws)).toBeLessThan(width * 0.02);
    expect(Math.abs(draws.reduce((a, b) => a + b, 0) / draws.length - (min + max) / 2)).toBeLessThan(width * 0.05);
    const tenths = new Set(draws.map((d) => Math.min(9, Math.floor(((d - min) / width) * 10))));
    expect(tenths.size).toBe(10);
  });
});

test('scaled for tests: the same shape, every bound multiplied', () => {
  const fast = scaleSchedule(1 / 20);
  expect(fast[0]).toEqual([250, 750]);
  expect(fast).toHaveLength(RETRY_WINDOWS.length);
  expect(retryDelayMs(1, fast, lowest)).toBe(250);
  expect(retryDelayMs(2, fast, highest)).toBe(4500);
});
