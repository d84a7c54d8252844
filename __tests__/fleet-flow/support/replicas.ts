/**
 * N "replicas" in one test process: each an introspector with its own ioredis
 * client and coordinating RedisStore on one real redis-server, all against
 * one scripted ZITADEL. The fleet policies (circuit, back-off, probe, budget)
 * run over the store's own link, as in production; `received` records what
 * each replica heard from the others on it.
 *
 * Every situation of these tests is one a real store produces (a stalled
 * Redis is a SIGSTOPped redis-server with a small `storeTimeoutMs`), so no
 * test link is injected any more: the test-only TEST_FLEET_LINK option and
 * its hand-made link are gone from lib/ and from here.
 */
import { randomBytes } from 'node:crypto';
import Redis from 'ioredis';
import { FLEET_LINK, type FleetLink, type FleetMessage } from '../../../lib/cache/fleet-link';
import { RedisStore } from '../../../lib/cache/redis-store';
import { IntrospectionUnavailableError } from '../../../lib/errors';
import { createIntrospector, type Introspector } from '../../../lib/introspector';
import type { IntrospectorOptions } from '../../../lib/options';
import type { ScriptedZitadel } from '../../helpers/scripted-zitadel';

export interface Replica {
  introspector: Introspector;
  /** The coordinating store's link (its eval, keys and sealed messages). */
  link: FleetLink;
  /** Messages this replica heard from other replicas. */
  received: FleetMessage[];
  client: Redis;
}

export async function startReplicas(
  count: number,
  setup: {
    redisUrl: string;
    prefix: string;
    zitadel: ScriptedZitadel;
    /** The store's bound per Redis operation: generous by default, this machine is loaded. */
    storeTimeoutMs?: number;
  },
  options: Partial<IntrospectorOptions> = {},
): Promise<Replica[]> {
  return Promise.all(
    Array.from({ length: count }, async () => {
      const client = new Redis(setup.redisUrl, { maxRetriesPerRequest: 1, disconnectTimeout: 50 });
      const introspector = createIntrospector({
        issuer: setup.zitadel.issuer,
        clientId: 'api@project',
        clientSecret: 'secret',
        retries: 0,
        ...options,
        cache: {
          store: new RedisStore(client, { prefix: setup.prefix }),
          storeTimeoutMs: setup.storeTimeoutMs ?? 1_000,
          ...options.cache,
        },
      } as IntrospectorOptions);
      await introspector.ready();
      const link = linkOf(introspector);
      const received: FleetMessage[] = [];
      link.onMessage((message) => received.push(message));
      return { introspector, link, received, client };
    }),
  );
}

/** The coordinating store's link, there once ready() loaded the credential. */
export function linkOf(introspector: Introspector): FleetLink {
  const link = (introspector as unknown as { [FLEET_LINK](): FleetLink | undefined })[FLEET_LINK]();
  if (!link) throw new Error('no fleet link: the store does not coordinate');
  return link;
}

export async function stopReplicas(replicas: Replica[]): Promise<void> {
  await Promise.all(replicas.map((r) => r.introspector.close()));
  replicas.forEach((r) => r.client.disconnect());
}

/**
 * Every command redis-server receives while `work` runs (MONITOR on its own
 * connection), e.g. to show that memory hits touch no Redis.
 */
export async function commandsDuring(url: string, work: () => Promise<void>): Promise<string[]> {
  const marker = new Redis(url);
  await marker.ping(); // its connection's own commands come before MONITOR starts
  const monitor = await marker.monitor(); // a connection of its own, in MONITOR mode
  const seen: string[] = [];
  monitor.on('monitor', (_time: string, args: string[]) => seen.push(args[0].toLowerCase()));
  try {
    await work();
    // Once MONITOR shows this mark, it has shown everything sent before it.
    await marker.echo('monitor-mark');
    await until(() => seen.includes('echo'), 2_000);
  } finally {
    monitor.disconnect();
    marker.disconnect();
  }
  return seen.slice(0, seen.indexOf('echo'));
}

export const randomToken = () => randomBytes(24).toString('base64url');

/** The 503 an introspection rejects with (fails the test if it succeeds or fails otherwise). */
export async function outage(answer: Promise<unknown>): Promise<IntrospectionUnavailableError> {
  const error = await answer.then(
    () => new Error('expected a 503'),
    (e: unknown) => e,
  );
  if (!(error instanceof IntrospectionUnavailableError)) throw error;
  return error;
}

/** Polls `check` every 10 ms until it holds or `ms` pass; returns whether it held. */
export async function until(check: () => boolean, ms = 500): Promise<boolean> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) return false;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  return true;
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
