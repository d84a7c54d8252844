/**
 * accessTokenType 'jwt': ZITADEL-shaped JWT access tokens, signed with the
 * keys at /oauth/v2/keys, introspectable with revocation and deactivation
 * applied, and the web keys rotatable.
 */
import express from 'express';
import {
  createLocalJWKSet,
  decodeJwt,
  decodeProtectedHeader,
  jwtVerify,
  type JSONWebKeySet,
} from 'jose';
import request from 'supertest';
import { zitadelAuth, type ZitadelAuthMiddleware } from 'express-zitadel-introspection';
import { startLocalZitadel, type LocalZitadel } from '../../lib/testing';
import {
  audienceScope,
  clientCredentialsGrant,
  introspectWithKey,
  introspectWithSecret,
  keyUserToken,
  ROLES_SCOPE,
} from './local-zitadel-helpers';

let z: LocalZitadel;
let auth: ZitadelAuthMiddleware;
let app: express.Express;
let scope: string;
const ROLES = { reader: ['org-1'] };

beforeAll(async () => {
  z = await startLocalZitadel();
  scope = `openid ${audienceScope(z.projectId)} ${ROLES_SCOPE}`;
  auth = zitadelAuth({ issuer: z.issuer, key: z.apiKeyFile });
  app = express()
    .use(auth)
    .get('/r', (req, res) => res.json({ sub: req.auth!.subject, roles: req.auth!.roles }));
});
afterAll(async () => {
  await auth?.introspector.close();
  await z?.close();
});

async function jwks(): Promise<JSONWebKeySet> {
  return (await (await fetch(`${z.issuer}/oauth/v2/keys`)).json()) as JSONWebKeySet;
}

async function jwtUser(name: string) {
  const user = await z.createServiceUser({
    name,
    roles: ROLES,
    auth: 'key',
    accessTokenType: 'jwt',
  });
  return { user, token: await keyUserToken(z, user.keyFile!, scope) };
}

describe('the token', () => {
  it("carries ZITADEL's claims, no scope, and verifies with the published keys", async () => {
    const { user, token } = await jwtUser('jwt-claims');
    const claims = decodeJwt(token);
    expect(Object.keys(claims).sort()).toEqual(
      [
        'aud',
        'client_id',
        'exp',
        'iat',
        'iss',
        'jti',
        'nbf',
        'sub',
        'urn:zitadel:iam:org:project:roles',
        `urn:zitadel:iam:org:project:${z.projectId}:roles`,
      ].sort(),
    );
    expect(claims).toMatchObject({
      iss: z.issuer,
      sub: user.userId,
      aud: [user.userId, z.projectId],
      client_id: user.userId,
      'urn:zitadel:iam:org:project:roles': { reader: { 'org-1': 'org-1.localhost' } },
    });
    expect(claims.nbf).toBe(claims.iat);
    expect(claims.exp).toBe(claims.iat! + 3600);
    expect(claims.jti).toMatch(/^\d+\.\d+$/);
    expect(decodeProtectedHeader(token)).toMatchObject({ alg: 'RS256', typ: 'JWT' });

    const { payload } = await jwtVerify(token, createLocalJWKSet(await jwks()), {
      issuer: z.issuer,
      audience: z.projectId,
    });
    expect(payload.sub).toBe(user.userId);
  });

  it('serves the keys at the discovered jwks_uri with max-age=300', async () => {
    const discovery = (await (
      await fetch(`${z.issuer}/.well-known/openid-configuration`)
    ).json()) as {
      jwks_uri: string;
    };
    expect(discovery.jwks_uri).toBe(`${z.issuer}/oauth/v2/keys`);
    const response = await fetch(discovery.jwks_uri);
    expect(response.headers.get('cache-control')).toBe('max-age=300');
    const { keys } = (await response.json()) as JSONWebKeySet;
    for (const key of keys) {
      expect(key).toMatchObject({ kty: 'RSA', alg: 'RS256', use: 'sig', kid: expect.any(String) });
      expect(key).not.toHaveProperty('d');
    }
  });

  it('is a JWT for client credentials too', async () => {
    const user = await z.createServiceUser({
      name: 'jwt-cc',
      roles: ROLES,
      auth: 'secret',
      accessTokenType: 'jwt',
    });
    const granted = await clientCredentialsGrant(z, user.clientId!, user.clientSecret!, scope);
    const token = granted.body.access_token as string;
    expect(decodeJwt(token)).toMatchObject({ sub: user.userId, client_id: 'jwt-cc' });
    expect((await introspectWithSecret(z, token)).body).toMatchObject({
      active: true,
      sub: user.userId,
    });
  });

  it('rejects an unknown accessTokenType', async () => {
    await expect(
      z.createServiceUser({ name: 'jwt-bad', auth: 'key', accessTokenType: 'jwe' as 'jwt' }),
    ).rejects.toThrow(/accessTokenType/);
  });
});

