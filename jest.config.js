/** Unit tests run alone; integration tests need the stack that scripts/run-tests.ts starts. */
/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  transform: { '^.+\\.ts$': ['@swc/jest', { jsc: { target: 'es2022' } }] },
  // Integration tests share one dev server on 2 cores with the 2,000-webhook fan-out test.
  testTimeout: 120_000,
  maxWorkers: 2,
};
