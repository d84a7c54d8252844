/**
 * The example API against a local ZITADEL: its guards, `GET /api/me`
 * without the token, its error handlers, and `main()` run from env.
 */
import express from 'express';
import request from 'supertest';
import { serviceUserTokenSource, zitadelAuth, type ZitadelAuthMiddleware } from '../../lib';
import { startLocalZitadel, type LocalZitadel } from '../../lib/testing';
import { createApi, fallbackErrorHandler, main } from '../../examples/api';
import { projectScopes } from '../../examples/shared';
import { captureOutput } from './output';

let zitadel: LocalZitadel;
let auth: ZitadelAuthMiddleware;
let app: express.Express;
let readerToken: string;
let patToken: string;

beforeAll(async () => {
  zitadel = await startLocalZitadel();
  const reader = await zitadel.createServiceUser({
    name: 'reader',
    roles: { reader: ['acme'], 'billing-admin': ['acme'] },
    auth: 'key',
  });
  const cron = await zitadel.createServiceUser({ name: 'cron', auth: 'pat' });
  readerToken = await serviceUserTokenSource({
    issuer: zitadel.issuer,
    key: reader.keyPath,
    scope: projectScopes(zitadel.projectId),
  }).getToken();
  patToken = cron.pat as string;
  auth = zitadelAuth({
    issuer: zitadel.issuer,
    key: zitadel.apiKeyPath,
    projectId: zitadel.projectId,
  });
  app = createApi({ auth, out: captureOutput() });
});

afterAll(async () => {
  await auth?.introspector.close();
  await zitadel?.close();
});

const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

describe('createApi', () => {
  it('answers /health without a token and guards /api', async () => {
    await request(app).get('/health').expect(200, { status: 'ok' });
    const anonymous = await request(app).get('/api/me').expect(401);
    expect(anonymous.headers['www-authenticate']).toBe('Bearer realm="api"');
    expect(anonymous.body.error).toBe('unauthorized');
  });

  it('GET /api/me answers req.auth without the raw token', async () => {
    const response = await request(app).get('/api/me').set(bearer(readerToken)).expect(200);
    expect(response.body).toMatchObject({
      roles: { reader: { acme: expect.any(String) } },
    });
    expect(response.body).not.toHaveProperty('token');
    expect(response.text).not.toContain(readerToken);
  });

  it('checks a role in the organization of the path', async () => {
    await request(app).get('/api/orgs/acme/invoices').set(bearer(readerToken)).expect(200);
    const other = await request(app)
      .get('/api/orgs/globex/invoices')
      .set(bearer(readerToken))
      .expect(403);
    expect(other.body).toEqual({
      error: 'insufficient_scope',
      error_description: 'missing role billing-admin in organization globex',
    });
  });

  it('answers a malformed path parameter with 400 JSON, not a stack trace', async () => {
    const response = await request(app).get('/api/orgs/%E0%A4%A/invoices').set(bearer(readerToken));
    expect(response.status).toBe(400);
    expect(response.body).toEqual({
      error: 'invalid_request',
      error_description: 'malformed request',
    });
  });

  it('needs the profile scope on /api/profile and names it in the challenge', async () => {
    const denied = await request(app).get('/api/profile').set(bearer(readerToken)).expect(403);
    expect(denied.headers['www-authenticate']).toContain('scope="profile"');
    const allowed = await request(app).get('/api/profile').set(bearer(patToken)).expect(200);
    expect(allowed.body.username).toBe('cron');
  });

  it('needs admin or owner on POST /api/admin', async () => {
    const denied = await request(app).post('/api/admin').set(bearer(readerToken)).expect(403);
    expect(denied.body.error_description).toBe('needs one of roles admin, owner');
  });
});

describe('fallbackErrorHandler', () => {
  it('answers an unexpected error with a logged 500 and no stack', async () => {
    const out = captureOutput();
    const broken = express()
      .get('/boom', () => {
        throw new Error('database on fire');
      })
      .use(fallbackErrorHandler(out));
    const response = await request(broken).get('/boom').expect(500);
    expect(response.body).toEqual({ error: 'server_error', error_description: 'internal error' });
    expect(response.text).not.toContain('database on fire');
    expect(out.text()).toContain('database on fire');
  });

  it('leaves an answer already sent to Express', async () => {
    const out = captureOutput();
    const streaming = express()
      .get('/half', (_req, res, next) => {
        res.write('partial');
        next(new Error('late failure'));
      })
      .use(fallbackErrorHandler(out));
    // Express's final handler closes the connection of an answer already started.
    await expect(request(streaming).get('/half')).rejects.toThrow();
    expect(out.lines).toEqual([]);
  });
});

describe('main', () => {
  it('explains what to set and starts nothing without ZITADEL_ISSUER and ZITADEL_KEY_FILE', async () => {
    const out = captureOutput();
    await expect(main({}, out)).resolves.toBeUndefined();
    expect(out.text()).toContain('Missing: ZITADEL_ISSUER, ZITADEL_KEY_FILE');
    expect(out.text()).toContain('npm start');
  });

  it('refuses a PORT that is not a port number', async () => {
    const out = captureOutput();
    const env = { ZITADEL_ISSUER: zitadel.issuer, ZITADEL_KEY_FILE: zitadel.apiKeyPath, PORT: 'x' };
    await expect(main(env, out)).resolves.toBeUndefined();
    expect(out.text()).toBe('PORT must be a port number, not x');
  });

  it('fails at start-up on a key file that does not exist', async () => {
    const out = captureOutput();
    const env = { ZITADEL_ISSUER: zitadel.issuer, ZITADEL_KEY_FILE: '/nonexistent/api-key.json' };
    await expect(main(env, out)).resolves.toBeUndefined();
    expect(out.text()).toMatch(/^cannot start: .*key/);
  });

  it('reports a port that is taken', async () => {
    const running = await main(
      { ZITADEL_ISSUER: zitadel.issuer, ZITADEL_KEY_FILE: zitadel.apiKeyPath, PORT: '0' },
      captureOutput(),
    );
    const out = captureOutput();
    const env = {
      ZITADEL_ISSUER: zitadel.issuer,
      ZITADEL_KEY_FILE: zitadel.apiKeyPath,
      PORT: String(running?.port),
    };
    try {
      await expect(main(env, out)).resolves.toBeUndefined();
      expect(out.text()).toContain(`cannot listen on port ${running?.port}`);
    } finally {
      await running?.close();
    }
  });

  it('serves the API from env against the issuer and stops on close()', async () => {
    const out = captureOutput();
    const running = await main(
      {
        ZITADEL_ISSUER: zitadel.issuer,
        ZITADEL_KEY_FILE: zitadel.apiKeyPath,
        ZITADEL_PROJECT_ID: zitadel.projectId,
        PORT: '0',
      },
      out,
    );
    expect(running).toBeDefined();
    try {
      expect(out.text()).toContain(`example API on ${running?.url}`);
      const response = await fetch(`${running?.url}/api/reports`, { headers: bearer(readerToken) });
      expect(response.status).toBe(200);
      expect(await response.json()).toMatchObject({ readBy: expect.stringMatching(/^\d{18}$/) });
    } finally {
      await running?.close();
    }
    await expect(fetch(`${running?.url}/health`)).rejects.toThrow();
  });
});
