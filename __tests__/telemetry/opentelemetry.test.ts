/**
 * `express-zitadel-introspection/opentelemetry` with the real SDKs:
 * sdk-metrics read through a MetricReader's `collect()`, sdk-trace-base
 * spans in an InMemorySpanExporter, context-async-hooks for the active
 * context — against the local ZITADEL and a scripted one for an outage.
 */
import {
  context,
  metrics,
  trace,
  SpanKind,
  SpanStatusCode,
  type Attributes,
} from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import {
  MeterProvider,
  MetricReader,
  type HistogramMetricData,
  type MetricData,
} from '@opentelemetry/sdk-metrics';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  SimpleSpanProcessor,
  type ReadableSpan,
} from '@opentelemetry/sdk-trace-base';
import express, { type RequestHandler } from 'express';
import request from 'supertest';
import {
  registerOpenTelemetry,
  DURATION_BUCKETS_SECONDS,
} from 'express-zitadel-introspection/opentelemetry';
import {
  serviceUserTokenSource,
  zitadelAuth,
  type ZitadelAuthMiddleware,
  type ZitadelAuthOptions,
} from 'express-zitadel-introspection';
import { startLocalZitadel, type LocalZitadel } from 'express-zitadel-introspection/testing';
import { traceHttp } from '../../lib/telemetry/http-tracing';
import { projectScopes } from '../../examples/shared';
import { startScriptedZitadel, type ScriptedZitadel } from '../helpers/scripted-zitadel';
import { appWith, bearer } from './support';

class TestReader extends MetricReader {
  protected async onShutdown(): Promise<void> {}
  protected async onForceFlush(): Promise<void> {}
}

const contextManager = new AsyncLocalStorageContextManager();
const reader = new TestReader();
const meterProvider = new MeterProvider({ readers: [reader] });
const exporter = new InMemorySpanExporter();
const tracerProvider = new BasicTracerProvider({
  spanProcessors: [new SimpleSpanProcessor(exporter)],
});
/** What instrumentation-http would do: a span per request, active while the app runs. */
const requestSpans: RequestHandler = (req, res, next) => {
  const span = tracerProvider.getTracer('test-http').startSpan(`${req.method} ${req.path}`);
  res.on('finish', () => span.end());
  context.with(trace.setSpan(context.active(), span), next);
};

let z: LocalZitadel;
let scripted: ScriptedZitadel;
let reader1: string;
let stop: () => void;
/** Spans of the calls made while setting up: the token source's and the introspector's. */
let tokenSpans: ReadableSpan[] = [];
let discoverySpans: ReadableSpan[] = [];
let auth: ZitadelAuthMiddleware;
const built: ZitadelAuthMiddleware[] = [];

function appOf(middleware: RequestHandler) {
  const app = express();
  app.use(requestSpans);
  app.use(appWith(middleware));
  return app;
}

async function metricMap(): Promise<Map<string, MetricData>> {
  const { resourceMetrics } = await reader.collect();
  const all = resourceMetrics.scopeMetrics.flatMap((scope) => scope.metrics);
  return new Map(all.map((metric) => [metric.descriptor.name, metric]));
}

/** Sum of a counter's points whose attributes include `match`. */
function total(metric: MetricData | undefined, match: Attributes = {}): number {
  if (!metric) return 0;
  return (metric.dataPoints as Array<{ attributes: Attributes; value: unknown }>)
    .filter((point) => Object.entries(match).every(([k, v]) => point.attributes[k] === v))
    .reduce((sum, point) => sum + (point.value as number), 0);
}

function histogramCount(metric: MetricData | undefined, result: string): number {
  const point = (metric as HistogramMetricData | undefined)?.dataPoints.find(
    (p) => p.attributes.result === result,
  );
  return point?.value.count ?? 0;
}

const spansNamed = (name: string): ReadableSpan[] =>
  exporter.getFinishedSpans().filter((span) => span.name === name);

