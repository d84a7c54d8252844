/**
 * Revocation pushed by ZITADEL, end to end: four replicas of an API (each its
 * own ioredis client and RedisStore on one real redis-server), the test
 * kit's ZITADEL emitting signed Actions v2 events to ONE replica's webhook,
 * and every replica refusing a revoked token within a second, long before
 * the 300 s TTL.
 */
import { performance } from 'node:perf_hooks';
import express from 'express';
import { zitadelEvents } from 'express-zitadel-introspection';
import { startLocalZitadel, type LocalZitadel } from 'express-zitadel-introspection/testing';
import type { ZitadelEventsHandler, ZitadelEventsOptions } from '../../lib/express/events-webhook';
import { signEvent } from '../../lib/events/signature';
import { eventBody, post, webhookApp } from '../events/support';
import { startReplica, stopReplicas, whoamiOf, type Replica } from '../helpers/event-replicas';
import {
  describeWithRedis,
  startRedis,
  uniquePrefix,
  type RedisServer,
} from '../helpers/redis-server';

const REPLICAS = 4;
const PROJECT_SCOPE = (projectId: string) => [
  'openid',
  `urn:zitadel:iam:org:project:id:${projectId}:aud`,
  'urn:zitadel:iam:org:projects:roles',
];

describeWithRedis('revocation pushed by ZITADEL to one replica of four', () => {
  let redis: RedisServer;
  let z: LocalZitadel;
  let replicas: Replica[];
  let signingKey: string;
  /** The webhook replica 0 answers with; tests swap it for other options. */
  let webhook: ZitadelEventsHandler;
  let legacy: { userId: string; pat: string };

  beforeAll(async () => {
    redis = await startRedis();
    z = await startLocalZitadel();
    // A user whose grant predates the webhook: its user.grant.added is never seen.
    const created = await z.createServiceUser({
      name: 'legacy-batch',
      auth: 'pat',
      roles: { reader: ['org-1'] },
    });
    legacy = { userId: created.userId, pat: created.pat! };
    const prefix = uniquePrefix('events-e2e');
    replicas = await Promise.all(
      Array.from({ length: REPLICAS }, (_, index) =>
        startReplica({
          index,
          redisUrl: redis.url,
          prefix,
          zitadel: z,
          auth: { cache: { maxTtlSeconds: 300 } },
          webhook: () => webhook,
          whoami: (auth) => ({ subject: auth.subject, roles: Object.keys(auth.roles).sort() }),
        }),
      ),
    );
    ({ signingKey } = await z.addEventTarget({ url: `${replicas[0]!.url}/zitadel/events` }));
    webhook = build();
  });

  afterAll(async () => {
    await stopReplicas(replicas ?? []);
    await z?.close();
    await redis?.stop();
  });

  function build(options: Partial<ZitadelEventsOptions> = {}): ZitadelEventsHandler {
    return zitadelEvents({ signingKey, introspector: replicas[0]!.auth.introspector, ...options });
  }

  async function whoami(replica: Replica, token: string) {
    const { status, body } = await whoamiOf<{ roles: string[] }>(replica, token);
    return { status, roles: body?.roles };
  }

  /** The token answered 200 by every replica, so every replica holds it in memory. */
  async function cachedEverywhere(token: string) {
    for (const replica of replicas) expect((await whoami(replica, token)).status).toBe(200);
    for (const replica of replicas) expect((await whoami(replica, token)).status).toBe(200);
  }

  /** Milliseconds from `start` until every replica refuses `token` (polling), or throws after `withinMs`. */
  async function refusedEverywhere(token: string, start: number, withinMs: number) {
    const pending = new Set(replicas);
    while (pending.size > 0) {
      for (const replica of [...pending]) {
        if ((await whoami(replica, token)).status === 401) pending.delete(replica);
      }
      if (performance.now() - start > withinMs) {
        throw new Error(`${pending.size} replica(s) still accept the token after ${withinMs} ms`);
      }
    }
    return performance.now() - start;
  }

  async function serviceUser(
    name: string,
    options: { jwt?: boolean; roles?: Record<string, string[]> } = {},
  ) {
    const user = await z.createServiceUser({
      name,
      auth: options.jwt ? 'key' : 'pat',
      roles: options.roles ?? { reader: ['org-1'] },
      ...(options.jwt ? { accessTokenType: 'jwt' as const } : {}),
    });
    return user;
  }

  it('z.deactivateUser() → all four replicas refuse the token within 1 s; others untouched, no call', async () => {
    const alice = await serviceUser('events-alice');
    const bob = await serviceUser('events-bob');
    await cachedEverywhere(alice.pat!);
    await cachedEverywhere(bob.pat!);
    await z.resetCalls();

    const start = performance.now();
    await z.deactivateUser(alice.userId);
    const elapsed = await refusedEverywhere(alice.pat!, start, 1000);
    if (process.env.EVENTS_REPORT)
      console.log(`deactivateUser → refused on ${REPLICAS} replicas: ${elapsed.toFixed(1)} ms`);
    expect(elapsed).toBeLessThan(1000);

    // Refusing alice cost ZITADEL one introspection for the fleet, at most
    // one per replica; bob was answered from the cache everywhere.
    const aliceCalls = (await z.calls()).introspection;
    expect(aliceCalls).toBeGreaterThanOrEqual(1);
    expect(aliceCalls).toBeLessThanOrEqual(REPLICAS);
    for (const replica of replicas) expect((await whoami(replica, bob.pat!)).status).toBe(200);
    expect((await z.calls()).introspection).toBe(aliceCalls);
    expect(webhook.stats()).toMatchObject({ refused: 0 });
    expect(webhook.stats().evictions).toBeGreaterThanOrEqual(1);
  });

  it('user.reactivated never re-grants from the cache', async () => {
    const carol = await serviceUser('events-carol');
    await cachedEverywhere(carol.pat!);
    await z.deactivateUser(carol.userId);
    await refusedEverywhere(carol.pat!, performance.now(), 1000);
    const before = webhook.stats();
    await z.reactivateUser(carol.userId);
    expect(webhook.stats()).toMatchObject({
      ignored: before.ignored + 1,
      evictions: before.evictions,
    });
    // The answer cached since the deactivation (inactive) stands until it
    // expires; nothing brought the earlier active answer back.
    for (const replica of replicas) expect((await whoami(replica, carol.pat!)).status).toBe(401);
  });

  it('z.setRoles() → user.grant.changed → the new roles on every replica at once', async () => {
    const dave = await serviceUser('events-dave', { roles: { reader: ['org-1'] } });
    await cachedEverywhere(dave.pat!);
    for (const replica of replicas)
      expect((await whoami(replica, dave.pat!)).roles).toEqual(['reader']);
    await z.setRoles(dave.userId, { writer: ['org-1'] });
    for (const replica of replicas) {
      expect((await whoami(replica, dave.pat!)).roles).toEqual(['writer']);
    }
  });

  it('revokeToken of a PAT → refused everywhere', async () => {
    const erin = await serviceUser('events-erin');
    await cachedEverywhere(erin.pat!);
    const start = performance.now();
    await z.revokeToken(erin.pat!);
    expect(await refusedEverywhere(erin.pat!, start, 1000)).toBeLessThan(1000);
  });

  it('revokeToken of an introspected JWT → oidc_session.access_token.revoked → refused everywhere', async () => {
    const frank = await serviceUser('events-frank', { jwt: true });
    const { serviceUserTokenSource } = await import('express-zitadel-introspection');
    const source = serviceUserTokenSource({
      issuer: z.issuer,
      key: frank.keyFile!,
      scope: PROJECT_SCOPE(z.projectId),
    });
    const token = await source.getToken();
    expect(token.split('.')).toHaveLength(3);
    await cachedEverywhere(token);
    const start = performance.now();
    await z.revokeToken(token);
    expect(await refusedEverywhere(token, start, 1000)).toBeLessThan(1000);
  });

  it("an unmapped grant with 'ignore': the TTL bounds it, nothing else is evicted", async () => {
    await cachedEverywhere(legacy.pat);
    await z.resetCalls();
    const before = webhook.stats();
    await z.setRoles(legacy.userId, { writer: ['org-1'] });
    expect(webhook.stats().ignored).toBe(before.ignored + 1);
    for (const replica of replicas) {
      expect((await whoami(replica, legacy.pat)).roles).toEqual(['reader']);
    }
    expect((await z.calls()).introspection).toBe(0);
  });

  it("an unmapped grant with 'evict-all': every replica drops everything (once a minute)", async () => {
    webhook = build({ onUnmappedGrantChange: 'evict-all' });
    try {
      const grace = await serviceUser('events-grace');
      await cachedEverywhere(grace.pat!);
      await cachedEverywhere(legacy.pat);
      await z.setRoles(legacy.userId, { admin: ['org-1'] });
      expect(webhook.stats()).toMatchObject({ evictions: 1 });
      await z.resetCalls();
      for (const replica of replicas) {
        expect((await whoami(replica, legacy.pat)).roles).toEqual(['admin']);
        expect((await whoami(replica, grace.pat!)).status).toBe(200);
      }
      // Both tokens had to be introspected again: everything was evicted.
      expect((await z.calls()).introspection).toBeGreaterThanOrEqual(2);
    } finally {
      webhook = build();
    }
  });

  it('what one replica learns, another uses: grants and duplicates are fleet-wide; Redis holds no id in clear', async () => {
    const ivan = await serviceUser('events-ivan');
    await cachedEverywhere(ivan.pat!);
    const handlers = replicas.map((replica) =>
      zitadelEvents({ signingKey, introspector: replica.auth.introspector }),
    );
    const on = (index: number) => webhookApp(express, handlers[index]!);
    const grantId = `grant-of-ivan-${Date.now()}`;
    const added = eventBody('user.grant.added', grantId, {
      event_payload: { userId: ivan.userId, projectId: z.projectId, roleKeys: ['reader'] },
    });
    expect((await post(on(1), added, { keys: [signingKey] })).status).toBe(204);
    // The same delivery again, at another replica: a duplicate there.
    expect((await post(on(3), added, { keys: [signingKey] })).status).toBe(204);
    expect(handlers[3]!.stats()).toMatchObject({ accepted: 0, duplicates: 1 });
    await z.resetCalls();
    const changed = eventBody('user.grant.changed', grantId, {
      event_payload: { roleKeys: ['x'] },
    });
    expect((await post(on(2), changed, { keys: [signingKey] })).status).toBe(204);
    for (const replica of replicas) expect((await whoami(replica, ivan.pat!)).status).toBe(200);
    // Evicted everywhere: the fleet had to ask ZITADEL again.
    expect((await z.calls()).introspection).toBeGreaterThanOrEqual(1);
    expect(handlers[2]!.stats()).toMatchObject({ accepted: 1, evictions: 1 });

    const client = replicas[0]!.redis;
    const keys = await client.keys('*');
    expect(keys.length).toBeGreaterThan(0);
    const dump = [...keys];
    for (const key of keys) {
      if ((await client.type(key)) === 'string') dump.push((await client.get(key)) ?? '');
    }
    const text = dump.join('\n');
    for (const id of [ivan.userId, grantId, ivan.pat!]) expect(text).not.toContain(id);
  });

  it('project.role.removed of another project is ignored; of ours evicts everything', async () => {
    const heidi = await serviceUser('events-heidi');
    await cachedEverywhere(heidi.pat!);
    await z.resetCalls();
    const post = (aggregateId: string, sequence: number) => {
      const body = JSON.stringify({
        aggregateID: aggregateId,
        aggregateType: 'project',
        event_type: 'project.role.removed',
        sequence,
        event_payload: { key: 'reader' },
      });
      return fetch(`${replicas[0]!.url}/zitadel/events`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'zitadel-signature': signEvent([signingKey], Math.floor(Date.now() / 1000), body),
        },
        body,
      });
    };
    expect((await post('another-project', 1)).status).toBe(204);
    for (const replica of replicas) expect((await whoami(replica, heidi.pat!)).status).toBe(200);
    expect((await z.calls()).introspection).toBe(0);
    expect((await post(z.projectId, 2)).status).toBe(204);
    for (const replica of replicas) expect((await whoami(replica, heidi.pat!)).status).toBe(200);
    expect((await z.calls()).introspection).toBeGreaterThanOrEqual(1);
  });
});
