/**
 * Redis dies mid-run: the redis-server this test started is SIGKILLed while
 * both clients are connected. The result cache must answer misses within
 * storeTimeoutMs, the process must not crash (RedisStore's 'error'
 * listener), and the warn lines must come at most once a minute. Jest 30
 * fails a test on any unhandled rejection, so passing also proves there is
 * none. This suite needs its own server to kill, so it always starts one.
 */
import { RedisStore } from '../../lib/cache/redis-store';
import { cacheKey } from '../../lib/cache/result-cache';
import { captureLogger } from '../helpers/capture-logger';
import { redisServerBin, startRedis, uniquePrefix } from '../helpers/redis-server';
import { active, makeCache, testClock } from './fixtures';
import { clients } from './redis-clients';

const STORE_TIMEOUT_MS = 100;

const bin = redisServerBin();
if (!bin && process.env.CI === 'true') {
  throw new Error('redis-server is needed under CI=true: the outage suite may not be skipped');
}
if (!bin) console.warn('skipping the Redis outage suite: no redis-server binary');
const describeOutage = bin ? describe : describe.skip;

async function waitFor(condition: () => boolean, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describeOutage('RedisStore when redis-server is killed mid-run', () => {
  it.each(clients)(
    'with %s: misses within storeTimeoutMs, no crash, one warn a minute',
    async (_name, connect) => {
      const server = await startRedis();
      const subject = await connect(server.url);
      try {
        const storeLogger = captureLogger();
        const store = new RedisStore(subject.client, {
          prefix: uniquePrefix(),
          logger: storeLogger,
        });
        // Store only, so every lookup really goes to Redis.
        const { cache, logger } = makeCache(testClock(), {
          now: Date.now,
          store,
          maxEntries: 0,
          storeTimeoutMs: STORE_TIMEOUT_MS,
        });
        const key = cacheKey('https://issuer.example', 'api', 'token-outage');
        const answer = {
          claims: active('svc', Math.floor(Date.now() / 1000) + 600),
          value: { sub: 'svc' },
        };
        await cache.set(key, answer);
        await expect(cache.get(key)).resolves.toEqual({ active: true, value: { sub: 'svc' } });
        expect(logger.lines).toEqual([]);

        server.kill();
        await server.stop();

        for (let round = 0; round < 2; round++) {
          const started = Date.now();
          await expect(cache.get(key)).resolves.toBeUndefined();
          await expect(cache.set(key, answer)).resolves.toBe(false);
          await expect(cache.delete(key)).resolves.toBeUndefined();
          // Three store calls, each bounded by the deadline (generous slack for a busy machine).
          expect(Date.now() - started).toBeLessThan(3 * STORE_TIMEOUT_MS + 1_500);
        }

        // The client's own connection errors reached RedisStore's listener.
        await waitFor(() => storeLogger.text().includes('redis client error'));
        const warns = (lines: { level: string }[]) => lines.filter((l) => l.level === 'warn');
        expect(warns(storeLogger.lines)).toHaveLength(1);
        expect(warns(logger.lines)).toHaveLength(1);
        expect(warns(logger.lines)[0]).toEqual(
          expect.objectContaining({ message: expect.stringContaining('treated as a miss') }),
        );
        expect(logger.lines.filter((l) => l.level === 'debug').length).toBeGreaterThanOrEqual(5);
      } finally {
        await subject.close();
        await server.stop();
      }
    },
  );
});