beforeAll(async () => {
  context.setGlobalContextManager(contextManager.enable());
  z = await startLocalZitadel();
  scripted = await startScriptedZitadel();
  const user = await z.createServiceUser({
    name: 'reader',
    roles: { reader: ['acme'] },
    auth: 'key',
  });
  stop = registerOpenTelemetry({ meterProvider, tracerProvider });
  // Registered first: this source's discovery and token calls are traced.
  reader1 = await serviceUserTokenSource({
    issuer: z.issuer,
    key: user.keyPath,
    scope: projectScopes(z.projectId),
  }).getToken();
  auth = zitadelAuth({ issuer: z.issuer, key: z.apiKeyPath, projectId: z.projectId });
  built.push(auth);
  await auth.introspector.ready();
  tokenSpans = spansNamed('zitadel token');
  discoverySpans = spansNamed('zitadel discovery');
});

afterAll(async () => {
  stop?.();
  for (const middleware of built) await middleware.introspector.close();
  await scripted?.close();
  await z?.close();
  await meterProvider.shutdown();
  await tracerProvider.shutdown();
  context.disable();
});

describe('metrics after scripted traffic', () => {
  it('counts decisions by stage, outcome, reason and source; one histogram sample per attempt', async () => {
    const app = appOf(auth);
    for (let i = 0; i < 3; i++) await request(app).get('/me').set(bearer(reader1)).expect(200);
    await request(app).get('/role').set(bearer(reader1)).expect(403);
    await request(app).get('/me').expect(401);
    await request(app).get('/me').set(bearer('unknown-token-xyz')).expect(401);

    const m = await metricMap();
    const decisions = m.get('zitadel.auth.decisions');
    expect(
      total(decisions, { stage: 'authenticate', outcome: 'granted', source: 'introspection' }),
    ).toBe(1);
    expect(total(decisions, { stage: 'authenticate', outcome: 'granted', source: 'memory' })).toBe(
      3,
    );
    expect(
      total(decisions, {
        stage: 'authorize',
        outcome: 'refused',
        reason: 'missing_role',
        status: 403,
      }),
    ).toBe(1);
    expect(
      total(decisions, { stage: 'authenticate', reason: 'no_token', status: 401, source: 'none' }),
    ).toBe(1);
    expect(
      total(decisions, { stage: 'authenticate', reason: 'inactive', source: 'introspection' }),
    ).toBe(1);
    expect(total(decisions, { stage: 'authenticate' })).toBe(6);

    const duration = m.get('zitadel.introspection.duration') as HistogramMetricData;
    expect(duration.descriptor.unit).toBe('s');
    expect(histogramCount(duration, 'active')).toBe(1);
    expect(histogramCount(duration, 'inactive')).toBe(1);
    expect(duration.dataPoints[0].value.buckets.boundaries).toEqual([...DURATION_BUCKETS_SECONDS]);
    const calls = m.get('zitadel.introspection.calls');
    expect(total(calls, { result: 'active' })).toBe(1);
    expect(total(calls, { result: 'inactive' })).toBe(1);
  });
});

