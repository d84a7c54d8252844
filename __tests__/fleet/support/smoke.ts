/**
 * The fleet's smoke set, for any way of reaching Redis (a client option, a
 * Sentinel, …): one introspection per token across the replicas (counted
 * by the local ZITADEL itself), an `evict` on one replica refused on the
 * others, an `evictSubject` on another refused on the rest.
 */
import type Redis from 'ioredis';
import { createIntrospector, RedisStore } from '../../../lib';
import type { Introspector } from '../../../lib/introspector';
import type { LocalZitadel } from '../../../lib/testing';
import { captureLogger } from '../../helpers/capture-logger';
import { eventually } from '../fleet-kit';

/**
 * `count` replicas of one fleet on the local ZITADEL, each with its own
 * ioredis client from `connect()` and its own coordinating RedisStore
 * (`prefix`, a 500 ms store timeout for a loaded machine) and logger. Call
 * `ready()` on them yourself; close them and disconnect the clients after.
 *
 * @example
 * ```ts
 * const fleet = smokeReplicas(z, () => new Redis(url), uniquePrefix('x'));
 * ```
 */
export function smokeReplicas(
  z: LocalZitadel,
  connect: () => Redis,
  prefix: string,
  count = 2,
): {
  clients: Redis[];
  introspectors: Introspector[];
  loggers: ReturnType<typeof captureLogger>[];
} {
  const clients: Redis[] = [];
  const introspectors: Introspector[] = [];
  const loggers: ReturnType<typeof captureLogger>[] = [];
  for (let i = 0; i < count; i++) {
    const client = connect();
    const logger = captureLogger();
    introspectors.push(
      createIntrospector({
        issuer: z.issuer,
        key: z.apiKeyFile,
        projectId: z.projectId,
        cache: { store: new RedisStore(client, { prefix, logger }), storeTimeoutMs: 500 },
        logger,
      }),
    );
    clients.push(client);
    loggers.push(logger);
  }
  return { clients, introspectors, loggers };
}

const introspections = async (z: LocalZitadel) => (await z.calls()).introspection;

/** Every replica answers `token` inactive within 500 ms (none serves it from memory). */
async function refusedBy(replicas: Introspector[], token: string): Promise<boolean> {
  return eventually(async () => {
    const answers = await Promise.all(replicas.map((r) => r.introspect(token)));
    return answers.every((a) => !a.active);
  }, 500);
}

export async function fleetSmoke(z: LocalZitadel, replicas: Introspector[], label: string) {
  const [first, second] = replicas;
  for (const n of [1, 2]) {
    const { pat } = await z.createServiceUser({ name: `${label}-new-${n}`, auth: 'pat' });
    const before = await introspections(z);
    await z.setLatency(300); // all replicas miss at once, during the holder's call
    const answers = await Promise.all(replicas.map((r) => r.introspect(pat as string)));
    await z.setLatency(0);
    expect(answers.map((a) => a.active)).toEqual(replicas.map(() => true));
    expect((await introspections(z)) - before).toBe(1);
  }

  const evicted = await z.createServiceUser({ name: `${label}-evict`, auth: 'pat' });
  const other = await z.createServiceUser({ name: `${label}-other`, auth: 'pat' });
  for (const user of [evicted, other]) {
    for (const r of replicas) expect((await r.introspect(user.pat as string)).active).toBe(true);
  }
  await z.deactivateUser(evicted.userId);
  // Still cached everywhere: only an eviction stops it before its TTL.
  expect((await second.introspect(evicted.pat as string)).active).toBe(true);
  const beforeEvict = await introspections(z);
  await first.evict(evicted.pat as string);
  expect(await refusedBy(replicas, evicted.pat as string)).toBe(true);
  // Another user's cached token is untouched: no call for it.
  const afterEvict = await introspections(z);
  for (const r of replicas) expect((await r.introspect(other.pat as string)).active).toBe(true);
  expect(await introspections(z)).toBe(afterEvict);
  expect(afterEvict).toBeGreaterThan(beforeEvict);

  const subject = await z.createServiceUser({ name: `${label}-subject`, auth: 'pat' });
  for (const r of replicas) expect((await r.introspect(subject.pat as string)).active).toBe(true);
  await z.deactivateUser(subject.userId);
  expect((await first.introspect(subject.pat as string)).active).toBe(true);
  await second.evictSubject(subject.userId);
  expect(await refusedBy(replicas, subject.pat as string)).toBe(true);
}
