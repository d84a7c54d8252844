/**
 * The built package (dist/, made by `npm test`'s pretest build) works from
 * require() and from import, with its types, the way a user's project sees it
 * (through the package's own name and its "exports" map).
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';

const root = join(__dirname, '../..');
const node = process.execPath;
const run = (args: string[]) =>
  execFileSync(node, args, { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });

const publicNames = [
  'zitadelAuth',
  'requireRole',
  'requireAnyRole',
  'requireScope',
  'requireClaim',
  'authErrorHandler',
  'createIntrospector',
  'RedisStore',
  'serviceUserTokenSource',
  'loadKeyFile',
  'AuthError',
  'InvalidRequestError',
  'UnauthorizedError',
  'InvalidTokenError',
  'InsufficientScopeError',
  'IntrospectionUnavailableError',
  'ConfigError',
  'TokenRequestError',
  'zitadelEvents',
];

beforeAll(() => {
  if (!existsSync(join(root, 'dist/index.js'))) {
    throw new Error('dist/ is missing: run `npm run build` (npm test does it in pretest)');
  }
});

it('require() gives every public name', () => {
  const out = run([
    '-e',
    `const m = require('express-zitadel-introspection');
     const t = require('express-zitadel-introspection/testing');
     console.log(JSON.stringify({ names: Object.keys(m), testing: typeof t.startLocalZitadel }));`,
  ]);
  const { names, testing } = JSON.parse(out) as { names: string[]; testing: string };
  expect(names).toEqual(expect.arrayContaining(publicNames));
  expect(testing).toBe('function');
});

it('import gives every public name', () => {
  const out = run([
    '--input-type=module',
    '-e',
    `import * as m from 'express-zitadel-introspection';
     import { startLocalZitadel } from 'express-zitadel-introspection/testing';
     const e = new m.InvalidTokenError('x');
     console.log(JSON.stringify({ names: Object.keys(m), testing: typeof startLocalZitadel, status: e.status, isError: e instanceof Error }));`,
  ]);
  const parsed = JSON.parse(out) as {
    names: string[];
    testing: string;
    status: number;
    isError: boolean;
  };
  expect(parsed.names).toEqual(expect.arrayContaining(publicNames));
  expect(parsed).toMatchObject({ testing: 'function', status: 401, isError: true });
});

it('type-checks a CommonJS and an ES module consumer against dist/*.d.ts', () => {
  const tsc = join(root, 'node_modules/typescript/bin/tsc');
  const consumers = ['consumer.cts', 'consumer.mts'].map((f) => join(__dirname, 'consumers', f));
  const args = [
    tsc,
    '--ignoreConfig',
    '--noEmit',
    '--strict',
    '--module',
    'node20',
    '--target',
    'es2022',
    '--skipLibCheck',
    '--types',
    'node',
    ...consumers,
  ];
  let output: string;
  try {
    output = run(args);
  } catch (error) {
    output = String((error as { stdout?: string }).stdout ?? error);
  }
  expect(output).toBe('');
}, 60_000);
