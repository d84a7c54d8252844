/**
 * `npx tsx bench/events-revocation.ts [--trials N] [--replicas R]` — how long
 * from `z.deactivateUser()` until every replica refuses the user's cached
 * token, with the revocation pushed by the test kit's ZITADEL to ONE
 * replica's `zitadelEvents()` webhook and spread through Redis. The
 * replicas run in this process (one event loop), each with its own ioredis
 * client and RedisStore; prints p50 / p99 / max against the TTL bound.
 */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';
import express from 'express';
import Redis from 'ioredis';
import { RedisStore, zitadelAuth, zitadelEvents, type ZitadelAuthMiddleware } from '../lib';
import { startLocalZitadel } from '../lib/testing';
import { startRedis } from './processes';

const argv = process.argv.slice(2);
const flag = (name: string, fallback: number) => {
  const at = argv.indexOf(name);
  return at >= 0 ? Number(argv[at + 1]) : fallback;
};
const trials = flag('--trials', 100);
const replicaCount = flag('--replicas', 4);
const maxTtlSeconds = 300;

/** Nearest-rank percentile of a sorted, non-empty list. */
function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

interface Replica {
  url: string;
  auth: ZitadelAuthMiddleware;
  redis: Redis;
  server: Server;
}

async function main(): Promise<void> {
  const redis = await startRedis();
  if ('skipped' in redis) throw new Error(`no Redis: ${redis.skipped}`);
  const z = await startLocalZitadel();
  const replicas: Replica[] = [];
  let webhook: express.RequestHandler = (_req, res) => void res.status(503).end();
  try {
    for (let index = 0; index < replicaCount; index++) {
      const client = new Redis(redis.url);
      const auth = zitadelAuth({
        issuer: z.issuer,
        key: z.apiKeyPath,
        projectId: z.projectId,
        cache: { store: new RedisStore(client, { prefix: 'bench-events:' }), maxTtlSeconds },
      });
      await auth.introspector.ready();
      const app = express();
      if (index === 0) app.post('/zitadel/events', (req, res, next) => webhook(req, res, next));
      app.get('/api', auth, (_req, res) => void res.status(204).end());
      // Refusals answered quietly (Express's default handler prints each one).
      app.use(((error, _req, res, _next) => {
        res.status((error as { status?: number }).status ?? 500).end();
      }) as express.ErrorRequestHandler);
      const server = await new Promise<Server>((resolve) => {
        const started = app.listen(0, '127.0.0.1', () => resolve(started));
      });
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      replicas.push({ url, auth, redis: client, server });
    }
    const { signingKey } = await z.addEventTarget({
      url: `${replicas[0]!.url}/zitadel/events`,
      events: ['user.deactivated'],
    });
    webhook = zitadelEvents({ signingKey, introspector: replicas[0]!.auth.introspector });

    const status = async (replica: Replica, token: string) => {
      const response = await fetch(`${replica.url}/api`, {
        headers: { authorization: `Bearer ${token}` },
      });
      await response.arrayBuffer();
      return response.status;
    };
    const samples: number[] = [];
    for (let trial = 0; trial < trials; trial++) {
      const { userId, pat } = await z.createServiceUser({ name: `bench-${trial}`, auth: 'pat' });
      for (const replica of replicas) {
        if ((await status(replica, pat!)) !== 204) throw new Error('token not accepted');
      }
      const start = performance.now();
      await z.deactivateUser(userId);
      const pending = new Set(replicas);
      while (pending.size > 0) {
        for (const replica of [...pending]) {
          if ((await status(replica, pat!)) === 401) pending.delete(replica);
        }
        if (performance.now() - start > maxTtlSeconds * 1000) throw new Error('not refused');
      }
      samples.push(performance.now() - start);
    }
    samples.sort((a, b) => a - b);
    const ms = (value: number) => `${value.toFixed(1)} ms`;
    console.log(
      `deactivateUser → refused on all ${replicaCount} replicas, ${trials} trials: ` +
        `p50 ${ms(percentile(samples, 50))}, p99 ${ms(percentile(samples, 99))}, ` +
        `max ${ms(samples[samples.length - 1]!)} (without the webhook: up to ${maxTtlSeconds} s, the TTL)`,
    );
  } finally {
    for (const replica of replicas) {
      replica.server.closeAllConnections();
      await new Promise((resolve) => replica.server.close(resolve));
      await replica.auth.introspector.close();
      replica.redis.disconnect();
    }
    await z.close();
    await redis.stop();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
