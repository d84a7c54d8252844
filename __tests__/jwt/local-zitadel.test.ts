/**
 * Local verification end to end on the test kit: ZITADEL-shaped JWT access
 * tokens, the kit's /oauth/v2/keys, its call counts, revocation, role
 * changes, key rotation and removal, and faults on the keys endpoint.
 */
import express from 'express';
import request from 'supertest';
import { decodeProtectedHeader } from 'jose';
import { zitadelAuth, type ZitadelAuthMiddleware } from '../../lib/express/middleware';
import type { ZitadelAuthOptions } from '../../lib/express/middleware';
import { startLocalZitadel, type LocalZitadel } from '../../lib/testing';
import { audienceScope, keyUserToken, ROLES_SCOPE } from '../testing/local-zitadel-helpers';

let z: LocalZitadel;
let scope: string;
const open: ZitadelAuthMiddleware[] = [];

beforeAll(async () => {
  z = await startLocalZitadel();
  scope = `openid ${audienceScope(z.projectId)} ${ROLES_SCOPE}`;
}, 60_000);
afterAll(() => z?.close());
afterEach(async () => {
  await Promise.all(open.splice(0).map((auth) => auth.introspector.close()));
  await z.clearFaults();
});

let users = 0;
async function jwtUser(accessTokenType: 'jwt' | 'opaque' = 'jwt') {
  const user = await z.createServiceUser({
    name: `jwt-e2e-${++users}`,
    roles: { reader: ['org-1'] },
    auth: 'key',
    accessTokenType,
  });
  const token = () => keyUserToken(z, user.keyFile!, scope);
  return { user, token };
}

function api(options: Partial<ZitadelAuthOptions> = {}) {
  const auth = zitadelAuth({
    issuer: z.issuer,
    key: z.apiKeyFile,
    projectId: z.projectId,
    jwt: { verify: 'local' },
    ...options,
  } as ZitadelAuthOptions);
  open.push(auth);
  const app = express()
    .use(auth)
    .get('/r', (req, res) =>
      res.json({
        source: req.auth!.source,
        reader: req.auth!.hasRole('reader'),
        admin: req.auth!.hasRole('admin'),
      }),
    );
  const get = (token: string) => request(app).get('/r').auth(token, { type: 'bearer' });
  return { auth, get };
}

async function introspections() {
  return (await z.calls()).introspection;
}

