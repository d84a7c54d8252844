import { serviceUserTokenSource } from '../../lib/zitadel/service-user';
import { json } from './helpers';
import {
  CLIENT_ID,
  CLIENT_SECRET,
  dir,
  discoveryRequests,
  endpoint,
  failure,
  grants,
  issue,
  keyFile,
  keySource,
  nextToken,
  server,
  tokenRequests,
} from './service-user-fixture';
import { writeFileSync } from 'node:fs';
import path from 'node:path';

describe('serviceUserTokenSource: grants', () => {
  it('JWT-bearer grant with a verified assertion, the endpoint from discovery', async () => {
    const source = keySource();
    const token = await source.getToken();
    expect(token).toMatch(/^at-\d+$/);
    await expect(source.authorizationHeader()).resolves.toBe(`Bearer ${token}`);
    expect(discoveryRequests()).toHaveLength(1);
    expect(tokenRequests()).toHaveLength(1);
    expect(grants).toEqual([
      {
        grant: 'urn:ietf:params:oauth:grant-type:jwt-bearer',
        scope: 'openid',
        jti: expect.any(String),
      },
    ]);
    expect(tokenRequests()[0].headers.accept).toBe('application/json');
  });

  it('a key file path and a scope array joined with spaces', async () => {
    const file = path.join(dir, 'su.json');
    writeFileSync(file, JSON.stringify(keyFile));
    const scope = [
      'openid',
      'urn:zitadel:iam:org:project:id:123:aud',
      'urn:zitadel:iam:org:projects:roles',
    ];
    await keySource({ key: file, scope }).getToken();
    expect(grants[0].scope).toBe(scope.join(' '));
  });

  it('client credentials with client_secret_basic, id and secret form-encoded', async () => {
    const source = serviceUserTokenSource({
      issuer: server.url,
      clientId: CLIENT_ID,
      clientSecret: CLIENT_SECRET,
      scope: 'openid profile',
    });
    await expect(source.getToken()).resolves.toMatch(/^at-/);
    expect(grants).toEqual([{ grant: 'client_credentials', scope: 'openid profile' }]);
    const form = new URLSearchParams(tokenRequests()[0].body);
    expect(form.has('assertion')).toBe(false);
    expect(form.has('client_secret')).toBe(false);
  });

  it('an empty scope is not sent', async () => {
    await keySource({ scope: [] }).getToken();
    expect(grants[0].scope).toBeNull();
  });

  it('a static tokenEndpoint skips discovery; the assertion aud is the issuer as given', async () => {
    const source = keySource({ tokenEndpoint: `${server.url}/oauth/v2/token` });
    await source.getToken();
    expect(discoveryRequests()).toHaveLength(0);
    expect(tokenRequests()).toHaveLength(1);
  });

  it('a PAT is returned as is, without any request', async () => {
    const noFetch: typeof fetch = () => Promise.reject(new Error('no request expected'));
    const source = serviceUserTokenSource({ issuer: '', pat: 'pat-123', fetch: noFetch });
    await expect(source.getToken()).resolves.toBe('pat-123');
    await expect(source.authorizationHeader()).resolves.toBe('Bearer pat-123');
  });
});

describe('serviceUserTokenSource: caching', () => {
  it('reuses the token until refreshSkewSeconds (60) of expires_in remain', async () => {
    let clock = Date.now();
    const source = keySource({ now: () => clock });
    const first = await source.getToken();
    clock += 3539_999;
    await expect(source.getToken()).resolves.toBe(first);
    expect(tokenRequests()).toHaveLength(1);
    clock += 1;
    const second = await source.getToken();
    expect(second).not.toBe(first);
    expect(tokenRequests()).toHaveLength(2);
    expect(new Set(grants.map((g) => g.jti)).size).toBe(2);
  });

  it('a lifetime shorter than the skew is refreshed at half-time; a custom skew', async () => {
    const start = Date.now();
    let clock = start;
    endpoint.answer = issue(30);
    const source = keySource({ now: () => clock });
    const first = await source.getToken();
    clock = start + 14_999;
    await expect(source.getToken()).resolves.toBe(first);
    clock = start + 15_000;
    await expect(source.getToken()).resolves.not.toBe(first);

    endpoint.answer = issue(100);
    const custom = keySource({ now: () => clock, refreshSkewSeconds: 10 });
    const token = await custom.getToken();
    clock += 89_999;
    await expect(custom.getToken()).resolves.toBe(token);
    clock += 1;
    await expect(custom.getToken()).resolves.not.toBe(token);
  });

  it.each([[undefined], [0], [-5], ['soon']])(
    'expires_in %p: the token is not reused',
    async (expiresIn) => {
      endpoint.answer = (_req, res) =>
        json(res, 200, { access_token: nextToken(), expires_in: expiresIn });
      const source = keySource();
      const first = await source.getToken();
      await expect(source.getToken()).resolves.not.toBe(first);
      expect(tokenRequests()).toHaveLength(2);
    },
  );

  it('expires_in as a numeric string is understood', async () => {
    endpoint.answer = (_req, res) =>
      json(res, 200, { access_token: nextToken(), expires_in: '3600' });
    const source = keySource();
    const first = await source.getToken();
    await expect(source.getToken()).resolves.toBe(first);
  });

  it('20 concurrent getToken() calls share one request', async () => {
    endpoint.answer = (req, res) => setTimeout(() => issue(3600)(req, res), 50);
    const source = keySource();
    const tokens = await Promise.all(Array.from({ length: 20 }, () => source.getToken()));
    expect(new Set(tokens).size).toBe(1);
    expect(tokenRequests()).toHaveLength(1);
    expect(discoveryRequests()).toHaveLength(1);
  });

  it('a failed refresh is not cached and never hands out the old token', async () => {
    let clock = Date.now();
    endpoint.answer = issue(100);
    const source = keySource({ now: () => clock });
    await source.getToken();
    clock += 40_000;
    endpoint.answer = (_req, res) => json(res, 503, { error: 'temporarily_unavailable' });
    const error = await failure(source.getToken());
    expect(error).toMatchObject({ status: 503, error: 'temporarily_unavailable' });
    endpoint.answer = issue(100);
    await expect(source.getToken()).resolves.toMatch(/^at-/);
    expect(tokenRequests()).toHaveLength(3);
  });
});
