/** @type {import('jest').Config} */
const enforce = process.env.CI === 'true';
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/__tests__'],
  testMatch: ['**/*.test.ts'],
  transform: { '^.+\\.(t|j)sx?$': ['@swc/jest'] },
  // Tests import the package by its name, as a user would; it maps to the source.
  moduleNameMapper: {
    '^express-zitadel-introspection$': '<rootDir>/lib/index.ts',
    '^express-zitadel-introspection/testing$': '<rootDir>/lib/testing/index.ts',
    '^express-zitadel-introspection/opentelemetry$': '<rootDir>/lib/telemetry/opentelemetry.ts',
  },
  transformIgnorePatterns: ['/node_modules/(?!(jose|oidc-provider)/)'],
  testTimeout: 30000,
  // One worker per core (jest's default is cores − 1: in band on a 2-core CI
  // machine). Most suites wait on child processes, sockets and timers, so two
  // workers on 2 cores took the suite from ~640 s to ~265 s (twice, all green).
  // Every Redis suite that stops, flushes or MONITORs a server starts its own.
  maxWorkers: '100%',
  collectCoverage: true,
  collectCoverageFrom: ['lib/**/*.ts', '!lib/testing/**', '!lib/cli.ts', '!lib/cli/**'],
  coverageReporters: ['text-summary', 'text'],
  coverageThreshold: enforce
    ? { global: { lines: 95, branches: 95, functions: 95, statements: 95 } }
    : undefined,
};
