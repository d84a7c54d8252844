import express from 'express';
import request from 'supertest';
import { SignJWT } from 'jose';
import { createIntrospector } from '../../lib/introspector';
import { zitadelAuth } from '../../lib/express/middleware';
import { newSigningKey } from './support/jwt-issuer';
import { localJwtTests } from './support/local-jwt-tests';

const { z, make, closeAfter } = localJwtTests();

function segment(value: unknown) {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}

describe('the local path', () => {
  it('accepts a JWT without a call, with roles, org and source from the JWT', async () => {
    const introspector = make();
    const token = await z.mint();
    const info = await introspector.introspect(token);
    expect(info.active).toBe(true);
    if (!info.active) return;
    expect(info.auth.source).toBe('jwt');
    expect(info.auth.hasRole('reader', 'org-1')).toBe(true);
    expect(info.auth.orgId).toBe('org-1');
    expect(info.auth.scopes).toEqual([]);
    expect(info.auth.claims.jti).toBeDefined();
    expect(info.auth.claims.active).toBeUndefined();
    expect(z.introspections).toHaveLength(0);
    expect(introspector.stats()).toMatchObject({ localVerifications: 1, introspections: 0 });
    // Cached like an introspection answer: the second use is a memory hit.
    await introspector.introspect(token);
    expect(introspector.stats()).toMatchObject({ localVerifications: 1, hits: 1 });
    expect(z.jwksRequests).toBe(1);
  });

  it('reads a scope claim when one is present', async () => {
    const info = await make().introspect(await z.mint({ scope: 'openid email' }));
    expect(info.active && info.auth.scopes).toEqual(['openid', 'email']);
  });

  it("accepts the API app's client id as the audience, and the issuer with a trailing slash", async () => {
    const info = await make().introspect(await z.mint({ aud: z.clientId, iss: `${z.issuer}/` }));
    expect(info.active).toBe(true);
    expect(z.introspections).toHaveLength(0);
  });

  it.each([
    ['opaque', () => 'opaque-token-value'],
    ['five segments (JWE-shaped)', () => 'aaaa.bbbb.cccc.dddd.eeee'],
    ['no kid', () => z.mint({}, { header: { kid: undefined } })],
    ['another issuer', () => z.mint({ iss: 'https://elsewhere.example' })],
    ['a future nbf', () => z.mint({ nbf: Math.floor(Date.now() / 1000) + 600 })],
    ['a future iat', () => z.mint({ iat: Math.floor(Date.now() / 1000) + 600 })],
  ])('%s → introspected once', async (_name, mint) => {
    const introspector = make();
    const token = await mint();
    const info = await introspector.introspect(token);
    expect(z.introspections).toEqual([token]);
    expect(introspector.stats().localVerifications).toBe(0);
    if (info.active) expect(info.auth.source).toBe('introspection');
  });

  const HOUR = 3600;
  it.each([
    ['wrong aud', { aud: ['someone-else'] }, {}, 'aud'],
    ['expired', { exp: Math.floor(Date.now() / 1000) - HOUR }, {}, 'expired'],
    ['no exp', {}, { omit: ['exp'] }, 'no exp'],
    ['no jti', {}, { omit: ['jti'] }, 'no jti'],
    ['no client_id', {}, { omit: ['client_id'] }, 'no client_id'],
    ['an ID token', { nonce: 'n-1', at_hash: 'x' }, {}, 'an ID token'],
    ['alg none', {}, { header: { alg: 'none' } }, 'alg not allowed'],
  ])('%s → 401 naming the check, no call', async (_name, claims, given, check) => {
    const introspector = make();
    const mint = given as { omit?: string[]; header?: Record<string, unknown> };
    let token = await z.mint(claims, mint.header ? {} : mint);
    if ('header' in mint) {
      const [, payload] = token.split('.');
      token = `${segment({ alg: 'none', kid: z.keys[0].kid })}.${payload}.`;
      // An empty signature segment is not base64url: make it one character.
      token += 'A';
    }
    const info = await introspector.introspect(token);
    expect(info).toEqual({
      active: false,
      reason: 'invalid',
      description: `the access token failed local verification: ${check}`,
    });
    expect(z.introspections).toHaveLength(0);
  });

  it('a bad signature → 401 signature, no call', async () => {
    const [header, payload, signature] = (await z.mint()).split('.');
    const other = (await z.mint({}, { key: await newSigningKey() })).split('.')[2];
    const info = await make().introspect(`${header}.${payload}.${other}`);
    expect(info).toMatchObject({ active: false, description: expect.stringMatching(/signature$/) });
    expect(signature).not.toBe(other);
    expect(z.introspections).toHaveLength(0);
  });

  it('HS256 with the public key as the secret → 401, no call', async () => {
    const key = z.keys[0];
    const secret = new TextEncoder().encode(JSON.stringify(key.jwk));
    const token = await new SignJWT({
      iss: z.issuer,
      sub: 'svc-1',
      aud: z.projectId,
      exp: Math.floor(Date.now() / 1000) + 600,
      jti: 'j-1',
      client_id: 'svc-1',
    })
      .setProtectedHeader({ alg: 'HS256', kid: key.kid })
      .sign(secret);
    const info = await make().introspect(token);
    expect(info).toMatchObject({
      active: false,
      description: expect.stringMatching(/alg not allowed$/),
    });
    expect(z.introspections).toHaveLength(0);
  });

  it('an alg outside jwt.algorithms → 401', async () => {
    const info = await make({ jwt: { verify: 'local', algorithms: ['RS256'] } }).introspect(
      await z.mint(),
    );
    expect(info).toMatchObject({ active: false, reason: 'invalid' });
  });

  it('audience: the token must also name one of them', async () => {
    const introspector = make({ audience: ['billing'] });
    expect(await introspector.introspect(await z.mint())).toMatchObject({
      description: expect.stringMatching(/aud not in audience$/),
    });
    const ok = await introspector.introspect(await z.mint({ aud: [z.projectId, 'billing'] }));
    expect(ok.active).toBe(true);
  });

  it("verify: 'introspect' (the default) introspects a JWT", async () => {
    const introspector = make({ jwt: undefined });
    const token = await z.mint();
    const info = await introspector.introspect(token);
    expect(info.active && info.auth.source).toBe('introspection');
    expect(z.introspections).toEqual([token]);
    expect(z.jwksRequests).toBe(0);
    expect(introspector.stats()).toMatchObject({ localVerifications: 0, revalidations: 0 });
  });
});

