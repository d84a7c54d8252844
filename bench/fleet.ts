/**
 * The `fleet` bench (issues 11 and 12): N replica PROCESSES (bench/fleet-replica.ts,
 * each its own ioredis client + coordinating RedisStore) on one redis-server.
 *
 * 1. New tokens, each sent to every replica at once, the local ZITADEL slow:
 *    introspection calls per distinct token (the kit's `calls()`), p99 latency.
 * 2. Eviction propagation: `evict` on replica 0 of a token ZITADEL already
 *    refuses → time until no other replica holds it in memory, and until
 *    every other replica refuses it (one introspection each after that).
 * 3. The webhook: `z.deactivateUser()` → time until every replica refuses
 *    (the event pushed to replica 0's `zitadelEvents()`, spread through Redis),
 *    against the `maxTtlSeconds` bound (docs/caching.md quotes it).
 */
import type { ChildProcess } from 'node:child_process';
import { request, Agent } from 'node:http';
import { performance } from 'node:perf_hooks';
import type { LocalZitadel } from '../lib/testing';
import type { ReplicaCommand, ReplicaConfig } from './fleet-replica';
import { forkScript, nextMessage, stopChild, type ChildMessage } from './processes';
import { percentile } from './stats';

/**
 * How to run the fleet bench.
 *
 * @example
 * ```ts
 * const settings: FleetSettings = { replicas: 4, issuerLatencyMs: 200, inFlightTokens: 25, trials: 10 };
 * ```
 */
export interface FleetSettings {
  replicas: number;
  issuerLatencyMs: number;
  /** Tokens in flight at once (each to every replica). */
  inFlightTokens: number;
  /** Eviction and webhook trials. */
  trials: number;
  maxTtlSeconds: number;
}

/**
 * What the fleet bench measured.
 *
 * @example
 * ```ts
 * const { callsPerToken } = await runFleet(zitadel, { ... });
 * ```
 */
export interface FleetResult {
  replicas: number;
  tokens: number;
  introspectionCalls: number;
  callsPerToken: number;
  latencyP50Ms: number;
  latencyP99Ms: number;
  failures: number;
  /** `evict` on replica 0 until every other replica's memory no longer holds the answer. */
  evictP50Ms: number;
  evictP99Ms: number;
  /** The same until every other replica also answers 401 (one introspection each). */
  evictRefusedP50Ms: number;
  evictRefusedP99Ms: number;
  webhookP50Ms: number;
  webhookP99Ms: number;
  webhookMaxMs: number;
  trials: number;
  maxTtlSeconds: number;
}

export interface Replica {
  child: ChildProcess;
  port: number;
}

/**
 * Starts the replicas, runs the three measurements, stops the replicas.
 *
 * @example
 * ```ts
 * const fleet = await runFleet(zitadel, { redisUrl, buildDir, tokens, settings });
 * ```
 */
export async function runFleet(
  zitadel: LocalZitadel,
  options: {
    redisUrl: string;
    buildDir: string;
    tokens: readonly string[];
    settings: FleetSettings;
  },
): Promise<FleetResult> {
  const { settings } = options;
  const prefix = `bench-fleet-${Date.now()}:`;
  const replicas = await Promise.all(
    Array.from({ length: settings.replicas }, (_, index) =>
      startReplica({
        index,
        issuer: zitadel.issuer,
        apiKeyPath: zitadel.apiKeyPath,
        projectId: zitadel.projectId,
        redisUrl: options.redisUrl,
        prefix,
        maxTtlSeconds: settings.maxTtlSeconds,
        buildDir: options.buildDir,
      }),
    ),
  );
  const agent = new Agent({ keepAlive: true, maxSockets: 256 });
  try {
    const coalescing = await newTokens(zitadel, replicas, agent, options.tokens, settings);
    const evict = await evictionTrials(zitadel, replicas, agent, settings.trials);
    const webhook = await webhookTrials(zitadel, replicas, agent, settings.trials);
    return {
      replicas: settings.replicas,
      ...coalescing,
      evictP50Ms: percentile(evict.propagation, 50),
      evictP99Ms: percentile(evict.propagation, 99),
      evictRefusedP50Ms: percentile(evict.refused, 50),
      evictRefusedP99Ms: percentile(evict.refused, 99),
      webhookP50Ms: percentile(webhook, 50),
      webhookP99Ms: percentile(webhook, 99),
      webhookMaxMs: Math.max(...webhook),
      trials: settings.trials,
      maxTtlSeconds: settings.maxTtlSeconds,
    };
  } finally {
    agent.destroy();
    await Promise.all(replicas.map((replica) => stopChild(replica.child)));
  }
}

/**
 * Forks one replica and waits for its port (the fleet and steady-stream benches).
 *
 * @example
 * ```ts
 * const { child, port } = await startReplica({ index: 0, issuer, apiKeyPath, projectId, redisUrl, prefix, maxTtlSeconds: 300, buildDir });
 * ```
 */
export async function startReplica(config: ReplicaConfig): Promise<Replica> {
  const child = forkScript('fleet-replica', config);
  const { port } = await nextMessage(child, 'ready', 30_000);
  return { child, port };
}

async function command(replica: Replica, message: ReplicaCommand): Promise<void> {
  const answer = nextMessage(replica.child, 'result', 10_000);
  replica.child.send(message);
  await answer;
}

