/**
 * Local mode across replicas sharing a real redis-server: an eviction on one
 * replica reaches the JWTs another verified locally, and a due revalidation
 * is made by one replica only.
 */
import Redis from 'ioredis';
import { createIntrospector, RedisStore } from '../../lib';
import { FLEET_HOOKS } from '../../lib/cache/fleet-hooks';
import { createIntrospector as createCore } from '../../lib/introspector';
import { describeWithRedis, redisUrlOrStart, uniquePrefix } from '../helpers/redis-server';
import { startJwtIssuer, type JwtIssuer } from './support/jwt-issuer';

type Replica = ReturnType<typeof createCore>;

describeWithRedis('local JWT verification in a fleet', () => {
  let redis: { url: string; stop(): Promise<void> };
  let z: JwtIssuer;
  const clients: Redis[] = [];
  const open: Replica[] = [];

  beforeAll(async () => {
    redis = await redisUrlOrStart();
  });
  afterAll(() => redis.stop());
  beforeEach(async () => {
    z = await startJwtIssuer();
  });
  afterEach(async () => {
    await Promise.all(open.splice(0).map((i) => i.close()));
    clients.splice(0).forEach((client) => client.disconnect());
    await z.close();
  });

  async function replicas(count: number, revalidateSeconds: number) {
    const prefix = uniquePrefix('jwt');
    const made: Replica[] = [];
    for (let i = 0; i < count; i++) {
      const client = new Redis(redis.url, { maxRetriesPerRequest: 1 });
      clients.push(client);
      const introspector = createIntrospector({
        issuer: z.issuer,
        clientId: z.clientId,
        clientSecret: z.clientSecret,
        projectId: z.projectId,
        retries: 0,
        cache: { store: new RedisStore(client, { prefix }), storeTimeoutMs: 500 },
        jwt: { verify: 'local', revalidateSeconds },
      });
      await introspector.ready();
      open.push(introspector);
      made.push(introspector);
    }
    return made;
  }

  async function eventually(check: () => Promise<boolean> | boolean, timeoutMs = 8000) {
    const start = Date.now();
    while (!(await check())) {
      if (Date.now() - start > timeoutMs) throw new Error('condition not met in time');
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  it('evictSubject on one replica: the other introspects that subject’s JWT', async () => {
    const [a, b] = await replicas(2, 0);
    const iat = Math.floor(Date.now() / 1000) - 5;
    const token = await z.mint({ sub: 'sam', iat });
    expect((await b.introspect(token)).active).toBe(true);
    expect(z.introspections).toHaveLength(0);
    z.revoked.add(token);
    await a.evictSubject('sam');
    await eventually(async () => !(await b.introspect(token)).active);
    expect(z.introspections.length).toBeGreaterThanOrEqual(1);
    expect(new Set(z.introspections)).toEqual(new Set([token]));
  });

  it('evict(token) on one replica: the other stops trusting that jti', async () => {
    const [a, b] = await replicas(2, 0);
    const token = await z.mint();
    expect((await b.introspect(token)).active).toBe(true);
    z.revoked.add(token);
    await a.evict(token);
    await eventually(async () => !(await b.introspect(token)).active);
  });

  it('a revoked session (the webhook’s evictSession) reaches a JWT another replica first verifies afterwards', async () => {
    const [a, b] = await replicas(2, 0);
    const iat = Math.floor(Date.now() / 1000) - 5;
    const token = await z.mint({ sub: 'sam', iat, jti: '3129090752.at-1' });
    const sibling = await z.mint({ sub: 'sam', iat, jti: '4444.at-2' });
    z.revoked.add(token);
    await a[FLEET_HOOKS].evictSession('3129090752');
    // b has never seen the token: no cache entry to drop, only the session marker.
    expect((await b.introspect(token)).active).toBe(false);
    expect(z.introspections).toEqual([token]);
    // Another session of the same user is still trusted without a call.
    expect((await b.introspect(sibling)).active).toBe(true);
    expect(z.introspections).toEqual([token]);
  });

  it('a due revalidation is made once for the fleet', async () => {
    const [a, b] = await replicas(2, 1);
    const token = await z.mint();
    await a.introspect(token);
    await b.introspect(token);
    const total = () => a.stats().revalidations + b.stats().revalidations;
    await eventually(() => total() >= 1);
    // Both replicas' sweeps (every 100 ms) have passed the first due time by now.
    await new Promise((resolve) => setTimeout(resolve, 400));
    expect(total()).toBe(1);
    await eventually(() => total() >= 2);
    await new Promise((resolve) => setTimeout(resolve, 400));
    expect(total()).toBe(2);
    expect(z.introspections).toEqual([token, token]);
  });
});