describe('introspection of a JWT', () => {
  it('is active with the ZITADEL answer, and the middleware lets it in', async () => {
    const { user, token } = await jwtUser('jwt-active');
    const { body } = await introspectWithKey(z, token);
    expect(body).toMatchObject({
      active: true,
      sub: user.userId,
      client_id: user.userId,
      scope,
      token_type: 'Bearer',
      aud: [user.userId, z.projectId],
      jti: decodeJwt(token).jti,
      'urn:zitadel:iam:org:project:roles': { reader: { 'org-1': 'org-1.localhost' } },
    });
    const response = await request(app)
      .get('/r')
      .set('Authorization', `Bearer ${token}`)
      .expect(200);
    expect(response.body.sub).toBe(user.userId);
  });

  it('is inactive once revoked, or while its user is deactivated (401 after evict)', async () => {
    const revoked = await jwtUser('jwt-revoked');
    await z.revokeToken(revoked.token);
    expect((await introspectWithKey(z, revoked.token)).body).toEqual({ active: false });
    await expect(z.revokeToken(revoked.token)).rejects.toThrow(/not a live token/);

    const deactivated = await jwtUser('jwt-deactivated');
    await request(app).get('/r').set('Authorization', `Bearer ${deactivated.token}`).expect(200);
    await z.deactivateUser(deactivated.user.userId);
    await auth.introspector.evict(deactivated.token);
    await request(app).get('/r').set('Authorization', `Bearer ${deactivated.token}`).expect(401);
  });

  it('is inactive for a forged or tampered JWT', async () => {
    const { token } = await jwtUser('jwt-tampered');
    const [header, payload, signature] = token.split('.');
    const claims = { ...decodeJwt(token), sub: 'someone-else' };
    const forged = `${header}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.${signature}`;
    expect(payload).toBeDefined();
    expect((await introspectWithKey(z, forged)).body).toEqual({ active: false });
    expect((await introspectWithKey(z, 'a.b.c')).body).toEqual({ active: false });
  });
});

describe('rotateSigningKey / removeSigningKey', () => {
  it('signs with the new key, keeps the old one published until it is removed', async () => {
    const before = await jwtUser('jwt-before-rotation');
    const oldKid = decodeProtectedHeader(before.token).kid!;
    const newKid = await z.rotateSigningKey();
    expect(newKid).not.toBe(oldKid);
    expect((await jwks()).keys.map((key) => key.kid)).toEqual(
      expect.arrayContaining([oldKid, newKid]),
    );

    const after = await jwtUser('jwt-after-rotation');
    expect(decodeProtectedHeader(after.token).kid).toBe(newKid);
    expect((await introspectWithKey(z, before.token)).body.active).toBe(true);

    await z.removeSigningKey(oldKid);
    expect((await jwks()).keys.map((key) => key.kid)).not.toContain(oldKid);
    expect((await introspectWithKey(z, before.token)).body).toEqual({ active: false });
    expect((await introspectWithKey(z, after.token)).body.active).toBe(true);
    await expect(z.removeSigningKey(oldKid)).rejects.toThrow(/no signing key/);
  });
});
