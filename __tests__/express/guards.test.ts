/**
 * Guards on a request whose `req.auth` was built by the real mapping
 * (toAuthInfo + withToken) from the ZITADEL fixture.
 */
import request from 'supertest';
import type { ErrorRequestHandler, Request, RequestHandler } from 'express';
import { ConfigError } from '../../lib/errors';
import { authErrorHandler } from '../../lib/express/error-handler';
import { requireAnyRole, requireClaim, requireRole, requireScope } from '../../lib/express/guards';
import { toAuthInfo, withToken } from '../../lib/token-info';
import { ACME, GLOBEX, activeFixture, expressVersions, type ExpressFactory } from './support';

const TOKEN = 'secret-token-value';

const signedIn: RequestHandler = (req, _res, next) => {
  req.auth = withToken(toAuthInfo(activeFixture()), TOKEN);
  next();
};

/** GET /org/:orgId/x behind `guard`; `withAuth: false` leaves req.auth undefined. */
function guardedApp(factory: ExpressFactory, guard: RequestHandler, withAuth = true) {
  const app = factory();
  const errors: unknown[] = [];
  const before: RequestHandler[] = withAuth ? [signedIn] : [];
  app.get('/org/:orgId/x', ...before, guard, (_req, res) => {
    res.json({ passed: true });
  });
  app.use(authErrorHandler());
  app.use(((err, _req, res, _next) => {
    errors.push(err);
    res.status(599).end();
  }) as ErrorRequestHandler);
  return { app, errors };
}

function expectForbidden(res: request.Response, description: string, scope?: string) {
  expect(res.status).toBe(403);
  expect(res.body).toEqual({ error: 'insufficient_scope', error_description: description });
  expect(res.headers['www-authenticate']).toBe(
    `Bearer realm="api", error="insufficient_scope", error_description="${description}"` +
      (scope ? `, scope="${scope}"` : ''),
  );
  expect(res.text).not.toContain(TOKEN);
}

// As DESIGN.md writes it: Express 5 types the param as string | string[].
const byOrgParam = { orgId: (req: Request) => req.params.orgId };

