/**
 * Refresh-ahead on an injected clock against a scripted ZITADEL (a real HTTP
 * server): when a hit starts a refresh, what the refresh does with each
 * answer, and what it never does (count as a miss, make a request wait).
 */
import { createIntrospector, INTROSPECT_NOW_IF_CACHED } from '../../lib/introspector';
import type { IntrospectorOptions } from '../../lib/options';
import type { CacheStore } from '../../lib/cache/result-cache';
import { createRefreshAhead, refreshAtOf } from '../../lib/cache/refresh-ahead';
import {
  activeAnswer,
  startScriptedZitadel,
  type ScriptedZitadel,
} from '../helpers/scripted-zitadel';
import { until } from './support/replicas';

let zitadel: ScriptedZitadel;
const closers: Array<() => Promise<void>> = [];
let clock: { now: number };

beforeEach(async () => {
  zitadel = await startScriptedZitadel();
  zitadel.answer('default', { json: activeAnswer({}, 3600) });
  clock = { now: Date.now() };
});
afterEach(async () => {
  await Promise.all(closers.splice(0).map((close) => close()));
  await zitadel.close();
});

function make(options: Partial<IntrospectorOptions> = {}, cache: object = {}) {
  const introspector = createIntrospector({
    issuer: zitadel.issuer,
    clientId: 'api@project',
    clientSecret: 'secret',
    retries: 0,
    now: () => clock.now,
    cache: { maxTtlSeconds: 60, ...cache },
    ...options,
  } as IntrospectorOptions);
  closers.push(() => introspector.close());
  return introspector;
}

const calls = () => zitadel.requests.length;

describe('refreshAtOf', () => {
  const rules = { refreshAheadSeconds: 30, clockToleranceSeconds: 5 };
  it.each([
    ['30 s before the end of a 300 s entry', 0, 300_000, 3_600_000, rules, 270_000],
    ['at most half the TTL', 0, 20_000, 3_600_000, rules, 10_000],
    ['never when off', 0, 300_000, 3_600_000, { ...rules, refreshAheadSeconds: 0 }, undefined],
    ['never when the entry ends with the token', 0, 295_000, 300_000, rules, undefined],
  ])('%s', (_what, storedAt, expiresAt, tokenExpiresAt, r, expected) => {
    expect(refreshAtOf(storedAt, expiresAt, tokenExpiresAt, r)).toBe(expected);
  });
});

describe('createRefreshAhead', () => {
  it('runs one refresh per key at a time; close() waits for them and starts no more', async () => {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const started: string[] = [];
    const errors: unknown[] = [];
    const refresher = createRefreshAhead({
      refresh: async (key) => {
        started.push(key);
        await gate;
        if (key === 'b') throw new Error('boom');
      },
      onError: (e) => errors.push(e),
    });
    refresher.start('a', 't');
    refresher.start('a', 't');
    refresher.start('b', 't');
    expect(started).toEqual(['a', 'b']);
    expect(refresher.running()).toBe(2);
    const closed = refresher.close();
    refresher.start('c', 't');
    release();
    await closed;
    expect(started).toEqual(['a', 'b']);
    expect(refresher.running()).toBe(0);
    expect(errors).toEqual([new Error('boom')]);
  });
});