async function eventually(check: () => Promise<boolean>, timeoutMs = 10_000) {
  const start = Date.now();
  while (!(await check())) {
    if (Date.now() - start > timeoutMs) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

describe('local verification on the test kit', () => {
  it('a JWT → 200 without an introspection call, roles from the JWT', async () => {
    const { get } = api();
    const token = await (await jwtUser()).token();
    const before = await introspections();
    const res = await get(token);
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ source: 'jwt', reader: true, admin: false });
    expect(await introspections()).toBe(before);
  });

  it('an opaque token is still introspected', async () => {
    const { get } = api();
    const token = await (await jwtUser('opaque')).token();
    const before = await introspections();
    const res = await get(token);
    expect(res.status).toBe(200);
    expect(res.body.source).toBe('introspection');
    expect(await introspections()).toBe(before + 1);
  });

  it("verify: 'introspect' introspects the same JWT", async () => {
    const { get } = api({ jwt: undefined });
    const token = await (await jwtUser()).token();
    const before = await introspections();
    expect((await get(token)).body.source).toBe('introspection');
    expect(await introspections()).toBe(before + 1);
  });

  it('a wrong audience → 401 naming the check, no call', async () => {
    const { get } = api({ projectId: '999999999999999999', clientId: undefined });
    // Another project id, and the API app's client id is not in the token's aud either.
    const token = await (await jwtUser()).token();
    const before = await introspections();
    const res = await get(token);
    expect(res.status).toBe(401);
    expect(res.headers['www-authenticate']).toMatch(/local verification: aud"/);
    expect(await introspections()).toBe(before);
  });

  const segment = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
  it.each([
    [
      'a bad signature',
      (token: string, other: string) =>
        `${token.split('.').slice(0, 2).join('.')}.${other.split('.')[2]}`,
      'signature',
    ],
    [
      'alg none',
      (token: string) => {
        const [header, payload] = token.split('.');
        const { kid } = JSON.parse(Buffer.from(header, 'base64url').toString());
        return `${segment({ alg: 'none', kid })}.${payload}.AA`;
      },
      'alg not allowed',
    ],
    [
      'an unknown kid',
      (token: string) => {
        const [, payload, signature] = token.split('.');
        return `${segment({ alg: 'RS256', kid: 'no-such-kid' })}.${payload}.${signature}`;
      },
      'unknown kid',
    ],
  ])('%s → 401 naming the check, no call', async (_name, tamper, check) => {
    const { get } = api();
    const { token: mint } = await jwtUser();
    const token = tamper(await mint(), await mint());
    const before = await introspections();
    const res = await get(token);
    expect(res.status).toBe(401);
    expect(res.headers['www-authenticate']).toContain(`local verification: ${check}"`);
    expect(await introspections()).toBe(before);
  });

  it('evict(token) in local mode → introspected at once', async () => {
    const { auth, get } = api({ jwt: { verify: 'local', revalidateSeconds: 0 } });
    const token = await (await jwtUser()).token();
    expect((await get(token)).body.source).toBe('jwt');
    await z.revokeToken(token);
    await auth.introspector.evict(token);
    const before = await introspections();
    expect((await get(token)).status).toBe(401);
    expect(await introspections()).toBe(before + 1);
  });

  it('a revocation is caught within revalidateSeconds', async () => {
    const { get } = api({ jwt: { verify: 'local', revalidateSeconds: 1 } });
    const token = await (await jwtUser()).token();
    expect((await get(token)).status).toBe(200);
    await z.revokeToken(token);
    await eventually(async () => (await get(token)).status === 401);
  });

  it('a role change is caught by revalidation', async () => {
    const { get } = api({ jwt: { verify: 'local', revalidateSeconds: 1 } });
    const { user, token: mint } = await jwtUser();
    const token = await mint();
    expect((await get(token)).body).toMatchObject({ source: 'jwt', admin: false });
    await z.setRoles(user.userId, { reader: ['org-1'], admin: ['org-1'] });
    await eventually(async () => (await get(token)).body.admin === true);
    expect((await get(token)).body.source).toBe('introspection');
  });

  it('the default revalidateSeconds (cache.maxTtlSeconds) catches a revocation', async () => {
    const { get } = api({ cache: { maxTtlSeconds: 1 } });
    const token = await (await jwtUser()).token();
    expect((await get(token)).status).toBe(200);
    await z.revokeToken(token);
    await eventually(async () => (await get(token)).status === 401);
  });

  it('rotation: the new key after one refetch, the old one still valid', async () => {
    const { auth, get } = api();
    await auth.introspector.ready();
    const { token: mint } = await jwtUser();
    const oldToken = await mint();
    const keysBefore = (await z.calls()).keys;
    const newKid = await z.rotateSigningKey();
    const newToken = await mint();
    expect(decodeProtectedHeader(newToken).kid).toBe(newKid);
    expect((await get(newToken)).status).toBe(200);
    expect((await z.calls()).keys).toBe(keysBefore + 1);
    expect((await get(oldToken)).status).toBe(200);
    expect((await z.calls()).keys).toBe(keysBefore + 1);
  });

  it('removal: a removed key stops verifying after the next successful fetch', async () => {
    let clock = Date.now();
    const { auth, get } = api({ now: () => clock });
    const { token: mint } = await jwtUser();
    const oldToken = await mint();
    const oldKid = decodeProtectedHeader(oldToken).kid as string;
    await auth.introspector.ready();
    await z.rotateSigningKey();
    await z.removeSigningKey(oldKid);
    clock += 301_000; // past the kit's max-age=300
    const res = await get(oldToken);
    expect(res.status).toBe(401);
    expect(res.headers['www-authenticate']).toMatch(/unknown kid/);
  });

  it('JWKS down: known keys 200, an unknown kid 503', async () => {
    let clock = Date.now();
    const { auth, get } = api({ now: () => clock });
    const { token: mint } = await jwtUser();
    await auth.introspector.ready();
    const known = await mint();
    await z.injectFault({ status: 503 }, { endpoint: 'keys' });
    clock += 301_000;
    expect((await get(known)).status).toBe(200);
    await z.rotateSigningKey();
    const unknown = await mint();
    clock += 31_000;
    const res = await get(unknown);
    expect(res.status).toBe(503);
    expect(res.headers['retry-after']).toBeDefined();
  });
});
