/**
 * Revocation pushed by ZITADEL reaches JWTs that replicas verify locally
 * (`jwt: { verify: 'local' }`), which never asked ZITADEL about them: the
 * kit's `user.deactivated` event to one replica's webhook makes every
 * replica send that user's JWT to introspection, where it is inactive.
 */
import type { RequestHandler } from 'express';
import { serviceUserTokenSource, zitadelEvents } from 'express-zitadel-introspection';
import { startLocalZitadel, type LocalZitadel } from 'express-zitadel-introspection/testing';
import {
  describeWithRedis,
  startRedis,
  uniquePrefix,
  type RedisServer,
} from '../helpers/redis-server';
import { startReplica, stopReplicas, whoamiOf, type Replica } from '../helpers/event-replicas';

describeWithRedis('revocation pushed by ZITADEL, JWTs verified locally on three replicas', () => {
  let redis: RedisServer;
  let z: LocalZitadel;
  const replicas: Replica[] = [];
  let webhook: RequestHandler | undefined;

  beforeAll(async () => {
    [redis, z] = await Promise.all([startRedis(), startLocalZitadel()]);
    const prefix = uniquePrefix('events-jwt');
    for (let index = 0; index < 3; index++) {
      replicas.push(
        await startReplica({
          index,
          redisUrl: redis.url,
          prefix,
          zitadel: z,
          auth: { jwt: { verify: 'local', revalidateSeconds: 0 }, cache: { storeTimeoutMs: 500 } },
          webhook: () => webhook,
          whoami: (auth) => ({ subject: auth.subject, source: auth.source }),
        }),
      );
    }
    const { signingKey } = await z.addEventTarget({ url: `${replicas[0]!.url}/zitadel/events` });
    webhook = zitadelEvents({ signingKey, introspector: replicas[0]!.auth.introspector });
  });

  afterAll(async () => {
    await stopReplicas(replicas);
    await z?.close();
    await redis?.stop();
  });

  async function status(replica: Replica, token: string): Promise<number> {
    return (await whoamiOf(replica, token)).status;
  }

  async function jwtOf(name: string) {
    const user = await z.createServiceUser({
      name,
      auth: 'key',
      roles: { reader: ['org-1'] },
      accessTokenType: 'jwt',
    });
    const source = serviceUserTokenSource({
      issuer: z.issuer,
      key: user.keyFile!,
      scope: ['openid', `urn:zitadel:iam:org:project:id:${z.projectId}:aud`],
    });
    return { userId: user.userId, token: await source.getToken() };
  }

  it('z.deactivateUser(): every replica refuses the JWT within 1 s; another user’s JWT costs no call', async () => {
    const alice = await jwtOf('jwt-events-alice');
    const bob = await jwtOf('jwt-events-bob');
    expect(alice.token.split('.')).toHaveLength(3);
    await z.resetCalls();
    for (const replica of replicas) {
      expect(await status(replica, alice.token)).toBe(200);
      expect(await status(replica, bob.token)).toBe(200);
    }
    // Verified locally on every replica: ZITADEL was never asked.
    expect((await z.calls()).introspection).toBe(0);

    const start = Date.now();
    await z.deactivateUser(alice.userId);
    const pending = new Set(replicas);
    while (pending.size > 0 && Date.now() - start < 1000) {
      for (const replica of [...pending]) {
        if ((await status(replica, alice.token)) === 401) pending.delete(replica);
      }
    }
    expect(pending.size).toBe(0);
    const callsAfterAlice = (await z.calls()).introspection;
    expect(callsAfterAlice).toBeGreaterThanOrEqual(1);

    for (const replica of replicas) expect(await status(replica, bob.token)).toBe(200);
    expect((await z.calls()).introspection).toBe(callsAfterAlice);
  }, 30_000);
});
