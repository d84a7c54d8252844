import { createHash } from 'node:crypto';
import { cacheKey } from '../../lib/cache/result-cache';
import { active, makeCache, testClock } from './fixtures';

describe('cacheKey', () => {
  const issuer = 'https://acme.zitadel.cloud';
  const token = 'eyJhbGciOiJSUzI1NiJ9.raw-token-value.sig';

  it('is base64url(SHA-256(issuer \\n clientId \\n token)), without a prefix', () => {
    const expected = createHash('sha256')
      .update(`${issuer}\napi-client\n${token}`)
      .digest('base64url');
    expect(cacheKey(issuer, 'api-client', token)).toBe(expected);
    expect(cacheKey(issuer, 'api-client', token)).toMatch(/^[A-Za-z0-9_-]{43}$/);
  });

  it('differs per issuer, per clientId and per token', () => {
    const base = cacheKey(issuer, 'api-client', token);
    expect(cacheKey('https://other.zitadel.cloud', 'api-client', token)).not.toBe(base);
    expect(cacheKey(issuer, 'other-client', token)).not.toBe(base);
    expect(cacheKey(issuer, 'api-client', `${token}x`)).not.toBe(base);
  });

  it('ignores a trailing slash of the issuer', () => {
    expect(cacheKey(`${issuer}/`, 'c', token)).toBe(cacheKey(issuer, 'c', token));
    expect(cacheKey(`${issuer}//`, 'c', token)).toBe(cacheKey(issuer, 'c', token));
  });

  it('never contains the raw token', () => {
    expect(cacheKey(issuer, 'c', 'abc')).not.toContain('abc');
    expect(cacheKey(issuer, 'c', token)).not.toContain('raw-token-value');
  });
});

