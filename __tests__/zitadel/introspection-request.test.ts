import { ConfigError } from '../../lib/errors';
import { introspectToken } from '../../lib/zitadel/introspection';
import { json } from './helpers';
import {
  activeAnswer,
  attempts,
  basicAuth,
  failure,
  jtis,
  options,
  serve,
  server,
  TOKEN,
} from './introspection-fixture';

describe('introspectToken: the request', () => {
  it('authenticates with a verified client assertion and returns the answer as is', async () => {
    serve((_req, res) => json(res, 200, activeAnswer));
    await expect(introspectToken(TOKEN, options())).resolves.toEqual(activeAnswer);
    expect(attempts).toBe(1);
    expect(jtis).toHaveLength(1);
  });

  it('returns active:false as a normal answer', async () => {
    serve((_req, res) => json(res, 200, { active: false }));
    await expect(introspectToken(TOKEN, options())).resolves.toEqual({ active: false });
  });

  it('authenticates with client_secret_basic, id and secret form-encoded', async () => {
    serve((_req, res) => json(res, 200, { active: true, sub: 's' }));
    const answer = await introspectToken(TOKEN, options({ auth: basicAuth }));
    expect(answer).toEqual({ active: true, sub: 's' });
    const expected = Buffer.from('a%3Ab%40c:p%25%26%2B+%C3%A9').toString('base64');
    expect(server.requests[0].headers.authorization).toBe(`Basic ${expected}`);
  });

  it('signs a fresh assertion for every attempt', async () => {
    serve(
      (_req, res) => json(res, 500, {}),
      (_req, res) => json(res, 502, {}),
      (_req, res) => json(res, 200, { active: true }),
    );
    await expect(introspectToken(TOKEN, options({ retries: 2 }))).resolves.toEqual({
      active: true,
    });
    expect(attempts).toBe(3);
    expect(new Set(jtis).size).toBe(3);
  });

  it('uses the fetch it is given', async () => {
    serve((_req, res) => json(res, 200, { active: false }));
    let calls = 0;
    const counting: typeof fetch = (input, init) => {
      calls++;
      return fetch(input, init);
    };
    await introspectToken(TOKEN, options({ fetch: counting, onAttempt: undefined }));
    expect(calls).toBe(1);
  });
});

describe('introspectToken: HTTP 400 about the token itself', () => {
  it('unsupported_token_type (the caller sent a token the server will not read) → inactive', async () => {
    server.handler = (_req, res) => json(res, 400, { error: 'unsupported_token_type' });
    await expect(introspectToken(TOKEN, options({ retries: 3 }))).resolves.toEqual({
      active: false,
    });
    expect(attempts).toBe(1);
  });

  it('a 401 unsupported_token_type is still our client authentication failing', async () => {
    server.handler = (_req, res) => json(res, 401, { error: 'unsupported_token_type' });
    await expect(introspectToken(TOKEN, options())).rejects.toBeInstanceOf(ConfigError);
  });
});

describe('introspectToken: rejected client authentication → ConfigError, no retry', () => {
  it('HTTP 400 unauthorized_client, as ZITADEL answers', async () => {
    server.handler = (_req, res) => json(res, 400, { error: 'unauthorized_client' });
    const error = await failure(introspectToken(TOKEN, options({ retries: 3 })));
    expect(error).toBeInstanceOf(ConfigError);
    expect(error.message).toBe(
      'ZITADEL rejected our client authentication (HTTP 400 unauthorized_client) - is the key revoked, is it the key of another application, or is the issuer wrong?',
    );
    expect((error as ConfigError).field).toBe('key');
    expect(attempts).toBe(1);
  });

  it('an assertion for another audience is rejected by the verifying server', async () => {
    serve((_req, res) => json(res, 200, { active: true }));
    const error = await failure(introspectToken(TOKEN, options({ audience: 'https://other' })));
    expect(error).toBeInstanceOf(ConfigError);
    expect(error.message).toMatch(
      /HTTP 400 unauthorized_client assertion: unexpected +aud +claim value/,
    );
  });

  it('a 400 whose body is too large to read still names the status', async () => {
    server.handler = (_req, res) => json(res, 400, { error: 'x'.repeat(1024 * 1024) });
    const error = await failure(introspectToken(TOKEN, options()));
    expect(error).toBeInstanceOf(ConfigError);
    expect(error.message).toMatch(/\(HTTP 400\) - is the key revoked/);
  });

  it('HTTP 401 invalid_client with a description, for client_secret_basic', async () => {
    server.handler = (_req, res) =>
      json(res, 401, {
        error: 'invalid_client',
        error_description: 'client must be "authenticated"',
      });
    const error = await failure(introspectToken(TOKEN, options({ auth: basicAuth })));
    expect(error).toBeInstanceOf(ConfigError);
    expect(error.message).toMatch(
      /^ZITADEL rejected our client authentication \(HTTP 401 invalid_client client must be {2}authenticated \) - are the client id and secret right/,
    );
    expect((error as ConfigError).field).toBe('clientSecret');
  });

  it('a 400 without a JSON body, and one that echoes what we sent', async () => {
    server.handler = (_req, res) => res.writeHead(400).end('bad');
    const plain = await failure(introspectToken(TOKEN, options()));
    expect(plain.message).toMatch(/\(HTTP 400\) - /);
    server.handler = (_req, res) => json(res, 401, { error: 42 });
    const numeric = await failure(introspectToken(TOKEN, options()));
    expect(numeric.message).toMatch(/\(HTTP 401\) - /);

    server.handler = (req, res) =>
      json(res, 400, {
        error: 'invalid_request',
        error_description: `got ${req.body} ${req.headers.authorization}`,
      });
    const echoed = await failure(introspectToken(TOKEN, options()));
    expect(echoed.message).toMatch(/got token=\[redacted\]&token_type_hint=access_token/);
    const echoedBasic = await failure(introspectToken(TOKEN, options({ auth: basicAuth })));
    expect(echoedBasic.message).toMatch(
      /got token=\[redacted\]&token_type_hint=access_token Basic \[redacted\]\) - /,
    );
  });
});
