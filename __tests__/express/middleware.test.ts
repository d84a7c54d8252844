/**
 * zitadelAuth() end to end: the real introspector against a real HTTP server
 * on 127.0.0.1 that answers like ZITADEL (and like a broken ZITADEL).
 */
import request from 'supertest';
import type { ErrorRequestHandler, RequestHandler } from 'express';
import { IntrospectionUnavailableError } from '../../lib/errors';
import { requireRole } from '../../lib/express/guards';
import {
  activeAnswer,
  startScriptedZitadel,
  type ScriptedZitadel,
} from '../helpers/scripted-zitadel';
import {
  ACME,
  GLOBEX,
  activeFixture,
  bearer,
  expressVersions,
  middlewareFactory,
  protectedApp,
  type ExpressFactory,
} from './support';

const PROJECT = '301255683459087361';

let zitadel: ScriptedZitadel;
const { auth, closeAll } = middlewareFactory(() => zitadel);

beforeAll(async () => {
  zitadel = await startScriptedZitadel();
  zitadel.answer('active', { json: activeFixture() });
  zitadel.answer('inactive', { json: { active: false } });
  zitadel.answer('expired', { json: activeAnswer({}, -3600) });
  zitadel.answer('rejected', { status: 400, json: { error: 'unauthorized_client' } });
  zitadel.answer('bad-gateway', { status: 502, body: 'bad gateway' });
});
afterAll(async () => {
  await closeAll();
  await zitadel.close();
});

