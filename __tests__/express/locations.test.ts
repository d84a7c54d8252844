/**
 * Token locations other than the header (RFC 6750 §2.2, §2.3), through the real middleware and a real introspection endpoint.
 */
import request from 'supertest';
import type { RequestHandler } from 'express';
import {
  activeAnswer,
  startScriptedZitadel,
  type ScriptedZitadel,
} from '../helpers/scripted-zitadel';
import { captureLogger } from '../helpers/capture-logger';
import { expressVersions, middlewareFactory, protectedApp, type ExpressFactory } from './support';

const TWO_PLACES = 'the request carries a token in more than one place';
const SYNTAX = 'the access token has characters outside the b64token syntax';
const EMPTY = 'the access token is empty or not text';
const NO_CREDENTIALS = 'no bearer token in the request';

let zitadel: ScriptedZitadel;
const { auth, closeAll } = middlewareFactory(() => zitadel);

beforeAll(async () => {
  zitadel = await startScriptedZitadel();
  zitadel.answer('default', { json: activeAnswer({ sub: 'svc-1' }) });
});
afterAll(async () => {
  await closeAll();
  await zitadel.close();
});

/** Runs `send` and returns its answer with the tokens ZITADEL was asked about meanwhile. */
async function observed(send: () => Promise<request.Response>) {
  const before = zitadel.requests.length;
  const res = await send();
  return { res, introspected: zitadel.requests.slice(before).map((r) => r.token) };
}

function expectInvalidRequest(res: request.Response, description: string) {
  expect(res.status).toBe(400);
  expect(res.body).toEqual({ error: 'invalid_request', error_description: description });
}

