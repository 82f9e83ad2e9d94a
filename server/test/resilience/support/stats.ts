import { appendFileSync } from 'node:fs';
import path from 'node:path';

/**
 * What a resilience test tried, for the run's summary (reporter.js). `kind` is summed across files:
 * inputs (generated requests and frames), faults (kills and restarts), seconds (time under load), checked
 * (notifications verified), and the ones that must stay 0: lost, duplicated, half-written, 5xx.
 */
export type StatKind = 'inputs' | 'faults' | 'seconds' | 'checked' | 'lost' | 'duplicated' | 'half-written' | '5xx';

function suiteName(): string {
  return path.basename(expect.getState().testPath ?? 'unknown').replace(/\.test\.ts$/, '');
}

function append(record: object) {
  const file = process.env.HERALD_RESILIENCE_STATS;
  if (!file) return; // run through the plain jest config: nothing to summarise
  appendFileSync(file, `${JSON.stringify({ suite: suiteName(), ...record })}\n`);
}

export function record(kind: StatKind, what: string, n: number) {
  append({ kind, what, n });
}

/** A free-form line for the summary (e.g. the soak's heap and RSS curve). */
export function note(text: string) {
  append({ note: text });
}
