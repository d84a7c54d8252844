/**
 * authErrorHandler(): RFC 6750 JSON for the package's errors, and hands-off
 * for everything else.
 */
import request from 'supertest';
import type { ErrorRequestHandler, RequestHandler } from 'express';
import {
  ConfigError,
  InsufficientScopeError,
  IntrospectionUnavailableError,
  InvalidRequestError,
  InvalidTokenError,
  UnauthorizedError,
} from '../../lib/errors';
import { authErrorHandler } from '../../lib/express/error-handler';
import { expressVersions, type ExpressFactory } from './support';

/** An app whose route fails with `error`, then authErrorHandler, then a recorder. */
function failingApp(factory: ExpressFactory, route: RequestHandler) {
  const app = factory();
  const passedOn: unknown[] = [];
  app.get('/x', route);
  app.use(authErrorHandler());
  app.use(((err, _req, res, _next) => {
    passedOn.push(err);
    if (res.headersSent) return res.end();
    res.status(599).json({ passedOn: true });
  }) as ErrorRequestHandler);
  return { app, passedOn };
}

const fail =
  (error: unknown): RequestHandler =>
  (_req, _res, next) =>
    next(error);

const cases: Array<
  [string, Error, number, Record<string, unknown>, Record<string, string | undefined>]
> = [
  [
    'UnauthorizedError',
    new UnauthorizedError(undefined, { realm: 'billing' }),
    401,
    { error: 'unauthorized', error_description: 'no bearer token in the request' },
    { 'www-authenticate': 'Bearer realm="billing"', 'retry-after': undefined },
  ],
  [
    'InvalidRequestError',
    new InvalidRequestError('two tokens'),
    400,
    { error: 'invalid_request', error_description: 'two tokens' },
    {
      'www-authenticate':
        'Bearer realm="api", error="invalid_request", error_description="two tokens"',
    },
  ],
  [
    'InvalidTokenError',
    new InvalidTokenError('the access token has expired'),
    401,
    { error: 'invalid_token', error_description: 'the access token has expired' },
    {
      'www-authenticate':
        'Bearer realm="api", error="invalid_token", error_description="the access token has expired"',
    },
  ],
  [
    'InsufficientScopeError',
    new InsufficientScopeError('missing scope email', { scope: 'openid email' }),
    403,
    { error: 'insufficient_scope', error_description: 'missing scope email' },
    {
      'www-authenticate':
        'Bearer realm="api", error="insufficient_scope", error_description="missing scope email", scope="openid email"',
    },
  ],
  [
    'IntrospectionUnavailableError',
    new IntrospectionUnavailableError('ZITADEL answered 502', { retryAfterSeconds: 7 }),
    503,
    {
      error: 'temporarily_unavailable',
      error_description:
        'the authorization server is unavailable; try again after Retry-After seconds',
    },
    { 'www-authenticate': undefined, 'retry-after': '7' },
  ],
  [
    'ConfigError',
    new ConfigError('the key file lacks keyId', { field: 'keyId' }),
    500,
    {
      error: 'server_error',
      error_description:
        'the API cannot verify access tokens right now (a server configuration problem)',
    },
    { 'www-authenticate': undefined, 'retry-after': undefined },
  ],
];

describe.each(expressVersions)('authErrorHandler on %s', (_name, factory) => {
  it.each(cases)('answers %s as RFC 6750 JSON', async (_c, error, status, body, headers) => {
    const { app, passedOn } = failingApp(factory, fail(error));
    const res = await request(app).get('/x');
    expect(res.status).toBe(status);
    expect(res.headers['content-type']).toMatch(/^application\/json/);
    expect(res.body).toEqual(body);
    expect(res.headers['cache-control']).toBe('no-store');
    for (const [name, value] of Object.entries(headers)) expect(res.headers[name]).toBe(value);
    expect(passedOn).toEqual([]);
  });

  it('overrides Cache-Control: private set for a query token', async () => {
    const { app } = failingApp(factory, (_req, res, next) => {
      res.setHeader('Cache-Control', 'private');
      next(new InvalidTokenError());
    });
    const res = await request(app).get('/x');
    expect(res.headers['cache-control']).toBe('no-store');
  });

  it.each([
    ['an Error', new Error('database down')],
    ['an http-errors-like object', Object.assign(new Error('nope'), { status: 401, code: 'x' })],
    ['a string', 'plain string'],
  ])('passes %s on unchanged', async (_c, error) => {
    const { app, passedOn } = failingApp(factory, fail(error));
    const res = await request(app).get('/x');
    expect(res.status).toBe(599);
    expect(passedOn).toHaveLength(1);
    expect(passedOn[0]).toBe(error);
  });

  it('passes an AuthError on when the headers are already sent', async () => {
    const error = new InvalidTokenError();
    const { app, passedOn } = failingApp(factory, (_req, res, next) => {
      res.status(200).write('partial ');
      next(error);
    });
    const res = await request(app).get('/x');
    expect(res.status).toBe(200);
    expect(res.text).toBe('partial ');
    expect(passedOn).toEqual([error]);
  });
});
