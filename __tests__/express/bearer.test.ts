/**
 * The Authorization header through the real middleware, against a real
 * introspection endpoint that counts what reaches it: every malformed header
 * is refused before ZITADEL is asked, every well-formed one is introspected
 * with exactly the token it holds.
 */
import request from 'supertest';
import { MAX_TOKEN_BYTES } from '../../lib/express/bearer';
import { zitadelAuth, type ZitadelAuthMiddleware } from '../../lib/express/middleware';
import {
  activeAnswer,
  startScriptedZitadel,
  type ScriptedZitadel,
} from '../helpers/scripted-zitadel';
import { expressVersions, listen, protectedApp, rawRequest } from './support';

const NO_CREDENTIALS = 'no bearer token in the request';
const OTHER_SCHEME = 'the Authorization scheme is not Bearer';
const NO_TOKEN = 'the Bearer credentials hold no token';
const NOT_ONE_TOKEN = 'the Authorization header must hold Bearer, a space and exactly one token';
const SYNTAX = 'the access token has characters outside the b64token syntax';
const TOO_LONG = 'the access token is longer than 8192 bytes';
const MALFORMED = 'the Authorization header is malformed';

type Expected = { token: string } | { status: 400 | 401; description: string };
const ok = (token: string): Expected => ({ token });
const badRequest = (description: string): Expected => ({ status: 400, description });
const unauthorized = (description: string): Expected => ({ status: 401, description });

const max = 'a'.repeat(MAX_TOKEN_BYTES);

/** Header values as the client sends them; Node's server trims surrounding whitespace. */
const table: Array<[string, string, Expected]> = [
  ['empty value', '', unauthorized(NO_CREDENTIALS)],
  ['only spaces', '   ', unauthorized(NO_CREDENTIALS)],
  ['Bearer alone', 'Bearer', badRequest(NO_TOKEN)],
  ['Bearer and a space', 'Bearer ', badRequest(NO_TOKEN)],
  ['Bearer and spaces', 'Bearer     ', badRequest(NO_TOKEN)],
  ['one token', 'Bearer abc', ok('abc')],
  ['two spaces before the token (1*SP)', 'Bearer  abc', ok('abc')],
  ['lower-case scheme', 'bearer abc', ok('abc')],
  ['upper-case scheme', 'BEARER abc', ok('abc')],
  ['mixed-case scheme', 'bEaReR abc', ok('abc')],
  ['every b64token character', 'Bearer aZ09-._~+/xyz', ok('aZ09-._~+/xyz')],
  ['trailing = padding', 'Bearer abc==', ok('abc==')],
  ['only dots', 'Bearer ...', ok('...')],
  ['JWT-shaped token', 'Bearer eyJh.eyJz.c2ln', ok('eyJh.eyJz.c2ln')],
  ['leading space before the scheme', ' Bearer abc', ok('abc')],
  ['trailing space after the token', 'Bearer abc ', ok('abc')],
  ['trailing tab after the token', 'Bearer abc\t', ok('abc')],
  ['= in the middle', 'Bearer a=bc', badRequest(SYNTAX)],
  ['only padding', 'Bearer ==', badRequest(SYNTAX)],
  ['two tokens', 'Bearer abc def', badRequest(NOT_ONE_TOKEN)],
  ['a second credential', 'Bearer a, Basic b', badRequest(NOT_ONE_TOKEN)],
  ['trailing comma', 'Bearer abc,', badRequest(NOT_ONE_TOKEN)],
  ['repeated scheme', 'Bearer Bearer abc', badRequest(NOT_ONE_TOKEN)],
  ['tab separator', 'Bearer\tabc', badRequest(NOT_ONE_TOKEN)],
  ['space and tab separator', 'Bearer \tabc', badRequest(NOT_ONE_TOKEN)],
  ['colon after the scheme', 'Bearer: abc', badRequest(NOT_ONE_TOKEN)],
  ['= instead of a space', 'Bearer=abc', badRequest(NOT_ONE_TOKEN)],
  ['quote in the token', 'Bearer a"b', badRequest(SYNTAX)],
  ['backslash in the token', 'Bearer a\\b', badRequest(SYNTAX)],
  ['semicolon in the token', 'Bearer ab;c', badRequest(SYNTAX)],
  ['percent-encoding in the token', 'Bearer abc%20', badRequest(SYNTAX)],
  ['quoted token', 'Bearer "abc"', badRequest(SYNTAX)],
  ['Latin-1 letter in the token', 'Bearer a\u00fcb', badRequest(SYNTAX)],
  ['token of 8192 bytes', `Bearer ${max}`, ok(max)],
  ['token of 8193 bytes', `Bearer ${max}a`, badRequest(TOO_LONG)],
  ['8192 bytes plus padding', `Bearer ${max}=`, badRequest(TOO_LONG)],
  ['Basic', 'Basic dXNlcjpwYXNz', unauthorized(OTHER_SCHEME)],
  ['Basic alone', 'Basic', unauthorized(OTHER_SCHEME)],
  ['Digest', 'Digest username="svc", realm="api"', unauthorized(OTHER_SCHEME)],
  ['Negotiate', 'Negotiate YIIC', unauthorized(OTHER_SCHEME)],
  ['BearerX', 'BearerX abc', unauthorized(OTHER_SCHEME)],
  ['Bearer-ish scheme', 'Bearer-Token abc', unauthorized(OTHER_SCHEME)],
  ['token without a scheme', 'abc', unauthorized(OTHER_SCHEME)],
  ['quoted header', '"Bearer abc"', badRequest(MALFORMED)],
  ['leading comma', ', Bearer abc', badRequest(MALFORMED)],
];

