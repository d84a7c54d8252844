import { generateKeyPairSync } from 'node:crypto';
import { ConfigError, IntrospectionUnavailableError } from '../../lib/errors';
import { createIntrospector, type Introspector } from '../../lib/introspector';
import type { IntrospectorOptions } from '../../lib/options';
import {
  activeAnswer,
  startScriptedZitadel,
  type ScriptedZitadel,
} from '../helpers/scripted-zitadel';
import { captureLogger } from '../helpers/capture-logger';

let zitadel: ScriptedZitadel;
const open: Introspector[] = [];

beforeEach(async () => {
  zitadel = await startScriptedZitadel();
});
afterEach(async () => {
  await Promise.all(open.splice(0).map((i) => i.close()));
  await zitadel.close();
});

function make(options: Partial<IntrospectorOptions> = {}) {
  const introspector = createIntrospector({
    issuer: zitadel.issuer,
    clientId: 'api@project',
    clientSecret: 'secret',
    retries: 0,
    ...options,
  } as IntrospectorOptions);
  open.push(introspector);
  return introspector;
}

describe('options', () => {
  it.each([
    ['no options', undefined, 'options'],
    ['no issuer', { clientId: 'a', clientSecret: 'b' }, 'issuer'],
    ['issuer not a URL', { issuer: 'acme', clientId: 'a', clientSecret: 'b' }, 'issuer'],
    ['ftp issuer', { issuer: 'ftp://acme', clientId: 'a', clientSecret: 'b' }, 'issuer'],
    ['no credentials', { issuer: 'https://acme.zitadel.cloud' }, 'key'],
    ['both', { issuer: 'https://a.b', key: {}, clientId: 'a', clientSecret: 'b' }, 'key'],
    ['secret without id', { issuer: 'https://a.b', clientSecret: 'b' }, 'clientId'],
    ['key of a wrong type', { issuer: 'https://a.b', key: 42 }, 'key'],
    ['negative timeout', { issuer: 'https://a.b', key: {}, timeoutMs: -1 }, 'timeoutMs'],
    ['fractional retries', { issuer: 'https://a.b', key: {}, retries: 1.5 }, 'retries'],
    ['maxInFlight 0', { issuer: 'https://a.b', key: {}, maxInFlight: 0 }, 'maxInFlight'],
    ['cache a string', { issuer: 'https://a.b', key: {}, cache: 'yes' }, 'cache'],
    ['cache.store odd', { issuer: 'https://a.b', key: {}, cache: { store: {} } }, 'cache.store'],
    [
      'maxEntries NaN',
      { issuer: 'https://a.b', key: {}, cache: { maxEntries: NaN } },
      'cache.maxEntries',
    ],
    ['audience []', { issuer: 'https://a.b', key: {}, audience: [] }, 'audience'],
    ['audience number', { issuer: 'https://a.b', key: {}, audience: 5 }, 'audience'],
    ['logger odd', { issuer: 'https://a.b', key: {}, logger: { info() {} } }, 'logger'],
    ['fetch odd', { issuer: 'https://a.b', key: {}, fetch: 'x' }, 'fetch'],
    [
      'endpoint odd',
      { issuer: 'https://a.b', key: {}, introspectionEndpoint: 'x' },
      'introspectionEndpoint',
    ],
    ['projectId empty', { issuer: 'https://a.b', key: {}, projectId: '' }, 'projectId'],
  ])('%s → ConfigError naming %s', (_name, options, field) => {
    let thrown: unknown;
    try {
      createIntrospector(options as IntrospectorOptions);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(ConfigError);
    expect((thrown as ConfigError).field).toBe(field);
  });

  it('warns once about a plain-http issuer on a non-loopback host', () => {
    const logger = captureLogger();
    open.push(
      createIntrospector({
        issuer: 'http://zitadel.internal',
        clientId: 'a',
        clientSecret: 'b',
        logger,
      }),
    );
    open.push(
      createIntrospector({
        issuer: 'http://localhost:8080',
        clientId: 'a',
        clientSecret: 'b',
        logger,
      }),
    );
    expect(logger.lines.filter((l) => l.level === 'warn')).toHaveLength(1);
  });
});

describe('introspect', () => {
  it('grants an active answer, sends client_secret_basic, and caches it', async () => {
    zitadel.answer('tok-1', { json: activeAnswer({ scope: 'openid email' }) });
    const introspector = make();
    const first = await introspector.introspect('tok-1');
    const second = await introspector.introspect('tok-1');
    expect(first.active && first.auth.subject).toBe('svc-1');
    expect(first.active && first.auth.token).toBe('tok-1');
    expect(second.active && second.auth.hasScope('email')).toBe(true);
    expect(zitadel.requests).toHaveLength(1);
    expect(zitadel.discoveryRequests).toBe(1);
    const basic = Buffer.from('api%40project:secret').toString('base64');
    expect(zitadel.requests[0].headers.authorization).toBe(`Basic ${basic}`);
    expect(zitadel.requests[0].form.get('token_type_hint')).toBe('access_token');
    expect(introspector.stats()).toMatchObject({
      hits: 1,
      misses: 1,
      introspections: 1,
      errors: 0,
    });
  });

  it('answers inactive, expired and wrong audience with their reasons', async () => {
    zitadel.answer('inactive', { json: { active: false } });
    zitadel.answer('expired', { json: activeAnswer({}, -60) });
    zitadel.answer('other-aud', { json: activeAnswer({ aud: ['someone-else'] }) });
    zitadel.answer('our-aud', { json: activeAnswer({ aud: 'billing' }) });
    const introspector = make({ audience: ['billing', 'reports'] });
    expect(await introspector.introspect('inactive')).toEqual({
      active: false,
      reason: 'inactive',
    });
    expect(await introspector.introspect('expired')).toEqual({ active: false, reason: 'expired' });
    expect(await introspector.introspect('other-aud')).toEqual({
      active: false,
      reason: 'audience',
    });
    expect((await introspector.introspect('our-aud')).active).toBe(true);
  });

  it('tolerates an exp just past within clockToleranceSeconds', async () => {
    zitadel.answer('just-expired', { json: activeAnswer({}, -2) });
    const introspector = make({ clockToleranceSeconds: 5 });
    expect((await introspector.introspect('just-expired')).active).toBe(true);
  });

  it('skips discovery when introspectionEndpoint is given', async () => {
    zitadel.answer('t', { json: activeAnswer() });
    const introspector = make({ introspectionEndpoint: zitadel.introspectionEndpoint });
    await introspector.ready();
    expect((await introspector.introspect('t')).active).toBe(true);
    expect(zitadel.discoveryRequests).toBe(0);
  });

  it('coalesces concurrent misses for one token into one call', async () => {
    zitadel.answer('burst', { json: activeAnswer(), delayMs: 50 });
    const introspector = make();
    const results = await Promise.all(
      Array.from({ length: 50 }, () => introspector.introspect('burst')),
    );
    expect(results.every((r) => r.active)).toBe(true);
    expect(zitadel.requests).toHaveLength(1);
    expect(introspector.stats()).toMatchObject({ misses: 1, coalesced: 49 });
  });

  it('evicts a token so the next request asks again', async () => {
    zitadel.answer('t', { json: activeAnswer() });
    const introspector = make();
    await introspector.introspect('t');
    await introspector.evict('t');
    await introspector.introspect('t');
    expect(zitadel.requests).toHaveLength(2);
  });

  it('does not cache with cache: false', async () => {
    zitadel.answer('t', { json: activeAnswer() });
    const introspector = make({ cache: false });
    await introspector.introspect('t');
    await introspector.introspect('t');
    await introspector.evict('t');
    expect(zitadel.requests).toHaveLength(2);
  });
});

describe('failures', () => {
  it('maps 400 unauthorized_client to ConfigError, logged at error once a minute', async () => {
    zitadel.answer('default', { status: 400, json: { error: 'unauthorized_client' } });
    const logger = captureLogger();
    const introspector = make({ logger });
    await expect(introspector.introspect('a')).rejects.toBeInstanceOf(ConfigError);
    await expect(introspector.introspect('b')).rejects.toBeInstanceOf(ConfigError);
    expect(logger.lines.filter((l) => l.level === 'error')).toHaveLength(1);
    expect(logger.lines.filter((l) => l.level === 'debug')).toHaveLength(1);
    expect(introspector.stats().errors).toBe(2);
  });

  it('maps a 502 to IntrospectionUnavailableError and never caches it', async () => {
    zitadel.answer('t', { status: 502, body: 'bad gateway' });
    const introspector = make();
    await expect(introspector.introspect('t')).rejects.toBeInstanceOf(
      IntrospectionUnavailableError,
    );
    zitadel.answer('t', { json: activeAnswer() });
    expect((await introspector.introspect('t')).active).toBe(true);
  });

  it('opens a circuit on 503 with Retry-After: misses get 503 without a call', async () => {
    let now = Date.now();
    zitadel.answer('cached', { json: activeAnswer() });
    const introspector = make({ now: () => now });
    await introspector.introspect('cached');
    zitadel.answer('default', { status: 503, headers: { 'Retry-After': '2' }, body: '' });
    await expect(introspector.introspect('x')).rejects.toMatchObject({ retryAfterSeconds: 2 });
    const before = zitadel.requests.length;
    await expect(introspector.introspect('y')).rejects.toMatchObject({
      status: 503,
      headers: { 'Retry-After': '2' },
    });
    expect(zitadel.requests.length).toBe(before);
    expect((await introspector.introspect('cached')).active).toBe(true);
    expect(introspector.stats().shed).toBe(1);
    now += 2100;
    zitadel.answer('default', { json: activeAnswer() });
    expect((await introspector.introspect('y')).active).toBe(true);
  });

  it('sheds misses beyond maxInFlight at once', async () => {
    zitadel.answer('default', { json: activeAnswer(), delayMs: 100 });
    const introspector = make({ maxInFlight: 2 });
    const results = await Promise.allSettled(
      ['a', 'b', 'c', 'd'].map((t) => introspector.introspect(t)),
    );
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(2);
    expect(results.filter((r) => r.status === 'rejected')).toHaveLength(2);
    expect(introspector.stats().shed).toBe(2);
    expect(zitadel.requests).toHaveLength(2);
  });

  it('serves a stale active answer during an outage, within staleIfErrorSeconds only', async () => {
    let now = Date.now();
    const logger = captureLogger();
    zitadel.answer('t', { json: activeAnswer({}, 3600) });
    const introspector = make({
      now: () => now,
      logger,
      cache: { maxTtlSeconds: 10, staleIfErrorSeconds: 30 },
    });
    await introspector.introspect('t');
    zitadel.answer('t', { status: 500, body: 'oops' });
    now += 20_000;
    const stale = await introspector.introspect('t');
    expect(stale.active && stale.auth.token).toBe('t');
    expect(introspector.stats().staleServed).toBe(1);
    expect(logger.lines.some((l) => l.level === 'warn' && /stale/.test(l.message))).toBe(true);
    now += 30_000;
    await expect(introspector.introspect('t')).rejects.toBeInstanceOf(
      IntrospectionUnavailableError,
    );
  });

  it('surfaces a discovery document for another issuer as ConfigError from ready()', async () => {
    zitadel.discovery({ json: { issuer: 'https://evil.example', introspection_endpoint: 'x' } });
    const introspector = make();
    await expect(introspector.ready()).rejects.toBeInstanceOf(ConfigError);
  });

  it('logs a discovery outage once per retry interval, not once per request', async () => {
    let now = Date.now();
    const logger = captureLogger();
    zitadel.discovery({ status: 502, body: 'bad gateway' });
    const introspector = make({ logger, now: () => now });
    for (const token of ['a', 'b', 'c', 'd']) {
      await expect(introspector.introspect(token)).rejects.toBeInstanceOf(
        IntrospectionUnavailableError,
      );
    }
    expect(zitadel.discoveryRequests).toBe(1);
    expect(logger.lines.filter((l) => l.level === 'warn')).toHaveLength(1);
    expect(logger.lines[0].message).toMatch(/^introspection not attempted: discovery/);
    now += 5_000;
    await expect(introspector.introspect('e')).rejects.toBeInstanceOf(
      IntrospectionUnavailableError,
    );
    expect(zitadel.discoveryRequests).toBe(2);
    expect(logger.lines.filter((l) => l.level === 'warn')).toHaveLength(2);
    expect(introspector.stats().errors).toBe(5);
  });

  it('surfaces a missing key file from ready() and introspect()', async () => {
    const introspector = make({
      clientId: undefined,
      clientSecret: undefined,
      key: '/nonexistent/key.json',
    });
    await expect(introspector.ready()).rejects.toBeInstanceOf(ConfigError);
    await expect(introspector.introspect('t')).rejects.toBeInstanceOf(ConfigError);
    await expect(introspector.evict('t')).rejects.toBeInstanceOf(ConfigError);
  });

  it('authenticates with a key file (private_key_jwt) once it loads', async () => {
    const { privateKey } = generateKeyPairSync('rsa', {
      modulusLength: 2048,
      privateKeyEncoding: { type: 'pkcs1', format: 'pem' },
      publicKeyEncoding: { type: 'spki', format: 'pem' },
    });
    const key = {
      type: 'application',
      keyId: 'k1',
      key: privateKey,
      appId: 'app',
      clientId: 'api@p',
    };
    zitadel.answer('t', { json: activeAnswer() });
    const introspector = make({ clientId: undefined, clientSecret: undefined, key });
    const [a, b] = await Promise.all([introspector.introspect('t'), introspector.introspect('t')]);
    expect(a.active && b.active).toBe(true);
    const form = zitadel.requests[0].form;
    expect(form.get('client_assertion_type')).toBe(
      'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
    );
    expect(form.get('client_assertion')?.split('.')).toHaveLength(3);
    await introspector.evict('t');
    expect(zitadel.requests[0].headers.authorization).toBeUndefined();
  });

  it('rejects after close()', async () => {
    const introspector = make();
    await introspector.close();
    await expect(introspector.introspect('t')).rejects.toBeInstanceOf(
      IntrospectionUnavailableError,
    );
  });
});
