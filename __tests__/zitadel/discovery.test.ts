import { ConfigError, IntrospectionUnavailableError } from '../../lib/errors';
import { createDiscovery } from '../../lib/zitadel/discovery';
import { closedPortUrl, json, startServer, type Handler, type TestServer } from './helpers';

let server: TestServer;
let other: TestServer;

const documentFor = (issuer: string, extra: Record<string, unknown> = {}) => ({
  issuer,
  token_endpoint: `${issuer}/oauth/v2/token`,
  introspection_endpoint: `${issuer}/oauth/v2/introspect`,
  jwks_uri: `${issuer}/oauth/v2/keys`,
  ...extra,
});

function serve(handler: Handler) {
  server.handler = handler;
  server.requests.length = 0;
}

async function rejection(promise: Promise<unknown>): Promise<Error> {
  return promise.then(
    () => {
      throw new Error('expected a rejection');
    },
    (e: Error) => e,
  );
}

beforeAll(async () => {
  server = await startServer();
  other = await startServer((_req, res) => json(res, 200, {}));
});
afterAll(async () => {
  await server.close();
  await other.close();
});

describe('createDiscovery with a discovery request', () => {
  it('reads the endpoints and the issuer from the document, then keeps them', async () => {
    serve((_req, res) => json(res, 200, documentFor(server.url)));
    const discovery = createDiscovery({ issuer: server.url });
    await expect(discovery.get()).resolves.toEqual({
      issuer: server.url,
      introspectionEndpoint: `${server.url}/oauth/v2/introspect`,
      tokenEndpoint: `${server.url}/oauth/v2/token`,
      jwksUri: `${server.url}/oauth/v2/keys`,
    });
    await discovery.get();
    expect(server.requests).toHaveLength(1);
    expect(server.requests[0]).toMatchObject({
      method: 'GET',
      url: '/.well-known/openid-configuration',
    });
    expect(server.requests[0].headers.accept).toBe('application/json');
  });

  it('shares one request among concurrent callers', async () => {
    serve((_req, res) => {
      setTimeout(() => json(res, 200, documentFor(server.url)), 50);
    });
    const discovery = createDiscovery({ issuer: server.url });
    const results = await Promise.all(Array.from({ length: 10 }, () => discovery.get()));
    expect(new Set(results).size).toBe(1);
    expect(server.requests).toHaveLength(1);
  });

  it('tolerates a trailing slash on either side and returns the document issuer', async () => {
    serve((_req, res) => json(res, 200, documentFor(server.url)));
    const configuredWithSlash = await createDiscovery({ issuer: `${server.url}/` }).get();
    expect(configuredWithSlash.issuer).toBe(server.url);
    expect(server.requests[0].url).toBe('/.well-known/openid-configuration');

    serve((_req, res) => json(res, 200, { ...documentFor(server.url), issuer: `${server.url}/` }));
    const documentWithSlash = await createDiscovery({ issuer: server.url }).get();
    expect(documentWithSlash.issuer).toBe(`${server.url}/`);
  });

  it('uses the fetch it is given; a document without token_endpoint still works', async () => {
    serve((_req, res) => json(res, 200, { ...documentFor(server.url), token_endpoint: undefined }));
    let calls = 0;
    const counting: typeof fetch = (input, init) => {
      calls++;
      return fetch(input, init);
    };
    const metadata = await createDiscovery({ issuer: server.url, fetch: counting }).get();
    expect(calls).toBe(1);
    expect(metadata.tokenEndpoint).toBeUndefined();
  });

  it.each<[string, Handler, RegExp, string | undefined]>([
    [
      'names another issuer',
      (_req, res) => json(res, 200, documentFor('https://evil.example')),
      /names another issuer \(https:\/\/evil\.example\)/,
      'issuer',
    ],
    [
      'has no issuer',
      (_req, res) => json(res, 200, { ...documentFor(''), issuer: undefined }),
      /has no issuer/,
      'issuer',
    ],
    [
      'lacks introspection_endpoint',
      (_req, res) => json(res, 200, { ...documentFor(server.url), introspection_endpoint: 7 }),
      /has no introspection_endpoint/,
      'introspectionEndpoint',
    ],
    [
      'is not JSON',
      (_req, res) => res.end('<html>hello</html>'),
      /is not a JSON object/,
      undefined,
    ],
    [
      'is a JSON array',
      (_req, res) => json(res, 200, [documentFor('x')]),
      /not a JSON object/,
      undefined,
    ],
  ])('a document that %s → ConfigError', async (_what, handler, message, field) => {
    serve(handler);
    const error = await rejection(createDiscovery({ issuer: server.url }).get());
    expect(error).toBeInstanceOf(ConfigError);
    expect(error.message).toMatch(message);
    expect((error as ConfigError).field).toBe(field);
  });

  it.each<[string, Handler, RegExp, number]>([
    ['HTTP 500', (_req, res) => json(res, 500, {}), /unreachable: HTTP 500/, 5],
    [
      'HTTP 503 with Retry-After',
      (_req, res) => json(res, 503, {}, { 'retry-after': '30' }),
      /HTTP 503/,
      30,
    ],
    ['HTTP 404', (_req, res) => json(res, 404, {}), /HTTP 404/, 5],
    [
      'a body over 1 MiB',
      (_req, res) => res.end(`{"x":"${'a'.repeat(1024 * 1024)}"}`),
      /larger than 1 MiB/,
      5,
    ],
  ])('%s → IntrospectionUnavailableError', async (_what, handler, message, retryAfter) => {
    serve(handler);
    const error = await rejection(createDiscovery({ issuer: server.url }).get());
    expect(error).toBeInstanceOf(IntrospectionUnavailableError);
    expect(error.message).toMatch(
      /^discovery at http:\/\/127\.0\.0\.1:\d+\/\.well-known\/openid-configuration unreachable/,
    );
    expect(error.message).toMatch(message);
    expect((error as IntrospectionUnavailableError).retryAfterSeconds).toBe(retryAfter);
  });

  it('does not follow a redirect', async () => {
    other.requests.length = 0;
    serve((_req, res) => {
      res.writeHead(302, { location: `${other.url}/.well-known/openid-configuration` });
      res.end();
    });
    const error = await rejection(createDiscovery({ issuer: server.url }).get());
    expect(error).toBeInstanceOf(IntrospectionUnavailableError);
    expect(error.message).toMatch(/HTTP 302/);
    expect(other.requests).toHaveLength(0);
  });

  it('an unreachable issuer → IntrospectionUnavailableError', async () => {
    const issuer = await closedPortUrl();
    const error = await rejection(createDiscovery({ issuer }).get());
    expect(error).toBeInstanceOf(IntrospectionUnavailableError);
    expect(error.message).toMatch(/unreachable: ECONNREFUSED/);
  });

  it('names the socket error for a host name with several addresses (localhost)', async () => {
    const issuer = (await closedPortUrl()).replace('127.0.0.1', 'localhost');
    const error = await rejection(createDiscovery({ issuer }).get());
    expect(error.message).toMatch(/unreachable: (ECONNREFUSED|EADDRNOTAVAIL)/);
  });

  it('a server that does not answer in time → IntrospectionUnavailableError', async () => {
    serve(() => undefined); // never answers; closeAllConnections ends it
    const started = Date.now();
    const error = await rejection(createDiscovery({ issuer: server.url, timeoutMs: 100 }).get());
    expect(error).toBeInstanceOf(IntrospectionUnavailableError);
    expect(error.message).toMatch(/timed out after 100 ms/);
    expect(Date.now() - started).toBeLessThan(3000);
  });

  it('after a failure, rejects at once for retryIntervalMs, then tries again', async () => {
    let clock = 1_000_000;
    serve((_req, res) => json(res, 502, {}));
    const discovery = createDiscovery({ issuer: server.url, now: () => clock });
    const first = await rejection(discovery.get());
    expect(first).toBeInstanceOf(IntrospectionUnavailableError);

    serve((_req, res) => json(res, 200, documentFor(server.url)));
    clock += 4999;
    await expect(discovery.get()).rejects.toBe(first);
    expect(server.requests).toHaveLength(0);

    clock += 1;
    await expect(discovery.get()).resolves.toMatchObject({ issuer: server.url });
    expect(server.requests).toHaveLength(1);
  });

  it('throttles a ConfigError too, with a custom interval', async () => {
    let clock = 0;
    serve((_req, res) => json(res, 200, { issuer: server.url }));
    const discovery = createDiscovery({
      issuer: server.url,
      now: () => clock,
      retryIntervalMs: 100,
    });
    const first = await rejection(discovery.get());
    expect(first).toBeInstanceOf(ConfigError);
    clock = 99;
    await expect(discovery.get()).rejects.toBe(first);
    expect(server.requests).toHaveLength(1);
    clock = 100;
    await expect(discovery.get()).rejects.toBeInstanceOf(ConfigError);
    expect(server.requests).toHaveLength(2);
  });
});