describe('spans', () => {
  it('one CLIENT span per introspection call, a child of the request span, with HTTP attributes', async () => {
    exporter.reset();
    await request(appOf(auth)).get('/me').set(bearer('another-unknown-token')).expect(401);
    const [span] = spansNamed('zitadel introspect');
    expect(spansNamed('zitadel introspect')).toHaveLength(1);
    const parent = exporter.getFinishedSpans().find((s) => s.name === 'GET /me');
    expect(parent).toBeDefined();
    expect(span.kind).toBe(SpanKind.CLIENT);
    expect(span.parentSpanContext?.spanId).toBe(parent!.spanContext().spanId);
    expect(span.spanContext().traceId).toBe(parent!.spanContext().traceId);
    const port = Number(new URL(z.issuer).port);
    expect(span.attributes).toMatchObject({
      'http.request.method': 'POST',
      'server.address': '127.0.0.1',
      'server.port': port,
      'http.response.status_code': 200,
    });
    expect(span.attributes).not.toHaveProperty('error.type');
    expect(span.status.code).not.toBe(SpanStatusCode.ERROR);
  });

  it('the token source and discovery calls made spans too', () => {
    expect(tokenSpans.length).toBeGreaterThanOrEqual(1);
    expect(tokenSpans[0].attributes).toMatchObject({
      'http.request.method': 'POST',
      'http.response.status_code': 200,
    });
    expect(discoverySpans.length).toBeGreaterThanOrEqual(1);
    expect(discoverySpans[0].attributes['http.request.method']).toBe('GET');
  });

  it('an outage: an ERROR span per attempt with error.type, error samples, a 503 decision', async () => {
    scripted.answer('default', { status: 500, json: { error: 'internal' } });
    const outage = zitadelAuth({
      issuer: scripted.issuer,
      clientId: 'api',
      clientSecret: 'scripted-secret',
      retries: 1,
    } as ZitadelAuthOptions);
    built.push(outage);
    const before = await metricMap();
    exporter.reset();
    await request(appOf(outage)).get('/me').set(bearer('token-during-outage')).expect(503);
    const spans = spansNamed('zitadel introspect');
    expect(spans).toHaveLength(2);
    for (const span of spans) {
      expect(span.status.code).toBe(SpanStatusCode.ERROR);
      expect(span.attributes).toMatchObject({
        'error.type': '500',
        'http.response.status_code': 500,
      });
    }
    expect(spans.map((span) => span.attributes['http.request.resend_count'])).toEqual([
      undefined,
      1,
    ]);
    const after = await metricMap();
    const errors = (metrics: Map<string, MetricData>) =>
      histogramCount(metrics.get('zitadel.introspection.duration'), 'error');
    expect(errors(after) - errors(before)).toBe(2);
    const unavailable = (metrics: Map<string, MetricData>) =>
      total(metrics.get('zitadel.auth.decisions'), { reason: 'unavailable', status: 503 });
    expect(unavailable(after) - unavailable(before)).toBe(1);
    expect(
      exporter
        .getFinishedSpans()
        .map((span) => JSON.stringify(span.attributes))
        .join(),
    ).not.toContain('token-during-outage');
  });

  it('an unreachable ZITADEL: ERROR span without a status code', async () => {
    const gone = zitadelAuth({
      issuer: 'http://127.0.0.1:1',
      clientId: 'api',
      clientSecret: 'x',
      introspectionEndpoint: 'http://127.0.0.1:1/oauth/v2/introspect',
      retries: 0,
    } as ZitadelAuthOptions);
    built.push(gone);
    exporter.reset();
    await request(appOf(gone)).get('/me').set(bearer('t')).expect(503);
    const [span] = spansNamed('zitadel introspect');
    expect(span.status.code).toBe(SpanStatusCode.ERROR);
    expect(span.attributes['error.type']).toBe('IntrospectionUnavailableError');
    expect(span.attributes).not.toHaveProperty('http.response.status_code');
  });
});

describe('traceHttp for the JWKS fetch of local JWT verification', () => {
  it('makes a zitadel jwks span; an https URL without a port is port 443', async () => {
    exporter.reset();
    await traceHttp(
      { kind: 'jwks', endpoint: 'https://acme.zitadel.cloud/oauth/v2/keys', attempt: 1 },
      async (report) => report({ status: 200 }),
    );
    await traceHttp({ kind: 'jwks', endpoint: 'not a url', attempt: 1 }, async () => {});
    const [jwks, odd] = spansNamed('zitadel jwks');
    expect(jwks.attributes).toMatchObject({
      'http.request.method': 'GET',
      'server.address': 'acme.zitadel.cloud',
      'server.port': 443,
      'http.response.status_code': 200,
    });
    expect(odd.attributes).not.toHaveProperty('server.address');
    expect(odd.attributes['url.full']).toBe('not a url');
  });
});

