/**
 * Prints one plain closing line, "jest: N passed, N failed[, N skipped]", after Jest's own summary, so that a
 * CI reading only the last lines knows how many tests ran (zero means something is wrong with the run).
 */
class SummaryReporter {
  onRunComplete(_contexts, results) {
    const { numPassedTests: passed, numFailedTests: failed, numPendingTests: skipped, numRuntimeErrorTestSuites } = results;
    const extra = skipped ? `, ${skipped} skipped` : '';
    const line = `jest: ${passed} passed, ${failed + numRuntimeErrorTestSuites} failed${extra}`;
    // Jest prints its own summary after every reporter has run; 'exit' puts ours last.
    process.once('exit', () => process.stdout.write(`\n${line}\n`));
  }
}
module.exports = SummaryReporter;