describe('result cache, memory tier: TTL rules', () => {
  it('keeps an active answer for maxTtlSeconds when exp is far away', async () => {
    const clock = testClock();
    const { cache } = makeCache(clock);
    await cache.set('k', { claims: active('svc', clock.sec(3600)), value: { sub: 'svc' } });
    clock.at(299_999);
    await expect(cache.get('k')).resolves.toEqual({ active: true, value: { sub: 'svc' } });
    clock.at(300_000);
    await expect(cache.get('k')).resolves.toBeUndefined();
  });

  it('ends an active answer clockToleranceSeconds before exp when that is sooner', async () => {
    const clock = testClock();
    const { cache } = makeCache(clock);
    await cache.set('k', { claims: active('svc', clock.sec(60)), value: { sub: 'svc' } });
    clock.at(54_999);
    await expect(cache.get('k')).resolves.toEqual({ active: true, value: { sub: 'svc' } });
    clock.at(55_000);
    await expect(cache.get('k')).resolves.toBeUndefined();
  });

  it.each([
    ['without exp', active('svc')],
    ['with a non-numeric exp', { active: true, sub: 'svc', exp: '9999999999' }],
    ['with exp already past', active('svc', testClock().sec(-1))],
    ['with exp inside the clock tolerance', active('svc', testClock().sec(5))],
    ['with active not a boolean', { active: 'true', sub: 'svc', exp: testClock().sec(600) }],
  ])('does not cache an answer %s', async (_label, claims) => {
    const clock = testClock();
    const { cache } = makeCache(clock);
    await cache.set('k', { claims, value: { sub: 'svc' } });
    await expect(cache.get('k')).resolves.toBeUndefined();
  });

  it('does not cache at all when maxTtlSeconds is 0', async () => {
    const clock = testClock();
    const { cache } = makeCache(clock, { maxTtlSeconds: 0 });
    await cache.set('k', { claims: active('svc', clock.sec(600)), value: { sub: 'svc' } });
    await expect(cache.get('k')).resolves.toBeUndefined();
  });

  it('keeps an inactive answer for inactiveTtlSeconds', async () => {
    const clock = testClock();
    const { cache } = makeCache(clock, { inactiveTtlSeconds: 10 });
    await cache.set('k', { claims: { active: false } });
    clock.at(9_999);
    await expect(cache.get('k')).resolves.toEqual({ active: false });
    clock.at(10_000);
    await expect(cache.get('k')).resolves.toBeUndefined();
  });

  it('does not cache an inactive answer when inactiveTtlSeconds is 0', async () => {
    const clock = testClock();
    const { cache } = makeCache(clock, { inactiveTtlSeconds: 0 });
    await cache.set('k', { claims: { active: false } });
    await expect(cache.get('k')).resolves.toBeUndefined();
  });

  it('derives the value through revive when set() gets none', async () => {
    const clock = testClock();
    const { cache, revived } = makeCache(clock);
    await cache.set('k', { claims: active('derived', clock.sec(600)) });
    await expect(cache.get('k')).resolves.toEqual({ active: true, value: { sub: 'derived' } });
    expect(revived).toHaveLength(1);
  });

  it('keeps nothing when revive throws a non-error', async () => {
    const clock = testClock();
    const { cache, logger } = makeCache(clock, {
      revive: () => {
        throw 'bad claims';
      },
    });
    await cache.set('k', { claims: active('svc', clock.sec(600)) });
    await expect(cache.get('k')).resolves.toBeUndefined();
    expect(logger.text()).toContain('revive failed (string)');
  });

  it('keeps nothing when set() gets no value and revive throws', async () => {
    const clock = testClock();
    const { cache, logger } = makeCache(clock, {
      revive: () => {
        throw new TypeError('bad claims');
      },
    });
    await cache.set('k', { claims: active('svc', clock.sec(600)) });
    await expect(cache.get('k')).resolves.toBeUndefined();
    expect(logger.lines).toContainEqual(
      expect.objectContaining({ level: 'debug', message: expect.stringContaining('TypeError') }),
    );
  });

  it('replaces an earlier answer, and an uncacheable answer removes it', async () => {
    const clock = testClock();
    const { cache } = makeCache(clock, { inactiveTtlSeconds: 0, staleIfErrorSeconds: 60 });
    await cache.set('k', { claims: active('svc', clock.sec(600)), value: { sub: 'svc' } });
    await cache.set('k', { claims: active('svc2', clock.sec(600)), value: { sub: 'svc2' } });
    await expect(cache.get('k')).resolves.toEqual({ active: true, value: { sub: 'svc2' } });

    // A revoked token must not linger as a stale copy behind an uncached active:false.
    await cache.set('k', { claims: { active: false } });
    await expect(cache.get('k')).resolves.toBeUndefined();
    expect(cache.getStale('k')).toBeUndefined();
  });
});

describe('result cache, memory tier: bounds, delete, clear', () => {
  it('evicts the least recently used entry beyond maxEntries', async () => {
    const clock = testClock();
    const { cache } = makeCache(clock, { maxEntries: 3 });
    const claims = active('svc', clock.sec(600));
    for (const key of ['a', 'b', 'c']) await cache.set(key, { claims, value: { sub: key } });
    await cache.get('a'); // b is now the least recent
    await cache.set('d', { claims, value: { sub: 'd' } });
    await expect(cache.get('b')).resolves.toBeUndefined();
    for (const key of ['a', 'c', 'd']) {
      await expect(cache.get(key)).resolves.toEqual({ active: true, value: { sub: key } });
    }
  });

  it('keeps nothing in memory when maxEntries is 0', async () => {
    const clock = testClock();
    const { cache } = makeCache(clock, { maxEntries: 0, staleIfErrorSeconds: 60 });
    await cache.set('k', { claims: active('svc', clock.sec(600)), value: { sub: 'svc' } });
    await expect(cache.get('k')).resolves.toBeUndefined();
    expect(cache.getStale('k')).toBeUndefined();
    await expect(cache.delete('k')).resolves.toBeUndefined();
    cache.clear?.();
  });

  it('delete() and clear() empty the memory tier', async () => {
    const clock = testClock();
    const { cache } = makeCache(clock);
    const claims = active('svc', clock.sec(600));
    await cache.set('a', { claims, value: { sub: 'a' } });
    await cache.set('b', { claims, value: { sub: 'b' } });
    await cache.delete('a');
    await expect(cache.get('a')).resolves.toBeUndefined();
    await expect(cache.get('b')).resolves.toBeDefined();
    cache.clear?.();
    await expect(cache.get('b')).resolves.toBeUndefined();
  });
});