describe.each(expressVersions)('zitadelAuth() on %s', (_name, factory: ExpressFactory) => {
  const app = (...handlers: RequestHandler[]) => protectedApp(factory, ...handlers);

  it('puts the caller on req.auth, with the token hidden from JSON', async () => {
    const seen: Record<string, unknown> = {};
    const inspect: RequestHandler = (req, res) => {
      Object.assign(seen, {
        token: req.auth?.token,
        keys: Object.keys(req.auth ?? {}),
        json: JSON.stringify(req.auth),
        orgId: req.auth?.orgId,
        billingInGlobex: req.auth?.hasRole('billing-admin', GLOBEX),
      });
      res.json(req.auth);
    };
    const res = await request(app(auth({ projectId: PROJECT }), inspect))
      .get('/api')
      .set(bearer('active'));
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      subject: '301255944417345537',
      username: 'invoice-worker',
      orgId: ACME,
      audience: ['301255944417345537', PROJECT],
    });
    expect(seen).toMatchObject({ token: 'active', orgId: ACME, billingInGlobex: true });
    expect(seen.keys).not.toContain('token');
    expect(seen.json).not.toContain('"token"');
    expect(res.text).not.toContain('"token"');
  });

  it('feeds the guards after it', async () => {
    const guarded = factory();
    guarded.get(
      '/org/:orgId',
      auth(),
      requireRole('billing-admin', { orgId: (r) => r.params.orgId as string }),
      (_req, res) => {
        res.json({ ok: true });
      },
    );
    expect((await request(guarded).get(`/org/${GLOBEX}`).set(bearer('active'))).status).toBe(200);
    expect((await request(guarded).get('/org/elsewhere').set(bearer('active'))).status).toBe(403);
  });

  it.each([
    ['inactive', {}, 'the access token is not active'],
    ['expired', {}, 'the access token has expired'],
    ['active', { audience: 'another-api' }, 'the access token is not meant for this API'],
  ])('answers 401 invalid_token for a token that is %s', async (token, options, description) => {
    const res = await request(app(auth(options)))
      .get('/api')
      .set(bearer(token));
    expect(res.status).toBe(401);
    expect(res.body).toEqual({ error: 'invalid_token', error_description: description });
    expect(res.headers['www-authenticate']).toBe(
      `Bearer realm="api", error="invalid_token", error_description="${description}"`,
    );
  });

  it('answers 500 server_error when ZITADEL rejects our client authentication', async () => {
    const res = await request(app(auth())).get('/api').set(bearer('rejected'));
    expect(res.status).toBe(500);
    expect(res.body.error).toBe('server_error');
    expect(res.headers['www-authenticate']).toBeUndefined();
  });

  it('answers 503 with Retry-After and no challenge when ZITADEL answers 502', async () => {
    const res = await request(app(auth())).get('/api').set(bearer('bad-gateway'));
    expect(res.status).toBe(503);
    expect(res.body.error).toBe('temporarily_unavailable');
    expect(res.headers['retry-after']).toBe('5');
    expect(res.headers['www-authenticate']).toBeUndefined();
  });

  it('is answered correctly by Express’s own error handler too (status and challenge)', async () => {
    const bare = factory();
    bare.get('/api', auth(), (_req, res) => res.end());
    const inactive = await request(bare).get('/api').set(bearer('inactive'));
    expect(inactive.status).toBe(401);
    expect(inactive.headers['www-authenticate']).toContain('error="invalid_token"');
    const outage = await request(bare).get('/api').set(bearer('bad-gateway'));
    expect(outage.status).toBe(503);
    expect(outage.headers['retry-after']).toBe('5');
  });

  it('uses its realm in every challenge', async () => {
    const billing = app(auth({ realm: 'billing' }));
    const none = await request(billing).get('/api');
    expect(none.headers['www-authenticate']).toBe('Bearer realm="billing"');
    const malformed = await request(billing).get('/api').set('Authorization', 'Bearer');
    expect(malformed.headers['www-authenticate']).toMatch(
      /^Bearer realm="billing", error="invalid_request"/,
    );
    const inactive = await request(billing).get('/api').set(bearer('inactive'));
    expect(inactive.headers['www-authenticate']).toMatch(
      /^Bearer realm="billing", error="invalid_token"/,
    );
  });

  describe('with the memory cache (a warm token is granted synchronously)', () => {
    const cached = (options: Parameters<typeof auth>[0] = {}) =>
      auth({ cache: { maxEntries: 100 }, ...options });

    it('grants from memory with the same req.auth and request state as a call', async () => {
      const served = app(cached({ realm: 'billing' }));
      const before = zitadel.requests.length;
      const cold = await request(served).get('/api').set(bearer('active'));
      const warm = await request(served).get('/api').set(bearer('active'));
      expect(zitadel.requests.length).toBe(before + 1);
      expect(warm.status).toBe(200);
      expect(warm.body).toEqual(cold.body);
      expect(warm.body).toMatchObject({ token: 'active', location: 'header', realm: 'billing' });
    });

    it('lets the last zitadelAuth() to run decide the realm, in either order', async () => {
      const anonymous = (realm: string) =>
        auth({ realm, authRequired: false, getToken: () => undefined });
      const guard = requireRole('no-such-role');
      // Granted from memory after an anonymous pass: the grant's realm.
      const grantLast = app(anonymous('first'), cached({ realm: 'second' }), guard);
      await request(grantLast).get('/api').set(bearer('active'));
      const warm = await request(grantLast).get('/api').set(bearer('active'));
      expect(warm.status).toBe(403);
      expect(warm.headers['www-authenticate']).toMatch(/^Bearer realm="second"/);
      // An anonymous pass after a grant from memory: the anonymous one's realm.
      const anonymousLast = app(cached({ realm: 'first' }), anonymous('second'), guard);
      await request(anonymousLast).get('/api').set(bearer('active'));
      const after = await request(anonymousLast).get('/api').set(bearer('active'));
      expect(after.status).toBe(403);
      expect(after.headers['www-authenticate']).toMatch(/^Bearer realm="second"/);
    });

    it('touches req twice on a memory hit: reads the headers, sets req.auth', async () => {
      // Express gives every request its own hidden class, so each access on
      // req misses V8's inline caches; the hot path keeps them to two.
      const middleware = cached();
      await request(app(middleware)).get('/api').set(bearer('active'));
      const touched: string[] = [];
      const target = { headers: { authorization: 'Bearer active' } } as Record<
        PropertyKey,
        unknown
      >;
      const req = new Proxy(target, {
        get: (object, key) => (touched.push(`get ${String(key)}`), object[key]),
        set: (object, key, value) => (
          touched.push(`set ${String(key)}`),
          (object[key] = value),
          true
        ),
        has: (object, key) => (touched.push(`has ${String(key)}`), key in object),
      });
      const next = jest.fn();
      middleware(req as never, {} as never, next);
      expect(next).toHaveBeenCalledWith();
      expect(touched).toEqual(['get headers', 'set auth']);
      expect((target.auth as { subject: string }).subject).toBe('301255944417345537');
    });

    it('refuses a cached inactive answer from memory as 401 invalid_token', async () => {
      const served = app(cached({ cache: { maxEntries: 100, inactiveTtlSeconds: 60 } }));
      const before = zitadel.requests.length;
      await request(served).get('/api').set(bearer('inactive'));
      const warm = await request(served).get('/api').set(bearer('inactive'));
      expect(zitadel.requests.length).toBe(before + 1);
      expect(warm.status).toBe(401);
      expect(warm.headers['www-authenticate']).toMatch(/error="invalid_token"/);
    });
  });

  describe('authRequired: false', () => {
    const optional = () => auth({ authRequired: false, realm: 'partner' });

    it('lets a request without credentials through anonymously', async () => {
      const before = zitadel.requests.length;
      const res = await request(app(optional())).get('/api');
      expect(res.status).toBe(200);
      expect(res.body).toEqual({ anonymous: true, realm: 'partner' });
      expect(zitadel.requests.length).toBe(before);
    });

    it('treats another scheme as no credentials (RFC 6750 §3.1)', async () => {
      const res = await request(app(optional()))
        .get('/api')
        .set('Authorization', 'Basic dXNlcjpwYXNz');
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({ anonymous: true });
    });

    it('still introspects a token that is there', async () => {
      const res = await request(app(optional())).get('/api').set(bearer('active'));
      expect(res.body).toMatchObject({ anonymous: false, subject: '301255944417345537' });
    });

    it.each([
      ['a malformed header', { Authorization: 'Bearer a b' }, 400],
      ['an inactive token', bearer('inactive'), 401],
      ['an outage', bearer('bad-gateway'), 503],
    ])('still refuses %s', async (_c, headers, status) => {
      const res = await request(app(optional())).get('/api').set(headers);
      expect(res.status).toBe(status);
    });

    it('leaves a guard to answer 401 with the middleware’s realm', async () => {
      const res = await request(app(optional(), requireRole('reader'))).get('/api');
      expect(res.status).toBe(401);
      expect(res.headers['www-authenticate']).toBe('Bearer realm="partner"');
      expect(res.body).toEqual({
        error: 'unauthorized',
        error_description: 'no bearer token in the request',
      });
    });
  });

  it.each([
    ['an active token', bearer('active'), [undefined]],
    ['an inactive token', bearer('inactive'), [401]],
    ['an outage', bearer('bad-gateway'), [503]],
    ['a malformed header', { Authorization: 'Bearer' }, [400]],
    ['no credentials', {}, [401]],
  ])('calls next exactly once, and returns no promise, for %s', async (_c, headers, expected) => {
    const middleware = auth();
    const calls: unknown[] = [];
    const returned: unknown[] = [];
    const counting = factory();
    counting.get('/api', (req, res) => {
      returned.push(
        middleware(req, res, (err?: unknown) => {
          calls.push(err === undefined ? undefined : (err as { status: number }).status);
          setTimeout(() => res.end(), 20);
        }),
      );
    });
    await request(counting).get('/api').set(headers);
    expect(calls).toEqual(expected);
    expect(returned).toEqual([undefined]);
  });

  it('passes a rejection of the introspector on to next(err) as it is', async () => {
    const middleware = auth();
    await middleware.introspector.close();
    const seen: unknown[] = [];
    const closed = factory();
    closed.get('/api', middleware, (_req, res) => res.end());
    closed.use(((err, _req, res, _next) => {
      seen.push(err);
      res.status(599).end();
    }) as ErrorRequestHandler);
    const res = await request(closed).get('/api').set(bearer('active'));
    expect(res.status).toBe(599);
    expect(seen).toHaveLength(1);
    expect(seen[0]).toBeInstanceOf(IntrospectionUnavailableError);
    expect((seen[0] as Error).message).toBe('the introspector is closed');
  });
});
