/**
 * The store tier through the CacheStore contract, with a Map-backed store
 * whose delay and failures the test controls. Jest 30 fails a test on any
 * unhandled rejection, so every test here also proves there is none.
 */
import { active, makeCache, mapStore, testClock, T0 } from './fixtures';

const settle = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('result cache, store tier', () => {
  it('writes {claims, expiresAt} JSON with the TTL, and a second instance revives it', async () => {
    const clock = testClock();
    const store = mapStore();
    const one = makeCache(clock, { store });
    const claims = active('svc', clock.sec(60));
    await one.cache.set('k', { claims, value: { sub: 'svc' } });

    expect(JSON.parse(store.map.get('k') as string)).toEqual({
      claims,
      expiresAt: T0 + 55_000,
      startedAt: T0,
    });
    expect(store.ttls.get('k')).toBe(55_000);

    const two = makeCache(clock, { store });
    await expect(two.cache.get('k')).resolves.toEqual({ active: true, value: { sub: 'svc' } });
    expect(two.revived).toEqual([claims]);
    // Now in the second instance's memory: no second store read.
    await expect(two.cache.get('k')).resolves.toEqual({ active: true, value: { sub: 'svc' } });
    expect(store.calls.get).toBe(1);

    // The memory copy keeps the stored expiry, not a fresh full TTL.
    clock.at(55_000);
    await expect(two.cache.get('k')).resolves.toBeUndefined();
  });

  it('uses only the store when maxEntries is 0', async () => {
    const clock = testClock();
    const store = mapStore();
    const { cache, revived } = makeCache(clock, { store, maxEntries: 0 });
    await cache.set('k', { claims: active('svc', clock.sec(600)), value: { sub: 'svc' } });
    await expect(cache.get('k')).resolves.toEqual({ active: true, value: { sub: 'svc' } });
    await expect(cache.get('k')).resolves.toEqual({ active: true, value: { sub: 'svc' } });
    expect(store.calls.get).toBe(2);
    expect(revived).toHaveLength(2);
  });

  it('stores inactive answers and reads them back', async () => {
    const clock = testClock();
    const store = mapStore();
    await makeCache(clock, { store }).cache.set('k', { claims: { active: false } });
    expect(store.ttls.get('k')).toBe(10_000);
    const other = makeCache(clock, { store });
    await expect(other.cache.get('k')).resolves.toEqual({ active: false });
    await other.cache.get('k');
    expect(store.calls.get).toBe(1);
  });

  it('answers an inactive store hit but keeps it out of memory when inactiveTtlSeconds is 0', async () => {
    const clock = testClock();
    const store = mapStore();
    await makeCache(clock, { store }).cache.set('k', { claims: { active: false } });
    const strict = makeCache(clock, { store, inactiveTtlSeconds: 0 });
    await expect(strict.cache.get('k')).resolves.toEqual({ active: false });
    await expect(strict.cache.get('k')).resolves.toEqual({ active: false });
    expect(store.calls.get).toBe(2);
  });

  it('writes nothing to the store for an uncacheable answer', async () => {
    const clock = testClock();
    const store = mapStore();
    const { cache } = makeCache(clock, { store, inactiveTtlSeconds: 0 });
    await cache.set('a', { claims: active('svc') });
    await cache.set('b', { claims: { active: false } });
    expect(store.calls.set).toBe(0);
  });

  it('writes the store even when revive fails for the memory copy', async () => {
    const clock = testClock();
    const store = mapStore();
    const { cache } = makeCache(clock, {
      store,
      revive: () => {
        throw new Error('nope');
      },
    });
    await cache.set('k', { claims: active('svc', clock.sec(600)) });
    expect(store.map.has('k')).toBe(true);
    await expect(cache.get('k')).resolves.toBeUndefined();
  });

  it('deletes from the store too', async () => {
    const clock = testClock();
    const store = mapStore();
    const { cache } = makeCache(clock, { store });
    await cache.set('k', { claims: active('svc', clock.sec(600)), value: { sub: 'svc' } });
    await cache.delete('k');
    expect(store.map.has('k')).toBe(false);
    await expect(cache.get('k')).resolves.toBeUndefined();
  });

  const garbage: [string, string][] = [
    ['not JSON', '{"claims":'],
    ['a JSON array', '[]'],
    ['claims not an object', '{"claims":[true],"expiresAt":9e15}'],
    ['claims.active not a boolean', '{"claims":{"active":"true"},"expiresAt":9e15}'],
    ['no expiresAt', '{"claims":{"active":false}}'],
    ['expiresAt past', `{"claims":{"active":false},"expiresAt":${T0}}`],
    ['an active answer without exp', '{"claims":{"active":true,"sub":"x"},"expiresAt":9e15}'],
    ['a foreign shape', '{"active":true,"sub":"x","exp":9999999999}'],
  ];
  it.each(garbage)('treats a store value with %s as a miss', async (_label, raw) => {
    const clock = testClock();
    const store = mapStore();
    store.map.set('k', raw);
    const { cache, logger } = makeCache(clock, { store });
    await expect(cache.get('k')).resolves.toBeUndefined();
    expect(logger.lines).toEqual([expect.objectContaining({ level: 'debug' })]);
  });

  it('treats a store hit whose revive throws as a miss', async () => {
    const clock = testClock();
    const store = mapStore();
    await makeCache(clock, { store }).cache.set('k', {
      claims: active('svc', clock.sec(600)),
      value: { sub: 'svc' },
    });
    const { cache, logger } = makeCache(clock, {
      store,
      revive: () => {
        throw new RangeError('unexpected claims');
      },
    });
    await expect(cache.get('k')).resolves.toBeUndefined();
    expect(logger.text()).toContain('revive failed (RangeError)');
  });

  it('holds a store entry to its own TTL rules (a foreign writer cannot stretch it)', async () => {
    const clock = testClock();
    const store = mapStore();
    const claims = active('svc', clock.sec(60));
    store.map.set('k', JSON.stringify({ claims, expiresAt: T0 + 3_600_000 }));
    const { cache } = makeCache(clock, { store });
    await expect(cache.get('k')).resolves.toEqual({ active: true, value: { sub: 'svc' } });
    clock.at(55_000); // exp − tolerance: memory copy expired, store copy no longer usable
    await expect(cache.get('k')).resolves.toBeUndefined();
    expect(store.calls.get).toBe(2);
  });

  it('does not refill memory from a store read that raced a delete()', async () => {
    const clock = testClock();
    const store = mapStore();
    const { cache } = makeCache(clock, { store });
    await cache.set('k', { claims: active('svc', clock.sec(600)), value: { sub: 'svc' } });
    cache.clear?.();
    store.delayMs = 20;
    const reading = cache.get('k'); // reads the store value now, answers in 20 ms
    await cache.delete('k');
    await expect(reading).resolves.toEqual({ active: true, value: { sub: 'svc' } });
    await expect(cache.get('k')).resolves.toBeUndefined();
  });

  it('does not overwrite a newer set() with a store read that raced it', async () => {
    const clock = testClock();
    const store = mapStore();
    const { cache } = makeCache(clock, { store });
    await cache.set('k', { claims: active('old', clock.sec(600)), value: { sub: 'old' } });
    cache.clear?.();
    store.delayMs = 20;
    const reading = cache.get('k');
    const writing = cache.set('k', {
      claims: active('new', clock.sec(600)),
      value: { sub: 'new' },
    });
    await expect(reading).resolves.toEqual({ active: true, value: { sub: 'old' } });
    await writing;
    await expect(cache.get('k')).resolves.toEqual({ active: true, value: { sub: 'new' } });
  });
});

