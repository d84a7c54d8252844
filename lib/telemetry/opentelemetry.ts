/**
 * `express-zitadel-introspection/opentelemetry`: turns the package's
 * diagnostics_channel events into OpenTelemetry metrics and CLIENT spans.
 * The main entry never loads this file, so `@opentelemetry/api` stays an
 * optional peer. Every handler catches what it throws: a broken exporter
 * must not break a request (Node rethrows a subscriber's exception on the
 * next tick, which would crash the process).
 *
 * @packageDocumentation
 */
import { subscribe, tracingChannel, unsubscribe } from 'node:diagnostics_channel';
import {
  context as otelContext,
  metrics,
  SpanKind,
  SpanStatusCode,
  trace,
  type Attributes,
  type MeterProvider,
  type ObservableResult,
  type Span,
  type TracerProvider,
} from '@opentelemetry/api';
import type { Introspector } from '../introspector';
import {
  CIRCUIT_CHANNEL,
  DECISION_CHANNEL,
  HTTP_CHANNEL,
  type DecisionEvent,
  type HttpCallContext,
} from './channels';

export type {
  CircuitEvent,
  DecisionEvent,
  DecisionSource,
  HttpCallContext,
  HttpCallResult,
  ReasonCode,
} from './channels';

/**
 * Options of {@link registerOpenTelemetry}.
 *
 * @example
 * ```ts
 * const options: OpenTelemetryOptions = { meterProvider, tracerProvider, introspectors: [auth.introspector] };
 * ```
 */
export interface OpenTelemetryOptions {
  /** Default: the global meter provider (`metrics.getMeterProvider()`). */
  meterProvider?: MeterProvider;
  /** Default: the global tracer provider (`trace.getTracerProvider()`). */
  tracerProvider?: TracerProvider;
  /** Introspectors whose `health()` feeds the `zitadel.circuit.open` gauge. */
  introspectors?: Pick<Introspector, 'health'>[];
}

/**
 * Histogram buckets in seconds, 5 ms to 10 s (given as advice to the SDK): a
 * healthy ZITADEL answers in tens of ms, a stalled one hits the 5 s timeout.
 *
 * @example
 * ```ts
 * new Histogram({ name: 'zitadel_introspection_duration_seconds', help, buckets: [...DURATION_BUCKETS_SECONDS] });
 * ```
 */
export const DURATION_BUCKETS_SECONDS = [
  0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10,
] as const;

const SCOPE = 'express-zitadel-introspection';
const SPAN_NAMES: Record<HttpCallContext['kind'], string> = {
  introspection: 'zitadel introspect',
  discovery: 'zitadel discovery',
  jwks: 'zitadel jwks',
  token: 'zitadel token',
};
const METHODS: Record<HttpCallContext['kind'], string> = {
  introspection: 'POST',
  discovery: 'GET',
  jwks: 'GET',
  token: 'POST',
};

/**
 * Subscribes to the package's channels and records:
 * - counter `zitadel.auth.decisions` (`stage`, `outcome`, `status`, `reason`, `source`);
 * - histogram `zitadel.introspection.duration` (s) and counter
 *   `zitadel.introspection.calls`, per introspection attempt (`result`:
 *   `active`, `inactive`, `error`);
 * - counter `zitadel.circuit.changes` (`state`, `cause`) and, for the given
 *   introspectors, gauge `zitadel.circuit.open` (1 while open);
 * - a CLIENT span per HTTP attempt (`zitadel introspect`, `zitadel discovery`,
 *   `zitadel jwks`, `zitadel token`), child of the active context, with the
 *   HTTP semantic attributes and ERROR status on failure.
 *
 * Returns a function that unsubscribes everything.
 *
 * @example
 * ```ts
 * import { registerOpenTelemetry } from 'express-zitadel-introspection/opentelemetry';
 * const auth = zitadelAuth({ issuer, key: './api-key.json' });
 * const stop = registerOpenTelemetry({ introspectors: [auth.introspector] });
 * // on shutdown:
 * stop();
 * ```
 */