describe.each(expressVersions)('Authorization header on %s', (_name, factory) => {
  let zitadel: ScriptedZitadel;
  let auth: ZitadelAuthMiddleware;

  beforeAll(async () => {
    zitadel = await startScriptedZitadel();
    zitadel.answer('default', { json: activeAnswer({ sub: 'svc-1' }) });
    auth = zitadelAuth({
      issuer: zitadel.issuer,
      introspectionEndpoint: zitadel.introspectionEndpoint,
      clientId: 'api-client',
      clientSecret: 'api-secret',
      cache: false,
      retries: 0,
    });
  });
  afterAll(async () => {
    await auth.introspector.close();
    await zitadel.close();
  });

  it('has a table of at least 30 cases, around a limit of 8192 bytes', () => {
    expect(table.length).toBeGreaterThanOrEqual(30);
    expect(MAX_TOKEN_BYTES).toBe(8192);
  });

  it.each(table)('%s', async (_case, header, expected) => {
    const before = zitadel.requests.length;
    const res = await request(protectedApp(factory, auth)).get('/api').set('Authorization', header);

    if ('token' in expected) {
      expect(res.status).toBe(200);
      expect(res.body).toEqual({
        anonymous: false,
        subject: 'svc-1',
        token: expected.token,
        location: 'header',
        realm: 'api',
      });
      expect(zitadel.requests.slice(before).map((r) => r.token)).toEqual([expected.token]);
      return;
    }
    expect(res.status).toBe(expected.status);
    expect(res.headers['www-authenticate']).toBe(
      expected.status === 401
        ? 'Bearer realm="api"'
        : `Bearer realm="api", error="invalid_request", error_description="${expected.description}"`,
    );
    expect(res.body).toEqual({
      error: expected.status === 401 ? 'unauthorized' : 'invalid_request',
      error_description: expected.description,
    });
    expect(res.headers['cache-control']).toBe('no-store');
    expect(zitadel.requests.length).toBe(before);
  });

  it('answers 401 without an Authorization header', async () => {
    const res = await request(protectedApp(factory, auth)).get('/api');
    expect(res.status).toBe(401);
    expect(res.headers['www-authenticate']).toBe('Bearer realm="api"');
    expect(res.body).toEqual({ error: 'unauthorized', error_description: NO_CREDENTIALS });
  });

  it('never puts the refused token in the answer', async () => {
    const token = `secret${'x'.repeat(8192)}`;
    const res = await request(protectedApp(factory, auth))
      .get('/api')
      .set('Authorization', `Bearer ${token}`);
    expect(res.status).toBe(400);
    expect(res.text).not.toContain('secret');
    expect(JSON.stringify(res.headers)).not.toContain('secret');
  });

  describe('bytes Node’s HTTP client refuses to send', () => {
    let server: Awaited<ReturnType<typeof listen>>;
    beforeAll(async () => {
      server = await listen(protectedApp(factory, auth));
    });
    afterAll(() => server.close());

    it('refuses a UTF-8 character in the token with our 400', async () => {
      const before = zitadel.requests.length;
      const res = await rawRequest(server.port, Buffer.from('Bearer a\u20acb', 'utf8'));
      expect(res.status).toBe(400);
      expect(JSON.parse(res.body)).toEqual({ error: 'invalid_request', error_description: SYNTAX });
      expect(zitadel.requests.length).toBe(before);
    });

    it('refuses a UTF-8 scheme with our 400', async () => {
      const before = zitadel.requests.length;
      const res = await rawRequest(server.port, Buffer.from('\u00dfearer abc', 'utf8'));
      expect(res.status).toBe(400);
      expect(JSON.parse(res.body)).toEqual({
        error: 'invalid_request',
        error_description: MALFORMED,
      });
      expect(zitadel.requests.length).toBe(before);
    });

    it.each([
      ['NUL', 'Bearer a\x00b'],
      ['SOH', 'Bearer a\x01b'],
      ['ESC', 'Bearer \x1babc'],
      ['DEL', 'Bearer abc\x7f'],
      ['a bare CR', 'Bearer a\rb'],
    ])('leaves a control character (%s) to Node, which answers 400 itself', async (_c, value) => {
      const before = zitadel.requests.length;
      const res = await rawRequest(server.port, Buffer.from(value, 'latin1'));
      expect(res.status).toBe(400);
      expect(res.headers['www-authenticate']).toBeUndefined();
      expect(res.body).toBe('');
      expect(zitadel.requests.length).toBe(before);
    });

    it('reads only the first of two Authorization headers (Basic first: 401)', async () => {
      const before = zitadel.requests.length;
      const res = await rawRequest(server.port, Buffer.from('Basic dXNlcjpwYXNz'), [
        'Authorization: Bearer abc',
      ]);
      expect(res.status).toBe(401);
      expect(res.headers['www-authenticate']).toBe('Bearer realm="api"');
      expect(zitadel.requests.length).toBe(before);
    });

    it('reads only the first of two Authorization headers (Bearer first: introspected)', async () => {
      const before = zitadel.requests.length;
      const res = await rawRequest(server.port, Buffer.from('Bearer first'), [
        'Authorization: Bearer second',
      ]);
      expect(res.status).toBe(200);
      expect(JSON.parse(res.body)).toMatchObject({ token: 'first' });
      expect(zitadel.requests.slice(before).map((r) => r.token)).toEqual(['first']);
    });
  });
});