describe.each(expressVersions)('%s', (_name, factory: ExpressFactory) => {
  describe('query (tokenLocations: header, query)', () => {
    const app = () => protectedApp(factory, auth({ tokenLocations: ['header', 'query'] }));

    it('introspects the access_token parameter and marks the answer private', async () => {
      const { res, introspected } = await observed(() =>
        request(app()).get('/api?x=1&access_token=abc.def'),
      );
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({ subject: 'svc-1', token: 'abc.def', location: 'query' });
      expect(res.headers['cache-control']).toBe('private');
      expect(introspected).toEqual(['abc.def']);
    });

    it('decodes percent-encoding, so %2B is a + of the token', async () => {
      const { res, introspected } = await observed(() =>
        request(app()).get('/api?access_token=a%2Bb%3D'),
      );
      expect(res.status).toBe(200);
      expect(introspected).toEqual(['a+b=']);
    });

    it('reads a raw + as a space (form encoding), which no token has', async () => {
      const { res, introspected } = await observed(() =>
        request(app()).get('/api?access_token=a+b'),
      );
      expectInvalidRequest(res, SYNTAX);
      expect(introspected).toEqual([]);
    });

    it('refuses a repeated parameter', async () => {
      const { res, introspected } = await observed(() =>
        request(app()).get('/api?access_token=a&access_token=b'),
      );
      expectInvalidRequest(res, 'the access_token query parameter appears more than once');
      expect(introspected).toEqual([]);
    });

    it('refuses an empty parameter', async () => {
      const { res, introspected } = await observed(() => request(app()).get('/api?access_token='));
      expectInvalidRequest(res, EMPTY);
      expect(introspected).toEqual([]);
    });

    it.each([
      ['a Bearer header', 'Bearer abc'],
      ['a Basic header', 'Basic dXNlcjpwYXNz'],
    ])('refuses a query token together with %s', async (_c, header) => {
      const { res, introspected } = await observed(() =>
        request(app()).get('/api?access_token=abc').set('Authorization', header),
      );
      expectInvalidRequest(res, TWO_PLACES);
      expect(res.headers['cache-control']).toBe('no-store');
      expect(introspected).toEqual([]);
    });

    it('still reads the header when there is no query token', async () => {
      const { res, introspected } = await observed(() =>
        request(app()).get('/api?other=1').set('Authorization', 'Bearer hdr'),
      );
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({ location: 'header' });
      expect(res.headers['cache-control']).toBeUndefined();
      expect(introspected).toEqual(['hdr']);
    });

    it('ignores a bracketed access_token[] parameter (not the RFC 6750 name)', async () => {
      const { res, introspected } = await observed(() =>
        request(app()).get('/api?access_token[]=abc'),
      );
      expect(res.status).toBe(401);
      expect(introspected).toEqual([]);
    });

    it('reads the URL itself, whatever the app’s query parser', async () => {
      const app = factory();
      app.set('query parser', false);
      const seenQuery: unknown[] = [];
      app.get('/api', auth({ tokenLocations: ['query'] }), (req, res) => {
        seenQuery.push(req.query);
        res.json({ token: req.auth?.token });
      });
      const { res, introspected } = await observed(() => request(app).get('/api?access_token=abc'));
      expect(res.body).toEqual({ token: 'abc' });
      expect(seenQuery).toEqual([{}]);
      expect(introspected).toEqual(['abc']);
    });
  });

  it('ignores a query token when query is not a location (the default)', async () => {
    const app = protectedApp(factory, auth({}));
    const { res, introspected } = await observed(() => request(app).get('/api?access_token=abc'));
    expect(res.status).toBe(401);
    expect(res.body).toEqual({ error: 'unauthorized', error_description: NO_CREDENTIALS });
    expect(introspected).toEqual([]);
  });

  it('ignores the header when only query is a location', async () => {
    const app = protectedApp(factory, auth({ tokenLocations: ['query'] }));
    const { res, introspected } = await observed(() =>
      request(app).get('/api').set('Authorization', 'Bearer abc'),
    );
    expect(res.status).toBe(401);
    expect(introspected).toEqual([]);
  });

  describe('body (tokenLocations: header, body)', () => {
    function app(...parsers: RequestHandler[]) {
      return protectedApp(factory, ...parsers, auth({ tokenLocations: ['header', 'body'] }));
    }
    const form = () => factory.urlencoded({ extended: false });

    it('introspects access_token of a form body', async () => {
      const { res, introspected } = await observed(() =>
        request(app(form())).post('/api').type('form').send('access_token=abc&x=1'),
      );
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({ token: 'abc', location: 'body' });
      expect(res.headers['cache-control']).toBeUndefined();
      expect(introspected).toEqual(['abc']);
    });

    it('accepts it on PUT and DELETE too', async () => {
      for (const method of ['put', 'delete'] as const) {
        const { res, introspected } = await observed(() =>
          request(app(form()))[method]('/api').type('form').send('access_token=abc'),
        );
        expect(res.status).toBe(200);
        expect(introspected).toEqual(['abc']);
      }
    });

    it('ignores a form body on GET (RFC 6750 §2.2)', async () => {
      const parsed: unknown[] = [];
      const record: RequestHandler = (req, _res, next) => {
        parsed.push(req.body?.access_token);
        next();
      };
      const { res, introspected } = await observed(() =>
        request(app(form(), record)).get('/api').type('form').send('access_token=abc'),
      );
      expect(parsed).toEqual(['abc']);
      expect(res.status).toBe(401);
      expect(introspected).toEqual([]);
    });

    it('ignores access_token of a JSON body', async () => {
      const { res, introspected } = await observed(() =>
        request(app(factory.json())).post('/api').send({ access_token: 'abc' }),
      );
      expect(res.status).toBe(401);
      expect(introspected).toEqual([]);
    });

    it('passes a form without access_token on to the header', async () => {
      const { res, introspected } = await observed(() =>
        request(app(form()))
          .post('/api')
          .type('form')
          .set('Authorization', 'Bearer hdr')
          .send('x=1'),
      );
      expect(res.status).toBe(200);
      expect(introspected).toEqual(['hdr']);
    });

    it('refuses a body token together with an Authorization header', async () => {
      const { res, introspected } = await observed(() =>
        request(app(form()))
          .post('/api')
          .type('form')
          .set('Authorization', 'Bearer abc')
          .send('access_token=abc'),
      );
      expectInvalidRequest(res, TWO_PLACES);
      expect(introspected).toEqual([]);
    });

    it('refuses a repeated body parameter', async () => {
      const { res, introspected } = await observed(() =>
        request(app(form())).post('/api').type('form').send('access_token=a&access_token=b'),
      );
      expectInvalidRequest(res, 'the access_token body parameter must appear once, as text');
      expect(introspected).toEqual([]);
    });

    it('refuses a nested body parameter (extended parser)', async () => {
      const { res } = await observed(() =>
        request(app(factory.urlencoded({ extended: true })))
          .post('/api')
          .type('form')
          .send('access_token[x]=abc'),
      );
      expectInvalidRequest(res, 'the access_token body parameter must appear once, as text');
    });

    it('refuses a malformed body token', async () => {
      const { res, introspected } = await observed(() =>
        request(app(form())).post('/api').type('form').send('access_token=a%22b'),
      );
      expectInvalidRequest(res, SYNTAX);
      expect(introspected).toEqual([]);
    });

    it('answers 500 server_error when no body parser ran before it, and logs why', async () => {
      const logger = captureLogger();
      const unparsed = protectedApp(factory, auth({ tokenLocations: ['header', 'body'], logger }));
      const { res, introspected } = await observed(() =>
        request(unparsed).post('/api').type('form').send('access_token=abc'),
      );
      expect(res.status).toBe(500);
      expect(res.body.error).toBe('server_error');
      const errors = logger.lines.filter((line) => line.level === 'error');
      expect(errors).toHaveLength(1);
      expect(errors[0].message).toContain('express.urlencoded()');
      expect(res.headers['www-authenticate']).toBeUndefined();
      expect(introspected).toEqual([]);
    });

    it('answers 500 when the form was parsed as text', async () => {
      const { res } = await observed(() =>
        request(app(factory.text({ type: '*/*' })))
          .post('/api')
          .type('form')
          .send('access_token=abc'),
      );
      expect(res.status).toBe(500);
    });
  });

  it('refuses a token in the query and the body at once', async () => {
    const app = protectedApp(
      factory,
      factory.urlencoded({ extended: false }),
      auth({ tokenLocations: ['body', 'query'] }),
    );
    const { res, introspected } = await observed(() =>
      request(app).post('/api?access_token=abc').type('form').send('access_token=abc'),
    );
    expectInvalidRequest(res, TWO_PLACES);
    expect(introspected).toEqual([]);
  });
});