describe('a hit in the last refreshAheadSeconds of its entry', () => {
  it('is answered at once and starts one background refresh, which renews the entry', async () => {
    const introspector = make();
    await introspector.introspect('tok');
    clock.now += 29_000;
    await introspector.introspect('tok');
    expect(calls()).toBe(1);
    clock.now += 2_000;
    // Synchronous: the hit does not wait for the refresh.
    const now = introspector[INTROSPECT_NOW_IF_CACHED]('tok');
    expect(now).toMatchObject({ active: true });
    introspector[INTROSPECT_NOW_IF_CACHED]('tok');
    expect(await until(() => calls() === 2)).toBe(true);
    await until(() => introspector.stats().refreshes === 1);
    // The old entry would have ended at 60 s; the refreshed one lives on without a call.
    clock.now += 29_500;
    expect(await introspector.introspect('tok')).toMatchObject({ active: true });
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(calls()).toBe(2);
    expect(introspector.stats()).toMatchObject({
      hits: 4,
      misses: 1,
      refreshes: 1,
      introspections: 2,
      coalesced: 0,
      errors: 0,
    });
  });

  it('a refresh that finds the token inactive makes it refused from then on, without a call', async () => {
    const introspector = make();
    await introspector.introspect('tok');
    zitadel.answer('default', { json: { active: false } });
    clock.now += 31_000;
    expect(await introspector.introspect('tok')).toMatchObject({ active: true });
    expect(await until(() => calls() === 2)).toBe(true);
    expect(
      await until(() => introspector[INTROSPECT_NOW_IF_CACHED]('tok') instanceof Promise === false),
    ).toBe(true);
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(await introspector.introspect('tok')).toEqual({ active: false, reason: 'inactive' });
    expect(calls()).toBe(2);
  });

  it('a failed refresh changes nothing: the entry serves until its end, then a normal miss', async () => {
    const introspector = make();
    await introspector.introspect('tok');
    zitadel.answer('default', { status: 502, body: '' });
    clock.now += 31_000;
    await introspector.introspect('tok');
    expect(await until(() => calls() === 2)).toBe(true);
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(await introspector.introspect('tok')).toMatchObject({ active: true });
    expect(introspector.stats()).toMatchObject({ errors: 0, misses: 1, shed: 0 });
    zitadel.answer('default', { json: activeAnswer({}, 3600) });
    clock.now += 30_000;
    await introspector.introspect('tok');
    expect(introspector.stats()).toMatchObject({ misses: 2 });
  });

  it('no refresh when off, nor when the entry ends with the token', async () => {
    const off = make({}, { refreshAheadSeconds: 0 });
    await off.introspect('tok');
    clock.now += 59_000;
    await off.introspect('tok');
    zitadel.answer('default', { json: activeAnswer({ exp: Math.floor(clock.now / 1000) + 40 }) });
    const short = make();
    await short.introspect('short');
    clock.now += 34_000;
    await short.introspect('short');
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(calls()).toBe(2);
    expect(off.stats().refreshes + short.stats().refreshes).toBe(0);
  });

  it('a refresh counts against maxIntrospectionsPerSecond', async () => {
    const introspector = make({ maxIntrospectionsPerSecond: 1 });
    await introspector.introspect('tok');
    clock.now = Math.ceil(clock.now / 1000) * 1000 + 31_000;
    await introspector.introspect('tok');
    expect(await until(() => calls() === 2)).toBe(true);
    await expect(introspector.introspect('other')).rejects.toMatchObject({
      status: 503,
      retryAfterSeconds: 1,
    });
    expect(introspector.stats()).toMatchObject({ shed: 1, refreshes: 1, misses: 1 });
  });

  it('no refresh call while the circuit is open; a refused refresh counts in no other stat', async () => {
    const introspector = make();
    await introspector.introspect('tok');
    zitadel.answer('default', { status: 503, headers: { 'Retry-After': '60' }, body: '' });
    await expect(introspector.introspect('x')).rejects.toMatchObject({ retryAfterSeconds: 60 });
    clock.now += 31_000;
    expect(await introspector.introspect('tok')).toMatchObject({ active: true });
    expect(await until(() => introspector.stats().refreshes === 1)).toBe(true);
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(calls()).toBe(2);
    expect(introspector.stats()).toMatchObject({ shed: 0, misses: 2, errors: 1, hits: 1 });
  });

  it('adopts an entry another replica refreshed in the shared store, without a call', async () => {
    const map = new Map<string, string>();
    const store: CacheStore = {
      get: async (key) => map.get(key),
      set: async (key, value) => void map.set(key, value),
      delete: async (key) => void map.delete(key),
    };
    const a = make({}, { store });
    const b = make({}, { store });
    await a.introspect('tok');
    await b.introspect('tok');
    expect(calls()).toBe(1);
    clock.now += 31_000;
    await a.introspect('tok');
    expect(await until(() => calls() === 2)).toBe(true);
    await until(() => a.stats().refreshes === 1);
    await new Promise((resolve) => setTimeout(resolve, 50));
    await b.introspect('tok');
    await until(() => b.stats().refreshes === 1);
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(calls()).toBe(2);
    // b holds a's newer entry: alive past the old end, and not due again.
    clock.now += 29_500;
    await b.introspect('tok');
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(calls()).toBe(2);
    expect(b.stats()).toMatchObject({ hits: 3, misses: 0, refreshes: 1 });
  });

  it('close() cancels a pending refresh: it neither writes nor keeps the call open', async () => {
    const introspector = make();
    await introspector.introspect('tok');
    zitadel.answer('default', { hang: true });
    clock.now += 31_000;
    await introspector.introspect('tok');
    expect(await until(() => zitadel.open() === 1)).toBe(true);
    const started = Date.now();
    await introspector.close();
    expect(Date.now() - started).toBeLessThan(1000);
    expect(await until(() => zitadel.open() === 0)).toBe(true);
  });
});

describe('an eviction while a refresh runs', () => {
  it('is not undone by the refresh: the token is a miss afterwards', async () => {
    const introspector = make();
    await introspector.introspect('tok');
    zitadel.answer('default', { json: activeAnswer({}, 3600), delayMs: 300 });
    clock.now += 31_000;
    await introspector.introspect('tok');
    expect(await until(() => zitadel.open() === 1)).toBe(true);
    await introspector.evict('tok');
    expect(await until(() => zitadel.open() === 0, 2000)).toBe(true);
    await new Promise((resolve) => setTimeout(resolve, 50));
    zitadel.answer('default', { json: { active: false } });
    expect(await introspector.introspect('tok')).toEqual({ active: false, reason: 'inactive' });
    expect(calls()).toBe(3);
  });
});
