/**
 * The state changes a ZITADEL admin makes, seen through the middleware:
 * revoking a token or deactivating / removing its user turns it away (401)
 * once the cached answer is evicted, setRoles changes what a guard decides.
 */
import express from 'express';
import request from 'supertest';
import {
  requireRole,
  zitadelAuth,
  type ZitadelAuthMiddleware,
} from 'express-zitadel-introspection';
import { startLocalZitadel, type LocalZitadel } from '../../lib/testing';
import {
  audienceScope,
  clientCredentialsGrant,
  introspectWithKey,
  jwtBearerGrant,
  keyUserToken,
  signAssertion,
  userClaims,
} from './local-zitadel-helpers';

let z: LocalZitadel;
let auth: ZitadelAuthMiddleware;
let app: express.Express;
let scope: string;

beforeAll(async () => {
  z = await startLocalZitadel();
  scope = `openid ${audienceScope(z.projectId)}`;
  auth = zitadelAuth({ issuer: z.issuer, key: z.apiKeyFile, projectId: z.projectId });
  app = express()
    .use(auth)
    .get('/read', requireRole('reader'), (_req, res) => res.json({ ok: true }))
    .get('/admin', requireRole('admin'), (_req, res) => res.json({ ok: true }));
});
afterAll(async () => {
  await auth?.introspector.close();
  await z?.close();
});

const get = (path: string, token: string) =>
  request(app).get(path).set('Authorization', `Bearer ${token}`);

async function keyUser(name: string, roles = { reader: ['org-1'] }) {
  const user = await z.createServiceUser({ name, roles, auth: 'key' });
  return { user, token: await keyUserToken(z, user.keyFile!, scope) };
}

describe('revokeToken', () => {
  it('an opaque JWT-bearer token: 200 while cached, 401 after evict', async () => {
    const { token } = await keyUser('revoked-key');
    await get('/read', token).expect(200);
    await z.revokeToken(token);
    await get('/read', token).expect(200);
    await auth.introspector.evict(token);
    await get('/read', token).expect(401);
  });

  it('a client-credentials token and a PAT', async () => {
    const secretUser = await z.createServiceUser({
      name: 'revoked-cc',
      roles: { reader: ['o'] },
      auth: 'secret',
    });
    const granted = await clientCredentialsGrant(
      z,
      secretUser.clientId!,
      secretUser.clientSecret!,
      scope,
    );
    const patUser = await z.createServiceUser({
      name: 'revoked-pat',
      roles: { reader: ['o'] },
      auth: 'pat',
    });
    for (const token of [granted.body.access_token as string, patUser.pat!]) {
      expect((await introspectWithKey(z, token)).body.active).toBe(true);
      await z.revokeToken(token);
      expect((await introspectWithKey(z, token)).body).toEqual({ active: false });
    }
  });

  it('rejects a token the kit does not know or already revoked', async () => {
    const { token } = await keyUser('revoked-twice');
    await z.revokeToken(token);
    await expect(z.revokeToken(token)).rejects.toThrow(/not a live token/);
    await expect(z.revokeToken('never-issued')).rejects.toThrow(/not a live token/);
  });
});

describe('deactivateUser / reactivateUser', () => {
  it('401 after evict while deactivated, 200 again once reactivated', async () => {
    const { user, token } = await keyUser('deactivated');
    await get('/read', token).expect(200);
    await z.deactivateUser(user.userId);
    await auth.introspector.evict(token);
    await get('/read', token).expect(401);

    await z.reactivateUser(user.userId);
    await auth.introspector.evict(token);
    await get('/read', token).expect(200);
  });

  it('a deactivated user gets no new token', async () => {
    const { user } = await keyUser('deactivated-grant');
    await z.deactivateUser(user.userId);
    const assertion = await signAssertion(
      user.keyFile!.key,
      user.keyFile!.keyId,
      userClaims(z, user.userId),
    );
    expect((await jwtBearerGrant(z, assertion)).status).toBe(500);
    await z.reactivateUser(user.userId);
    expect((await jwtBearerGrant(z, assertion)).status).toBe(200);
  });

  it('rejects an unknown user id', async () => {
    await expect(z.deactivateUser('404')).rejects.toThrow(/no service user/);
    await expect(z.reactivateUser('404')).rejects.toThrow(/no service user/);
    await expect(z.setRoles('404', {})).rejects.toThrow(/no service user/);
    await expect(z.removeUser('404')).rejects.toThrow(/no service user/);
  });
});

describe('removeUser', () => {
  it('its tokens turn inactive (401 after evict) and its name is free again', async () => {
    const { user, token } = await keyUser('removed');
    await get('/read', token).expect(200);
    await z.removeUser(user.userId);
    await auth.introspector.evict(token);
    await get('/read', token).expect(401);
    await expect(z.createServiceUser({ name: 'removed', auth: 'pat' })).resolves.toBeDefined();
  });
});

describe('setRoles', () => {
  it('a guard refuses (403), then lets in (200) after setRoles and evict', async () => {
    const { user, token } = await keyUser('promoted');
    await get('/admin', token).expect(403);
    await z.setRoles(user.userId, { reader: ['org-1'], admin: ['org-1'] });
    await get('/admin', token).expect(403);
    await auth.introspector.evict(token);
    await get('/admin', token).expect(200);

    await z.setRoles(user.userId, {});
    await auth.introspector.evict(token);
    await get('/read', token).expect(403);
  });

  it('rejects malformed roles', async () => {
    const { user } = await keyUser('bad-roles');
    await expect(
      z.setRoles(user.userId, { reader: 'org-1' as unknown as string[] }),
    ).rejects.toThrow(/roles/);
  });
});
