/**
 * A store deadline must not fail an operation whose reply is already in the
 * socket only because the event loop was busy when the timer came due (Node
 * runs due timers before it polls I/O). On a loaded host that false timeout
 * made a fleet replica act alone: extra introspection calls per token.
 */
import Redis from 'ioredis';
import { deadline } from '../../lib/cache/deadline';
import { guardStore } from '../../lib/cache/store-guard';
import { RedisStore } from '../../lib/cache/redis-store';
import { silentLogger } from '../../lib/logger';
import { describeWithRedis, redisUrlOrStart, uniquePrefix } from '../helpers/redis-server';

/** Blocks the event loop, as a long synchronous task or a descheduled process does. */
function busy(ms: number): void {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    // spin
  }
}

describeWithRedis('store deadlines on a busy event loop (real redis-server)', () => {
  let server: { url: string; stop(): Promise<void> };
  let client: Redis;

  beforeAll(async () => {
    server = await redisUrlOrStart();
    client = new Redis(server.url, { maxRetriesPerRequest: 1 });
    await client.ping();
  });

  afterAll(async () => {
    client.disconnect();
    await server.stop();
  });

  it('deadline(): a reply that arrived while the loop was blocked past the deadline still wins', async () => {
    const reply = deadline(client.ping(), 20);
    busy(300); // the PONG lands in the socket long before the loop is free again
    await expect(reply).resolves.toBe('PONG');
  });

  it('guardStore(): a store read answered during a blocked loop is a hit, not a logged timeout', async () => {
    const prefix = uniquePrefix('deadline');
    await client.set(`${prefix}k`, 'v');
    const warnings: string[] = [];
    const logger = { ...silentLogger, warn: (line: string) => void warnings.push(line) };
    const store = guardStore(new RedisStore(client, { prefix }), {
      timeoutMs: 20,
      logger,
      now: Date.now,
    });
    const read = store.get('k');
    busy(300);
    await expect(read).resolves.toBe('v');
    expect(warnings).toEqual([]);
  });

  it('a reply that never comes still times out, after the deadline and one loop turn', async () => {
    const started = Date.now();
    await expect(deadline(new Promise<never>(() => {}), 30)).rejects.toThrow(
      'timed out after 30 ms',
    );
    const elapsed = Date.now() - started;
    expect(elapsed).toBeGreaterThanOrEqual(25);
    expect(elapsed).toBeLessThan(2_000);
  });
});