export function registerOpenTelemetry(options: OpenTelemetryOptions = {}): () => void {
  const meter = (options.meterProvider ?? metrics.getMeterProvider()).getMeter(SCOPE);
  const tracer = (options.tracerProvider ?? trace.getTracerProvider()).getTracer(SCOPE);
  const decisions = meter.createCounter('zitadel.auth.decisions', {
    description: 'Authorization decisions, by stage, outcome, status, reason and source',
  });
  const duration = meter.createHistogram('zitadel.introspection.duration', {
    description: 'Duration of one HTTP attempt to the introspection endpoint',
    unit: 's',
    advice: { explicitBucketBoundaries: [...DURATION_BUCKETS_SECONDS] },
  });
  const calls = meter.createCounter('zitadel.introspection.calls', {
    description: 'HTTP attempts to the introspection endpoint, by result',
  });
  const circuitChanges = meter.createCounter('zitadel.circuit.changes', {
    description: 'Openings and closings of the circuit in front of ZITADEL',
  });
  const circuitOpen = meter.createObservableGauge('zitadel.circuit.open', {
    description: '1 while the circuit in front of ZITADEL is open',
  });
  const introspectors = options.introspectors ?? [];
  const observeCircuit = (result: ObservableResult) =>
    guarded(() => {
      introspectors.forEach((introspector, index) => {
        const open = introspector.health().circuit.open;
        result.observe(open ? 1 : 0, { introspector: String(index) });
      });
    });
  circuitOpen.addCallback(observeCircuit);

  const onDecision = (message: unknown) =>
    guarded(() => decisions.add(1, decisionAttributes(message as DecisionEvent)));
  const onCircuit = (message: unknown) =>
    guarded(() => {
      const { state, cause } = message as { state: string; cause: string };
      circuitChanges.add(1, { state, cause });
    });

  const attempts = new WeakMap<object, { startedAt: number; span: Span }>();
  const http = {
    start: (ctx: HttpCallContext) =>
      guarded(() => {
        const span = tracer.startSpan(
          SPAN_NAMES[ctx.kind],
          { kind: SpanKind.CLIENT, attributes: requestAttributes(ctx) },
          otelContext.active(),
        );
        attempts.set(ctx, { startedAt: performance.now(), span });
      }),
    asyncEnd: (ctx: HttpCallContext) =>
      guarded(() => {
        const attempt = attempts.get(ctx);
        if (!attempt) return;
        attempts.delete(ctx);
        const { span } = attempt;
        const status = ctx.result?.status;
        if (status !== undefined) span.setAttribute('http.response.status_code', status);
        if (ctx.error !== undefined) {
          span.setAttribute('error.type', errorType(ctx));
          span.setStatus({ code: SpanStatusCode.ERROR, message: errorName(ctx.error) });
        }
        span.end();
        if (ctx.kind !== 'introspection') return;
        const result =
          ctx.error !== undefined ? 'error' : ctx.result?.active ? 'active' : 'inactive';
        duration.record((performance.now() - attempt.startedAt) / 1000, { result });
        calls.add(1, { result });
      }),
  };
  const httpChannel = tracingChannel<unknown, HttpCallContext>(HTTP_CHANNEL);

  subscribe(DECISION_CHANNEL, onDecision);
  subscribe(CIRCUIT_CHANNEL, onCircuit);
  httpChannel.subscribe(http as never);
  let registered = true;
  return () => {
    if (!registered) return;
    registered = false;
    unsubscribe(DECISION_CHANNEL, onDecision);
    unsubscribe(CIRCUIT_CHANNEL, onCircuit);
    httpChannel.unsubscribe(http as never);
    circuitOpen.removeCallback(observeCircuit);
  };
}

function decisionAttributes(event: DecisionEvent): Attributes {
  const attributes: Attributes = {
    stage: event.stage,
    outcome: event.outcome,
    status: event.status,
    source: event.source,
  };
  if (event.reason !== undefined) attributes.reason = event.reason;
  return attributes;
}

/** OpenTelemetry HTTP client semantic conventions; the URL holds no credentials. */
function requestAttributes(ctx: HttpCallContext): Attributes {
  const attributes: Attributes = {
    'http.request.method': METHODS[ctx.kind],
    'url.full': ctx.endpoint,
    'zitadel.attempt': ctx.attempt,
  };
  try {
    const url = new URL(ctx.endpoint);
    attributes['server.address'] = url.hostname.replace(/^\[|\]$/g, '');
    attributes['server.port'] = Number(url.port || (url.protocol === 'https:' ? 443 : 80));
  } catch {
    // Not a URL: the span keeps the attributes it has.
  }
  if (ctx.attempt > 1) attributes['http.request.resend_count'] = ctx.attempt - 1;
  return attributes;
}

/** Semantic conventions: the status code for an HTTP error, else a low-cardinality class. */
function errorType(ctx: HttpCallContext): string {
  const status = ctx.result?.status;
  if (status !== undefined && status >= 400) return String(status);
  return errorName(ctx.error);
}

function errorName(error: unknown): string {
  return error instanceof Error ? error.name : '_OTHER';
}

/** A bridge never throws into a channel: Node would rethrow it on the next tick. */
function guarded(run: () => void): void {
  try {
    run();
  } catch {
    // Telemetry is best effort; the request goes on.
  }
}