/** Every token to every replica at once, `inFlightTokens` tokens at a time, ZITADEL slow. */
async function newTokens(
  zitadel: LocalZitadel,
  replicas: Replica[],
  agent: Agent,
  tokens: readonly string[],
  settings: FleetSettings,
) {
  await zitadel.setLatency(settings.issuerLatencyMs);
  await zitadel.resetCalls();
  const latencies: number[] = [];
  let failures = 0;
  let next = 0;
  const worker = async () => {
    while (next < tokens.length) {
      const token = tokens[next++]!;
      await Promise.all(
        replicas.map(async (replica) => {
          const started = performance.now();
          const status = await get(replica.port, token, agent);
          latencies.push(performance.now() - started);
          if (status !== 204) failures++;
        }),
      );
    }
  };
  try {
    await Promise.all(Array.from({ length: settings.inFlightTokens }, worker));
  } finally {
    await zitadel.setLatency(0);
  }
  const introspectionCalls = (await zitadel.calls()).introspection;
  latencies.sort((a, b) => a - b);
  return {
    tokens: tokens.length,
    introspectionCalls,
    callsPerToken: introspectionCalls / tokens.length,
    latencyP50Ms: percentile(latencies, 50),
    latencyP99Ms: percentile(latencies, 99),
    failures,
  };
}

/**
 * A token cached on every replica whose user ZITADEL has since deactivated
 * (no event target yet, so only the caches still accept it). Each trial
 * gives two samples from the moment `evict` is sent to replica 0:
 * `propagation`, until every other replica reports the answer gone from its
 * memory (each watches its own memory every 1 ms, no request), and
 * `refused`, until each also answers 401 (one introspection each after it).
 */
async function evictionTrials(
  zitadel: LocalZitadel,
  replicas: Replica[],
  agent: Agent,
  trials: number,
): Promise<{ propagation: number[]; refused: number[] }> {
  const propagation: number[] = [];
  const refused: number[] = [];
  const others = replicas.slice(1);
  for (let trial = 0; trial < trials; trial++) {
    const { userId, pat } = await zitadel.createServiceUser({
      name: `evict-${trial}`,
      auth: 'pat',
    });
    await acceptedEverywhere(replicas, agent, pat!);
    await zitadel.deactivateUser(userId);
    await acceptedEverywhere(replicas, agent, pat!); // still cached
    const watches = await Promise.all(others.map((replica) => watch(replica, pat!)));
    const started = performance.now();
    await command(replicas[0]!, { type: 'evict', token: pat! });
    await Promise.all(watches.map((watching) => watching.gone));
    propagation.push(performance.now() - started);
    await refusedEverywhere(others, agent, pat!, started);
    refused.push(performance.now() - started);
  }
  return { propagation: propagation.sort((a, b) => a - b), refused: refused.sort((a, b) => a - b) };
}

/**
 * Starts a replica watching its memory; resolves, once it watches, to a
 * promise of its `gone` (both listened for before the command is sent).
 * Wrapped in an object: resolving with a bare promise would wait for it.
 */
function watch(replica: Replica, token: string): Promise<{ gone: Promise<void> }> {
  return new Promise((resolveWatching, reject) => {
    let resolveGone: () => void;
    const gone = new Promise<void>((resolve) => (resolveGone = resolve));
    const timer = setTimeout(() => done(new Error('fleet: no eviction within 30 s')), 30_000);
    const onMessage = (message: ChildMessage) => {
      if (message.type === 'error') done(new Error(message.message));
      else if (message.type === 'result' && message.result === 'watching')
        resolveWatching({ gone });
      else if (message.type === 'result' && message.result === 'gone') done();
    };
    function done(error?: Error) {
      clearTimeout(timer);
      replica.child.off('message', onMessage);
      if (error) reject(error);
      else resolveGone();
    }
    replica.child.on('message', onMessage);
    replica.child.send({ type: 'watch', token } satisfies ReplicaCommand);
  });
}

/** `deactivateUser` → refused on every replica, through the event webhook on replica 0. */
async function webhookTrials(
  zitadel: LocalZitadel,
  replicas: Replica[],
  agent: Agent,
  trials: number,
): Promise<number[]> {
  const { signingKey } = await zitadel.addEventTarget({
    url: `http://127.0.0.1:${replicas[0]!.port}/zitadel/events`,
    events: ['user.deactivated'],
  });
  await command(replicas[0]!, { type: 'webhook', signingKey });
  const samples: number[] = [];
  for (let trial = 0; trial < trials; trial++) {
    const { userId, pat } = await zitadel.createServiceUser({ name: `hook-${trial}`, auth: 'pat' });
    await acceptedEverywhere(replicas, agent, pat!);
    const started = performance.now();
    await zitadel.deactivateUser(userId);
    await refusedEverywhere(replicas, agent, pat!, started);
    samples.push(performance.now() - started);
  }
  return samples.sort((a, b) => a - b);
}

async function acceptedEverywhere(replicas: Replica[], agent: Agent, token: string) {
  for (const replica of replicas) {
    const status = await get(replica.port, token, agent);
    if (status !== 204) throw new Error(`fleet: replica answered ${status} for a live token`);
  }
}

/** Polls until every replica answers 401; gives up after 30 s. */
async function refusedEverywhere(
  replicas: Replica[],
  agent: Agent,
  token: string,
  started: number,
): Promise<void> {
  const pending = new Set(replicas);
  while (pending.size > 0) {
    await Promise.all(
      [...pending].map(async (replica) => {
        if ((await get(replica.port, token, agent)) === 401) pending.delete(replica);
      }),
    );
    if (performance.now() - started > 30_000) throw new Error('fleet: not refused within 30 s');
  }
}

function get(port: number, token: string, agent: Agent): Promise<number> {
  return new Promise((resolve) => {
    const req = request(
      {
        host: '127.0.0.1',
        port,
        path: '/api',
        agent,
        headers: { authorization: `Bearer ${token}` },
      },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      },
    );
    req.on('error', () => resolve(0));
    req.end();
  });
}
