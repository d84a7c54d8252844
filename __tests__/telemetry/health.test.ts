/**
 * `introspector.health()` on a scripted ZITADEL (discovery before and after,
 * the circuit a 503 + Retry-After opens), and how `createHealth` folds in
 * the parts other modules bring (a fleet store, a JWKS).
 */
import { zitadelAuth, type ZitadelAuthMiddleware, type ZitadelAuthOptions } from '../../lib';
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

it('configured endpoints need no discovery; an open circuit makes it not ok, with seconds left', async () => {
  scripted.answer('busy', { status: 503, headers: { 'retry-after': '20' } });
  const introspector = core({ introspectionEndpoint: scripted.introspectionEndpoint });
  expect(introspector.health().discovery.ok).toBe(true);
  await expect(introspector.introspect('busy')).rejects.toThrow(/Retry-After 20/);
  const health = introspector.health();
  expect(health.ok).toBe(false);
  expect(health.circuit.open).toBe(true);
  expect(health.circuit.secondsLeft).toBeGreaterThan(15);
  expect(health.circuit.secondsLeft).toBeLessThanOrEqual(20);
  expect(JSON.stringify(health)).not.toMatch(/pw|busy/);
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
