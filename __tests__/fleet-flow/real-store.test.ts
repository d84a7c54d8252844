/**
 * The fleet-flow policies over fleet-core's REAL link: replicas each with
 * their own ioredis client and coordinating RedisStore on one real
 * redis-server, against a scripted ZITADEL (a real HTTP server). No test
 * link: the circuit hears the store's sealed messages, refresh-ahead takes
 * the store's fleet lock.
 */
import Redis from 'ioredis';
import { createIntrospector, RedisStore } from '../../lib';
import type { CircuitChange } from '../../lib/back-pressure';
import { FLEET_LINK, type FleetLink } from '../../lib/cache/fleet-link';
import { CIRCUIT_LISTENER } from '../../lib/fleet-flow';
import type { Introspector } from '../../lib/introspector';
import type { IntrospectorOptions } from '../../lib/options';
import { startRedis, uniquePrefix, type RedisServer } from '../helpers/redis-server';
import {
  activeAnswer,
  startScriptedZitadel,
  type ScriptedZitadel,
} from '../helpers/scripted-zitadel';
import { outage, randomToken, sleep, until } from './support/replicas';

interface StoreReplica {
  introspector: Introspector;
  changes: CircuitChange[];
  client: Redis;
}

let redis: RedisServer;
let zitadel: ScriptedZitadel;
let replicas: StoreReplica[] = [];

beforeAll(async () => {
  redis = await startRedis();
});
afterAll(() => redis.stop());
beforeEach(async () => {
  zitadel = await startScriptedZitadel();
});
afterEach(async () => {
  await Promise.all(replicas.map((r) => r.introspector.close()));
  replicas.forEach((r) => r.client.disconnect());
  replicas = [];
  await zitadel.close();
});

async function start(count: number, options: Partial<IntrospectorOptions> = {}) {
  const prefix = uniquePrefix('flow');
  for (let i = 0; i < count; i++) {
    const client = new Redis(redis.url, { maxRetriesPerRequest: 1, disconnectTimeout: 50 });
    const changes: CircuitChange[] = [];
    const introspector = createIntrospector({
      issuer: zitadel.issuer,
      clientId: 'api@project',
      clientSecret: 'secret',
      retries: 0,
      ...options,
      cache: { store: new RedisStore(client, { prefix }), storeTimeoutMs: 500, ...options.cache },
      [CIRCUIT_LISTENER]: (change: CircuitChange) => changes.push(change),
    } as IntrospectorOptions);
    await introspector.ready();
    replicas.push({ introspector, changes, client });
  }
  return replicas;
}

const linkOf = (r: StoreReplica) =>
  (r.introspector as unknown as { [FLEET_LINK](): FleetLink | undefined })[FLEET_LINK]();

it('one replica meets a 429 without Retry-After: all four answer 503 without a call', async () => {
  const [first, ...others] = await start(4);
  // The policies use the coordinating store's link, there once ready() loaded the credential.
  expect(replicas.every((r) => linkOf(r) !== undefined)).toBe(true);
  zitadel.answer('default', { status: 429, body: '' });
  const met = await outage(first.introspector.introspect(randomToken()));
  expect(met.retryAfterSeconds).toBe(1);
  expect(first.changes).toEqual([{ state: 'open', seconds: 1, cause: 'backoff' }]);
  // The others hear it over the store's channel (the back-off lasts 1 s: ask at once).
  expect(await until(() => others.every((r) => r.changes.length === 1), 900)).toBe(true);
  const refused = await Promise.all(others.map((r) => outage(r.introspector.introspect('t'))));
  for (const error of refused) expect(error.retryAfterSeconds).toBe(1);
  for (const r of others) {
    expect(r.changes).toEqual([{ state: 'open', seconds: 1, cause: 'peer' }]);
    expect(r.introspector.stats()).toMatchObject({ shed: 1, introspections: 0 });
  }
  expect(zitadel.requests).toHaveLength(1);
  // After the back-off one probe (one replica) closes the circuit for the fleet.
  zitadel.answer('default', { json: { active: false } });
  await sleep(1_100);
  expect(await others[0].introspector.introspect(randomToken())).toEqual({
    active: false,
    reason: 'inactive',
  });
  expect(await until(() => first.changes.at(-1)?.state === 'closed', 2_000)).toBe(true);
  expect(first.introspector.health().circuit.open).toBe(false);
});

it('refresh-ahead on two replicas sharing a coordinating store: one call per TTL for the fleet', async () => {
  zitadel.answer('default', { json: activeAnswer({}, 3600), delayMs: 300 });
  // One clock for both, so their entries come due at the same instant.
  const clock = { now: Date.now() };
  const [a, b] = await start(2, {
    now: () => clock.now,
    cache: { maxTtlSeconds: 60, refreshAheadSeconds: 30 },
  });
  const token = randomToken();
  await a.introspector.introspect(token);
  await b.introspector.introspect(token);
  expect(zitadel.requests).toHaveLength(1);
  for (let round = 1; round <= 3; round++) {
    clock.now += 31_000;
    // Both hits are due at once: each answers at once and starts a refresh.
    const asked = Date.now();
    const answers = await Promise.all([a, b].map((r) => r.introspector.introspect(token)));
    expect(Date.now() - asked).toBeLessThan(300);
    for (const answer of answers) expect(answer.active).toBe(true);
    const settled = () => [a, b].every((r) => r.introspector.stats().refreshes === round);
    expect(await until(settled, 3_000)).toBe(true);
    // One replica took the fleet lock and called; the other waited and adopted its answer.
    expect(await until(() => zitadel.requests.length === 1 + round, 3_000)).toBe(true);
    await sleep(600);
    expect(zitadel.requests).toHaveLength(1 + round);
  }
  // Refreshes are no request's misses or peer answers.
  const stats = [a, b].map((r) => r.introspector.stats());
  expect(stats.map((s) => s.misses + s.peerAnswered).reduce((x, y) => x + y)).toBe(1);
  expect(stats.map((s) => s.introspections).reduce((x, y) => x + y)).toBe(4);
});
