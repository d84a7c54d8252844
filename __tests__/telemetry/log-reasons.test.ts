/**
 * The logger's lines and the decision events use the same reason words: for
 * every path that writes a line about a failure a request is refused for,
 * the line ends in `(reason=<code>)` and the request's `authenticate` event
 * has that `reason`. Both are captured in the same test, against the local
 * ZITADEL (its own faults: a reset, the JWKS down) and a scripted ZITADEL
 * (the answers no real server gives on demand). No line carries a token.
 */
import request from 'supertest';
import {
  serviceUserTokenSource,
  zitadelAuth,
  type ZitadelAuthMiddleware,
  type ZitadelAuthOptions,
} from '../../lib';
import { startLocalZitadel, type LocalZitadel } from '../../lib/testing';
import type { DecisionEvent } from '../../lib/telemetry/channels';
import { projectScopes } from '../../examples/shared';
import { captureLogger, type CapturedLine } from '../helpers/capture-logger';
import { startScriptedZitadel, type ScriptedZitadel } from '../helpers/scripted-zitadel';
import { appWith, bearer, record, type Recorder } from './support';

let z: LocalZitadel;
let scripted: ScriptedZitadel;
let reader: string;
let jwt: string;
let events: Recorder;
let logger: ReturnType<typeof captureLogger>;
const built: ZitadelAuthMiddleware[] = [];
const tokensSent: string[] = [];
const SECRET = 'log-reasons-client-secret';

function local(options: Partial<ZitadelAuthOptions> = {}) {
  const auth = zitadelAuth({
    issuer: z.issuer,
    key: z.apiKeyPath,
    projectId: z.projectId,
    logger,
    ...options,
  });
  built.push(auth);
  return auth;
}

function scriptedAuth(options: Partial<ZitadelAuthOptions> = {}) {
  const auth = zitadelAuth({
    issuer: scripted.issuer,
    clientId: 'api',
    clientSecret: SECRET,
    retries: 0,
    timeoutMs: 2000,
    logger,
    ...options,
  });
  built.push(auth);
  return auth;
}

const REASON_WORD = /\(reason=([a-z_]+)\)$/;

/** The reason words of the warn and error lines (the loud ones an operator sees). */
function loudReasons(lines: CapturedLine[] = logger.lines): string[] {
  return lines
    .filter((line) => line.level === 'warn' || line.level === 'error')
    .map((line) => REASON_WORD.exec(line.message)?.[1] ?? `no reason word in: ${line.message}`);
}

/** The one authenticate event of the test's request. */
function onlyAuthenticate(): DecisionEvent {
  const found = events.decisions.filter((event) => event.stage === 'authenticate');
  expect(found).toHaveLength(1);
  return found[0];
}

/** Sends one request with `token` and expects `status`, remembering the token for the scan. */
async function send(app: ReturnType<typeof appWith>, token: string, status: number) {
  tokensSent.push(token);
  await request(app).get('/me').set(bearer(token)).expect(status);
}

beforeAll(async () => {
  z = await startLocalZitadel();
  scripted = await startScriptedZitadel();
  const user = await z.createServiceUser({ name: 'log-reader', auth: 'key' });
  reader = await serviceUserTokenSource({
    issuer: z.issuer,
    key: user.keyPath,
    scope: projectScopes(z.projectId),
  }).getToken();
  const jwtUser = await z.createServiceUser({
    name: 'log-jwt-reader',
    auth: 'key',
    accessTokenType: 'jwt',
  });
  jwt = await serviceUserTokenSource({
    issuer: z.issuer,
    key: jwtUser.keyPath,
    scope: projectScopes(z.projectId),
  }).getToken();
  tokensSent.push(reader, jwt);
  events = record();
});

const allLines: CapturedLine[] = [];
beforeEach(() => {
  events.clear();
  logger = captureLogger();
});
afterEach(async () => {
  allLines.push(...logger.lines);
  scripted.discovery(undefined);
  await z.clearFaults();
});

afterAll(async () => {
  events?.stop();
  for (const auth of built) await auth.introspector.close();
  await scripted?.close();
  await z?.close();
});

describe('introspection failures', () => {
  it('a connection reset at the local ZITADEL → warn … (reason=unavailable), event unavailable', async () => {
    const auth = local({ retries: 0 });
    await auth.introspector.ready();
    const app = appWith(auth);
    await z.injectFault('reset', { endpoint: 'introspection', times: 1 });
    await send(app, reader, 503);
    expect(onlyAuthenticate().reason).toBe('unavailable');
    expect(logger.lines.filter((line) => line.level === 'warn')).toEqual([
      expect.objectContaining({
        message: expect.stringMatching(/^introspection failed: .* \(reason=unavailable\)$/),
      }),
    ]);
    expect(loudReasons()).toEqual(['unavailable']);
  });

  it.each([
    ['HTTP 500', { status: 500, json: { error: 'internal' } }, /^introspection failed: .*HTTP 500/],
    [
      'a body that is not JSON',
      { body: 'not json' },
      /^introspection failed: malformed .*not JSON/,
    ],
    [
      '503 with Retry-After',
      { status: 503, headers: { 'retry-after': '1' } },
      /^introspection: .*; not calling again for 1 s/,
    ],
  ])('%s → warn with reason=unavailable, event unavailable', async (name, answer, prefix) => {
    const token = `scripted-${name.replace(/\W+/g, '-')}`;
    scripted.answer(token, answer);
    await send(appWith(scriptedAuth()), token, 503);
    expect(onlyAuthenticate().reason).toBe('unavailable');
    const warns = logger.lines.filter((line) => line.level === 'warn');
    expect(warns).toHaveLength(1);
    expect(warns[0].message).toMatch(prefix);
    expect(loudReasons()).toEqual([onlyAuthenticate().reason]);
  });

  it('ZITADEL rejecting our client authentication → error … (reason=client_auth_rejected)', async () => {
    scripted.answer('rejected-for-logs', { status: 400, json: { error: 'unauthorized_client' } });
    await send(appWith(scriptedAuth()), 'rejected-for-logs', 500);
    expect(onlyAuthenticate().reason).toBe('client_auth_rejected');
    expect(logger.lines.filter((line) => line.level === 'error')).toEqual([
      expect.objectContaining({
        message: expect.stringMatching(
          /rejected our client authentication.*\(reason=client_auth_rejected\)$/,
        ),
      }),
    ]);
    expect(loudReasons()).toEqual(['client_auth_rejected']);
  });
});

