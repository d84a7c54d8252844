/**
 * The fleet object of one introspector, driven directly over a real
 * redis-server: a credential that fails to load is tried again, its shared
 * tier's remove() (a plain delete, or a tombstone with coordination), and a
 * peer's eviction message with members that are not keys.
 */
import Redis from 'ioredis';
import { createIntrospector, RedisStore } from '../../lib';
import { FLEET_HOOKS, type FleetHooks } from '../../lib/cache/fleet-hooks';
import { createFleet } from '../../lib/cache/fleet';
import type { ResultCache } from '../../lib/cache/result-cache';
import { silentLogger } from '../../lib/logger';
import type { ClientAuthentication } from '../../lib/zitadel/introspection';
import {
  describeWithRedis,
  startRedis,
  uniquePrefix,
  type RedisServer,
} from '../helpers/redis-server';
import { eventually } from './fleet-kit';

const auth: ClientAuthentication = {
  method: 'client_secret_basic',
  clientId: 'api@project',
  clientSecret: 'a-long-client-secret',
};
const meta = { startedAt: 0, subject: 's', session: undefined };

function fleetOf(store: RedisStore | undefined, credential = async () => auth) {
  return createFleet({
    issuer: 'https://zitadel.example',
    store,
    logger: silentLogger,
    now: Date.now,
    storeTimeoutMs: 5_000, // this machine is loaded: only the behaviour counts here
    callMs: 1_000,
    credential,
  });
}

describeWithRedis('the fleet of one introspector', () => {
  let redis: RedisServer;
  let client: Redis;

  beforeAll(async () => {
    redis = await startRedis();
    client = new Redis(redis.url);
  });
  afterAll(async () => {
    client?.disconnect();
    await redis?.stop();
  });

  it('a credential that failed to load is loaded again on the next attach', async () => {
    let attempts = 0;
    const fleet = fleetOf(undefined, async () => {
      attempts++;
      if (attempts === 1) throw new Error('key file not readable yet');
      return auth;
    });
    await expect(fleet.attach()).rejects.toThrow('key file not readable yet');
    expect(fleet.envelope()).toBeUndefined();
    await fleet.attach();
    expect(attempts).toBe(2);
    expect(fleet.envelope()).toBeDefined();
    await fleet.close();
  });

  it('remove() on a plain store deletes the value', async () => {
    const prefix = uniquePrefix('plain');
    const fleet = fleetOf(new RedisStore(client, { prefix, coordinate: false }));
    await fleet.attach();
    expect(await fleet.shared!.write('k', () => 'v', 60_000, meta)).toBe(true);
    expect(await client.exists(`${prefix}k`)).toBe(1);
    await fleet.shared!.remove('k');
    expect(await client.exists(`${prefix}k`)).toBe(0);
    await fleet.close();
  });

  it('remove() with coordination tombstones the key: work that began before it cannot write', async () => {
    const fleet = fleetOf(new RedisStore(client, { prefix: uniquePrefix('coord') }));
    await fleet.ready(5_000);
    const lock = await fleet.flight()!.claim('k');
    expect(lock.kind).toBe('call');
    const startedAt = (lock as { startedAt: number }).startedAt;
    expect(await fleet.shared!.write('k', () => 'v', 60_000, { ...meta, startedAt })).toBe(true);
    await fleet.shared!.remove('k');
    expect(await fleet.shared!.read('k')).toBeUndefined();
    expect(await fleet.shared!.write('k', () => 'v', 60_000, { ...meta, startedAt })).toBe(false);
    await fleet.close();
  });

  it("a peer's eviction drops the keys it names and skips members that are not keys", async () => {
    const prefix = uniquePrefix('msg');
    const [a, b] = [
      fleetOf(new RedisStore(client, { prefix })),
      fleetOf(new RedisStore(client, { prefix })),
    ];
    const dropped: unknown[] = [];
    b.bind({ drop: (target: unknown) => dropped.push(target) } as unknown as ResultCache<unknown>);
    await Promise.all([a.ready(5_000), b.ready(5_000)]);
    await a.link()!.publish({ type: 'evict', keys: [42, 'key-1', null], jti: 7, at: 'x' });
    await a.link()!.publish({ type: 'evict-subject', subject: 12 });
    await a.link()!.publish({ type: 'evict-session', session: 'session-hmac' });
    expect(await eventually(async () => dropped.length === 2, 5_000)).toBe(true);
    expect(dropped).toEqual([{ key: 'key-1', jti: undefined }, { session: 'session-hmac' }]);
    await Promise.all([a.close(), b.close()]);
  });

  it('evictedAfter (local JWT): an eviction of the subject or the session covers earlier tokens', async () => {
    const introspector = createIntrospector({
      issuer: 'https://zitadel.example',
      clientId: 'api@project',
      clientSecret: 'a-long-client-secret',
    });
    const hooks = (introspector as unknown as { [FLEET_HOOKS]: FleetHooks })[FLEET_HOOKS];
    const issuedAtMs = Date.now() - 60_000;
    const token = (jti: string, subject: string) => ({ jti, subject, issuedAtMs });
    expect(await hooks.evictedAfter(token('3129090752.at_1', 'user-1'))).toBe(false);
    await introspector.evictSubject('user-1');
    expect(await hooks.evictedAfter(token('3129090752.at_1', 'user-1'))).toBe(true);
    expect(await hooks.evictedAfter(token('3129090752.at_1', 'user-2'))).toBe(false);
    // A token issued after the eviction is not covered.
    expect(
      await hooks.evictedAfter({
        ...token('3129090752.at_2', 'user-1'),
        issuedAtMs: Date.now() + 1,
      }),
    ).toBe(false);
    await hooks.evictSession('3129090759');
    expect(await hooks.evictedAfter(token('3129090759.at_7', 'user-3'))).toBe(true);
    expect(await hooks.evictedAfter(token('3129090758.at_7', 'user-3'))).toBe(false);
    await introspector.close();
  });
});
