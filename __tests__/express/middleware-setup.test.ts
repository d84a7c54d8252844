/**
 * zitadelAuth() before the first request: its options, the background
 * ready(), and the introspector it exposes.
 */
import request from 'supertest';
import { ConfigError } from '../../lib/errors';
import { zitadelAuth, type ZitadelAuthOptions } from '../../lib/express/middleware';
import { startScriptedZitadel, type ScriptedZitadel } from '../helpers/scripted-zitadel';
import { activeFixture, bearer, expressVersions, middlewareFactory, protectedApp } from './support';

let zitadel: ScriptedZitadel;
const { auth, closeAll } = middlewareFactory(() => zitadel);
const unhandled: unknown[] = [];
const onUnhandled = (reason: unknown) => unhandled.push(reason);

beforeAll(async () => {
  process.on('unhandledRejection', onUnhandled);
  zitadel = await startScriptedZitadel();
  zitadel.answer('active', { json: activeFixture() });
});
afterAll(async () => {
  await closeAll();
  await zitadel.close();
  process.off('unhandledRejection', onUnhandled);
  expect(unhandled).toEqual([]);
});

async function eventually(condition: () => boolean, timeoutMs = 3000) {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

describe('zitadelAuth() options', () => {
  const base = { issuer: 'https://acme.zitadel.cloud', clientId: 'c', clientSecret: 's' };

  it.each([
    ['no options object', null, 'options'],
    ['empty tokenLocations', { ...base, tokenLocations: [] }, 'tokenLocations'],
    ['an unknown location', { ...base, tokenLocations: ['cookie'] }, 'tokenLocations'],
    ['tokenLocations not a list', { ...base, tokenLocations: 'header' }, 'tokenLocations'],
    ['getToken not a function', { ...base, getToken: 'x-token' }, 'getToken'],
    ['an empty realm', { ...base, realm: '' }, 'realm'],
    ['a realm that is not text', { ...base, realm: 7 }, 'realm'],
    ['authRequired not a boolean', { ...base, authRequired: 'no' }, 'authRequired'],
  ])('throws ConfigError synchronously for %s', (_c, options, field) => {
    let thrown: unknown;
    try {
      zitadelAuth(options as unknown as ZitadelAuthOptions);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(ConfigError);
    expect((thrown as ConfigError).field).toBe(field);
  });

  it.each([
    ['no issuer', { clientId: 'c', clientSecret: 's' }],
    ['no client authentication', { issuer: base.issuer }],
    ['both key and client secret', { ...base, key: { type: 'application' } }],
  ])('passes on the core’s ConfigError for %s synchronously', (_c, options) => {
    expect(() => zitadelAuth(options as ZitadelAuthOptions)).toThrow(ConfigError);
  });
});

describe('zitadelAuth() start-up', () => {
  it('starts discovery at once, without a request, and exposes its introspector', async () => {
    const before = zitadel.discoveryRequests;
    const middleware = auth({ introspectionEndpoint: undefined });
    await eventually(() => zitadel.discoveryRequests > before);
    for (const [, factory] of expressVersions) {
      const res = await request(protectedApp(factory, middleware))
        .get('/api')
        .set(bearer('active'));
      expect(res.status).toBe(200);
    }
    expect(middleware.introspector.stats()).toMatchObject({ misses: 2, introspections: 2 });
  });

  it('does not let a failing ready() become an unhandled rejection; requests get 503', async () => {
    const broken = await startScriptedZitadel();
    try {
      broken.discovery({ status: 500, body: 'down' });
      const middleware = auth({ issuer: broken.issuer, introspectionEndpoint: undefined });
      await eventually(() => broken.discoveryRequests > 0);
      await expect(middleware.introspector.ready()).rejects.toMatchObject({ status: 503 });
      for (const [, factory] of expressVersions) {
        const res = await request(protectedApp(factory, middleware))
          .get('/api')
          .set(bearer('active'));
        expect(res.status).toBe(503);
        expect(res.body.error).toBe('temporarily_unavailable');
        expect(res.headers['retry-after']).toMatch(/^\d+$/);
        expect(res.headers['www-authenticate']).toBeUndefined();
      }
      expect(broken.requests).toEqual([]);
    } finally {
      await broken.close();
    }
  });
});