describe.each(expressVersions)('guards on %s', (_name, factory) => {
  async function get(guard: RequestHandler, orgId = ACME, withAuth = true) {
    const { app, errors } = guardedApp(factory, guard, withAuth);
    const res = await request(app).get(`/org/${orgId}/x`);
    return { res, errors };
  }

  describe('requireRole', () => {
    it('passes with one role the caller has', async () => {
      expect((await get(requireRole('reader'))).res.body).toEqual({ passed: true });
    });

    it('passes with every role the caller has', async () => {
      const { res } = await get(requireRole(['reader', 'billing-admin']));
      expect(res.body).toEqual({ passed: true });
    });

    it('denies when one role is missing, naming it', async () => {
      const { res } = await get(requireRole(['reader', 'admin', 'owner']));
      expectForbidden(res, 'missing role admin, owner');
    });

    it('checks the role in the organization the resolver returns', async () => {
      expect((await get(requireRole('billing-admin', byOrgParam), GLOBEX)).res.status).toBe(200);
      const { res } = await get(requireRole('reader', byOrgParam), GLOBEX);
      expectForbidden(res, `missing role reader in organization ${GLOBEX}`);
    });

    it.each([
      ['undefined', undefined],
      ['an empty string', ''],
      ['an array', [ACME]],
    ])('denies when the resolver returns %s', async (_name, value) => {
      const { res } = await get(requireRole('reader', { orgId: () => value }));
      expectForbidden(res, 'no organization to check the roles in');
    });

    it('passes a resolver error to next(err) unchanged', async () => {
      const thrown = new RangeError('no org');
      const { res, errors } = await get(
        requireRole('reader', {
          orgId: () => {
            throw thrown;
          },
        }),
      );
      expect(res.status).toBe(599);
      expect(errors).toEqual([thrown]);
      expect(errors[0]).toBe(thrown);
    });
  });

  describe('requireAnyRole', () => {
    it('passes with one of the roles', async () => {
      expect((await get(requireAnyRole(['admin', 'reader']))).res.status).toBe(200);
      expect((await get(requireAnyRole('reader'))).res.status).toBe(200);
    });

    it('denies with none of them, naming them', async () => {
      const { res } = await get(requireAnyRole(['admin', 'owner']));
      expectForbidden(res, 'needs one of roles admin, owner');
    });

    it('checks the organization the resolver returns', async () => {
      const guard = () => requireAnyRole(['reader', 'billing-admin'], byOrgParam);
      expect((await get(guard(), GLOBEX)).res.status).toBe(200);
      const { res } = await get(guard(), 'other-org');
      expectForbidden(res, 'needs one of roles reader, billing-admin in organization other-org');
      const { res: none } = await get(requireAnyRole('reader', { orgId: () => undefined }));
      expectForbidden(none, 'no organization to check the roles in');
    });
  });

  describe('requireScope', () => {
    it('passes with every scope', async () => {
      expect((await get(requireScope(['openid', 'profile']))).res.status).toBe(200);
      expect((await get(requireScope('openid'))).res.status).toBe(200);
    });

    it('denies a missing scope, naming the missing ones and all wanted in scope="…"', async () => {
      const { res } = await get(requireScope(['openid', 'email', 'phone']));
      expectForbidden(res, 'missing scope email phone', 'openid email phone');
    });
  });

  describe('requireClaim', () => {
    const isInvoiceWorker = (auth: { username?: string }) => auth.username === 'invoice-worker';

    it('passes when the check returns true, and gives it req.auth and req', async () => {
      const seen: unknown[] = [];
      const { res } = await get(
        requireClaim((auth, req) => {
          seen.push(auth.subject, auth.token, req.params.orgId);
          return isInvoiceWorker(auth);
        }),
      );
      expect(res.status).toBe(200);
      expect(seen).toEqual(['301255944417345537', TOKEN, ACME]);
    });

    it('awaits an async check', async () => {
      const slowYes = requireClaim(async (auth) => {
        await new Promise((resolve) => setTimeout(resolve, 5));
        return isInvoiceWorker(auth);
      });
      expect((await get(slowYes)).res.status).toBe(200);
      const slowNo = requireClaim(async () => false, 'not today');
      expectForbidden((await get(slowNo)).res, 'not today');
    });

    it('denies false with its description, or a default one', async () => {
      expectForbidden((await get(requireClaim(() => false, 'only svc-1'))).res, 'only svc-1');
      expectForbidden(
        (await get(requireClaim(() => false))).res,
        'the token does not satisfy the claim check of this route',
      );
    });

    it('denies a truthy value that is not true (fails closed)', async () => {
      const sloppy = requireClaim(() => 'yes' as unknown as boolean, 'needs true');
      expectForbidden((await get(sloppy)).res, 'needs true');
    });

    it('sanitizes a description with quotes and backslashes', async () => {
      const { res } = await get(requireClaim(() => false, 'only "svc\\1"'));
      expectForbidden(res, 'only  svc 1 ');
    });

    it.each([
      ['throws', () => new Error('check broke'), false],
      ['rejects', () => new Error('check broke async'), true],
    ])('passes an error to next(err) unchanged when the check %s', async (_c, make, async) => {
      const thrown = make();
      const check = async
        ? () => Promise.reject(thrown)
        : () => {
            throw thrown;
          };
      const { res, errors } = await get(requireClaim(check));
      expect(res.status).toBe(599);
      expect(errors).toEqual([thrown]);
      expect(errors[0]).toBe(thrown);
    });
  });

  it.each([
    ['requireRole', requireRole('reader')],
    ['requireAnyRole', requireAnyRole(['reader'])],
    ['requireScope', requireScope('openid')],
    ['requireClaim', requireClaim(() => true)],
  ])('%s answers 401 (realm api) without req.auth', async (_c, guard) => {
    const { res } = await get(guard, ACME, false);
    expect(res.status).toBe(401);
    expect(res.headers['www-authenticate']).toBe('Bearer realm="api"');
    expect(res.body).toEqual({
      error: 'unauthorized',
      error_description: 'no bearer token in the request',
    });
  });
});

describe('guards refuse a bad definition when built', () => {
  it.each([
    ['requireRole([])', () => requireRole([]), 'roles'],
    ['requireRole("")', () => requireRole(''), 'roles'],
    ['requireRole([1])', () => requireRole([1 as unknown as string]), 'roles'],
    ['requireRole(undefined)', () => requireRole(undefined as unknown as string), 'roles'],
    ['requireAnyRole([])', () => requireAnyRole([]), 'roles'],
    ['requireScope([])', () => requireScope([]), 'scopes'],
    ['requireScope(["a", ""])', () => requireScope(['a', '']), 'scopes'],
    [
      'requireRole with a non-function orgId',
      () => requireRole('a', { orgId: 'x' as unknown as () => string }),
      'orgId',
    ],
    ['requireClaim without a function', () => requireClaim('x' as never), 'check'],
  ])('%s throws ConfigError', (_c, build, field) => {
    expect(build).toThrow(ConfigError);
    try {
      build();
    } catch (error) {
      expect((error as ConfigError).field).toBe(field);
      expect((error as ConfigError).status).toBe(500);
    }
  });

  it('names the guard and what is missing', () => {
    expect(() => requireScope([])).toThrow('requireScope() needs at least one scope');
    expect(() => requireAnyRole([])).toThrow('requireAnyRole() needs at least one role');
  });
});
