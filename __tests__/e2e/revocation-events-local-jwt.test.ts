/**
 * Revocation pushed by ZITADEL reaches JWTs that replicas verify locally
 * (`jwt: { verify: 'local' }`), which never asked ZITADEL about them: the
 * kit's `user.deactivated` event to one replica's webhook makes every
 * replica send that user's JWT to introspection, where it is inactive.
 */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express, { type RequestHandler } from 'express';
import Redis from 'ioredis';
import {
  RedisStore,
  serviceUserTokenSource,
  zitadelAuth,
  zitadelEvents,
  type ZitadelAuthMiddleware,
} from 'express-zitadel-introspection';
import { startLocalZitadel, type LocalZitadel } from 'express-zitadel-introspection/testing';
import {
  describeWithRedis,
  startRedis,
  uniquePrefix,
  type RedisServer,
} from '../helpers/redis-server';

interface Replica {
  url: string;
  auth: ZitadelAuthMiddleware;
  redis: Redis;
  server: Server;
}

describeWithRedis('revocation pushed by ZITADEL, JWTs verified locally on three replicas', () => {
  let redis: RedisServer;
  let z: LocalZitadel;
  const replicas: Replica[] = [];
  let webhook: RequestHandler | undefined;

  beforeAll(async () => {
    [redis, z] = await Promise.all([startRedis(), startLocalZitadel()]);
    const prefix = uniquePrefix('events-jwt');
    for (let index = 0; index < 3; index++) replicas.push(await startReplica(index, prefix));
    const { signingKey } = await z.addEventTarget({ url: `${replicas[0]!.url}/zitadel/events` });
    webhook = zitadelEvents({ signingKey, introspector: replicas[0]!.auth.introspector });
  });

  afterAll(async () => {
    for (const replica of replicas) {
      replica.server.closeAllConnections();
      await new Promise((resolve) => replica.server.close(resolve));
      await replica.auth.introspector.close();
      replica.redis.disconnect();
    }
    await z?.close();
    await redis?.stop();
  });

  async function startReplica(index: number, prefix: string): Promise<Replica> {
    const client = new Redis(redis.url, { maxRetriesPerRequest: 1 });
    const auth = zitadelAuth({
      issuer: z.issuer,
      key: z.apiKeyPath,
      projectId: z.projectId,
      jwt: { verify: 'local', revalidateSeconds: 0 },
      cache: { store: new RedisStore(client, { prefix }), storeTimeoutMs: 500 },
    });
    await auth.introspector.ready();
    const app = express();
    app.post('/zitadel/events', ((req, res, next) =>
      index === 0 && webhook ? webhook(req, res, next) : res.status(404).end()) as RequestHandler);
    app.get('/api/whoami', auth, (req, res) => {
      res.json({ subject: req.auth!.subject, source: req.auth!.source });
    });
    const server = await new Promise<Server>((resolve) => {
      const started = app.listen(0, '127.0.0.1', () => resolve(started));
    });
    return {
      url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
      auth,
      redis: client,
      server,
    };
  }

  async function status(replica: Replica, token: string): Promise<number> {
    const response = await fetch(`${replica.url}/api/whoami`, {
      headers: { authorization: `Bearer ${token}` },
    });
    await response.arrayBuffer();
    return response.status;
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
