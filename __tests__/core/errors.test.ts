import { inspect } from 'node:util';
import {
  AuthError,
  ConfigError,
  InsufficientScopeError,
  IntrospectionUnavailableError,
  InvalidRequestError,
  InvalidTokenError,
  TokenRequestError,
  UnauthorizedError,
} from '../../lib/errors';

describe('error classes (DESIGN.md "Decisions → Errors")', () => {
  it.each([
    [new UnauthorizedError(), 401, undefined, 'Bearer realm="api"'],
    [
      new InvalidRequestError('two tokens'),
      400,
      'invalid_request',
      'Bearer realm="api", error="invalid_request", error_description="two tokens"',
    ],
    [
      new InvalidTokenError('token expired'),
      401,
      'invalid_token',
      'Bearer realm="api", error="invalid_token", error_description="token expired"',
    ],
    [
      new InsufficientScopeError('missing scope email', { scope: 'email profile', realm: 'x' }),
      403,
      'insufficient_scope',
      'Bearer realm="x", error="insufficient_scope", error_description="missing scope email", scope="email profile"',
    ],
  ])('%p → %d %s with its challenge', (error, status, code, challenge) => {
    expect(error).toBeInstanceOf(AuthError);
    expect(error).toBeInstanceOf(Error);
    expect(error.status).toBe(status);
    expect(error.statusCode).toBe(status);
    expect(error.code).toBe(code);
    expect(error.headers).toEqual({ 'WWW-Authenticate': challenge });
    expect(error.expose).toBe(true);
  });

  it('503 carries Retry-After (default 5, capped to 1..60) and no challenge', () => {
    const error = new IntrospectionUnavailableError('down');
    expect(error.status).toBe(503);
    expect(error.code).toBe('temporarily_unavailable');
    expect(error.headers).toEqual({ 'Retry-After': '5' });
    expect(new IntrospectionUnavailableError('x', { retryAfterSeconds: 600 }).headers).toEqual({
      'Retry-After': '60',
    });
    expect(
      new IntrospectionUnavailableError('x', { retryAfterSeconds: 0.2 }).retryAfterSeconds,
    ).toBe(1);
    expect(
      new IntrospectionUnavailableError('x', { retryAfterSeconds: NaN }).retryAfterSeconds,
    ).toBe(5);
    expect(error.expose).toBe(false);
  });

  it('ConfigError is a 500 server_error with the field and no challenge', () => {
    const error = new ConfigError('key file lacks keyId', { field: 'keyId' });
    expect(error.status).toBe(500);
    expect(error.code).toBe('server_error');
    expect(error.headers).toEqual({});
    expect(error.field).toBe('keyId');
    expect(error.name).toBe('ConfigError');
  });

  it('never lets a quote, a backslash or a control character into a description', () => {
    const error = new InvalidTokenError('a "quoted" \\ thing\r\nX-Injected: 1 ü');
    expect(error.description).not.toMatch(/["\\\r\n]/);
    expect(error.headers['WWW-Authenticate']).not.toMatch(/[\\\r\n]/);
    expect(error.headers['WWW-Authenticate'].match(/"/g)).toHaveLength(6);
    const realm = new UnauthorizedError(undefined, { realm: 'my "realm"' });
    expect(realm.headers['WWW-Authenticate']).toBe('Bearer realm="my  realm "');
  });

  it('keeps a cause for logs', () => {
    const cause = new Error('ECONNREFUSED');
    expect(new IntrospectionUnavailableError('down', { cause }).cause).toBe(cause);
  });

  it('TokenRequestError carries status, error and description', () => {
    const error = new TokenRequestError(400, 'invalid_grant', 'assertion expired');
    expect(error).not.toBeInstanceOf(AuthError);
    expect(error.status).toBe(400);
    expect(error.error).toBe('invalid_grant');
    expect(error.errorDescription).toBe('assertion expired');
    expect(error.message).toBe('token request failed (HTTP 400): invalid_grant: assertion expired');
    const network = new TokenRequestError(undefined, 'network_error', undefined, {
      cause: new Error('x'),
    });
    expect(network.message).toBe('token request failed: network_error');
    expect(inspect(network)).toContain('network_error');
  });
});
