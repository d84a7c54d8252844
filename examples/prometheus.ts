/**
 * The example API with a Prometheus `/metrics` endpoint, without
 * OpenTelemetry: `prom-client` counters and a histogram fed from the
 * package's diagnostics_channel events, gauges read from `stats()` and
 * `health()` at scrape time.
 *
 *   ZITADEL_ISSUER=https://acme.zitadel.cloud \
 *   ZITADEL_KEY_FILE=./api-key.json \
 *   PORT=3000 npx tsx examples/prometheus.ts
 *
 *   curl localhost:3000/metrics
 */
import { subscribe, tracingChannel, unsubscribe } from 'node:diagnostics_channel';
import type { Express } from 'express';
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import {
  type CircuitEvent,
  type DecisionEvent,
  type HttpCallContext,
  type Introspector,
  type ZitadelAuthMiddleware,
} from '../lib';
import { createApi } from './api';
import {
  listen,
  missingEnv,
  runFromCommandLine,
  startAuth,
  type Listening,
  type Output,
} from './shared';

/** The buckets of the OpenTelemetry bridge: 5 ms to 10 s. */
const BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/**
 * A registry with the auth layer's metrics, and how to stop feeding it.
 *
 * @example
 * ```ts
 * const metrics = authMetrics(auth.introspector);
 * app.get('/metrics', async (req, res) => res.type(metrics.registry.contentType).send(await metrics.registry.metrics()));
 * ```
 */
export interface AuthMetrics {
  registry: Registry;
  /** Unsubscribes from the channels. */
  stop(): void;
}

/**
 * Subscribes to the decision, http and circuit channels and registers:
 * `zitadel_auth_decisions_total{stage,outcome,status,reason,source}`,
 * `zitadel_introspection_duration_seconds{result}` (per HTTP attempt),
 * `zitadel_introspection_calls_total{result}`,
 * `zitadel_circuit_changes_total{state,cause}`, and at scrape time
 * `zitadel_introspector_stats{stat}` (from `stats()`), `zitadel_health_ok`
 * and `zitadel_circuit_open` (from `health()`). Every handler catches what
 * it throws: Node would rethrow a subscriber's exception on the next tick.
 *
 * @example
 * ```ts
 * const { registry, stop } = authMetrics(auth.introspector);
 * ```
 */
export function authMetrics(introspector: Introspector, registry = new Registry()): AuthMetrics {
  const decisions = new Counter({
    name: 'zitadel_auth_decisions_total',
    help: 'Authorization decisions by stage, outcome, status, reason and source',
    labelNames: ['stage', 'outcome', 'status', 'reason', 'source'],
    registers: [registry],
  });
  const duration = new Histogram({
    name: 'zitadel_introspection_duration_seconds',
    help: 'Duration of one HTTP attempt to the introspection endpoint',
    labelNames: ['result'],
    buckets: BUCKETS,
    registers: [registry],
  });
  const calls = new Counter({
    name: 'zitadel_introspection_calls_total',
    help: 'HTTP attempts to the introspection endpoint by result',
    labelNames: ['result'],
    registers: [registry],
  });
  const circuitChanges = new Counter({
    name: 'zitadel_circuit_changes_total',
    help: 'Openings and closings of the circuit in front of ZITADEL',
    labelNames: ['state', 'cause'],
    registers: [registry],
  });
  new Gauge({
    name: 'zitadel_introspector_stats',
    help: 'The counters of introspector.stats() (hits, misses, introspections, ...)',
    labelNames: ['stat'],
    registers: [registry],
    collect() {
      for (const [stat, value] of Object.entries(introspector.stats())) this.set({ stat }, value);
    },
  });
  new Gauge({
    name: 'zitadel_health_ok',
    help: '1 when introspector.health().ok: this replica can take traffic (an open circuit is zitadel_circuit_open)',
    registers: [registry],
    collect() {
      this.set(introspector.health().ok ? 1 : 0);
    },
  });
  new Gauge({
    name: 'zitadel_circuit_open',
    help: '1 while the circuit in front of ZITADEL is open',
    registers: [registry],
    collect() {
      this.set(introspector.health().circuit.open ? 1 : 0);
    },
  });

  const onDecision = guarded((message: unknown) => {
    const event = message as DecisionEvent;
    decisions.inc({
      stage: event.stage,
      outcome: event.outcome,
      status: event.status,
      reason: event.reason ?? '',
      source: event.source,
    });
  });
  const onCircuit = guarded((message: unknown) => {
    const { state, cause } = message as CircuitEvent;
    circuitChanges.inc({ state, cause });
  });
  const started = new WeakMap<object, number>();
  const http = {
    start: guarded((ctx: HttpCallContext) => started.set(ctx, performance.now())),
    asyncEnd: guarded((ctx: HttpCallContext) => {
      const at = started.get(ctx);
      if (at === undefined || ctx.kind !== 'introspection') return;
      const result = ctx.error !== undefined ? 'error' : ctx.result?.active ? 'active' : 'inactive';
      duration.observe({ result }, (performance.now() - at) / 1000);
      calls.inc({ result });
    }),
  };
  const httpChannel = tracingChannel<unknown, HttpCallContext>(
    'express-zitadel-introspection:http',
  );
  subscribe('express-zitadel-introspection:decision', onDecision);
  subscribe('express-zitadel-introspection:circuit', onCircuit);
  httpChannel.subscribe(http as never);
  return {
    registry,
    stop() {
      unsubscribe('express-zitadel-introspection:decision', onDecision);
      unsubscribe('express-zitadel-introspection:circuit', onCircuit);
      httpChannel.unsubscribe(http as never);
    },
  };
}

