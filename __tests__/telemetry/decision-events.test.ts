/**
 * The decision channel against real servers: the local ZITADEL for real
 * tokens and guards, a scripted ZITADEL for the answers no real server gives
 * on demand (expired, 5xx, 503 + Retry-After, a rejection of our client
 * authentication), and a real redis-server for the store tier. Every request
 * gives exactly one `authenticate` event, a guard refusal one `authorize`
 * event more, each with its documented reason and source.
 */
import { performance } from 'node:perf_hooks';
import Redis from 'ioredis';
import request from 'supertest';
import {
  RedisStore,
  serviceUserTokenSource,
  zitadelAuth,
  type ZitadelAuthMiddleware,
  type ZitadelAuthOptions,
} from '../../lib';
import { startLocalZitadel, type LocalZitadel } from '../../lib/testing';
import { decisionChannel } from '../../lib/telemetry/channels';
import { projectScopes } from '../../examples/shared';
import { startRedis, redisServerBin, type RedisServer } from '../helpers/redis-server';
import { startScriptedZitadel, type ScriptedZitadel } from '../helpers/scripted-zitadel';
import { appWith, bearer, record, type Recorder } from './support';

let z: LocalZitadel;
let scripted: ScriptedZitadel;
let reader: string;
let readerSubject: string;
let events: Recorder;
const built: ZitadelAuthMiddleware[] = [];
const SECRET = 'scripted-client-secret';

function local(options: Partial<ZitadelAuthOptions> = {}) {
  const auth = zitadelAuth({
    issuer: z.issuer,
    key: z.apiKeyPath,
    projectId: z.projectId,
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
    ...options,
  });
  built.push(auth);
  return auth;
}

const activeAnswer = (claims: Record<string, unknown> = {}) => ({
  active: true,
  sub: 'svc-scripted',
  exp: Math.floor(Date.now() / 1000) + 3600,
  ...claims,
});

beforeAll(async () => {
  z = await startLocalZitadel();
  scripted = await startScriptedZitadel();
  const user = await z.createServiceUser({
    name: 'reader',
    roles: { reader: ['acme'] },
    auth: 'key',
  });
  readerSubject = user.userId;
  reader = await serviceUserTokenSource({
    issuer: z.issuer,
    key: user.keyPath,
    scope: projectScopes(z.projectId),
  }).getToken();
  events = record();
});

afterAll(async () => {
  events?.stop();
  for (const auth of built) await auth.introspector.close();
  await scripted?.close();
  await z?.close();
});

beforeEach(() => events.clear());

/** The one authenticate event of the last request (and fails unless there is exactly one). */
function onlyAuthenticate() {
  const found = events.decisions.filter((event) => event.stage === 'authenticate');
  expect(found).toHaveLength(1);
  return found[0];
}

describe('grants', () => {
  it('introspection first, then memory, each once, with the subject and a duration', async () => {
    const app = appWith(local());
    await request(app).get('/me').set(bearer(reader)).expect(200);
    expect(events.decisions).toEqual([
      {
        stage: 'authenticate',
        outcome: 'granted',
        status: 200,
        source: 'introspection',
        subject: readerSubject,
        durationMs: expect.any(Number),
      },
    ]);
    events.clear();
    await request(app).get('/me').set(bearer(reader)).expect(200);
    expect(onlyAuthenticate()).toMatchObject({ outcome: 'granted', source: 'memory' });
    expect(events.decisions[0].durationMs).toBeGreaterThanOrEqual(0);
    expect(events.decisions[0]).not.toHaveProperty('reason');
  });

  it('an anonymous pass of authRequired: false is outcome anonymous, status 200, source none', async () => {
    const app = appWith(local({ authRequired: false } as Partial<ZitadelAuthOptions>));
    await request(app).get('/me').expect(200, { subject: null });
    await request(app).get('/me').set('authorization', 'Basic dXNlcjpwdw==').expect(200);
    expect(events.decisions).toEqual([
      expect.objectContaining({
        stage: 'authenticate',
        outcome: 'anonymous',
        status: 200,
        source: 'none',
      }),
      expect.objectContaining({
        stage: 'authenticate',
        outcome: 'anonymous',
        status: 200,
        source: 'none',
      }),
    ]);
    expect(events.decisions[0]).not.toHaveProperty('subject');
  });

  it('stale: an expired cache entry served during an outage', async () => {
    let clock = Date.now();
    scripted.answer('stale-token', { json: activeAnswer() });
    const app = appWith(
      scriptedAuth({ now: () => clock, cache: { maxTtlSeconds: 60, staleIfErrorSeconds: 600 } }),
    );
    await request(app).get('/me').set(bearer('stale-token')).expect(200);
    expect(onlyAuthenticate().source).toBe('introspection');
    clock += 120_000;
    scripted.answer('stale-token', { status: 500, json: { error: 'internal' } });
    events.clear();
    await request(app).get('/me').set(bearer('stale-token')).expect(200);
    expect(onlyAuthenticate()).toMatchObject({
      outcome: 'granted',
      source: 'stale',
      subject: 'svc-scripted',
    });
  });
});

