/**
 * z.injectFault / z.clearFaults and z.calls / z.resetCalls, seen through the
 * middleware: each fault kind gives the status docs/testing.md documents for it,
 * and the counters prove that a cached token costs no call.
 */
import express from 'express';
import request from 'supertest';
import { zitadelAuth, type ZitadelAuthMiddleware } from 'express-zitadel-introspection';
import { startLocalZitadel, type LocalZitadel } from '../../lib/testing';
import { audienceScope, introspectWithKey, keyUserToken } from './local-zitadel-helpers';

let z: LocalZitadel;
let token: string;
const middlewares: ZitadelAuthMiddleware[] = [];

/** An API with a fresh cache (so each case reaches the local ZITADEL). */
function api(options: { cache?: false } = { cache: false }) {
  const auth = zitadelAuth({
    issuer: z.issuer,
    key: z.apiKeyFile,
    timeoutMs: 800,
    retries: 0,
    ...options,
  });
  middlewares.push(auth);
  return express()
    .use(auth)
    .get('/r', (req, res) => res.json({ sub: req.auth!.subject }));
}

beforeAll(async () => {
  z = await startLocalZitadel();
  const user = await z.createServiceUser({ name: 'worker', auth: 'key' });
  token = await keyUserToken(z, user.keyFile!, `openid ${audienceScope(z.projectId)}`);
});
afterEach(() => z.clearFaults());
afterAll(async () => {
  await Promise.all(middlewares.map((auth) => auth.introspector.close()));
  await z?.close();
});

const get = (app: express.Express) =>
  request(app).get('/r').set('Authorization', `Bearer ${token}`);

describe('injectFault at introspection (the default endpoint)', () => {
  it.each([
    ['a 5xx', 503, { status: 502, body: 'Bad Gateway' }],
    ['rate limiting (429, plain text)', 503, { status: 429, body: 'Too Many Requests' }],
    ['garbage', 503, 'garbage' as const],
    ['a reset connection', 503, 'reset' as const],
    ['a hang (the middleware times out)', 503, 'hang' as const],
    [
      'our client authentication refused',
      500,
      { status: 400, body: { error: 'unauthorized_client' } },
    ],
  ])('%s → the middleware answers %p', async (_name, expected, fault) => {
    const app = api();
    await z.injectFault(fault);
    const response = await get(app);
    expect(response.status).toBe(expected);
    if (expected === 503) expect(response.headers['retry-after']).toBeDefined();
    await z.clearFaults();
    // A 429 without Retry-After opens a 1 s back-off circuit: wait it out.
    if (typeof fault === 'object' && fault.status === 429) {
      await new Promise((resolve) => setTimeout(resolve, 1100));
    }
    await get(app).expect(200);
  });

  it('sends the status, headers and body of a custom answer as given', async () => {
    await z.injectFault({ status: 429, headers: { 'retry-after': '7' }, body: 'slow down' });
    const response = await fetch(`${z.issuer}/oauth/v2/introspect`, { method: 'POST' });
    expect(response.status).toBe(429);
    expect(response.headers.get('retry-after')).toBe('7');
    expect(await response.text()).toBe('slow down');
  });

  it('applies a fault `times` times, then answers again; faults queue oldest first', async () => {
    await z.injectFault({ status: 503 }, { times: 1 });
    await z.injectFault({ status: 429 }, { times: 2 });
    const statuses = [];
    for (let i = 0; i < 4; i += 1) statuses.push((await introspectWithKey(z, token)).status);
    expect(statuses).toEqual([503, 429, 429, 200]);
  });

  it('rejects a malformed fault, endpoint or times', async () => {
    await expect(z.injectFault({ status: 42 })).rejects.toThrow(/fault/);
    await expect(z.injectFault('boom' as 'hang')).rejects.toThrow(/fault/);
    await expect(z.injectFault('hang', { endpoint: 'userinfo' as 'token' })).rejects.toThrow(
      /endpoint/,
    );
    await expect(z.injectFault('hang', { times: 0 })).rejects.toThrow(/times/);
  });
});

describe('a real refusal of our client authentication', () => {
  it("ZITADEL's 400 unauthorized_client → 500 from the middleware", async () => {
    const auth = zitadelAuth({ issuer: z.issuer, clientId: z.apiClientId, clientSecret: 'wrong' });
    middlewares.push(auth);
    const app = express()
      .use(auth)
      .get('/r', (_req, res) => res.json({}));
    await get(app).expect(500);
  });
});

describe('injectFault at the other endpoints', () => {
  it('discovery: a fresh middleware cannot start (503)', async () => {
    await z.injectFault({ status: 500 }, { endpoint: 'discovery' });
    const response = await get(api());
    expect(response.status).toBe(503);
  });

  it('token: the grant gets the fault', async () => {
    await z.injectFault(
      { status: 429, body: 'Too Many Requests' },
      { endpoint: 'token', times: 1 },
    );
    const user = await z.createServiceUser({ name: 'token-fault', auth: 'key' });
    await expect(keyUserToken(z, user.keyFile!, 'openid')).rejects.toThrow(/429/);
    await expect(keyUserToken(z, user.keyFile!, 'openid')).resolves.toEqual(expect.any(String));
  });

  it('keys: the JWKS gets the fault, then is served again', async () => {
    await z.injectFault('garbage', { endpoint: 'keys', times: 1 });
    const faulted = await fetch(`${z.issuer}/oauth/v2/keys`);
    await expect(faulted.json()).rejects.toThrow();
    const served = await fetch(`${z.issuer}/oauth/v2/keys`);
    expect(((await served.json()) as { keys: unknown[] }).keys.length).toBeGreaterThan(0);
  });
});

describe('calls / resetCalls', () => {
  it('counts each endpoint; a cached token makes no second introspection', async () => {
    await z.resetCalls();
    expect(await z.calls()).toEqual({ introspection: 0, token: 0, discovery: 0, keys: 0 });
    // Made after the zero check: zitadelAuth() starts its discovery at once, in
    // the background, which could otherwise land between the reset and the check.
    const app = api({});

    await get(app).expect(200);
    await get(app).expect(200);
    await get(app).expect(200);
    expect(await z.calls()).toEqual({ introspection: 1, token: 0, discovery: 1, keys: 0 });

    await fetch(`${z.issuer}/oauth/v2/keys`);
    const user = await z.createServiceUser({ name: 'counted', auth: 'key' });
    await keyUserToken(z, user.keyFile!, 'openid');
    expect(await z.calls()).toEqual({ introspection: 1, token: 1, discovery: 1, keys: 1 });
  });

  it('counts faulted calls too, and resetCalls starts again from zero', async () => {
    await z.resetCalls();
    await z.injectFault({ status: 503 }, { times: 2 });
    await introspectWithKey(z, token);
    await introspectWithKey(z, token);
    expect((await z.calls()).introspection).toBe(2);
    await z.resetCalls();
    expect((await z.calls()).introspection).toBe(0);
  });
});