describe('result cache, memory tier: stale-if-error', () => {
  // TTL 60 s (maxTtl), token exp at +600 s, stale window 30 s.
  async function staleSetup(staleIfErrorSeconds = 30, expOffset = 600) {
    const clock = testClock();
    const made = makeCache(clock, { maxTtlSeconds: 60, staleIfErrorSeconds });
    await made.cache.set('k', {
      claims: active('svc', clock.sec(expOffset)),
      value: { sub: 'svc' },
    });
    return { clock, ...made };
  }

  it('serves an expired active value within the window, not after it', async () => {
    const { clock, cache } = await staleSetup();
    clock.at(60_000);
    await expect(cache.get('k')).resolves.toBeUndefined();
    expect(cache.getStale('k')).toEqual({ sub: 'svc' });
    clock.at(89_999);
    expect(cache.getStale('k')).toEqual({ sub: 'svc' });
    clock.at(90_000);
    expect(cache.getStale('k')).toBeUndefined();
    clock.at(60_000); // gone for good, not merely out of the window
    expect(cache.getStale('k')).toBeUndefined();
  });

  it('drops the stale copy on a get() after the window', async () => {
    const { clock, cache } = await staleSetup();
    clock.at(90_000);
    await expect(cache.get('k')).resolves.toBeUndefined();
    clock.at(60_000);
    expect(cache.getStale('k')).toBeUndefined();
  });

  it('never serves a stale value past the token exp', async () => {
    // exp at +70 s: TTL = min(60, 70 - 5) = 60 s; the window would reach 90 s.
    const { clock, cache } = await staleSetup(30, 70);
    clock.at(69_999);
    expect(cache.getStale('k')).toEqual({ sub: 'svc' });
    clock.at(70_000);
    expect(cache.getStale('k')).toBeUndefined();
  });

  it('serves a still-fresh value too', async () => {
    const { cache } = await staleSetup();
    expect(cache.getStale('k')).toEqual({ sub: 'svc' });
  });

  it('is off when staleIfErrorSeconds is 0, leaving the fresh entry alone', async () => {
    const { clock, cache } = await staleSetup(0);
    expect(cache.getStale('k')).toBeUndefined();
    await expect(cache.get('k')).resolves.toEqual({ active: true, value: { sub: 'svc' } });
    clock.at(60_000);
    await expect(cache.get('k')).resolves.toBeUndefined();
    expect(cache.getStale('k')).toBeUndefined();
  });

  it('has no stale copy of an inactive answer', async () => {
    const clock = testClock();
    const { cache } = makeCache(clock, { staleIfErrorSeconds: 30 });
    await cache.set('k', { claims: { active: false } });
    clock.at(10_000);
    await expect(cache.get('k')).resolves.toBeUndefined();
    expect(cache.getStale('k')).toBeUndefined();
  });

  it('loses the stale copy on delete()', async () => {
    const { clock, cache } = await staleSetup();
    clock.at(60_000);
    await cache.delete('k');
    expect(cache.getStale('k')).toBeUndefined();
  });

  it('counts stale copies against maxEntries', async () => {
    const clock = testClock();
    const { cache } = makeCache(clock, {
      maxEntries: 2,
      maxTtlSeconds: 60,
      staleIfErrorSeconds: 30,
    });
    const claims = active('svc', clock.sec(600));
    await cache.set('a', { claims, value: { sub: 'a' } });
    await cache.set('b', { claims, value: { sub: 'b' } });
    clock.at(60_000);
    await cache.set('c', { claims: active('svc', clock.sec(600)), value: { sub: 'c' } });
    expect(cache.getStale('a')).toBeUndefined();
    expect(cache.getStale('b')).toEqual({ sub: 'b' });
  });
});