describe('refusals by the middleware (stage authenticate)', () => {
  const cases: Array<[string, number, string, Record<string, string>]> = [
    ['no token', 401, 'no_token', {}],
    ['a malformed header', 400, 'malformed', { authorization: 'Bearer a b' }],
    ['an inactive token', 401, 'inactive', bearer('not-a-token-zitadel-knows')],
  ];
  it.each(cases)('%s → %d %s', async (_name, status, reason, headers) => {
    const app = appWith(local());
    await request(app).get('/me').set(headers).expect(status);
    expect(onlyAuthenticate()).toMatchObject({ outcome: 'refused', status, reason });
    expect(events.decisions).toHaveLength(1);
  });

  it('a token for another audience → 401 audience, source introspection', async () => {
    const app = appWith(local({ audience: ['some-other-api'] }));
    await request(app).get('/me').set(bearer(reader)).expect(401);
    expect(onlyAuthenticate()).toMatchObject({
      outcome: 'refused',
      status: 401,
      reason: 'audience',
      source: 'introspection',
    });
    expect(events.decisions[0]).not.toHaveProperty('subject');
  });

  it('a body location without a body parser → 500 config', async () => {
    const app = appWith(local({ tokenLocations: ['body'] } as Partial<ZitadelAuthOptions>));
    await request(app).post('/me').send('access_token=abc').expect(500);
    expect(onlyAuthenticate()).toMatchObject({
      outcome: 'refused',
      status: 500,
      reason: 'config',
      source: 'none',
    });
  });

  it('an expired token → 401 expired', async () => {
    scripted.answer('expired-token', {
      json: activeAnswer({ exp: Math.floor(Date.now() / 1000) - 600 }),
    });
    await request(appWith(scriptedAuth())).get('/me').set(bearer('expired-token')).expect(401);
    expect(onlyAuthenticate()).toMatchObject({
      reason: 'expired',
      status: 401,
      source: 'introspection',
    });
  });

  it('ZITADEL answering 500 → 503 unavailable, source none', async () => {
    scripted.answer('outage-token', { status: 500, json: { error: 'internal' } });
    await request(appWith(scriptedAuth())).get('/me').set(bearer('outage-token')).expect(503);
    expect(onlyAuthenticate()).toMatchObject({
      status: 503,
      reason: 'unavailable',
      source: 'none',
    });
  });

  it('HTTP 400 unauthorized_client → 500 client_auth_rejected', async () => {
    scripted.answer('rejected-token', { status: 400, json: { error: 'unauthorized_client' } });
    await request(appWith(scriptedAuth())).get('/me').set(bearer('rejected-token')).expect(500);
    expect(onlyAuthenticate()).toMatchObject({ status: 500, reason: 'client_auth_rejected' });
  });

  it('503 + Retry-After → unavailable, then circuit_open; circuit events open and closed', async () => {
    scripted.answer('busy-1', { status: 503, headers: { 'retry-after': '1' } });
    scripted.answer('busy-2', { json: activeAnswer() });
    const app = appWith(scriptedAuth());
    await request(app).get('/me').set(bearer('busy-1')).expect(503);
    expect(onlyAuthenticate()).toMatchObject({ status: 503, reason: 'unavailable' });
    expect(events.circuit).toEqual([{ state: 'open', seconds: 1, cause: 'retry-after' }]);
    events.clear();
    await request(app).get('/me').set(bearer('busy-2')).expect(503);
    expect(onlyAuthenticate()).toMatchObject({
      status: 503,
      reason: 'circuit_open',
      source: 'none',
    });
    await new Promise((resolve) => setTimeout(resolve, 1100));
    events.clear();
    await request(app).get('/me').set(bearer('busy-2')).expect(200);
    expect(events.circuit).toEqual([{ state: 'closed', cause: 'retry-after' }]);
    expect(onlyAuthenticate()).toMatchObject({ outcome: 'granted', source: 'introspection' });
  });

  it('beyond maxInFlight → 503 shed', async () => {
    scripted.answer('slow-token', { json: activeAnswer(), delayMs: 400 });
    const app = appWith(scriptedAuth({ maxInFlight: 1 }));
    const slow = request(app)
      .get('/me')
      .set(bearer('slow-token'))
      .then((r) => r.status);
    await new Promise((resolve) => setTimeout(resolve, 150));
    await request(app).get('/me').set(bearer('another-token')).expect(503);
    await expect(slow).resolves.toBe(200);
    const refused = events.decisions.filter((event) => event.outcome === 'refused');
    expect(refused).toEqual([
      expect.objectContaining({ status: 503, reason: 'shed', source: 'none' }),
    ]);
    expect(events.decisions).toHaveLength(2);
  });

  it('429 without Retry-After → a back-off circuit (cause backoff), then circuit_open', async () => {
    scripted.answer('limited-1', { status: 429 });
    scripted.answer('limited-2', { json: activeAnswer() });
    const app = appWith(scriptedAuth());
    await request(app).get('/me').set(bearer('limited-1')).expect(503);
    expect(events.circuit).toEqual([{ state: 'open', seconds: 1, cause: 'backoff' }]);
    events.clear();
    await request(app).get('/me').set(bearer('limited-2')).expect(503);
    expect(onlyAuthenticate()).toMatchObject({ status: 503, reason: 'circuit_open' });
    await new Promise((resolve) => setTimeout(resolve, 1100));
    events.clear();
    await request(app).get('/me').set(bearer('limited-2')).expect(200);
    expect(events.circuit).toEqual([{ state: 'closed', cause: 'backoff' }]);
  });

  it('over maxIntrospectionsPerSecond → 503 shed', async () => {
    scripted.answer('budget-1', { json: activeAnswer() });
    const app = appWith(scriptedAuth({ maxIntrospectionsPerSecond: 1 }));
    // The budget is per second: start early in one, so both calls fall in it.
    while (Date.now() % 1000 > 200) await new Promise((resolve) => setTimeout(resolve, 10));
    await request(app).get('/me').set(bearer('budget-1')).expect(200);
    events.clear();
    const response = await request(app).get('/me').set(bearer('budget-2')).expect(503);
    expect(response.headers['retry-after']).toBe('1');
    expect(onlyAuthenticate()).toMatchObject({ status: 503, reason: 'shed', source: 'none' });
  });
});

