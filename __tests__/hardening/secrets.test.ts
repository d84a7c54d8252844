/**
 * Secrets on the worst day: a ZITADEL — or a proxy in front of it — that
 * echoes our whole request (the caller's token, our client assertion, our
 * Basic credentials) back inside its error answer. Whatever status it uses,
 * nothing of it may reach a log line, an error message, `util.inspect` of an
 * error, a response body or header — through `authErrorHandler()` or through
 * Express's own default handler, which prints the stack. And `req.auth`,
 * logged the usual ways, shows no token. The other hardening suites run the
 * same scan over everything they produce; this one proves the scanner finds
 * what it looks for.
 */
import { inspect } from 'node:util';
import express from 'express';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { zitadelAuth, type ZitadelAuthMiddleware } from '../../lib/express/middleware';
import { startLocalZitadel, type LocalZitadel } from '../../lib/testing';
import { captureLogger } from '../helpers/capture-logger';
import { startFaultProxy, type FaultProxy } from '../helpers/fault-proxy';
import { bearer, createClient, startApp, type Client, type TestApp } from './support/app';
import {
  handlesLeftOver,
  liveHandles,
  unexpectedWarnings,
  watchProcess,
} from './support/process-watch';
import { SecretScan } from './support/secrets';

const INTROSPECT = '/oauth/v2/introspect';

let z: LocalZitadel;
let proxy: FaultProxy;
let pat: string;
let client: Client;
const apps: Record<'key' | 'secret', TestApp> = {} as never;
let bare: { url: string; close(): Promise<void> };
const logger = captureLogger();
const scan = new SecretScan();
const built: ZitadelAuthMiddleware[] = [];
const watch = watchProcess();
const baseline = liveHandles();

beforeAll(async () => {
  z = await startLocalZitadel();
  proxy = await startFaultProxy(z.issuer);
  pat = (await z.createServiceUser({ name: 'secrets-pat', roles: { admin: ['o'] }, auth: 'pat' }))
    .pat!;
  const common = { issuer: z.issuer, introspectionEndpoint: `${proxy.url}${INTROSPECT}` };
  const auth = (credentials: object) => {
    const middleware = zitadelAuth({ ...common, ...credentials, retries: 0, cache: false, logger });
    built.push(middleware);
    return middleware;
  };
  apps.key = await startApp(auth({ key: z.apiKeyFile }));
  apps.secret = await startApp(auth({ clientId: z.apiClientId, clientSecret: z.apiClientSecret }));
  bare = await startBareApp(auth({ key: z.apiKeyFile }));
  client = createClient();
  scan.secret('PAT', pat);
  scan.key('API key', z.apiKeyFile.key);
  scan.secret('API client secret', z.apiClientSecret);
});

afterAll(async () => {
  await Promise.all(built.map((middleware) => middleware.introspector.close()));
  client?.close();
  await Promise.all([apps.key?.close(), apps.secret?.close(), bare?.close()]);
  await proxy?.close();
  await z?.close();
  watch.stop();
  expect(watch.failures).toEqual([]);
  expect(unexpectedWarnings(watch.warnings)).toEqual([]);
  expect(await handlesLeftOver(baseline)).toEqual({});
});

it('the scanner finds a key line, an encoded token and an assertion where they leaked', () => {
  const canary = new SecretScan();
  const assertion = 'eyJhbGciOiJSUzI1NiJ9.eyJpc3MiOiJhcGkifQ.c2lnbmF0dXJlLW9mLXRoZS1hc3NlcnRpb24';
  canary.key('key', z.apiKeyFile.key);
  canary.secret('token', 'tok+en/with=special');
  canary.sentBy('sent', [
    { method: 'POST', path: INTROSPECT, headers: {}, body: `client_assertion=${assertion}` },
  ]);
  canary.text('clean', 'nothing to see');
  expect(canary.leaks()).toEqual([]);
  canary.text('log', `key line ${z.apiKeyFile.key.split('\n')[5]}`);
  canary.text('body', 'token=tok%2Ben%2Fwith%3Dspecial');
  canary.text('error', `signature ${assertion.split('.')[2]}`);
  expect(canary.leaks()).toEqual([
    'key (body line 5) in log',
    'token in body',
    'sent client_assertion signature in error',
  ]);
});

describe.each(['key', 'secret'] as const)(
  'introspection with a %s, answer echoing the request',
  (kind) => {
    it.each([
      [400, 500],
      [401, 500],
      [403, 503],
      [500, 503],
      [503, 503],
      [200, 503],
    ])('HTTP %i echo → %i, nothing of the request in what we say', async (echoed, expected) => {
      proxy.set(INTROSPECT, { kind: 'echo', status: echoed });
      const answer = await client.get(`${apps[kind].url}/api/whoami`, bearer(pat));
      expect(answer.status).toBe(expected);
      scan.response(`${kind} app answer to a ${echoed} echo`, answer);
      const viaDefault = await client.get(`${bare.url}/api/whoami`, bearer(pat));
      expect(viaDefault.status).toBe(expected);
      scan.response(`Express default handler answer to a ${echoed} echo`, viaDefault);
      // The echo did carry the secrets: what was sent is in what came back.
      const sent = proxy.received(INTROSPECT);
      expect(sent.every((request) => request.body.includes(`token=${pat}`))).toBe(true);
      scan.sentBy(`${kind} introspection`, sent);
      proxy.reset();
    });
  },
);

it('shows no token when req.auth is logged with inspect, JSON or a template string', async () => {
  proxy.set(INTROSPECT, { kind: 'pass' });
  const answer = await client.get(`${bare.url}/api/logged`, bearer(pat));
  expect(answer.status).toBe(200);
  expect(answer.body).toMatch(/subject/);
  scan.response('req.auth as logged', answer);
});

it('leaks nothing anywhere', () => {
  for (const line of logger.lines) {
    scan.text(`log ${line.level}`, `${line.message} ${inspect(line.rest)}`);
  }
  for (const app of Object.values(apps)) app.errors.forEach((error) => scan.text('error', error));
  expect(logger.lines.filter((line) => line.level === 'error').length).toBeGreaterThan(0);
  expect(scan.counts.secrets).toBeGreaterThan(50);
  expect(scan.leaks()).toEqual([]);
});

/** An app without authErrorHandler: Express's default handler answers (HTML, stack in dev). */
async function startBareApp(auth: ZitadelAuthMiddleware) {
  const app = express();
  app.use('/api', auth);
  app.get('/api/whoami', (req, res) => void res.json({ subject: req.auth?.subject }));
  app.get('/api/logged', (req, res) => {
    res
      .type('text')
      .send(`${inspect(req.auth, { depth: 6 })}\n${JSON.stringify(req.auth)}\n${req.auth}`);
  });
  const server: Server = await new Promise((resolve) => {
    const started = app.listen(0, '127.0.0.1', () => resolve(started));
  });
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