describe('createDiscovery with static endpoints', () => {
  const noFetch: typeof fetch = () => {
    throw new Error('no request expected');
  };

  it('an introspection endpoint skips discovery and derives the token endpoint', async () => {
    const metadata = await createDiscovery({
      issuer: 'https://acme.zitadel.cloud/',
      introspectionEndpoint: 'http://zitadel.internal:8080/oauth/v2/introspect',
      fetch: noFetch,
    }).get();
    expect(metadata).toEqual({
      issuer: 'https://acme.zitadel.cloud/',
      introspectionEndpoint: 'http://zitadel.internal:8080/oauth/v2/introspect',
      tokenEndpoint: 'https://acme.zitadel.cloud/oauth/v2/token',
    });
  });

  it('a token endpoint skips discovery and derives the introspection endpoint', async () => {
    const metadata = await createDiscovery({
      issuer: 'https://acme.zitadel.cloud',
      tokenEndpoint: 'http://zitadel.internal/oauth/v2/token',
      fetch: noFetch,
    }).get();
    expect(metadata).toEqual({
      issuer: 'https://acme.zitadel.cloud',
      introspectionEndpoint: 'https://acme.zitadel.cloud/oauth/v2/introspect',
      tokenEndpoint: 'http://zitadel.internal/oauth/v2/token',
    });
  });
});
