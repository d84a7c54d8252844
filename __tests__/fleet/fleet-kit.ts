/**
 * Replicas for the fleet tests: each an introspector with its OWN Redis
 * client and RedisStore, all in this test process, against one local
 * ZITADEL and one (or a cluster of) real redis-server.
 */
import Redis, { Cluster } from 'ioredis';
import { createClient, createCluster } from 'redis';
import { createIntrospector, RedisStore } from '../../lib';
import type { Introspector } from '../../lib/introspector';
import type { LocalZitadel } from '../../lib/testing';
import { captureLogger } from '../helpers/capture-logger';

export type ClientKind = 'ioredis' | 'node-redis' | 'ioredis-cluster' | 'node-redis-cluster';

export interface Replica {
  introspector: Introspector;
  store: RedisStore;
  logger: ReturnType<typeof captureLogger>;
  client: { close(): Promise<void> };
}

/** A connected client of `kind` for `urls` (one URL, or the cluster's nodes). */
export async function connect(kind: ClientKind, urls: string[]) {
  if (kind === 'ioredis') {
    const client = new Redis(urls[0], { maxRetriesPerRequest: 1, disconnectTimeout: 50 });
    await client.ping();
    return { client, close: async () => client.disconnect() };
  }
  if (kind === 'ioredis-cluster') {
    const nodes = urls.map((url) => ({ host: '127.0.0.1', port: Number(new URL(url).port) }));
    const client = new Cluster(nodes, { redisOptions: { maxRetriesPerRequest: 1 } });
    await client.ping();
    return { client, close: async () => client.disconnect() };
  }
  if (kind === 'node-redis') {
    const client = createClient({ url: urls[0] });
    client.on('error', () => undefined);
    await client.connect();
    return { client, close: async () => void client.destroy() };
  }
  const client = createCluster({ rootNodes: urls.map((url) => ({ url })) });
  client.on('error', () => undefined);
  await client.connect();
  return { client, close: async () => void client.destroy() };
}

/** `count` replicas sharing `prefix` on Redis. */
export async function startReplicas(
  zitadel: LocalZitadel | Record<string, unknown>,
  urls: string[],
  options: {
    count: number;
    prefix: string;
    kind?: ClientKind;
    cache?: Record<string, unknown>;
    retries?: number;
    timeoutMs?: number;
    coordinate?: boolean;
  },
): Promise<Replica[]> {
  const replicas: Replica[] = [];
  for (let i = 0; i < options.count; i++) {
    const logger = captureLogger();
    const { client, close } = await connect(options.kind ?? 'ioredis', urls);
    const store = new RedisStore(client, {
      prefix: options.prefix,
      logger,
      coordinate: options.coordinate,
    });
    const introspector = createIntrospector({
      ...issuerOptions(zitadel),
      retries: options.retries ?? 0,
      timeoutMs: options.timeoutMs ?? 5_000,
      cache: { store, storeTimeoutMs: 500, ...options.cache },
      logger,
    });
    await introspector.ready();
    replicas.push({ introspector, store, logger, client: { close } });
  }
  return replicas;
}

/** Issuer options of the local ZITADEL, or the given ones (e.g. a scripted ZITADEL). */
function issuerOptions(zitadel: LocalZitadel | Record<string, unknown>) {
  if ('apiKeyFile' in zitadel) {
    const z = zitadel as LocalZitadel;
    return { issuer: z.issuer, key: z.apiKeyFile, projectId: z.projectId };
  }
  return zitadel as { issuer: string; clientId: string; clientSecret: string };
}

export async function stopReplicas(replicas: Replica[]): Promise<void> {
  await Promise.all(replicas.map((r) => r.introspector.close()));
  await Promise.all(replicas.map((r) => r.client.close()));
}

/** Introspection HTTP calls made by all replicas together. */
export const calls = (replicas: Replica[]): number =>
  replicas.reduce((sum, r) => sum + r.introspector.stats().introspections, 0);

/** Polls `check` until it holds or `ms` pass; resolves with the last result. */
export async function eventually(check: () => Promise<boolean>, ms = 500): Promise<boolean> {
  const until = Date.now() + ms;
  for (;;) {
    if (await check()) return true;
    if (Date.now() > until) return false;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

export async function patOf(z: LocalZitadel, name: string): Promise<string> {
  const { pat } = await z.createServiceUser({ name, auth: 'pat', roles: { reader: ['org-1'] } });
  return pat as string;
}
