/**
 * Written the way a user tests their own API: a local ZITADEL, service users
 * of each kind with roles, their tokens from the package's token source, and
 * the API's guards deciding 200 / 401 / 403.
 */
import express from 'express';
import request from 'supertest';
import {
  authErrorHandler,
  requireAnyRole,
  requireRole,
  requireScope,
  serviceUserTokenSource,
  zitadelAuth,
  type ZitadelAuthMiddleware,
} from 'express-zitadel-introspection';
import { startLocalZitadel, type LocalZitadel } from 'express-zitadel-introspection/testing';

const ACME = '100000000000000001';
const GLOBEX = '100000000000000002';

let zitadel: LocalZitadel;
let auth: ZitadelAuthMiddleware;
let app: express.Express;
const tokens: Record<'reader' | 'admin' | 'pat' | 'noAudience', string> = {
  reader: '',
  admin: '',
  pat: '',
  noAudience: '',
};

beforeAll(async () => {
  zitadel = await startLocalZitadel();
  const scope = [
    'openid',
    `urn:zitadel:iam:org:project:id:${zitadel.projectId}:aud`,
    'urn:zitadel:iam:org:projects:roles',
  ];
  const reader = await zitadel.createServiceUser({
    name: 'report-reader',
    roles: { reader: [ACME] },
    auth: 'key',
  });
  const admin = await zitadel.createServiceUser({
    name: 'globex-admin',
    roles: { admin: [GLOBEX], 'billing-admin': [GLOBEX] },
    auth: 'secret',
  });
  const nobody = await zitadel.createServiceUser({ name: 'no-roles', auth: 'pat' });
  tokens.reader = await serviceUserTokenSource({
    issuer: zitadel.issuer,
    key: reader.keyPath!,
    scope,
  }).getToken();
  tokens.admin = await serviceUserTokenSource({
    issuer: zitadel.issuer,
    clientId: admin.clientId!,
    clientSecret: admin.clientSecret!,
    scope,
  }).getToken();
  tokens.pat = await serviceUserTokenSource({
    issuer: zitadel.issuer,
    pat: nobody.pat!,
  }).getToken();
  tokens.noAudience = await serviceUserTokenSource({
    issuer: zitadel.issuer,
    key: reader.keyFile!,
    scope: 'openid urn:zitadel:iam:org:projects:roles',
  }).getToken();

  auth = zitadelAuth({
    issuer: zitadel.issuer,
    key: zitadel.apiKeyPath,
    projectId: zitadel.projectId,
  });
  app = express();
  app.use('/api', auth);
  app.get('/api/me', (req, res) => res.json(req.auth));
  app.get('/api/reports', requireRole('reader'), (req, res) => res.json({ by: req.auth!.subject }));
  app.post('/api/admin', requireAnyRole(['admin', 'owner']), (_req, res) => res.json({ ok: true }));
  app.get(
    '/api/orgs/:orgId/invoices',
    requireRole('billing-admin', { orgId: (req) => String(req.params.orgId) }),
    (_req, res) => res.json({ ok: true }),
  );
  app.get('/api/mail', requireScope('email'), (_req, res) => res.json({ ok: true }));
  app.use(authErrorHandler());
}, 60_000);

afterAll(async () => {
  await auth?.introspector.close();
  await zitadel?.close();
});

const call = (method: 'get' | 'post', path: string, token?: string) => {
  const pending = request(app)[method](path);
  return token ? pending.set('Authorization', `Bearer ${token}`) : pending;
};

it.each([
  ['reader (JWT-bearer key)', 'reader', 'get', '/api/reports', 200],
  ['reader', 'reader', 'post', '/api/admin', 403],
  ['admin (client credentials)', 'admin', 'post', '/api/admin', 200],
  ['admin', 'admin', 'get', '/api/reports', 403],
  ['admin in its own org', 'admin', 'get', `/api/orgs/${GLOBEX}/invoices`, 200],
  ['admin in another org', 'admin', 'get', `/api/orgs/${ACME}/invoices`, 403],
  ['PAT without roles', 'pat', 'get', '/api/reports', 403],
  ['PAT without roles', 'pat', 'get', '/api/me', 200],
  ['anyone without the email scope', 'reader', 'get', '/api/mail', 403],
  ['a token without the project audience', 'noAudience', 'get', '/api/me', 401],
] as const)('%s: %s %s %s → %d', async (_who, caller, method, path, status) => {
  const response = await call(method, path, tokens[caller]);
  expect(response.status).toBe(status);
});

it('puts the caller, its roles by org and its scopes on req.auth — without the token', async () => {
  const response = await call('get', '/api/me', tokens.admin);
  expect(response.status).toBe(200);
  expect(response.body.roles).toEqual({
    admin: { [GLOBEX]: expect.any(String) },
    'billing-admin': { [GLOBEX]: expect.any(String) },
  });
  expect(response.body.scopes).toContain('urn:zitadel:iam:org:projects:roles');
  expect(response.body.audience).toContain(zitadel.projectId);
  expect(JSON.stringify(response.body)).not.toContain(tokens.admin);
});

it('answers 401 with a bare challenge without a token, and invalid_token for a bad one', async () => {
  const none = await call('get', '/api/reports');
  expect(none.status).toBe(401);
  expect(none.headers['www-authenticate']).toBe('Bearer realm="api"');
  const bad = await call('get', '/api/reports', 'not-a-real-token');
  expect(bad.status).toBe(401);
  expect(bad.body.error).toBe('invalid_token');
});

it('answers 403 insufficient_scope naming the scope', async () => {
  const response = await call('get', '/api/mail', tokens.reader);
  expect(response.headers['www-authenticate']).toContain('error="insufficient_scope"');
  expect(response.headers['www-authenticate']).toContain('scope="email"');
});

it('asked ZITADEL once per token, then answered from the cache', async () => {
  const before = auth.introspector.stats();
  await call('get', '/api/reports', tokens.reader);
  await call('get', '/api/reports', tokens.reader);
  const after = auth.introspector.stats();
  expect(after.introspections).toBe(before.introspections);
  expect(after.hits - before.hits).toBe(2);
});

it('answers 401 (not 500) for a JWT-shaped token the issuer refuses to read', async () => {
  const jwtShaped = 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl';
  const response = await call('get', '/api/reports', jwtShaped);
  expect(response.status).toBe(401);
  expect(response.body.error).toBe('invalid_token');
});