describe('failures before the call', () => {
  it('discovery answering 500 → warn introspection not attempted … (reason=unavailable)', async () => {
    scripted.discovery({ status: 500, json: { error: 'down' } });
    const auth = scriptedAuth();
    await expect(auth.introspector.ready()).rejects.toThrow(/discovery/);
    await send(appWith(auth), 'discovery-down-token', 503);
    expect(onlyAuthenticate().reason).toBe('unavailable');
    expect(logger.lines.filter((line) => line.level === 'warn').map((l) => l.message)).toEqual([
      expect.stringMatching(/^introspection not attempted: discovery.* \(reason=unavailable\)$/),
    ]);
  });

  it('discovery naming another issuer → error … (reason=config), event config', async () => {
    scripted.discovery({
      json: {
        issuer: 'https://someone-else.example',
        introspection_endpoint: `${scripted.issuer}/oauth/v2/introspect`,
      },
    });
    await send(appWith(scriptedAuth()), 'wrong-issuer-token', 500);
    expect(onlyAuthenticate()).toMatchObject({ status: 500, reason: 'config' });
    expect(loudReasons()).toEqual(['config']);
    expect(logger.lines.find((line) => line.level === 'error')?.message).toMatch(
      /^introspection: discovery document .*\(reason=config\)$/,
    );
  });

  it('a body location without a body parser → error zitadelAuth: … (reason=config)', async () => {
    const app = appWith(local({ tokenLocations: ['body'] } as Partial<ZitadelAuthOptions>));
    await request(app).post('/me').send('access_token=abc').expect(500);
    expect(onlyAuthenticate()).toMatchObject({ status: 500, reason: 'config' });
    expect(logger.lines.map((line) => [line.level, line.message])).toEqual([
      ['error', expect.stringMatching(/^zitadelAuth: .*\(reason=config\)$/)],
    ]);
  });

  it('the JWKS down with local JWT verification → warn JWKS: … (reason=unavailable)', async () => {
    await z.injectFault({ status: 500 }, { endpoint: 'keys' });
    const auth = local({ jwt: { verify: 'local' } });
    await expect(auth.introspector.ready()).rejects.toThrow(/JWKS/);
    await send(appWith(auth), jwt, 503);
    expect(onlyAuthenticate()).toMatchObject({ status: 503, reason: 'unavailable' });
    const jwksLines = logger.lines.filter((line) => line.message.startsWith('JWKS: '));
    expect(jwksLines.length).toBeGreaterThanOrEqual(1);
    for (const line of jwksLines) expect(line.message).toMatch(/ \(reason=unavailable\)$/);
    expect(new Set(loudReasons())).toEqual(new Set(['unavailable']));
  });
});

describe('a grant despite a failure', () => {
  it('a stale answer served → warn … (source=stale, cause=unavailable), event source stale', async () => {
    let clock = Date.now();
    scripted.answer('stale-for-logs', {
      json: { active: true, sub: 'svc-stale', exp: Math.floor(clock / 1000) + 3600 },
    });
    const app = appWith(
      scriptedAuth({ now: () => clock, cache: { maxTtlSeconds: 60, staleIfErrorSeconds: 600 } }),
    );
    await send(app, 'stale-for-logs', 200);
    clock += 120_000;
    scripted.answer('stale-for-logs', { status: 500, json: { error: 'internal' } });
    events.clear();
    await send(app, 'stale-for-logs', 200);
    expect(onlyAuthenticate()).toMatchObject({ outcome: 'granted', source: 'stale' });
    expect(onlyAuthenticate()).not.toHaveProperty('reason');
    const warns = logger.lines.filter((line) => line.level === 'warn').map((l) => l.message);
    // The failed call's own line names what a request without a stale copy is refused for.
    expect(warns).toEqual([
      expect.stringMatching(/^introspection failed: .*\(reason=unavailable\)$/),
      expect.stringMatching(
        /^serving a stale introspection result: .*\(source=stale, cause=unavailable\)$/,
      ),
    ]);
  });
});

it('no line of any test above carries a token or the client secret', () => {
  expect(allLines.length).toBeGreaterThanOrEqual(10);
  const text = allLines.map((line) => line.message).join('\n');
  for (const secret of [...tokensSent, SECRET]) expect(text).not.toContain(secret);
  expect(text).not.toMatch(/PRIVATE KEY|client_assertion|eyJ/);
});
