/**
 * The "Testing your API" examples of docs/testing.md, verbatim (kept in sync by hand): they must pass.
 */
import express from 'express';
import request from 'supertest';
import {
  zitadelAuth,
  requireRole,
  authErrorHandler,
  serviceUserTokenSource,
  type ZitadelAuthMiddleware,
} from 'express-zitadel-introspection';
import { startLocalZitadel, type LocalZitadel } from 'express-zitadel-introspection/testing';

let zitadel: LocalZitadel;
let auth: ZitadelAuthMiddleware;
let app: express.Express;
beforeAll(async () => {
  zitadel = await startLocalZitadel();
  auth = zitadelAuth({
    issuer: zitadel.issuer,
    key: zitadel.apiKeyFile,
    projectId: zitadel.projectId,
  });
  app = express();
  app.use(auth);
  app.get('/reports', requireRole('reader'), (req, res) => res.json({ by: req.auth!.subject }));
  app.use(authErrorHandler());
});
afterAll(async () => {
  await auth.introspector.close();
  await zitadel.close();
});

it('lets a reader in', async () => {
  const user = await zitadel.createServiceUser({
    name: 'reader',
    roles: { reader: ['org-1'] },
    auth: 'key',
  });
  const token = await serviceUserTokenSource({
    issuer: zitadel.issuer,
    key: user.keyFile!,
    scope: [
      'openid',
      `urn:zitadel:iam:org:project:id:${zitadel.projectId}:aud`,
      'urn:zitadel:iam:org:projects:roles',
    ],
  }).getToken();
  await request(app).get('/reports').set('Authorization', `Bearer ${token}`).expect(200);
});

it('answers 503 while ZITADEL rate-limits, and a cached token costs one call', async () => {
  const user = await zitadel.createServiceUser({
    name: 'worker',
    roles: { reader: ['org-1'] },
    auth: 'pat',
  });
  const get = () => request(app).get('/reports').set('Authorization', `Bearer ${user.pat}`);

  await zitadel.injectFault({ status: 429, body: 'Too Many Requests' }, { times: 1 });
  await get().expect(503); // ZITADEL down or rate-limiting: 503 with Retry-After
  // A 429 without Retry-After backs off 1 s (then 2, 4 … on further 429s): wait it out.
  await new Promise((resolve) => setTimeout(resolve, 1100));

  await zitadel.resetCalls();
  await get().expect(200);
  await get().expect(200);
  expect((await zitadel.calls()).introspection).toBe(1);

  await zitadel.deactivateUser(user.userId); // or revokeToken(user.pat!), setRoles(...)
  await auth.introspector.evict(user.pat!); // (or wait for the cache entry to end)
  await get().expect(401);
});
