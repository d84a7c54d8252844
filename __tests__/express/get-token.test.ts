/**
 * A custom getToken replaces the built-in locations; what it returns is held
 * to the same b64token rules. Real middleware, real introspection endpoint.
 */
import request from 'supertest';
import type { ErrorRequestHandler } from 'express';
import type { ZitadelAuthOptions } from '../../lib/express/middleware';
import {
  activeAnswer,
  startScriptedZitadel,
  type ScriptedZitadel,
} from '../helpers/scripted-zitadel';
import { expressVersions, middlewareFactory, protectedApp, type ExpressFactory } from './support';

const SYNTAX = 'the access token has characters outside the b64token syntax';
const EMPTY = 'the access token is empty or not text';

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

async function observed(send: () => Promise<request.Response>) {
  const before = zitadel.requests.length;
  const res = await send();
  return { res, introspected: zitadel.requests.slice(before).map((r) => r.token) };
}

describe.each(expressVersions)('%s', (_name, factory: ExpressFactory) => {
  describe('getToken', () => {
    const fromHeader: ZitadelAuthOptions['getToken'] = (req) => req.get('x-api-token');

    it('introspects what it returns, and nothing else', async () => {
      const app = protectedApp(factory, auth({ getToken: fromHeader, tokenLocations: ['query'] }));
      const { res, introspected } = await observed(() =>
        request(app)
          .get('/api?access_token=ignored')
          .set('Authorization', 'Bearer ignored')
          .set('x-api-token', 'custom'),
      );
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({ token: 'custom', location: 'custom' });
      expect(res.headers['cache-control']).toBeUndefined();
      expect(introspected).toEqual(['custom']);
    });

    it('treats undefined and null as no credentials', async () => {
      for (const getToken of [fromHeader, () => null as unknown as undefined]) {
        const app = protectedApp(factory, auth({ getToken }));
        const { res, introspected } = await observed(() =>
          request(app).get('/api').set('Authorization', 'Bearer ignored'),
        );
        expect(res.status).toBe(401);
        expect(res.body.error).toBe('unauthorized');
        expect(introspected).toEqual([]);
      }
    });

    it.each([
      ['a value with a space', 'a b', SYNTAX],
      ['an empty string', '', EMPTY],
      ['a number', 42, EMPTY],
      ['a token over 8192 bytes', 'a'.repeat(8193), 'the access token is longer than 8192 bytes'],
    ])('refuses %s with 400', async (_c, value, description) => {
      const app = protectedApp(factory, auth({ getToken: () => value as string }));
      const { res, introspected } = await observed(() => request(app).get('/api'));
      expect(res.status).toBe(400);
      expect(res.body).toEqual({ error: 'invalid_request', error_description: description });
      expect(introspected).toEqual([]);
    });

    it('passes its own error to next(err) unchanged', async () => {
      const thrown = new TypeError('cookie jar broke');
      const seen: unknown[] = [];
      const app = protectedApp(
        factory,
        auth({
          getToken: () => {
            throw thrown;
          },
        }),
      );
      app.use(((err, _req, res, _next) => {
        seen.push(err);
        res.status(599).end();
      }) as ErrorRequestHandler);
      const res = await request(app).get('/api');
      expect(res.status).toBe(599);
      expect(seen).toEqual([thrown]);
      expect(seen[0]).toBe(thrown);
    });
  });
});
