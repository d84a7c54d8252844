/**
 * `introspector.health()` on a scripted ZITADEL (discovery before and after,
 * the circuit a 503 + Retry-After opens, which `ok` reports but ignores), and how `createHealth` folds in
 * the parts other modules bring (a fleet store, a JWKS).
 */
import express from 'express';
import request from 'supertest';
import {
  authErrorHandler,
  zitadelAuth,
  type ZitadelAuthMiddleware,
  type ZitadelAuthOptions,
} from '../../lib';
import { createHealth } from '../../lib/telemetry/health';
import { startScriptedZitadel, type ScriptedZitadel } from '../helpers/scripted-zitadel';

let scripted: ScriptedZitadel;
const built: ZitadelAuthMiddleware[] = [];

function core(options: Partial<ZitadelAuthOptions> = {}) {
  const auth = zitadelAuth({
    issuer: scripted.issuer,
    clientId: 'api',
    clientSecret: 'pw',
    retries: 0,
    ...options,
  });
  built.push(auth);
  return auth.introspector;
}

beforeAll(async () => {
  scripted = await startScriptedZitadel();
});

afterAll(async () => {
  for (const auth of built) await auth.introspector.close();
  await scripted.close();
});

it('is not ok until discovery succeeded, then ok with a closed circuit', async () => {
  scripted.discovery({ status: 500 });
  const introspector = core();
  await expect(introspector.ready()).rejects.toThrow();
  expect(introspector.health()).toEqual({
    ok: false,
    circuit: { open: false, secondsLeft: 0 },
    discovery: { ok: false },
  });
  scripted.discovery(undefined);
  const healthy = core();
  await healthy.ready();
  expect(healthy.health()).toEqual({
    ok: true,
    circuit: { open: false, secondsLeft: 0 },
    discovery: { ok: true },
  });
});

it('configured endpoints need no discovery; an open circuit is reported, with seconds left, and ok stays true', async () => {
  scripted.answer('busy', { status: 503, headers: { 'retry-after': '20' } });
  const introspector = core({ introspectionEndpoint: scripted.introspectionEndpoint });
  expect(introspector.health().discovery.ok).toBe(true);
  await expect(introspector.introspect('busy')).rejects.toThrow(/Retry-After 20/);
  const health = introspector.health();
  expect(health.ok).toBe(true);
  expect(health.circuit.open).toBe(true);
  expect(health.circuit.secondsLeft).toBeGreaterThan(15);
  expect(health.circuit.secondsLeft).toBeLessThanOrEqual(20);
  expect(JSON.stringify(health)).not.toMatch(/pw|busy/);
});

it('while the circuit is open a probe on ok keeps the replica in: its cached tokens still get 200', async () => {
  scripted.answer('cached', {
    json: { active: true, sub: 'svc-cached', exp: Math.floor(Date.now() / 1000) + 3600 },
  });
  scripted.answer('throttled', { status: 429, headers: { 'retry-after': '20' } });
  const auth = zitadelAuth({
    issuer: scripted.issuer,
    clientId: 'api',
    clientSecret: 'pw',
    retries: 0,
  });
  built.push(auth);
  const app = express();
  app.get('/ready', (_req, res) => {
    const health = auth.introspector.health();
    res.status(health.ok ? 200 : 503).json(health);
  });
  app.use(auth);
  app.get('/me', (req, res) => res.json({ subject: req.auth!.subject }));
  app.use(authErrorHandler());

  await request(app).get('/me').set('authorization', 'Bearer cached').expect(200);
  await request(app).get('/me').set('authorization', 'Bearer throttled').expect(503);
  const ready = await request(app).get('/ready').expect(200);
  expect(ready.body).toMatchObject({ ok: true, circuit: { open: true } });
  expect(ready.body.circuit.secondsLeft).toBeGreaterThan(15);
  const calls = scripted.requests.length;
  await request(app).get('/me').set('authorization', 'Bearer cached').expect(200, {
    subject: 'svc-cached',
  });
  // An uncached token is refused without a call while the circuit runs.
  await request(app).get('/me').set('authorization', 'Bearer another').expect(503);
  expect(scripted.requests.length).toBe(calls);
});

it('an open circuit alone never makes createHealth not ok', () => {
  const health = createHealth({
    circuit: () => ({ open: true, secondsLeft: 30 }),
    discoveryOk: () => true,
  });
  expect(health()).toEqual({
    ok: true,
    circuit: { open: true, secondsLeft: 30 },
    discovery: { ok: true },
  });
});

describe('createHealth with the parts of the fleet and local JWT', () => {
  const circuit = () => ({ open: false, secondsLeft: 0 });
  const discoveryOk = () => true;

  it('a coordinating store that lost its subscription is not ok; a plain store is', () => {
    const lost = createHealth({
      circuit,
      discoveryOk,
      store: () => ({ coordinating: true, subscribed: false }),
    });
    expect(lost()).toEqual({
      ok: false,
      circuit: { open: false, secondsLeft: 0 },
      store: { coordinating: true, subscribed: false },
      discovery: { ok: true },
    });
    const plain = createHealth({
      circuit,
      discoveryOk,
      store: () => ({ coordinating: false, subscribed: false }),
    });
    expect(plain().ok).toBe(true);
  });

  it('an empty JWKS is not ok; keys and their age are reported', () => {
    const empty = createHealth({ circuit, discoveryOk, jwks: () => ({ keys: 0, ageSeconds: 3 }) });
    expect(empty()).toMatchObject({ ok: false, jwks: { keys: 0, ageSeconds: 3 } });
    const fine = createHealth({ circuit, discoveryOk, jwks: () => ({ keys: 2, ageSeconds: 40 }) });
    expect(fine()).toMatchObject({ ok: true, jwks: { keys: 2, ageSeconds: 40 } });
  });
});