describe('refusals by a guard (stage authorize)', () => {
  it.each([
    ['/role', 'missing_role'],
    ['/scope', 'missing_scope'],
    ['/claim', 'claim_check'],
  ])('%s → a granted authenticate event, then one authorize refusal %s', async (path, reason) => {
    const app = appWith(local());
    await request(app).get('/me').set(bearer(reader)).expect(200);
    events.clear();
    await request(app).get(path).set(bearer(reader)).expect(403);
    expect(events.decisions).toEqual([
      expect.objectContaining({ stage: 'authenticate', outcome: 'granted', source: 'memory' }),
      {
        stage: 'authorize',
        outcome: 'refused',
        status: 403,
        reason,
        source: 'memory',
        subject: readerSubject,
        durationMs: expect.any(Number),
      },
    ]);
  });

  it('a guard behind an anonymous pass → authorize 401 no_token', async () => {
    const app = appWith(local({ authRequired: false } as Partial<ZitadelAuthOptions>));
    await request(app).get('/role').expect(401);
    expect(events.decisions).toEqual([
      expect.objectContaining({ stage: 'authenticate', outcome: 'anonymous' }),
      expect.objectContaining({
        stage: 'authorize',
        outcome: 'refused',
        status: 401,
        reason: 'no_token',
        source: 'none',
      }),
    ]);
  });
});

