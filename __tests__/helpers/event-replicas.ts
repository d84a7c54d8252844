/**
 * Replicas of an API for the end-to-end revocation tests: each its own
 * ioredis client and RedisStore (one prefix for the fleet) on a real
 * redis-server, `GET /api/whoami` behind `zitadelAuth`, and
 * `POST /zitadel/events` answered by the webhook on replica 0 only (every
 * replica mounts the path; ZITADEL's event target names one of them).
 */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express, { type RequestHandler } from 'express';
import Redis from 'ioredis';
import {
  RedisStore,
  zitadelAuth,
  type AuthInfo,
  type CacheOptions,
  type ZitadelAuthMiddleware,
  type ZitadelAuthOptions,
} from 'express-zitadel-introspection';
import type { LocalZitadel } from 'express-zitadel-introspection/testing';

export interface Replica {
  url: string;
  auth: ZitadelAuthMiddleware;
  redis: Redis;
  server: Server;
}

export interface ReplicaOptions {
  index: number;
  redisUrl: string;
  /** Redis key prefix of the fleet. */
  prefix: string;
  /** The issuer, its API key and project: the kit's. */
  zitadel: LocalZitadel;
  /** More `zitadelAuth` options; the cache's store is the replica's RedisStore. */
  auth?: Partial<Omit<ZitadelAuthOptions, 'cache'>> & { cache?: Omit<CacheOptions, 'store'> };
  /** Replica 0's webhook, read on every request so a test can swap it. */
  webhook: () => RequestHandler | undefined;
  /** The JSON `GET /api/whoami` answers for the caller. */
  whoami: (auth: AuthInfo) => unknown;
}

/** Starts one replica on a free port of 127.0.0.1, its introspector ready. */
export async function startReplica(options: ReplicaOptions): Promise<Replica> {
  const client = new Redis(options.redisUrl, { maxRetriesPerRequest: 1 });
  const { zitadel } = options;
  const auth = zitadelAuth({
    issuer: zitadel.issuer,
    key: zitadel.apiKeyPath,
    projectId: zitadel.projectId,
    ...options.auth,
    cache: { ...options.auth?.cache, store: new RedisStore(client, { prefix: options.prefix }) },
  });
  await auth.introspector.ready();
  const app = express();
  app.post('/zitadel/events', ((req, res, next) => {
    const webhook = options.index === 0 ? options.webhook() : undefined;
    return webhook ? webhook(req, res, next) : res.status(404).end();
  }) as RequestHandler);
  app.get('/api/whoami', auth, (req, res) => {
    res.json(options.whoami(req.auth!));
  });
  const server = await new Promise<Server>((resolve) => {
    const started = app.listen(0, '127.0.0.1', () => resolve(started));
  });
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { url, auth, redis: client, server };
}

/** Stops the replicas' servers, introspectors and Redis clients. */
export async function stopReplicas(replicas: readonly Replica[]): Promise<void> {
  for (const replica of replicas) {
    replica.server.closeAllConnections();
    await new Promise((resolve) => replica.server.close(resolve));
    await replica.auth.introspector.close();
    replica.redis.disconnect();
  }
}

/** `GET /api/whoami` with `token`: the status, and the JSON body on a 200. */
export async function whoamiOf<T>(
  replica: Replica,
  token: string,
): Promise<{ status: number; body?: T }> {
  const response = await fetch(`${replica.url}/api/whoami`, {
    headers: { authorization: `Bearer ${token}` },
  });
  if (response.status !== 200) {
    await response.arrayBuffer();
    return { status: response.status };
  }
  return { status: 200, body: (await response.json()) as T };
}
