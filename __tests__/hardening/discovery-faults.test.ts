/**
 * ZITADEL's discovery down at start-up. The middleware starts discovery when
 * it is built; until the document can be had, requests get 503 (unreachable,
 * garbage) or 500 (a document for another issuer or not JSON: a
 * misconfiguration), never a 200, and never wait longer than
 * `timeoutMs × (retries + 1) + 1 s`. Discovery is retried at most once every
 * 5 s after a failure, so once the issuer is fixed the same middleware works
 * within about 5 s, without a restart, and asks for the document once.
 *
 * The issuer is a fault proxy that serves a scripted discovery document
 * naming itself (so the issuer check holds) and passes introspection on to a
 * scripted ZITADEL. All variants run at once, to keep the 5 s waits to one.
 */
import { zitadelAuth } from '../../lib/express/middleware';
import { captureLogger } from '../helpers/capture-logger';
import { freePort, startFaultProxy, type Fault, type FaultProxy } from '../helpers/fault-proxy';
import {
  activeAnswer,
  startScriptedZitadel,
  type ScriptedZitadel,
} from '../helpers/scripted-zitadel';
import {
  bearer,
  createClient,
  expectErrorAnswer,
  jsonOf,
  startApp,
  type Answer,
} from './support/app';
import {
  handlesLeftOver,
  unexpectedWarnings,
  liveHandles,
  watchProcess,
} from './support/process-watch';
import { SecretScan } from './support/secrets';

const DISCOVERY = '/.well-known/openid-configuration';
// Generous: on a loaded machine the first fetch of a process alone can take 300 ms.
const TIMEOUT_MS = 1000;
const RETRIES = 1;
const BOUND_MS = TIMEOUT_MS * (RETRIES + 1) + 1000;
/** Discovery's retry interval after a failure (5 s), plus polling and a loaded machine. */
const HEAL_WITHIN_MS = 6500;
const CLIENT_SECRET = 'discovery-suite-client-secret';
const TOKEN = 'discovery-suite-token_0123456789';

interface Variant {
  name: string;
  /** What the issuer does at start-up; `down` = nothing listens on its port. */
  broken: ((issuer: string) => Fault) | 'down';
  status: 500 | 503;
  retryAfter?: string;
  log: 'warn' | 'error';
}

const variants: Variant[] = [
  { name: 'hangs', broken: () => ({ kind: 'hang' }), status: 503, log: 'warn' },
  { name: 'is not listening (ECONNREFUSED)', broken: 'down', status: 503, log: 'warn' },
  {
    name: 'answers 503 with Retry-After: 30',
    broken: () => ({ kind: 'status', status: 503, headers: { 'Retry-After': '30' } }),
    status: 503,
    retryAfter: '30',
    log: 'warn',
  },
  { name: 'answers 10 MiB', broken: () => ({ kind: 'huge' }), status: 503, log: 'warn' },
  {
    name: 'names another issuer (a misconfigured proxy)',
    broken: () => ({ kind: 'json', value: document('https://zitadel.example.com') }),
    status: 500,
    log: 'error',
  },
  { name: 'is not JSON', broken: () => ({ kind: 'non-json' }), status: 500, log: 'error' },
];

let upstream: ScriptedZitadel;
const client = createClient();
const scan = new SecretScan();
const watch = watchProcess();
const baseline = liveHandles();

beforeAll(async () => {
  upstream = await startScriptedZitadel();
  upstream.answer('default', { json: activeAnswer({ sub: 'svc-discovery' }) });
  // Loads fetch's internals now, not inside the first timed discovery attempt.
  await (await fetch(`${upstream.issuer}/.well-known/openid-configuration`)).text();
  scan.secret('token', TOKEN);
  scan.secret('client secret', CLIENT_SECRET);
});

afterAll(async () => {
  client.close();
  await upstream.close();
  watch.stop();
  expect(watch.failures).toEqual([]);
  expect(unexpectedWarnings(watch.warnings)).toEqual([]);
  expect(await handlesLeftOver(baseline)).toEqual({});
});

