/**
 * The `http` TracingChannel: one traced attempt per HTTP request to ZITADEL
 * (introspection with its retries, discovery, the token endpoint), in the
 * TracingChannel's event order, with `{ kind, endpoint, attempt }` and the
 * result `{ status, active? }` — against a scripted ZITADEL on a real socket.
 */
import { serviceUserTokenSource, zitadelAuth, type ZitadelAuthMiddleware } from '../../lib';
import { IntrospectionUnavailableError, TokenRequestError } from '../../lib/errors';
import { traceHttp } from '../../lib/telemetry/http-tracing';
import { startScriptedZitadel, type ScriptedZitadel } from '../helpers/scripted-zitadel';
import { record, type Recorder } from './support';

let scripted: ScriptedZitadel;
let events: Recorder;
const built: ZitadelAuthMiddleware[] = [];

function introspector(retries = 1) {
  const auth = zitadelAuth({
    issuer: scripted.issuer,
    clientId: 'api',
    clientSecret: 'pw',
    retries,
  });
  built.push(auth);
  return auth.introspector;
}

beforeAll(async () => {
  scripted = await startScriptedZitadel();
  events = record();
});

afterAll(async () => {
  events.stop();
  for (const auth of built) await auth.introspector.close();
  await scripted.close();
});

beforeEach(() => events.clear());

it('discovery, then one introspection attempt: kinds, endpoints, results, event order', async () => {
  scripted.answer('good', { json: { active: true, sub: 's', exp: Date.now() / 1000 + 600 } });
  const core = introspector();
  await core.ready();
  await core.introspect('good');
  expect(events.http).toEqual([
    {
      kind: 'discovery',
      endpoint: `${scripted.issuer}/.well-known/openid-configuration`,
      attempt: 1,
      result: { status: 200 },
    },
    {
      kind: 'introspection',
      endpoint: `${scripted.issuer}/oauth/v2/introspect`,
      attempt: 1,
      result: { status: 200, active: true },
    },
  ]);
  expect(events.httpEvents).toEqual([
    ...['start', 'end', 'asyncStart', 'asyncEnd'],
    ...['start', 'end', 'asyncStart', 'asyncEnd'],
  ]);
});

it('a 5xx retried: two attempts, each with its status and the error', async () => {
  scripted.answer('flaky', { status: 502 });
  const core = introspector(1);
  await core.ready();
  events.clear();
  await expect(core.introspect('flaky')).rejects.toBeInstanceOf(IntrospectionUnavailableError);
  expect(events.http.map(({ attempt, result }) => ({ attempt, result }))).toEqual([
    { attempt: 1, result: { status: 502 } },
    { attempt: 2, result: { status: 502 } },
  ]);
  for (const ctx of events.http) expect(ctx.error).toBeInstanceOf(IntrospectionUnavailableError);
  expect(events.httpEvents.slice(0, 5)).toEqual([
    'start',
    'end',
    'error',
    'asyncStart',
    'asyncEnd',
  ]);
});

it('a 400 unsupported_token_type is an answer (active false), not an error', async () => {
  scripted.answer('odd', { status: 400, json: { error: 'unsupported_token_type' } });
  const core = introspector(0);
  await core.ready();
  events.clear();
  await expect(core.introspect('odd')).resolves.toMatchObject({ active: false });
  expect(events.http).toEqual([
    expect.objectContaining({ result: { status: 400, active: false } }),
  ]);
  expect(events.http[0]).not.toHaveProperty('error');
});

it('a failed discovery and a failed token request are traced with their status', async () => {
  scripted.discovery({ status: 503 });
  try {
    const core = introspector();
    await expect(core.ready()).rejects.toBeInstanceOf(IntrospectionUnavailableError);
    expect(events.http).toEqual([
      expect.objectContaining({
        kind: 'discovery',
        result: { status: 503 },
        error: expect.any(Error),
      }),
    ]);
  } finally {
    scripted.discovery(undefined);
  }
  events.clear();
  // The scripted server has no token endpoint: 404.
  const source = serviceUserTokenSource({
    issuer: scripted.issuer,
    clientId: 'svc',
    clientSecret: 'pw',
  });
  await expect(source.getToken()).rejects.toBeInstanceOf(TokenRequestError);
  expect(events.http.map((ctx) => [ctx.kind, ctx.result?.status, ctx.error !== undefined])).toEqual(
    [
      ['discovery', 200, false],
      ['token', 404, true],
    ],
  );
});

describe('traceHttp, the helper other wires (JWKS) call', () => {
  const attempt = { kind: 'jwks' as const, endpoint: 'http://127.0.0.1/oauth/v2/keys', attempt: 1 };

  it('passes the value through and reports the status', async () => {
    const keys = await traceHttp(attempt, async (report) => {
      report({ status: 200 });
      return { keys: [1, 2] };
    });
    expect(keys).toEqual({ keys: [1, 2] });
    expect(events.http).toEqual([{ ...attempt, result: { status: 200 } }]);
    expect(JSON.stringify(events.http)).not.toContain('keys":[');
  });

  it('publishes a synchronous throw as an error and rethrows it', () => {
    const boom = new Error('sync');
    expect(() =>
      traceHttp(attempt, () => {
        throw boom;
      }),
    ).toThrow(boom);
    expect(events.httpEvents).toEqual(['start', 'error', 'end']);
  });

  it('runs the call untraced when nobody listens', async () => {
    events.stop();
    try {
      const reported: unknown[] = [];
      await traceHttp(attempt, async (report) => {
        report({ status: 200 });
        reported.push('ran');
      });
      expect(reported).toEqual(['ran']);
      expect(events.http).toHaveLength(0);
    } finally {
      events = record();
    }
  });
});
