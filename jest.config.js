/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/server'],
  testMatch: ['**/server/test/**/*.test.ts'],
  // Faults, fuzzing and the soak run on their own: `npm run test:resilience` (server/test/resilience/jest.config.js).
  testPathIgnorePatterns: ['/node_modules/', '<rootDir>/server/test/resilience/'],
  transform: { '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.json' }] },
  globalSetup: '<rootDir>/server/test/support/global-setup.ts',
  globalTeardown: '<rootDir>/server/test/support/global-teardown.ts',
  testTimeout: 30000,
  // Two cores: two workers keep PostgreSQL and the tests from starving each other.
  maxWorkers: 2,
  reporters: ['default', '<rootDir>/server/test/support/summary-reporter.js'],
};