describe('the global providers', () => {
  it('are used when none are given; an http URL without a port is port 80', async () => {
    metrics.setGlobalMeterProvider(meterProvider);
    trace.setGlobalTracerProvider(tracerProvider);
    const unregister = registerOpenTelemetry();
    try {
      exporter.reset();
      const before = total((await metricMap()).get('zitadel.introspection.calls'), {
        result: 'error',
      });
      // A rejection that is not an Error still ends the span, as `_OTHER`.
      await expect(
        traceHttp(
          { kind: 'introspection', endpoint: 'http://zitadel.internal/x', attempt: 1 },
          () => Promise.reject('not an error'),
        ),
      ).rejects.toBe('not an error');
      const [span] = spansNamed('zitadel introspect');
      expect(span.attributes).toMatchObject({ 'server.port': 80, 'error.type': '_OTHER' });
      // Two bridges listen here (this one and the suite's): two samples.
      const after = total((await metricMap()).get('zitadel.introspection.calls'), {
        result: 'error',
      });
      expect(after - before).toBe(2);
    } finally {
      unregister();
      metrics.disable();
      trace.disable();
    }
  });
});

describe('the circuit gauge and unsubscribing', () => {
  it('zitadel.circuit.open is 1 while ZITADEL asked us to back off', async () => {
    scripted.answer('busy', { status: 503, headers: { 'retry-after': '30' } });
    const busy = zitadelAuth({
      issuer: scripted.issuer,
      clientId: 'api',
      clientSecret: 'scripted-secret',
      retries: 0,
    } as ZitadelAuthOptions);
    built.push(busy);
    const unregister = registerOpenTelemetry({
      meterProvider,
      tracerProvider,
      introspectors: [auth.introspector, busy.introspector],
    });
    try {
      let gauge = (await metricMap()).get('zitadel.circuit.open');
      expect(total(gauge, { introspector: '1' })).toBe(0);
      await request(appOf(busy)).get('/me').set(bearer('busy')).expect(503);
      gauge = (await metricMap()).get('zitadel.circuit.open');
      expect(total(gauge, { introspector: '0' })).toBe(0);
      expect(total(gauge, { introspector: '1' })).toBe(1);
      // The circuit is reported, but this replica can still take traffic (cached tokens serve).
      expect(busy.introspector.health()).toMatchObject({ ok: true, circuit: { open: true } });
      const changes = (await metricMap()).get('zitadel.circuit.changes');
      // Two bridges are registered here, so the opening is counted twice.
      expect(total(changes, { state: 'open', cause: 'retry-after' })).toBe(2);
    } finally {
      unregister();
    }
  });

  it('after unsubscribe() nothing more is recorded', async () => {
    const before = await metricMap();
    stop();
    exporter.reset();
    const app = appOf(auth);
    await request(app).get('/me').set(bearer(reader1)).expect(200);
    await request(app).get('/me').set(bearer('yet-another-unknown-token')).expect(401);
    const after = await metricMap();
    const decisions = (metrics: Map<string, MetricData>) =>
      total(metrics.get('zitadel.auth.decisions'));
    expect(decisions(after)).toBe(decisions(before));
    expect(decisions(before)).toBeGreaterThan(0);
    expect(spansNamed('zitadel introspect')).toHaveLength(0);
    stop(); // idempotent
  });
});

describe('a broken exporter', () => {
  it('instruments and tracers that throw break no request', async () => {
    const explode = () => {
      throw new Error('exporter down');
    };
    const instrument = {
      add: explode,
      record: explode,
      addCallback: () => {},
      removeCallback: () => {},
    };
    const brokenMeters = { getMeter: () => new Proxy({}, { get: () => () => instrument }) };
    const brokenTracers = { getTracer: () => ({ startSpan: explode, startActiveSpan: explode }) };
    const unregister = registerOpenTelemetry({
      meterProvider: brokenMeters as never,
      tracerProvider: brokenTracers as never,
    });
    try {
      const app = appOf(auth);
      await request(app).get('/me').set(bearer(reader1)).expect(200);
      await request(app).get('/me').set(bearer('unknown-token-broken')).expect(401);
      await request(app).get('/role').set(bearer(reader1)).expect(403);
    } finally {
      unregister();
    }
  });
});
