const Sequencer = require('@jest/test-sequencer').default;

/** Longest first (the soak, then the process faults), so the short files fill the other worker meanwhile. */
const ORDER = ['soak', 'job-process-crash', 'crash-fanout', 'db-restart', 'process-restart', 'redis-restart', 'fuzz-http', 'fuzz-ws', 'security-csrf', 'security-access', 'security-xss-login', 'security-production'];

class ResilienceSequencer extends Sequencer {
  sort(tests) {
    const rank = (t) => {
      const i = ORDER.findIndex((name) => t.path.includes(`${name}.test`));
      return i === -1 ? ORDER.length : i;
    };
    return [...tests].sort((a, b) => rank(a) - rank(b) || a.path.localeCompare(b.path));
  }
}
module.exports = ResilienceSequencer;
