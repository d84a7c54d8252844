/**
 * The ID-token check through the test kit: the local ZITADEL answers the
 * JWT-bearer grant with an `id_token` when `openid` is in the scope, signed
 * by the same published web keys as its JWT access tokens. Sent as a Bearer
 * token to an API that verifies JWTs locally, it is refused by name, without
 * an introspection call.
 */
import { createHash } from 'node:crypto';
import express from 'express';
import request from 'supertest';
import { createRemoteJWKSet, decodeJwt, decodeProtectedHeader, jwtVerify } from 'jose';
import { zitadelAuth, type ZitadelAuthMiddleware } from '../../lib/express/middleware';
import { startLocalZitadel, type LocalZitadel } from '../../lib/testing';
import {
  audienceScope,
  jwtBearerGrant,
  ROLES_SCOPE,
  signAssertion,
  userClaims,
} from '../testing/local-zitadel-helpers';

let z: LocalZitadel;
const open: ZitadelAuthMiddleware[] = [];

beforeAll(async () => {
  z = await startLocalZitadel();
}, 60_000);
afterAll(() => z?.close());
afterEach(async () => {
  await Promise.all(open.splice(0).map((auth) => auth.introspector.close()));
});

let users = 0;
async function grant(accessTokenType: 'jwt' | 'opaque', scope: string) {
  const user = await z.createServiceUser({
    name: `id-token-${++users}`,
    roles: { reader: ['org-1'] },
    auth: 'key',
    accessTokenType,
  });
  const keyFile = user.keyFile!;
  const assertion = await signAssertion(keyFile.key, keyFile.keyId, userClaims(z, keyFile.userId));
  const { status, body } = await jwtBearerGrant(z, assertion, scope);
  expect(status).toBe(200);
  return { user, body: body as { access_token: string; id_token?: string } };
}

function api() {
  const auth = zitadelAuth({
    issuer: z.issuer,
    key: z.apiKeyFile,
    projectId: z.projectId,
    jwt: { verify: 'local' },
  });
  open.push(auth);
  const app = express()
    .use(auth)
    .get('/r', (req, res) => res.json({ source: req.auth!.source }));
  return (token: string) => request(app).get('/r').auth(token, { type: 'bearer' });
}

const atHash = (token: string) =>
  createHash('sha256').update(token).digest().subarray(0, 16).toString('base64url');

describe("the kit's ID token", () => {
  const scope = () => `openid ${audienceScope(z.projectId)} ${ROLES_SCOPE}`;

  it.each(['jwt', 'opaque'] as const)(
    'with openid, the JWT-bearer grant (%s access token) answers one signed by the published keys',
    async (type) => {
      const { user, body } = await grant(type, scope());
      expect(typeof body.id_token).toBe('string');
      const idToken = body.id_token!;
      const { payload } = await jwtVerify(
        idToken,
        createRemoteJWKSet(new URL(`${z.issuer}/oauth/v2/keys`)),
        { issuer: z.issuer, algorithms: ['RS256'] },
      );
      expect(payload).toMatchObject({
        // A key user's client id is its user id (ZITADEL's JWT profile).
        sub: user.userId,
        azp: user.userId,
        client_id: user.userId,
        at_hash: atHash(body.access_token),
      });
      expect(payload.aud).toEqual(expect.arrayContaining([z.projectId]));
      expect(payload.jti).toBeUndefined();
      expect(payload.nonce).toBeUndefined();
      if (type === 'jwt') {
        // Same web key as the access token, and the session of its jti.
        expect(decodeProtectedHeader(idToken).kid).toBe(
          decodeProtectedHeader(body.access_token).kid,
        );
        expect(payload.sid).toBe(String(decodeJwt(body.access_token).jti).split('.')[0]);
      }
    },
  );

  it('without openid, no ID token', async () => {
    const { body } = await grant('jwt', `${audienceScope(z.projectId)} ${ROLES_SCOPE}`);
    // The kit, like ZITADEL, takes an empty scope as openid: ask for a scope without it.
    expect(body.id_token).toBeUndefined();
  });

  it("sent as a Bearer token to a local-verifying API → 401 invalid_token 'an ID token', no introspection", async () => {
    const get = api();
    const { body } = await grant('jwt', scope());
    // The access token of the same response is accepted locally: the API is not refusing everything.
    await z.resetCalls();
    const ok = await get(body.access_token);
    expect(ok.status).toBe(200);
    expect(ok.body).toEqual({ source: 'jwt' });
    const refused = await get(body.id_token!);
    expect(refused.status).toBe(401);
    expect(refused.headers['www-authenticate']).toBe(
      'Bearer realm="api", error="invalid_token", error_description="the access token failed local verification: an ID token"',
    );
    expect((await z.calls()).introspection).toBe(0);
  });

  it('introspected (introspect mode), the ID token is not active', async () => {
    const { body } = await grant('jwt', scope());
    const auth = zitadelAuth({ issuer: z.issuer, key: z.apiKeyFile, projectId: z.projectId });
    open.push(auth);
    expect((await auth.introspector.introspect(body.id_token!)).active).toBe(false);
  });
});
