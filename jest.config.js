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
  collectCoverage: true,
  collectCoverageFrom: ['lib/**/*.ts', '!lib/testing/**', '!lib/cli.ts', '!lib/cli/**'],
  coverageReporters: ['text-summary', 'text'],
  coverageThreshold: enforce
    ? { global: { lines: 95, branches: 95, functions: 95, statements: 95 } }
    : undefined,
};