const redisBin = redisServerBin();
(redisBin ? describe : describe.skip)('the store tier (a real redis-server)', () => {
  let redis: RedisServer;
  const clients: Redis[] = [];
  beforeAll(async () => {
    redis = await startRedis();
  });
  afterAll(async () => {
    for (const client of clients) client.disconnect();
    await redis?.stop();
  });

  it('a second instance answers from Redis: source store', async () => {
    const store = () => {
      const client = new Redis(redis.url, { maxRetriesPerRequest: 1 });
      clients.push(client);
      return new RedisStore(client, { prefix: 'telemetry-test:' });
    };
    const first = appWith(local({ cache: { store: store() } }));
    const second = appWith(local({ cache: { store: store() } }));
    await request(first).get('/me').set(bearer(reader)).expect(200);
    expect(onlyAuthenticate().source).toBe('introspection');
    events.clear();
    await request(second).get('/me').set(bearer(reader)).expect(200);
    expect(onlyAuthenticate()).toMatchObject({
      outcome: 'granted',
      source: 'store',
      subject: readerSubject,
    });
  });
});

describe('what the events carry', () => {
  it('never a token, a secret or a key, across every event above', async () => {
    // Traffic of each kind once more, with the HTTP and circuit channels recorded too.
    const app = appWith(local());
    await request(app).get('/me').set(bearer(reader)).expect(200);
    await request(app).get('/role').set(bearer(reader)).expect(403);
    await request(app).get('/me').set(bearer('not-a-token-zitadel-knows')).expect(401);
    scripted.answer('secret-scan-token', { status: 500 });
    await request(appWith(scriptedAuth())).get('/me').set(bearer('secret-scan-token')).expect(503);
    expect(events.decisions.length).toBeGreaterThanOrEqual(4);
    expect(events.http.length).toBeGreaterThanOrEqual(3);
    const dump = events.dump();
    for (const secret of [reader, 'not-a-token-zitadel-knows', 'secret-scan-token', SECRET]) {
      expect(dump).not.toContain(secret);
    }
    expect(dump).not.toContain(z.apiKeyFile.key.slice(40, 80));
    expect(dump).not.toMatch(/PRIVATE KEY|client_assertion|eyJ/);
  });
});

describe('with nobody listening', () => {
  it('a memory hit reads no clock and publishes nothing; a refusal publishes nothing', async () => {
    const auth = local();
    const app = appWith(auth);
    await request(app).get('/me').set(bearer(reader)).expect(200);
    events.stop();
    try {
      expect(decisionChannel.hasSubscribers).toBe(false);
      const publish = jest.spyOn(decisionChannel, 'publish');
      const clock = jest.spyOn(performance, 'now');
      // The middleware itself, synchronously: a warm token calls next() before it returns.
      const next = jest.fn();
      const req = { headers: { authorization: `Bearer ${reader}` } };
      auth(req as never, {} as never, next);
      expect(next).toHaveBeenCalledWith();
      expect(clock).not.toHaveBeenCalled();
      await request(app).get('/role').set(bearer(reader)).expect(403);
      await request(app).get('/me').expect(401);
      expect(publish).not.toHaveBeenCalled();
      publish.mockRestore();
      clock.mockRestore();
    } finally {
      events = record();
    }
    // And with a subscriber again, the same call reads the clock twice (entry
    // and decision) and publishes one event of the documented keys, in one shape.
    const clock = jest.spyOn(performance, 'now');
    auth({ headers: { authorization: `Bearer ${reader}` } } as never, {} as never, jest.fn());
    expect(clock).toHaveBeenCalledTimes(2);
    clock.mockRestore();
    expect(onlyAuthenticate()).toMatchObject({ source: 'memory', outcome: 'granted' });
    expect(Object.keys(events.decisions[0])).toEqual([
      'stage',
      'outcome',
      'status',
      'source',
      'subject',
      'durationMs',
    ]);
  });
});
