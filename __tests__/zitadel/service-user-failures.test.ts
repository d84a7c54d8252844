import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { ConfigError, TokenRequestError } from '../../lib/errors';
import {
  serviceUserTokenSource,
  type ServiceUserTokenSourceOptions,
} from '../../lib/zitadel/service-user';
import { closedPortUrl, json, type Handler } from './helpers';
import {
  CLIENT_ID,
  CLIENT_SECRET,
  dir,
  endpoint,
  errors,
  failure,
  keyFile,
  keySource,
  other,
  rsa,
  server,
} from './service-user-fixture';

describe('serviceUserTokenSource: failures → TokenRequestError', () => {
  it('the token endpoint error and description', async () => {
    const source = serviceUserTokenSource({
      issuer: server.url,
      clientId: CLIENT_ID,
      clientSecret: 'wrong',
    });
    const error = await failure(source.getToken());
    expect(error).toBeInstanceOf(TokenRequestError);
    expect(error).toMatchObject({
      status: 401,
      error: 'invalid_client',
      errorDescription: 'bad client',
    });
    expect(error.message).toBe('token request failed (HTTP 401): invalid_client: bad client');
  });

  it('an assertion for another audience is refused by the verifying endpoint', async () => {
    const source = keySource({
      issuer: 'https://elsewhere.example',
      tokenEndpoint: `${server.url}/oauth/v2/token`,
    });
    const error = await failure(source.getToken());
    expect(error).toMatchObject({ status: 400, error: 'invalid_grant' });
  });

  it.each<[string, Handler, object]>([
    [
      'an HTML 500',
      (_r, res) => res.writeHead(500).end('<h1>oops</h1>'),
      { status: 500, error: 'invalid_response' },
    ],
    [
      'a 200 without access_token',
      (_r, res) => json(res, 200, { token_type: 'Bearer' }),
      {
        status: 200,
        error: 'invalid_response',
        errorDescription: 'the answer has no access_token',
      },
    ],
    [
      'a 200 that is not JSON',
      (_r, res) => res.end('at-1'),
      { status: 200, error: 'invalid_response' },
    ],
    [
      'a 200 with an error',
      (_r, res) => json(res, 200, { error: 'slow_down' }),
      { status: 200, error: 'slow_down' },
    ],
    [
      'a body over 1 MiB',
      (_r, res) => res.end('x'.repeat(1024 * 1024 + 1)),
      {
        status: 200,
        error: 'invalid_response',
        errorDescription: 'answer larger than 1 MiB',
      },
    ],
  ])('%s', async (_what, handler, expected) => {
    endpoint.answer = handler;
    const error = await failure(keySource().getToken());
    expect(error).toBeInstanceOf(TokenRequestError);
    expect(error).toMatchObject(expected);
  });

  it('a redirect is not followed', async () => {
    endpoint.answer = (_r, res) =>
      res.writeHead(302, { location: `${other.url}/oauth/v2/token` }).end();
    const error = await failure(keySource().getToken());
    expect(error).toMatchObject({ status: 302, error: 'invalid_response' });
    expect(other.requests).toHaveLength(0);
  });

  it('an unreachable token endpoint → network_error', async () => {
    const tokenEndpointUrl = `${await closedPortUrl()}/oauth/v2/token`;
    const error = await failure(keySource({ tokenEndpoint: tokenEndpointUrl }).getToken());
    expect(error).toMatchObject({
      status: undefined,
      error: 'network_error',
      errorDescription: 'token endpoint ECONNREFUSED',
    });
  });

  it('a token endpoint that does not answer in time → network_error', async () => {
    endpoint.answer = () => undefined;
    const error = await failure(keySource({ timeoutMs: 100 }).getToken());
    expect(error).toMatchObject({
      status: undefined,
      error: 'network_error',
      errorDescription: 'token endpoint timed out after 100 ms',
    });
  });

  it('a body that stops arriving → network_error once the timeout fires', async () => {
    endpoint.answer = (_r, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write('{"access_token":');
    };
    const error = await failure(keySource({ timeoutMs: 100 }).getToken());
    expect(error).toMatchObject({
      status: undefined,
      error: 'network_error',
      errorDescription: 'token endpoint timed out after 100 ms',
    });
  });

  it('unreachable discovery → network_error; a bad discovery document → ConfigError', async () => {
    const error = await failure(
      serviceUserTokenSource({ issuer: await closedPortUrl(), key: keyFile }).getToken(),
    );
    expect(error).toMatchObject({ status: undefined, error: 'network_error' });
    expect((error as TokenRequestError).errorDescription).toMatch(
      /discovery at .* unreachable: ECONNREFUSED/,
    );

    server.handler = (_req, res) => json(res, 200, { issuer: 'https://other.example' });
    const config = await failure(keySource().getToken());
    expect(config).toBeInstanceOf(ConfigError);
  });

  it('a discovery document without token_endpoint → ConfigError', async () => {
    server.handler = (_req, res) =>
      json(res, 200, { issuer: server.url, introspection_endpoint: `${server.url}/i` });
    const error = await failure(keySource().getToken());
    expect(error).toBeInstanceOf(ConfigError);
    expect(error.message).toMatch(/has no token_endpoint/);
    expect((error as ConfigError).field).toBe('tokenEndpoint');
  });

  it('an endpoint echoing the request gets its echo redacted', async () => {
    endpoint.answer = (req, res) =>
      json(res, 400, {
        error: 'invalid_request',
        error_description: req.headers.authorization
          ? `${req.body} ${req.headers.authorization}\n${CLIENT_SECRET}`
          : `${req.body}\n`,
      });
    const withKey = await failure(keySource().getToken());
    expect((withKey as TokenRequestError).errorDescription).toMatch(
      /assertion=\[redacted\]&scope=openid $/,
    );
    const withSecret = await failure(
      serviceUserTokenSource({
        issuer: server.url,
        clientId: CLIENT_ID,
        clientSecret: CLIENT_SECRET,
      }).getToken(),
    );
    expect((withSecret as TokenRequestError).errorDescription).toMatch(
      /openid Basic \[redacted\] \[redacted\]$/,
    );
  });

  it('a missing key file → ConfigError, and it is read again on the next call', async () => {
    const file = path.join(dir, 'later.json');
    const source = keySource({ key: file });
    const error = await failure(source.getToken());
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).field).toBe('key');
    writeFileSync(file, JSON.stringify(keyFile));
    await expect(source.getToken()).resolves.toMatch(/^at-/);
  });

  it('an application key where a service-user key belongs → ConfigError on type', async () => {
    const appKey = { type: 'application', keyId: 'k', key: rsa.pem, appId: 'a', clientId: 'c' };
    const error = await failure(keySource({ key: appKey }).getToken());
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).field).toBe('type');
  });
});

describe('serviceUserTokenSource: options → ConfigError at once', () => {
  it.each<[string, Partial<ServiceUserTokenSourceOptions>, string]>([
    ['no credentials', {}, 'key'],
    ['key and pat', { key: keyFile, pat: 'p' }, 'key'],
    ['key and client credentials', { key: keyFile, clientId: 'c', clientSecret: 's' }, 'key'],
    ['clientId without secret', { clientId: 'c' }, 'clientSecret'],
    ['clientSecret without id', { clientSecret: 's' }, 'clientId'],
    ['an empty pat', { pat: '' }, 'pat'],
    ['no issuer for a key', { key: keyFile, issuer: '' }, 'issuer'],
    [
      'no issuer for client credentials',
      { clientId: 'c', clientSecret: 's', issuer: undefined },
      'issuer',
    ],
  ])('%s', (_what, extra, field) => {
    let thrown: unknown;
    try {
      serviceUserTokenSource({
        issuer: 'https://acme.zitadel.cloud',
        ...extra,
      } as ServiceUserTokenSourceOptions);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(ConfigError);
    expect((thrown as ConfigError).field).toBe(field);
    errors.push(thrown);
  });
});
