/**
 * The middleware against a real authorization server (oidc-provider set up as
 * ZITADEL by lib/testing), under Express 5 and Express 4 alike.
 */
import { generateKeyPairSync } from 'node:crypto';
import express5 from 'express';
import express4 from 'express4';
import request from 'supertest';
import {
  authErrorHandler,
  requireRole,
  serviceUserTokenSource,
  zitadelAuth,
  type ZitadelAuthMiddleware,
  type ZitadelAuthOptions,
} from 'express-zitadel-introspection';
import { startLocalZitadel, type LocalZitadel } from 'express-zitadel-introspection/testing';
import { captureLogger } from '../helpers/capture-logger';

const ORG = '100000000000000001';
let zitadel: LocalZitadel;
let shortLived: LocalZitadel;
let token = '';
let freshShortToken: () => Promise<string>;
const middlewares: ZitadelAuthMiddleware[] = [];

const scopeFor = (z: LocalZitadel) => [
  'openid',
  `urn:zitadel:iam:org:project:id:${z.projectId}:aud`,
  'urn:zitadel:iam:org:projects:roles',
];

beforeAll(async () => {
  [zitadel, shortLived] = await Promise.all([
    startLocalZitadel(),
    startLocalZitadel({ accessTokenTtlSeconds: 2 }),
  ]);
  const user = await zitadel.createServiceUser({
    name: 'worker',
    roles: { reader: [ORG] },
    auth: 'secret',
  });
  token = await serviceUserTokenSource({
    issuer: zitadel.issuer,
    clientId: user.clientId!,
    clientSecret: user.clientSecret!,
    scope: scopeFor(zitadel),
  }).getToken();
  const shortUser = await shortLived.createServiceUser({
    name: 'brief',
    auth: 'key',
    roles: { reader: [ORG] },
  });
  freshShortToken = () =>
    serviceUserTokenSource({
      issuer: shortLived.issuer,
      key: shortUser.keyFile!,
      scope: scopeFor(shortLived),
    }).getToken();
}, 60_000);

afterAll(async () => {
  await Promise.all(middlewares.map((m) => m.introspector.close()));
  await Promise.all([zitadel?.close(), shortLived?.close()]);
});

describe.each([
  ['Express 5', express5 as unknown as typeof express5],
  ['Express 4', express4 as unknown as typeof express5],
])('%s', (_name, express) => {
  function appWith(options: Partial<ZitadelAuthOptions> = {}) {
    const auth = zitadelAuth({
      issuer: zitadel.issuer,
      key: zitadel.apiKeyFile,
      projectId: zitadel.projectId,
      ...options,
    } as ZitadelAuthOptions);
    middlewares.push(auth);
    const app = express();
    app.use(auth);
    app.get('/reports', requireRole('reader', { orgId: () => ORG }), (req, res) => {
      res.json({ subject: req.auth!.subject, orgs: Object.keys(req.auth!.roles.reader ?? {}) });
    });
    app.use(authErrorHandler());
    return { app, auth };
  }

  it('grants a real token with the API key file (private_key_jwt)', async () => {
    const { app } = appWith();
    const response = await request(app).get('/reports').set('Authorization', `Bearer ${token}`);
    expect(response.status).toBe(200);
    expect(response.body.orgs).toEqual([ORG]);
  });

  it('grants a real token with the API client secret (client_secret_basic)', async () => {
    const { app } = appWith({
      key: undefined,
      clientId: zitadel.apiClientId,
      clientSecret: zitadel.apiClientSecret,
    });
    const response = await request(app).get('/reports').set('Authorization', `Bearer ${token}`);
    expect(response.status).toBe(200);
  });

  it('answers 500 when ZITADEL rejects our client authentication, logged with a hint', async () => {
    const { privateKey } = generateKeyPairSync('rsa', {
      modulusLength: 2048,
      privateKeyEncoding: { type: 'pkcs1', format: 'pem' },
      publicKeyEncoding: { type: 'spki', format: 'pem' },
    });
    const logger = captureLogger();
    const { app } = appWith({ key: { ...zitadel.apiKeyFile, key: privateKey }, logger });
    const response = await request(app).get('/reports').set('Authorization', `Bearer ${token}`);
    expect(response.status).toBe(500);
    expect(response.body.error).toBe('server_error');
    expect(response.headers['www-authenticate']).toBeUndefined();
    const errors = logger.lines.filter((l) => l.level === 'error');
    expect(errors).toHaveLength(1);
    expect(errors[0].message).toMatch(/revoked|another app|issuer/i);
    expect(logger.text()).not.toContain(token);
    expect(logger.text()).not.toContain(privateKey.split('\n')[1]);
  });

  it('answers 503 with Retry-After when ZITADEL cannot be reached', async () => {
    const { app } = appWith({ issuer: 'http://127.0.0.1:9', timeoutMs: 500, retries: 0 });
    const response = await request(app).get('/reports').set('Authorization', `Bearer ${token}`);
    expect(response.status).toBe(503);
    expect(response.headers['retry-after']).toBe('5');
    expect(response.headers['www-authenticate']).toBeUndefined();
  });

  it('never serves a cached answer past the token exp', async () => {
    const auth = zitadelAuth({
      issuer: shortLived.issuer,
      key: shortLived.apiKeyFile,
      clockToleranceSeconds: 0,
    });
    middlewares.push(auth);
    const app = express();
    app.get('/', auth, (_req, res) => res.end('ok'));
    app.use(authErrorHandler());
    const header = `Bearer ${await freshShortToken()}`;
    const first = await request(app).get('/').set('Authorization', header);
    expect(first.status).toBe(200);
    await new Promise((resolve) => setTimeout(resolve, 2200));
    const later = await request(app).get('/').set('Authorization', header);
    expect(later.status).toBe(401);
    expect(auth.introspector.stats().introspections).toBe(2);
  });

  it('asks again after evict(token)', async () => {
    const { app, auth } = appWith();
    const header = `Bearer ${token}`;
    await request(app).get('/reports').set('Authorization', header);
    await auth.introspector.evict(token);
    await request(app).get('/reports').set('Authorization', header);
    expect(auth.introspector.stats()).toMatchObject({ misses: 2, introspections: 2 });
  });
});
