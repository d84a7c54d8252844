import { ConfigError, IntrospectionUnavailableError } from '../../lib/errors';
import { captureLogger } from '../helpers/capture-logger';
import { newSigningKey } from './support/jwt-issuer';
import { localJwtTests } from './support/local-jwt-tests';

let clock: number;
beforeEach(() => {
  clock = Date.now();
});
const { z, make } = localJwtTests({ now: () => clock });

const unknownKid = expect.objectContaining({
  active: false,
  description: 'the access token failed local verification: unknown kid',
});

describe('JWKS', () => {
  it('ready() fetches the set from discovery’s jwks_uri', async () => {
    await make().ready();
    expect(z.jwksRequests).toBe(1);
  });

  it('rotation: a new key verifies after one refetch, the old one still does', async () => {
    const introspector = make();
    await introspector.ready();
    const old = z.keys[0];
    await z.rotate();
    expect((await introspector.introspect(await z.mint())).active).toBe(true);
    expect(z.jwksRequests).toBe(2);
    expect((await introspector.introspect(await z.mint({}, { key: old }))).active).toBe(true);
    expect(z.jwksRequests).toBe(2);
    expect(z.introspections).toHaveLength(0);
  });

  it('an unknown kid refetches at most once per jwksCooldownSeconds and is 401 meanwhile', async () => {
    const introspector = make({ jwt: { verify: 'local', jwksCooldownSeconds: 10 } });
    await introspector.ready();
    const stranger = await newSigningKey();
    expect(await introspector.introspect(await z.mint({}, { key: stranger }))).toEqual(unknownKid);
    expect(z.jwksRequests).toBe(2);
    expect(await introspector.introspect(await z.mint({}, { key: stranger }))).toEqual(unknownKid);
    expect(z.jwksRequests).toBe(2);
    clock += 11_000;
    expect(await introspector.introspect(await z.mint({}, { key: stranger }))).toEqual(unknownKid);
    expect(z.jwksRequests).toBe(3);
    expect(z.introspections).toHaveLength(0);
  });

  it('removal: a removed key stops verifying after the next successful fetch (max-age)', async () => {
    const introspector = make();
    await introspector.ready();
    const removed = z.keys[0];
    await z.rotate();
    z.remove(removed.kid);
    // Within max-age (300 s) the set is kept: the removed key still verifies.
    clock += 299_000;
    expect((await introspector.introspect(await z.mint({}, { key: removed }))).active).toBe(true);
    expect(z.jwksRequests).toBe(1);
    clock += 2_000;
    expect(await introspector.introspect(await z.mint({}, { key: removed }))).toEqual(unknownKid);
    expect(z.jwksRequests).toBe(2);
  });

  it.each([
    ['max-age=1 counts as 60 s', 'max-age=1', 59_000, 61_000],
    ['no Cache-Control counts as 300 s', undefined, 299_000, 301_000],
    ['max-age beyond a day counts as 24 h', 'max-age=999999', 86_399_000, 86_401_000],
  ])('%s', async (_name, cacheControl, keptUntil, refetchedBy) => {
    z.keysCacheControl = cacheControl;
    const introspector = make();
    await introspector.ready();
    const start = clock;
    clock = start + keptUntil;
    await introspector.introspect(await z.mint());
    expect(z.jwksRequests).toBe(1);
    clock = start + refetchedBy;
    await introspector.introspect(await z.mint());
    expect(z.jwksRequests).toBe(2);
  });

  it('JWKS down: known keys keep verifying, an unknown kid is 503, past 24 h everything is 503', async () => {
    const logger = captureLogger();
    const introspector = make({ logger });
    await introspector.ready();
    z.keysFault = 503;
    clock += 301_000;
    expect((await introspector.introspect(await z.mint())).active).toBe(true);
    expect(z.jwksRequests).toBe(2);
    const stranger = await newSigningKey();
    clock += 31_000;
    await expect(introspector.introspect(await z.mint({}, { key: stranger }))).rejects.toThrow(
      IntrospectionUnavailableError,
    );
    z.keysFault = 'reset';
    clock += 24 * 3600_000;
    await expect(introspector.introspect(await z.mint())).rejects.toThrow(
      IntrospectionUnavailableError,
    );
    expect(z.introspections).toHaveLength(0);
    // A kid is never logged.
    expect(logger.text()).toMatch(/JWKS at .* unreachable: HTTP 503/);
    expect(logger.text()).not.toContain(z.keys[0].kid);
    expect(logger.text()).not.toContain(stranger.kid);
  });

  it('a failed fetch is retried no more often than the cooldown', async () => {
    z.keysFault = 500;
    const introspector = make();
    await expect(introspector.ready()).rejects.toThrow(/JWKS .* unreachable: HTTP 500/);
    await expect(introspector.introspect(await z.mint())).rejects.toThrow(
      IntrospectionUnavailableError,
    );
    expect(z.jwksRequests).toBe(1);
    z.keysFault = undefined;
    clock += 31_000;
    expect((await introspector.introspect(await z.mint())).active).toBe(true);
    expect(z.jwksRequests).toBe(2);
  });

  it.each([
    ['not JSON', '{"keys":'],
    ['no keys array', '{"keys":{}}'],
  ])('a JWKS answer that is %s counts as an outage', async (_name, body) => {
    const introspector = make({ fetch: fakeJwksFetch(body) });
    await expect(introspector.ready()).rejects.toThrow(/not a JWKS/);
  });

  it('jwt.jwksUri serves with introspectionEndpoint (no discovery)', async () => {
    const introspector = make({
      introspectionEndpoint: `${z.issuer}/oauth/v2/introspect`,
      jwt: { verify: 'local', jwksUri: `${z.issuer}/oauth/v2/keys` },
    });
    expect((await introspector.introspect(await z.mint())).active).toBe(true);
    expect(z.jwksRequests).toBe(1);
  });

  it('a discovery document without jwks_uri is a ConfigError naming jwt.jwksUri', async () => {
    const fetchFn: typeof fetch = async (url, init) => {
      if (String(url).endsWith('/openid-configuration')) {
        return Response.json({
          issuer: z.issuer,
          introspection_endpoint: `${z.issuer}/oauth/v2/introspect`,
        });
      }
      return fetch(url, init);
    };
    const introspector = make({ fetch: fetchFn });
    await expect(introspector.ready()).rejects.toMatchObject({ field: 'jwt.jwksUri' });
    await expect(introspector.ready()).rejects.toBeInstanceOf(ConfigError);
  });

  it('after close() the local path refuses with 503', async () => {
    const introspector = make();
    await introspector.ready();
    const token = await z.mint();
    await introspector.close();
    await expect(introspector.introspect(token)).rejects.toThrow(IntrospectionUnavailableError);
  });
});

/** Discovery from the real issuer, a JWKS answer no real issuer gives. */
function fakeJwksFetch(body: string): typeof fetch {
  return async (url, init) => {
    if (String(url).endsWith('/oauth/v2/keys')) {
      return new Response(body, { headers: { 'content-type': 'application/json' } });
    }
    return fetch(url, init);
  };
}
