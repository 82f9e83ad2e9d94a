/**
 * The resilience suite (`npm run test:resilience`): fuzzing, the security suite, process and database faults and
 * the soak. Kept out of the main `npm test` (whose testMatch would find these files) because it spawns servers,
 * restarts databases and runs for minutes.
 * @type {import('jest').Config}
 */
const path = require('node:path');
const root = path.join(__dirname, '..', '..', '..');

module.exports = {
  rootDir: root,
  testEnvironment: 'node',
  roots: ['<rootDir>/server/test/resilience'],
  testMatch: ['**/server/test/resilience/**/*.test.ts'],
  transform: { '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.json' }] },
  // The same PostgreSQL + migrated template as `npm test`; each file clones its own database from it.
  globalSetup: '<rootDir>/server/test/support/global-setup.ts',
  globalTeardown: '<rootDir>/server/test/support/global-teardown.ts',
  testTimeout: 120_000,
  // Spawned servers and an embedded cluster per file: two files at a time is what two cores can carry.
  maxWorkers: 2,
  // The soak file is the longest: start it first so the others run beside it.
  testSequencer: '<rootDir>/server/test/resilience/sequencer.js',
  reporters: ['default', '<rootDir>/server/test/resilience/reporter.js'],
};
