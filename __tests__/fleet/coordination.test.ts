/**
 * The fleet transport (a RedisStore's coordinator) on a real redis-server,
 * driven directly: the lock and its renewal, refusing writes after an
 * eviction, messages that decrypt but are no fleet message, ready() when
 * Redis stalls, cannot be reached or the store is closed, scripts flushed
 * from Redis, and the node-redis subscriber's reconnect and close.
 */
import Redis from 'ioredis';
import { createClient } from 'redis';
import { describeWithRedis, startRedis, type RedisServer } from '../helpers/redis-server';
import { freePort } from '../helpers/fault-proxy';
import { eventually } from './fleet-kit';
import {
  coordinatorOf,
  startCoordinator,
  testFleet,
  type TestCoordinator,
} from './support/coordinators';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const meta = (startedAt: number) => ({ startedAt, subject: 'subject-hmac', session: undefined });

describeWithRedis('fleet coordination on a real redis-server', () => {
  let redis: RedisServer;
  let open: TestCoordinator[] = [];
  const start = async (...args: Parameters<typeof startCoordinator>) => {
    const made = await startCoordinator(...args);
    open.push(made);
    return made;
  };

  beforeAll(async () => {
    redis = await startRedis();
  });
  afterEach(async () => {
    process.kill(redis.pid, 'SIGCONT');
    await Promise.all(open.map((c) => c.close()));
    open = [];
  });
  afterAll(() => redis?.stop());

  it('a holder keeps its lock past 2 s (renewed every second); a loser sees it until release', async () => {
    const fleet = testFleet();
    const [a, b] = [
      await start('ioredis', redis.url, fleet),
      await start('ioredis', redis.url, fleet),
    ];
    const held = await a.coordinator.lock('k');
    expect(held.won).toBe(true);
    // Redis's own clock (TIME): this machine's, give or take.
    expect(Math.abs(held.startedAt - Date.now())).toBeLessThan(5_000);
    const lost = await b.coordinator.lock('k');
    expect(lost.won).toBe(false);
    expect(lost.startedAt).toBeGreaterThanOrEqual(held.startedAt);
    await sleep(2_600); // longer than the lock's PX 2000: only renewal keeps it
    const polled = await b.coordinator.poll('k');
    expect(polled).toEqual({ value: undefined, lockTtl: expect.any(Number) });
    expect(polled.lockTtl).toBeGreaterThan(0);
    expect((await b.coordinator.lock('k')).won).toBe(false);
    await held.release();
    expect((await b.coordinator.poll('k')).lockTtl).toBeLessThanOrEqual(0);
    expect((await b.coordinator.lock('k')).won).toBe(true);
  }, 20_000);

  it('a write by work that began before an eviction is refused; later work writes', async () => {
    const fleet = testFleet();
    const [a, b] = [
      await start('ioredis', redis.url, fleet),
      await start('node-redis', redis.url, fleet),
    ];
    const early = await a.coordinator.lock('k');
    await early.release();
    await b.coordinator.shared.remove('k'); // tombstones the key
    expect(await a.coordinator.shared.write('k', () => 'old', 10_000, meta(early.startedAt))).toBe(
      false,
    );
    expect(await b.coordinator.shared.read('k')).toBeUndefined();
    const later = await a.coordinator.lock('k');
    await later.release();
    expect(await a.coordinator.shared.write('k', () => 'new', 10_000, meta(later.startedAt))).toBe(
      true,
    );
    expect(await b.coordinator.shared.read('k')).toBe('new');
    expect((await b.coordinator.poll('k')).value).toBe('new');
  });

  it('a message that decrypts but is no fleet message is ignored; the next one arrives', async () => {
    const fleet = testFleet();
    const a = await start('node-redis', redis.url, fleet);
    const b = await start('ioredis', redis.url, fleet);
    expect(await b.coordinator.ready(5_000)).toBe(true);
    const heard: unknown[] = [];
    b.coordinator.onMessage((m) => heard.push(m));
    const raw = a.client as { publish(channel: string, text: string): Promise<unknown> };
    for (const text of ['not json', 'null', JSON.stringify({ from: 'x' })]) {
      await raw.publish(fleet.channel, fleet.envelope.seal(fleet.channel, text));
    }
    await a.coordinator.publish({ type: 'ping' });
    expect(await eventually(async () => heard.length === 1, 5_000)).toBe(true);
    expect(heard).toEqual([{ type: 'ping' }]);
    const ignored = b.logger.lines.filter((l) => /does not decrypt/.test(l.message));
    expect(ignored.map((l) => l.level)).toEqual(['debug', 'debug', 'debug']);
  });

  it('close() frees the locks it holds; ready() after close() is false', async () => {
    const fleet = testFleet();
    const [a, b] = [
      await start('ioredis', redis.url, fleet),
      await start('ioredis', redis.url, fleet),
    ];
    expect((await a.coordinator.lock('k')).won).toBe(true);
    await a.coordinator.close();
    expect((await b.coordinator.poll('k')).lockTtl).toBeLessThanOrEqual(0);
    expect(await a.coordinator.ready(1_000)).toBe(false);
  });

  it('ready() resolves false within its wait while Redis is stalled, warns once, then subscribes', async () => {
    const fleet = testFleet();
    const c = await start('ioredis', redis.url, fleet, { timeoutMs: 100 });
    process.kill(redis.pid, 'SIGSTOP');
    const started = Date.now();
    expect(await c.coordinator.ready(200)).toBe(false);
    expect(await c.coordinator.ready(200)).toBe(false);
    expect(Date.now() - started).toBeLessThan(3_000);
    const warned = c.logger.lines.filter((l) => l.level === 'warn');
    expect(warned.map((l) => l.message)).toEqual([
      'fleet: the Redis subscription is not ready; this replica works alone meanwhile',
    ]);
    process.kill(redis.pid, 'SIGCONT');
    expect(await c.coordinator.ready(5_000)).toBe(true);
  }, 20_000);

  it.each([false, true])(
    'a subscriber that cannot reach Redis: ready() resolves false with one warn (lazyConnect %s)',
    async (lazyConnect) => {
      const dead = `redis://127.0.0.1:${await freePort()}`;
      const client = new Redis(dead, { lazyConnect, retryStrategy: () => null });
      client.on('error', () => undefined);
      const c = coordinatorOf(client, testFleet());
      try {
        expect(await c.coordinator.ready(5_000)).toBe(false);
        const alone = c.logger.lines.filter((l) => /no Redis subscription/.test(l.message));
        expect(alone.map((l) => l.level)).toEqual(['warn']);
        expect(alone[0].message).toMatch(
          /^fleet: no Redis subscription \(.+\); this replica works alone$/,
        );
      } finally {
        await c.coordinator.close();
        client.disconnect();
      }
    },
  );

  it('a subscription that fails after close() says nothing', async () => {
    const dead = `redis://127.0.0.1:${await freePort()}`;
    const client = new Redis(dead, { retryStrategy: () => null });
    client.on('error', () => undefined);
    const c = coordinatorOf(client, testFleet());
    const ready = c.coordinator.ready(5_000);
    await c.coordinator.close();
    expect(await ready).toBe(false);
    await sleep(100);
    expect(c.logger.lines.filter((l) => /no Redis subscription/.test(l.message))).toEqual([]);
    client.disconnect();
  });

  it('a lazyConnect ioredis client: the store connects the subscriber itself', async () => {
    const fleet = testFleet();
    const client = new Redis(redis.url, { lazyConnect: true });
    const a = coordinatorOf(client, fleet);
    const b = await start('ioredis', redis.url, fleet);
    try {
      expect(await a.coordinator.ready(5_000)).toBe(true);
      const heard: unknown[] = [];
      a.coordinator.onMessage((m) => heard.push(m));
      await b.coordinator.publish({ type: 'ping' });
      expect(await eventually(async () => heard.length === 1, 5_000)).toBe(true);
    } finally {
      await a.coordinator.close();
      client.disconnect();
    }
  });

  it.each(['ioredis', 'node-redis'] as const)(
    'scripts flushed from Redis (SCRIPT FLUSH, a restart) are sent again (%s)',
    async (kind) => {
      const fleet = testFleet();
      const c = await start(kind, redis.url, fleet);
      const admin = new Redis(redis.url);
      try {
        await admin.script('FLUSH');
        const first = await c.coordinator.lock('k'); // EVALSHA fails with NOSCRIPT, EVAL follows
        expect(first.won).toBe(true);
        await admin.script('FLUSH');
        await first.release();
        expect((await c.coordinator.poll('k')).lockTtl).toBeLessThanOrEqual(0);
      } finally {
        admin.disconnect();
      }
    },
  );

  it.each(['ioredis', 'node-redis'] as const)(
    'a subscriber that reconnects is reported (evictions may have been missed) (%s)',
    async (kind) => {
      const c = await start(kind, redis.url, testFleet());
      expect(await c.coordinator.ready(5_000)).toBe(true);
      const admin = new Redis(redis.url);
      try {
        await admin.call('CLIENT', 'KILL', 'TYPE', 'pubsub');
      } finally {
        admin.disconnect();
      }
      expect(await eventually(async () => c.reconnects === 1, 5_000)).toBe(true);
      expect(c.logger.lines.some((l) => /subscriber reconnected/.test(l.message))).toBe(true);
    },
    20_000,
  );

  it('node-redis: close() of a stalled Redis is bounded, and a second close() is harmless', async () => {
    const client = createClient({ url: redis.url });
    client.on('error', () => undefined);
    await client.connect();
    const c = coordinatorOf(client, testFleet());
    expect(await c.coordinator.ready(5_000)).toBe(true);
    process.kill(redis.pid, 'SIGSTOP');
    const started = Date.now();
    await c.coordinator.close();
    expect(Date.now() - started).toBeLessThan(3_000);
    await c.coordinator.close();
    process.kill(redis.pid, 'SIGCONT');
    client.destroy();
  });

  it('node-redis: a closed client is Redis unavailable: the replica works alone', async () => {
    const client = createClient({ url: redis.url });
    client.on('error', () => undefined);
    await client.connect();
    const c = coordinatorOf(client, testFleet());
    client.destroy();
    const lock = await c.coordinator.lock('k');
    expect(lock).toMatchObject({ won: true, startedAt: 0 }); // alone, as of an unknown start
    await expect(c.coordinator.poll('k')).rejects.toThrow();
    await lock.release();
    await c.coordinator.close();
  });

  it('node-redis: close() after redis-server died is bounded and leaves the client to its owner', async () => {
    const own = await startRedis();
    const client = createClient({ url: own.url });
    client.on('error', () => undefined);
    await client.connect();
    const c = coordinatorOf(client, testFleet());
    try {
      expect(await c.coordinator.ready(5_000)).toBe(true);
      own.kill();
      await own.stop();
      // The subscriber is reconnecting now (open, not ready): it is cut at once.
      const started = Date.now();
      await c.coordinator.close();
      expect(Date.now() - started).toBeLessThan(1_500);
    } finally {
      client.destroy();
    }
  });
});
