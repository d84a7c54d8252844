/**
 * Evictions reach every replica, and are never undone by work that began
 * before them. ZITADEL here is the scripted one: it revokes on demand (the
 * local kit on main cannot), and its request log counts the calls.
 */
import { FLEET_HOOKS } from '../../lib/cache/fleet-hooks';
import {
  describeWithRedis,
  startRedis,
  uniquePrefix,
  type RedisServer,
} from '../helpers/redis-server';
import { startScriptedZitadel, type ScriptedZitadel } from '../helpers/scripted-zitadel';
import { eventually, startReplicas, stopReplicas, type Replica } from './fleet-kit';

describeWithRedis('fleet eviction', () => {
  describe.each(['ioredis', 'node-redis'] as const)('with %s', (kind) => {
    let zitadel: ScriptedZitadel;
    let redis: RedisServer;
    let replicas: Replica[] = [];
    const revoked = new Set<string>();
    const owner = new Map<string, { sub: string; jti: string }>();
    let delayMs = 0;

    const token = (name: string, sub: string, jti = `${name}-sess.at`): string => {
      const value = `tok-${name}-${Math.random().toString(36).slice(2)}`;
      owner.set(value, { sub, jti });
      zitadel.answer(value, () => ({
        delayMs,
        json: revoked.has(value)
          ? { active: false }
          : { active: true, exp: Math.floor(Date.now() / 1000) + 600, ...owner.get(value) },
      }));
      return value;
    };
    const callsFor = (t: string): number => zitadel.requests.filter((r) => r.token === t).length;
    const refusedEverywhere = (t: string) =>
      eventually(async () => {
        const answers = await Promise.all(replicas.map((r) => r.introspector.introspect(t)));
        return answers.every((a) => !a.active);
      }, 500);
    const warm = async (...tokens: string[]) => {
      for (const t of tokens) {
        for (const r of replicas) expect((await r.introspector.introspect(t)).active).toBe(true);
      }
    };

    beforeAll(async () => {
      [zitadel, redis] = await Promise.all([startScriptedZitadel(), startRedis()]);
    });
    beforeEach(async () => {
      delayMs = 0;
      replicas = await startReplicas(
        { issuer: zitadel.issuer, clientId: 'api@project', clientSecret: 'a-long-client-secret' },
        [redis.url],
        { count: 4, prefix: uniquePrefix('evict'), kind },
      );
    });
    afterEach(() => stopReplicas(replicas));
    afterAll(async () => {
      await Promise.all([zitadel?.close(), redis?.stop()]);
    });

    it('evict(token) on one replica is refused on every replica; another token is untouched', async () => {
      const [alice, bob] = [token('a', 'alice'), token('b', 'bob')];
      await warm(alice, bob);
      expect(callsFor(alice)).toBe(1);
      const bobCalls = callsFor(bob);
      revoked.add(alice);
      await replicas[2].introspector.evict(alice);
      expect(await refusedEverywhere(alice)).toBe(true);
      await warm(bob);
      expect(callsFor(bob)).toBe(bobCalls);
    }, 20_000);

    it('evictSubject drops every token of the user on every replica, not another user', async () => {
      const [a1, a2, bob] = [token('a1', 'alice'), token('a2', 'alice'), token('b', 'bob')];
      await warm(a1, a2, bob);
      const bobCalls = callsFor(bob);
      revoked.add(a1).add(a2);
      await replicas[1].introspector.evictSubject('alice');
      expect(await refusedEverywhere(a1)).toBe(true);
      expect(await refusedEverywhere(a2)).toBe(true);
      await warm(bob);
      expect(callsFor(bob)).toBe(bobCalls);
    }, 20_000);

    it('evictAll drops everything on every replica', async () => {
      const [a, b] = [token('x', 'xavier'), token('y', 'yvonne')];
      await warm(a, b);
      revoked.add(a).add(b);
      await replicas[3].introspector.evictAll();
      expect(await refusedEverywhere(a)).toBe(true);
      expect(await refusedEverywhere(b)).toBe(true);
    }, 20_000);

    it('a replica started after evictAll, once the short tombstones are gone, still refuses what was stored before', async () => {
      // timeoutMs 200, retries 0: tombstones last 2 s + 0.2 s + 1 s. evictAll
      // deletes nothing in Redis, so only its fleet-wide marker keeps the
      // older values out; it must outlive them, not the tombstone time.
      const quick = await startReplicas(
        { issuer: zitadel.issuer, clientId: 'api@project', clientSecret: 'a-long-client-secret' },
        [redis.url],
        { count: 1, prefix: uniquePrefix('epoch'), kind, timeoutMs: 200 },
      );
      const late: Replica[] = [];
      try {
        const a = token('e', 'erin');
        expect((await quick[0].introspector.introspect(a)).active).toBe(true);
        revoked.add(a);
        await quick[0].introspector.evictAll();
        await new Promise((resolve) => setTimeout(resolve, 3_600));
        late.push(
          ...(await startReplicas(
            {
              issuer: zitadel.issuer,
              clientId: 'api@project',
              clientSecret: 'a-long-client-secret',
            },
            [redis.url],
            { count: 1, prefix: quick[0].store.prefix, kind, timeoutMs: 200 },
          )),
        );
        expect((await late[0].introspector.introspect(a)).active).toBe(false);
        expect(callsFor(a)).toBe(2);
      } finally {
        await stopReplicas([...quick, ...late]);
      }
    }, 20_000);

    it('FLEET_HOOKS.evictSession drops the tokens of one ZITADEL session everywhere', async () => {
      const [s1, other] = [token('s1', 'sam', '3129090752.at_1'), token('s2', 'sam', '4444.at_2')];
      await warm(s1, other);
      const otherCalls = callsFor(other);
      revoked.add(s1);
      const hooks = (replicas[0].introspector as unknown as Record<symbol, never>)[FLEET_HOOKS] as {
        evictSession(id: string): Promise<void>;
        evictedAfter(t: { jti: string; subject: string; issuedAtMs: number }): Promise<boolean>;
      };
      await hooks.evictSession('3129090752');
      expect(await refusedEverywhere(s1)).toBe(true);
      await warm(other);
      expect(callsFor(other)).toBe(otherCalls);
      // Markers for local JWT verification, fleet-wide.
      const t0 = Date.now() - 60_000;
      const peerHooks = (replicas[2].introspector as unknown as Record<symbol, never>)[
        FLEET_HOOKS
      ] as typeof hooks;
      expect(await peerHooks.evictedAfter({ jti: 'j-1', subject: 'sam', issuedAtMs: t0 })).toBe(
        false,
      );
      await replicas[1].introspector.evictSubject('sam');
      expect(await peerHooks.evictedAfter({ jti: 'j-1', subject: 'sam', issuedAtMs: t0 })).toBe(
        true,
      );
      expect(
        await peerHooks.evictedAfter({
          jti: 'j-1',
          subject: 'sam',
          issuedAtMs: Date.now() + 60_000,
        }),
      ).toBe(false);
    }, 20_000);

    it('an eviction during a slow call is not undone by its answer', async () => {
      const slow = token('slow', 'sally');
      delayMs = 700;
      const inFlight = replicas[0].introspector.introspect(slow);
      await new Promise((resolve) => setTimeout(resolve, 200));
      revoked.add(slow);
      await replicas[1].introspector.evict(slow);
      // The request in flight may be answered as it was…
      await inFlight;
      delayMs = 0;
      // …but no replica serves that answer afterwards.
      for (const r of replicas) expect((await r.introspector.introspect(slow)).active).toBe(false);
      // The in-flight answer was refused by the Lua write too: nothing active is left in Redis.
      expect(callsFor(slow)).toBeGreaterThanOrEqual(2);
    }, 20_000);
  });
});