describe('result cache, failing store', () => {
  it('treats a slow store as a miss within storeTimeoutMs, and swallows set/delete', async () => {
    const clock = testClock();
    const store = mapStore();
    store.map.set('k', 'irrelevant');
    store.delayMs = 2_000;
    const { cache, logger } = makeCache(clock, { store, storeTimeoutMs: 30 });

    const started = Date.now();
    await expect(cache.get('k')).resolves.toBeUndefined();
    await expect(
      cache.set('k2', { claims: active('svc', clock.sec(600)), value: { sub: 'svc' } }),
    ).resolves.toBe(false);
    await expect(cache.delete('k3')).resolves.toBeUndefined();
    expect(Date.now() - started).toBeLessThan(1_500);

    // One warn line a minute (by the injected clock); the rest at debug.
    const warns = logger.lines.filter((line) => line.level === 'warn');
    expect(warns).toHaveLength(1);
    expect(warns[0].message).toContain('timed out after 30 ms');
    expect(logger.lines.filter((line) => line.level === 'debug')).toHaveLength(2);
    clock.at(60_000);
    await cache.get('k');
    expect(logger.lines.filter((line) => line.level === 'warn')).toHaveLength(2);
  });

  it('handles a rejection that arrives after the timeout', async () => {
    const clock = testClock();
    const store = mapStore();
    store.fail = 'reject';
    store.delayMs = 60;
    const { cache, logger } = makeCache(clock, { store, storeTimeoutMs: 10 });
    await expect(cache.get('k')).resolves.toBeUndefined();
    await settle(100); // the store rejects now; nobody awaits it any more
    expect(logger.lines).toHaveLength(1);
    expect(logger.lines[0].message).toContain('timed out');
  });

  it.each([
    ['rejects', 'reject', 'Error: connection refused x'],
    ['throws synchronously', 'throw', 'Error: store threw synchronously'],
    ['rejects with a non-error', 'reject-non-error', 'non-error thrown: string'],
  ] as const)('treats a store that %s as a miss', async (_label, fail, reason) => {
    const clock = testClock();
    const store = mapStore();
    store.fail = fail;
    const { cache, logger } = makeCache(clock, { store });
    await expect(cache.get('k')).resolves.toBeUndefined();
    await cache.set('k', { claims: active('svc', clock.sec(600)), value: { sub: 'svc' } });
    await cache.delete('k');
    expect(logger.lines[0]).toEqual(expect.objectContaining({ level: 'warn' }));
    expect(logger.lines[0].message).toContain(`cache store get failed (${reason}`);
    expect(logger.lines[0].message.length).toBeLessThan(300);
    expect(logger.lines.slice(1).map((line) => line.level)).toEqual(['debug', 'debug']);
    // The memory tier still works without the store.
    await expect(cache.get('k')).resolves.toBeUndefined();
    await cache.set('m', { claims: active('svc', clock.sec(600)), value: { sub: 'svc' } });
    await expect(cache.get('m')).resolves.toEqual({ active: true, value: { sub: 'svc' } });
  });

  it('swallows a value that cannot be serialized', async () => {
    const clock = testClock();
    const store = mapStore();
    const { cache, logger } = makeCache(clock, { store });
    const claims = { ...active('svc', clock.sec(600)), big: BigInt(1) };
    await expect(cache.set('k', { claims, value: { sub: 'svc' } })).resolves.toBe(false);
    expect(logger.lines[0].message).toContain('cache store set failed (TypeError');
    await expect(cache.get('k')).resolves.toEqual({ active: true, value: { sub: 'svc' } });
  });

  it('waits for a slow store when storeTimeoutMs is 0', async () => {
    const clock = testClock();
    const store = mapStore();
    await makeCache(clock, { store }).cache.set('k', { claims: { active: false } });
    store.delayMs = 40;
    const { cache, logger } = makeCache(clock, { store, storeTimeoutMs: 0 });
    await expect(cache.get('k')).resolves.toEqual({ active: false });
    expect(logger.lines).toEqual([]);
  });

  it('treats null from the store as a miss, silently', async () => {
    const clock = testClock();
    const { cache, logger } = makeCache(clock, {
      store: { get: async () => null, set: async () => 'OK', delete: async () => 1 },
    });
    await expect(cache.get('k')).resolves.toBeUndefined();
    expect(logger.lines).toEqual([]);
  });
});
