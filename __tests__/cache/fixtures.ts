/**
 * Shared pieces of the cache tests: a hand-driven clock, a result cache with
 * test defaults, and a tiny {@link CacheStore} over a Map whose delay and
 * failures the test sets (the interface's own contract, not a mocked server).
 */
import {
  createResultCache,
  type CacheStore,
  type ResultCacheOptions,
} from '../../lib/cache/result-cache';
import { captureLogger } from '../helpers/capture-logger';

export const T0 = 1_700_000_000_000;

export interface Clock {
  now: () => number;
  at(ms: number): void;
  /** Seconds since the epoch, offset from T0, for `exp` claims. */
  sec(offsetSeconds: number): number;
}

export function testClock(): Clock {
  let t = T0;
  return {
    now: () => t,
    at: (ms) => {
      t = T0 + ms;
    },
    sec: (offsetSeconds) => T0 / 1000 + offsetSeconds,
  };
}

export interface Derived {
  sub: string;
}

export function makeCache(clock: Clock, overrides: Partial<ResultCacheOptions<Derived>> = {}) {
  const logger = captureLogger();
  const revived: Record<string, unknown>[] = [];
  const cache = createResultCache<Derived>({
    maxEntries: 100,
    maxTtlSeconds: 300,
    inactiveTtlSeconds: 10,
    clockToleranceSeconds: 5,
    staleIfErrorSeconds: 0,
    storeTimeoutMs: 1000,
    now: clock.now,
    logger,
    revive: (claims) => {
      revived.push(claims);
      return { sub: String(claims.sub) };
    },
    ...overrides,
  });
  return { cache, logger, revived };
}

export function active(sub: string, exp?: number): Record<string, unknown> {
  return exp === undefined ? { active: true, sub } : { active: true, sub, exp };
}

export interface MapStore extends CacheStore {
  map: Map<string, string>;
  ttls: Map<string, number>;
  calls: { get: number; set: number; delete: number };
  /** Delay of every answer in ms (0 = next tick). */
  delayMs: number;
  /** When set, every call fails this way after the delay. */
  fail?: 'reject' | 'throw' | 'reject-non-error';
}

/** A CacheStore over a Map; it reads at call time and answers after `delayMs`. */
export function mapStore(): MapStore {
  const store: MapStore = {
    map: new Map(),
    ttls: new Map(),
    calls: { get: 0, set: 0, delete: 0 },
    delayMs: 0,
    get(key) {
      store.calls.get++;
      return answer(() => store.map.get(key));
    },
    set(key, value, ttlMs) {
      store.calls.set++;
      return answer(() => {
        store.map.set(key, value);
        store.ttls.set(key, ttlMs);
        return 'OK';
      });
    },
    delete(key) {
      store.calls.delete++;
      return answer(() => store.map.delete(key));
    },
  };
  function answer<T>(effect: () => T): Promise<T> {
    if (store.fail === 'throw') throw new Error('store threw synchronously');
    const result = store.fail ? undefined : effect();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        if (store.fail === 'reject') reject(new Error(`connection refused\n${'x'.repeat(300)}`));
        else if (store.fail === 'reject-non-error') reject('plain string');
        else resolve(result as T);
      }, store.delayMs);
      // An abandoned slow answer must not keep jest waiting.
      timer.unref();
    });
  }
  return store;
}