it('answers 500/503 while discovery fails at start-up, then heals within ~5 s', async () => {
  const outcomes = await Promise.allSettled(variants.map(runVariant));
  const failed = outcomes.flatMap((outcome, index) =>
    outcome.status === 'rejected' ? [`${variants[index].name}: ${String(outcome.reason)}`] : [],
  );
  expect(failed).toEqual([]);
  expect(scan.leaks()).toEqual([]);
}, 30_000);

async function runVariant(variant: Variant): Promise<void> {
  const port = variant.broken === 'down' ? await freePort() : undefined;
  let proxy: FaultProxy | undefined =
    variant.broken === 'down' ? undefined : await startFaultProxy(upstream.issuer);
  const issuer = proxy?.url ?? `http://127.0.0.1:${port}`;
  if (proxy && variant.broken !== 'down') proxy.set(DISCOVERY, variant.broken(issuer));
  const logger = captureLogger();
  const auth = zitadelAuth({
    issuer,
    clientId: 'api-client',
    clientSecret: CLIENT_SECRET,
    timeoutMs: TIMEOUT_MS,
    retries: RETRIES,
    logger,
  });
  const app = await startApp(auth);
  const ask = async () => {
    const answer = await client.get(`${app.url}/api/whoami`, bearer(TOKEN));
    scan.response(`${variant.name} response`, answer);
    expect(answer.ms).toBeLessThan(BOUND_MS);
    return answer;
  };
  const expectRefused = (answer: Answer) => {
    expectErrorAnswer(answer, variant.status);
    if (variant.retryAfter) expect(answer.headers['retry-after']).toBe(variant.retryAfter);
  };

  try {
    // Requests at start-up share the one discovery attempt in flight.
    const first = await Promise.all(Array.from({ length: 10 }, ask));
    first.forEach(expectRefused);
    const failedAt = Date.now();
    if (proxy) expect(proxy.stats(DISCOVERY).requests).toBe(1);
    // Within the 5 s after a failure, requests are refused at once, without a new attempt.
    for (let i = 0; i < 5; i++) expectRefused(await ask());
    if (proxy) expect(proxy.stats(DISCOVERY).requests).toBe(1);

    // The fix: the issuer comes up, or answers the right document.
    proxy ??= await startFaultProxy(upstream.issuer, { port });
    proxy.set(DISCOVERY, { kind: 'json', value: document(issuer) });
    let answer = await ask();
    while (answer.status !== 200 && Date.now() - failedAt < HEAL_WITHIN_MS) {
      expectRefused(answer);
      await new Promise((resolve) => setTimeout(resolve, 200));
      answer = await ask();
    }
    expect([answer.status, jsonOf(answer)?.subject]).toEqual([200, 'svc-discovery']);
    expect(Date.now() - failedAt).toBeLessThan(HEAL_WITHIN_MS);
    const discoveries = proxy.stats(DISCOVERY).requests;
    expect(discoveries).toBeLessThanOrEqual(2);
    for (let i = 0; i < 5; i++) expect((await ask()).status).toBe(200);
    expect(proxy.stats(DISCOVERY).requests).toBe(discoveries);

    // Logged at the documented level; a misconfiguration loudly once, then at debug.
    expect(logger.lines.some((line) => line.level === variant.log)).toBe(true);
    if (variant.log === 'error') {
      expect(logger.lines.filter((line) => line.level === 'error')).toHaveLength(1);
    }
    for (const line of logger.lines) scan.text(`${variant.name} log`, line.message);
    for (const error of app.errors) scan.text(`${variant.name} error`, error);
    expect(app.unexpected).toEqual([]);
  } finally {
    await auth.introspector.close();
    await app.close();
    await proxy?.close();
  }
}

function document(issuer: string) {
  return {
    issuer,
    introspection_endpoint: `${issuer}/oauth/v2/introspect`,
    token_endpoint: `${issuer}/oauth/v2/token`,
  };
}
