import { ConfigError } from '../../lib/errors';
import { resolveOptions, type IntrospectorOptions } from '../../lib/options';

const base = { issuer: 'https://acme.zitadel.cloud', clientId: 'api', clientSecret: 's' };

it('defaults: no rate budget, refresh-ahead 30 s', () => {
  const resolved = resolveOptions(base);
  expect(resolved.maxIntrospectionsPerSecond).toBeUndefined();
  expect(resolved.cache.refreshAheadSeconds).toBe(30);
  expect(resolveOptions({ ...base, maxIntrospectionsPerSecond: 40 })).toMatchObject({
    maxIntrospectionsPerSecond: 40,
  });
  expect(resolveOptions({ ...base, cache: { refreshAheadSeconds: 0 } }).cache).toMatchObject({
    refreshAheadSeconds: 0,
  });
});

it.each([
  ['maxIntrospectionsPerSecond 0', { maxIntrospectionsPerSecond: 0 }, 'maxIntrospectionsPerSecond'],
  [
    'maxIntrospectionsPerSecond 1.5',
    { maxIntrospectionsPerSecond: 1.5 },
    'maxIntrospectionsPerSecond',
  ],
  [
    'maxIntrospectionsPerSecond "40"',
    { maxIntrospectionsPerSecond: '40' },
    'maxIntrospectionsPerSecond',
  ],
  ['refreshAheadSeconds -1', { cache: { refreshAheadSeconds: -1 } }, 'cache.refreshAheadSeconds'],
  ['refreshAheadSeconds NaN', { cache: { refreshAheadSeconds: NaN } }, 'cache.refreshAheadSeconds'],
])('%s → ConfigError naming the field', (_what, extra, field) => {
  let error: unknown;
  try {
    resolveOptions({ ...base, ...extra } as IntrospectorOptions);
  } catch (e) {
    error = e;
  }
  expect(error).toBeInstanceOf(ConfigError);
  expect((error as ConfigError).field).toBe(field);
});
