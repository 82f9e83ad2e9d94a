/**
 * The resilience run's closing summary: what was tried (inputs, faults, seconds, sampled curves), read from the
 * lines the tests append through support/stats.ts, then one plain last line "resilience: N passed, N failed".
 *
 * The stats file is created here, in the constructor, because reporters are built in Jest's parent process before
 * any worker is forked: the workers inherit HERALD_RESILIENCE_STATS and append to it.
 */
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

class ResilienceReporter {
  constructor() {
    if (!process.env.HERALD_RESILIENCE_STATS) {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'herald-resilience-'));
      process.env.HERALD_RESILIENCE_STATS = path.join(dir, 'stats.jsonl');
      this.dir = dir;
    }
    this.file = process.env.HERALD_RESILIENCE_STATS;
  }

  onRunComplete(_contexts, results) {
    const records = [];
    try {
      for (const line of fs.readFileSync(this.file, 'utf8').split('\n')) if (line.trim()) records.push(JSON.parse(line));
    } catch {
      // no test recorded anything (all failed to start): the summary says zeros
    }
    const totals = new Map();
    const notes = [];
    for (const r of records) {
      if (r.note) notes.push(`  [${r.suite}] ${r.note}`);
      else totals.set(r.kind, (totals.get(r.kind) ?? new Map()).set(r.what, ((totals.get(r.kind)?.get(r.what)) ?? 0) + r.n));
    }
    const sum = (kind) => [...(totals.get(kind)?.values() ?? [])].reduce((a, b) => a + b, 0);
    const detail = (kind) => [...(totals.get(kind) ?? new Map())].map(([what, n]) => `${n} ${what}`).join(', ');
    const out = ['', 'Resilience summary'];
    out.push(`  inputs tried: ${sum('inputs')}${sum('inputs') ? ` (${detail('inputs')})` : ''}`);
    out.push(`  faults injected: ${sum('faults')}${sum('faults') ? ` (${detail('faults')})` : ''}`);
    out.push(`  seconds under load: ${Math.round(sum('seconds'))}${sum('seconds') ? ` (${detail('seconds')})` : ''}`);
    out.push(`  notifications checked: ${sum('checked')}${sum('checked') ? ` (${detail('checked')})` : ''}`);
    out.push(`  lost: ${sum('lost')}, duplicated: ${sum('duplicated')}, half-written: ${sum('half-written')}, 5xx: ${sum('5xx')}`);
    out.push(...notes);

    const { numPassedTests: passed, numFailedTests: failed, numRuntimeErrorTestSuites: broken } = results;
    const line = `resilience: ${passed} passed, ${failed + broken} failed`;
    if (this.dir) fs.rmSync(this.dir, { recursive: true, force: true });
    // Jest prints its own summary after the reporters; 'exit' keeps ours last.
    process.once('exit', () => process.stdout.write(`${out.join('\n')}\n\n${line}\n`));
  }
}
module.exports = ResilienceReporter;