/**
 * The example API of `examples/api.ts` plus `GET /metrics`. In production,
 * serve `/metrics` on an internal port or behind your own protection.
 *
 * @example
 * ```ts
 * const { app, metrics } = createMonitoredApi({ auth });
 * app.listen(3000);
 * ```
 */
export function createMonitoredApi(options: { auth: ZitadelAuthMiddleware; out?: Output }): {
  app: Express;
  metrics: AuthMetrics;
} {
  const metrics = authMetrics(options.auth.introspector);
  const app = createApi(options);
  app.get('/metrics', (_req, res, next) => {
    metrics.registry.metrics().then((text) => {
      res.type(metrics.registry.contentType).send(text);
    }, next);
  });
  return { app, metrics };
}

/**
 * Runs the monitored API against the ZITADEL in `env` (`ZITADEL_ISSUER`,
 * `ZITADEL_KEY_FILE`, optional `ZITADEL_PROJECT_ID`, `PORT` default 3000).
 * Resolves to the running server, or `undefined` after printing what is missing.
 *
 * @example
 * ```ts
 * const running = await main({ ZITADEL_ISSUER: issuer, ZITADEL_KEY_FILE: './api-key.json', PORT: '0' });
 * await running?.close();
 * ```
 */
export async function main(
  env: NodeJS.ProcessEnv = process.env,
  out: Output = console,
): Promise<Listening | undefined> {
  const missing = missingEnv(env, ['ZITADEL_ISSUER', 'ZITADEL_KEY_FILE']);
  if (missing.length > 0) {
    out.error(`Missing: ${missing.join(', ')}. See the top of examples/prometheus.ts.`);
    return undefined;
  }
  const auth = await startAuth(env, out);
  if (!auth) return undefined;
  const { app, metrics } = createMonitoredApi({ auth, out });
  const api = await listen(app, Number(env.PORT ?? 3000), env.HOST).catch(async (error) => {
    metrics.stop();
    await auth.introspector.close();
    throw error;
  });
  out.log(`example API on ${api.url}; metrics on ${api.url}/metrics`);
  return {
    ...api,
    close: async () => {
      await api.close();
      metrics.stop();
      await auth.introspector.close();
    },
  };
}

/** Wraps a channel handler so that nothing it throws reaches diagnostics_channel. */
function guarded<A>(handler: (arg: A) => unknown): (arg: A) => void {
  return (arg) => {
    try {
      handler(arg);
    } catch {
      // A metric that cannot be recorded must not break the request.
    }
  };
}

if (require.main === module) runFromCommandLine(() => main());
