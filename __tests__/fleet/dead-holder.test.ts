/**
 * A lock holder that dies without releasing: a replica in a child process
 * takes the fleet lock for a token while ZITADEL hangs on its call, and is
 * SIGKILLed. The replica waiting in this process takes over once the lock's
 * PX 2000 runs out (nobody renews it any more), makes its own call and
 * answers 200. Real processes, real timers, a real redis-server.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import Redis from 'ioredis';
import { createIntrospector, RedisStore } from '../../lib';
import { startLocalZitadel, type LocalZitadel } from '../../lib/testing';
import {
  describeWithRedis,
  startRedis,
  uniquePrefix,
  type RedisServer,
} from '../helpers/redis-server';
import { eventually, patOf } from './fleet-kit';

describeWithRedis('a fleet lock holder that dies', () => {
  let z: LocalZitadel;
  let redis: RedisServer;

  beforeAll(async () => {
    [z, redis] = await Promise.all([startLocalZitadel(), startRedis()]);
  });
  afterAll(async () => {
    await Promise.all([z?.close(), redis?.stop()]);
  });

  function startHolder(prefix: string): Promise<ChildProcess> {
    const child = fork(
      join(__dirname, 'support/holder-process.ts'),
      [JSON.stringify({ redisUrl: redis.url, prefix, issuer: z.issuer, key: z.apiKeyFile })],
      { execArgv: ['--import', pathToFileURL(require.resolve('tsx')).href], stdio: 'inherit' },
    );
    return new Promise((resolve, reject) => {
      child.once('message', (m) => (m === 'ready' ? resolve(child) : reject(new Error(String(m)))));
      child.once('exit', (code) => reject(new Error(`the holder exited early (${code})`)));
    });
  }

  it('the waiting replica takes over after the lock runs out, calls itself and answers 200', async () => {
    const prefix = uniquePrefix('dead');
    const token = await patOf(z, 'dead-holder');
    const client = new Redis(redis.url, { maxRetriesPerRequest: 1 });
    const admin = new Redis(redis.url);
    const waiter = createIntrospector({
      issuer: z.issuer,
      key: z.apiKeyFile,
      retries: 0,
      cache: { store: new RedisStore(client, { prefix }), storeTimeoutMs: 1_000 },
    });
    const holder = await startHolder(prefix);
    const gone = new Promise<void>((resolve) => holder.once('exit', () => resolve()));
    try {
      await waiter.ready();
      const before = (await z.calls()).introspection;
      await z.injectFault('hang', { times: 1 }); // the holder's call never comes back
      holder.send(token);
      expect(
        await eventually(async () => (await z.calls()).introspection === before + 1, 10_000),
      ).toBe(true);
      const [lockKey] = await admin.keys(`${prefix}*lock:*`);
      expect(await admin.pttl(lockKey)).toBeGreaterThan(0); // the holder holds the lock

      let answered: number | undefined;
      const waiting = waiter.introspect(token).then((answer) => {
        answered = Date.now();
        return answer;
      });
      await new Promise((resolve) => setTimeout(resolve, 1_200)); // the holder renews meanwhile
      expect(answered).toBeUndefined();
      expect(await admin.pttl(lockKey)).toBeGreaterThan(0);
      holder.kill('SIGKILL');
      await gone;
      const killed = Date.now();

      const answer = await waiting;
      expect(answer.active).toBe(true);
      // The lock had at most 2 s left when its holder died; polls every ~100 ms (loaded machine: slack).
      expect((answered as number) - killed).toBeLessThan(4_500);
      expect((await z.calls()).introspection).toBe(before + 2); // the dead one's, and its own
      expect(waiter.stats()).toMatchObject({ misses: 1, peerAnswered: 0, errors: 0 });
    } finally {
      if (holder.exitCode === null && holder.signalCode === null) holder.kill('SIGKILL');
      await waiter.close();
      client.disconnect();
      admin.disconnect();
    }
  }, 30_000);
});