describe('through the middleware', () => {
  it('200 with req.auth from the JWT; 401 invalid_token naming the check', async () => {
    const auth = zitadelAuth({
      issuer: z.issuer,
      clientId: z.clientId,
      clientSecret: z.clientSecret,
      projectId: z.projectId,
      jwt: { verify: 'local' },
    });
    closeAfter(auth.introspector);
    const app = express()
      .use(auth)
      .get('/', (req, res) => {
        res.json({ source: req.auth!.source, reader: req.auth!.hasRole('reader') });
      });
    const ok = await request(app)
      .get('/')
      .auth(await z.mint(), { type: 'bearer' });
    expect(ok.status).toBe(200);
    expect(ok.body).toEqual({ source: 'jwt', reader: true });
    const bad = await request(app)
      .get('/')
      .auth(await z.mint({ aud: 'x' }), { type: 'bearer' });
    expect(bad.status).toBe(401);
    expect(bad.headers['www-authenticate']).toBe(
      'Bearer realm="api", error="invalid_token", error_description="the access token failed local verification: aud"',
    );
    expect(z.introspections).toHaveLength(0);
  });
});

describe('jwt options', () => {
  it.each([
    ['not an object', 'local', 'jwt'],
    ['an unknown verify', { verify: 'trust' }, 'jwt.verify'],
    [
      'negative revalidateSeconds',
      { verify: 'local', revalidateSeconds: -1 },
      'jwt.revalidateSeconds',
    ],
    ['HS256 in algorithms', { verify: 'local', algorithms: ['HS256'] }, 'jwt.algorithms'],
    ['none in algorithms', { verify: 'local', algorithms: ['none'] }, 'jwt.algorithms'],
    ['empty algorithms', { verify: 'local', algorithms: [] }, 'jwt.algorithms'],
    ['a jwksUri that is no URL', { verify: 'local', jwksUri: 'keys' }, 'jwt.jwksUri'],
    ['an ftp jwksUri', { verify: 'local', jwksUri: 'ftp://x/keys' }, 'jwt.jwksUri'],
    ['odd cooldown', { verify: 'local', jwksCooldownSeconds: 'x' }, 'jwt.jwksCooldownSeconds'],
  ])('%s → ConfigError naming %s', (_name, jwt, field) => {
    expect(() =>
      createIntrospector({ issuer: 'https://a.b', clientId: 'a', clientSecret: 'b', jwt } as never),
    ).toThrow(expect.objectContaining({ field }));
  });

  it('local mode with introspectionEndpoint needs jwt.jwksUri', () => {
    expect(() =>
      createIntrospector({
        issuer: 'https://a.b',
        clientId: 'a',
        clientSecret: 'b',
        introspectionEndpoint: 'https://a.b/oauth/v2/introspect',
        jwt: { verify: 'local' },
      }),
    ).toThrow(expect.objectContaining({ field: 'jwt.jwksUri' }));
  });

  it("{ verify: 'introspect' } given explicitly is the default", async () => {
    const introspector = make({ jwt: { verify: 'introspect' } });
    await introspector.introspect(await z.mint());
    expect(z.introspections).toHaveLength(1);
  });
});
