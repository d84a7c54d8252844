/**
 * The worst day at the introspection endpoint: a real fault proxy in front of
 * the local ZITADEL (oidc-provider in a child process), real tokens, the real
 * middleware in a real Express app. Every fault gets its documented status
 * (503 for an outage or garbage, 500 when our client authentication is
 * refused), never a 200, no crash, no unhandled rejection, a log line of the
 * documented level — and once the fault clears (and a Retry-After window has
 * passed) the same middleware grants again, without a restart.
 */
import {
  zitadelAuth,
  type ZitadelAuthMiddleware,
  type ZitadelAuthOptions,
} from '../../lib/express/middleware';
import { serviceUserTokenSource } from '../../lib/zitadel/service-user';
import { startLocalZitadel, type LocalZitadel } from '../../lib/testing';
import { captureLogger } from '../helpers/capture-logger';
import { startFaultProxy, type Fault, type FaultProxy } from '../helpers/fault-proxy';
import {
  bearer,
  createClient,
  expectErrorAnswer,
  jsonOf,
  startApp,
  type Client,
  type TestApp,
} from './support/app';
import {
  handlesLeftOver,
  unexpectedWarnings,
  heapAfterGc,
  liveHandles,
  watchProcess,
} from './support/process-watch';
import { SecretScan } from './support/secrets';

const INTROSPECT = '/oauth/v2/introspect';
// Generous, so a loaded machine does not turn a pass into a timeout.
const TIMEOUT_MS = 1000;
const RETRIES = 1;
/** The contract's bound for any one request: timeoutMs × (retries + 1) + 1 s. */
const BOUND_MS = TIMEOUT_MS * (RETRIES + 1) + 1000;
const TEN_MIB = 10 * 1024 * 1024;

let z: LocalZitadel;
let proxy: FaultProxy;
/** Another way to the same ZITADEL: a followed redirect would be granted there. */
let elsewhere: FaultProxy;
let app: TestApp;
let client: Client;
let pat: string;
let patUser: string;
let keyUserToken: string;
let keyUser: string;
const logger = captureLogger();
const scan = new SecretScan();
const built: ZitadelAuthMiddleware[] = [];
const watch = watchProcess();
const baseline = liveHandles();

function freshAuth(options: Partial<ZitadelAuthOptions> = {}) {
  const auth = zitadelAuth({
    issuer: z.issuer,
    key: z.apiKeyFile,
    introspectionEndpoint: `${proxy.url}${INTROSPECT}`,
    projectId: z.projectId,
    timeoutMs: TIMEOUT_MS,
    retries: RETRIES,
    cache: false,
    logger,
    ...options,
  });
  built.push(auth);
  app.use(auth);
  return auth;
}

async function whoami(token: string) {
  const answer = await client.get(`${app.url}/api/whoami`, bearer(token));
  scan.response('response', answer);
  return answer;
}

beforeAll(async () => {
  z = await startLocalZitadel();
  proxy = await startFaultProxy(z.issuer);
  elsewhere = await startFaultProxy(z.issuer);
  const roles = { reader: ['org-1'] };
  const patCredentials = await z.createServiceUser({ name: 'faults-pat', roles, auth: 'pat' });
  const keyCredentials = await z.createServiceUser({ name: 'faults-key', roles, auth: 'key' });
  pat = patCredentials.pat!;
  patUser = patCredentials.userId;
  keyUser = keyCredentials.userId;
  keyUserToken = await serviceUserTokenSource({
    issuer: z.issuer,
    key: keyCredentials.keyFile,
    scope: ['openid', `urn:zitadel:iam:org:project:id:${z.projectId}:aud`],
  }).getToken();
  scan.secret('PAT', pat);
  scan.secret('key user token', keyUserToken);
  scan.key('API key', z.apiKeyFile.key);
  scan.key('service user key', keyCredentials.keyFile!.key);
  scan.secret('API client secret', z.apiClientSecret);
  app = await startApp((_req, _res, next) => next());
  client = createClient();
});

afterAll(async () => {
  await Promise.all(built.map((auth) => auth.introspector.close()));
  client?.close();
  await app?.close();
  await elsewhere?.close();
  await proxy?.close();
  await z?.close();
  watch.stop();
  expect(watch.failures).toEqual([]);
  expect(unexpectedWarnings(watch.warnings)).toEqual([]);
  expect(await handlesLeftOver(baseline)).toEqual({});
});

let assertionsSeen = 0;
afterEach(() => {
  // What was sent (client assertions) becomes a secret to look for.
  assertionsSeen += scan.sentBy('introspection', proxy.received(INTROSPECT));
  proxy.reset();
});

interface FaultCase {
  name: string;
  /** A function when the fault names a server started in beforeAll. */
  fault: Fault | (() => Fault);
  status: 500 | 503;
  /** HTTP requests that reach the proxy for one client request. */
  attempts: number;
  /** The log line the failure leaves (level and a part of the message). */
  log: ['warn' | 'error', RegExp];
  retryAfter?: number;
}

const faultCases: FaultCase[] = [
  outage('HTTP 500', status(500), 2, /HTTP 500/),
  outage('HTTP 502', status(502), 2, /HTTP 502/),
  outage('HTTP 404', status(404), 1, /HTTP 404/),
  outage(
    'HTTP 429 without Retry-After (a back-off of 1 s first)',
    status(429),
    1,
    /rate limiting \(HTTP 429 without Retry-After\); not calling again for 1 s/,
    1,
  ),
  outage('a hang', { kind: 'hang' }, 2, /timed out/),
  outage(
    'an answer slower than timeoutMs',
    { kind: 'slow', delayMs: TIMEOUT_MS + 100 },
    2,
    /timed out/,
  ),
  outage('a connection reset mid-body', { kind: 'reset' }, 2, /unreachable \(ECONNRESET\)/),
  outage('a connection dropped before the answer', { kind: 'drop' }, 2, /unreachable/),
  outage('a non-JSON body', { kind: 'non-json' }, 1, /malformed .*: not JSON/),
  outage('a JSON array', { kind: 'json-array' }, 1, /malformed .*: not a JSON object/),
  outage('{"active":"true"}', json({ active: 'true' }), 1, /malformed .*: active .* not a boolean/),
  outage('{"active":1}', json({ active: 1 }), 1, /malformed .*: active .* not a boolean/),
  outage('active missing', json({ sub: 'someone' }), 1, /malformed .*: active is missing/),
  outage('JSON null', json(null), 1, /malformed .*: not a JSON object/),
  outage('a 10 MiB body', { kind: 'huge' }, 1, /malformed .*: larger than 1 MiB/),
  outage(
    'a redirect to a server that would grant',
    () => ({ kind: 'redirect', location: `${elsewhere.url}${INTROSPECT}` }),
    1,
    /redirects are not followed/,
  ),
  outage('HTTP 503 with Retry-After: 1', status(503, { 'Retry-After': '1' }), 1, /for 1 s/, 1),
  outage(
    'HTTP 429 with Retry-After: 1',
    status(429, { 'Retry-After': '1' }),
    1,
    /HTTP 429, Retry-After 1 s/,
    1,
  ),
  {
    name: 'HTTP 400 unauthorized_client (our key refused)',
    fault: json({ error: 'unauthorized_client' }, 400),
    status: 500,
    attempts: 1,
    log: ['error', /rejected our client authentication.*key revoked/],
  },
  {
    name: 'HTTP 401 invalid_client',
    fault: json({ error: 'invalid_client' }, 401),
    status: 500,
    attempts: 1,
    log: ['error', /HTTP 401 invalid_client/],
  },
];

describe('a fault at the introspection endpoint', () => {
  it('grants through the proxy when nothing is wrong (PAT and JWT-bearer token)', async () => {
    freshAuth();
    const byPat = await whoami(pat);
    const byKey = await whoami(keyUserToken);
    expect([byPat.status, jsonOf(byPat)?.subject]).toEqual([200, patUser]);
    expect([byKey.status, jsonOf(byKey)?.subject]).toEqual([200, keyUser]);
    expect(proxy.stats(INTROSPECT).requests).toBe(2);
  });

  it.each(faultCases)('$name → $status, then heals', async (c) => {
    const auth = freshAuth();
    proxy.set(INTROSPECT, typeof c.fault === 'function' ? c.fault() : c.fault);
    const linesBefore = logger.lines.length;

    const failed = await whoami(pat);
    expectErrorAnswer(failed, c.status);
    expect(failed.ms).toBeLessThan(BOUND_MS);
    await proxy.idle(INTROSPECT);
    expect(proxy.stats(INTROSPECT).requests).toBe(c.attempts);
    const logged = logger.lines.slice(linesBefore);
    expect(logged.filter((line) => line.level === c.log[0]).map((l) => l.message)).toEqual([
      expect.stringMatching(c.log[1]),
    ]);

    if (c.retryAfter) {
      expect(failed.headers['retry-after']).toBe(String(c.retryAfter));
      // The circuit is open: a miss is refused at once, without a call.
      const shed = await whoami(keyUserToken);
      expectErrorAnswer(shed, 503);
      expect(proxy.stats(INTROSPECT).requests).toBe(c.attempts);
      expect(auth.introspector.stats().shed).toBe(1);
    }

    proxy.set(INTROSPECT, { kind: 'pass' });
    if (c.retryAfter)
      await new Promise((resolve) => setTimeout(resolve, c.retryAfter! * 1000 + 100));
    const healed = await whoami(pat);
    expect([healed.status, jsonOf(healed)?.subject]).toEqual([200, patUser]);
  });

  it('writes far less than 10 MiB of a huge answer, and the heap stays bounded', async () => {
    freshAuth({ retries: 0 });
    proxy.set(INTROSPECT, { kind: 'huge' });
    const heapBefore = heapAfterGc();
    for (let i = 0; i < 5; i++) expectErrorAnswer(await whoami(pat), 503);
    await proxy.idle(INTROSPECT);
    const written = proxy.stats(INTROSPECT).hugeBytesWritten;
    expect(proxy.stats(INTROSPECT).requests).toBe(5);
    // 1 MiB read plus what the loopback socket buffers took, per request.
    expect(written / 5).toBeLessThan(TEN_MIB * 0.6);
    expect(heapAfterGc() - heapBefore).toBeLessThan(8 * 1024 * 1024);
  });

  it('does not follow a redirect: the other server gets no request', async () => {
    freshAuth({ retries: 3 });
    for (const code of [301, 302, 303, 307, 308]) {
      proxy.set(INTROSPECT, {
        kind: 'redirect',
        status: code,
        location: `${elsewhere.url}${INTROSPECT}`,
      });
      expectErrorAnswer(await whoami(pat), 503);
    }
    expect(proxy.stats(INTROSPECT).requests).toBe(5);
    expect(elsewhere.stats(INTROSPECT).requests).toBe(0);
  });

  it('serves a stale grant during an outage when staleIfErrorSeconds allows, nothing else', async () => {
    const auth = freshAuth({ cache: { maxTtlSeconds: 1, staleIfErrorSeconds: 30 } });
    expect((await whoami(pat)).status).toBe(200);
    await new Promise((resolve) => setTimeout(resolve, 1100));
    proxy.set(INTROSPECT, status(502));
    const stale = await whoami(pat);
    expect([stale.status, jsonOf(stale)?.subject]).toEqual([200, patUser]);
    expectErrorAnswer(await whoami(keyUserToken), 503);
    // A refusal of our client authentication is not an outage: no stale grant.
    proxy.set(INTROSPECT, json({ error: 'unauthorized_client' }, 400));
    expectErrorAnswer(await whoami(pat), 500);
    expect(auth.introspector.stats().staleServed).toBe(1);
  });

  it('keeps every secret out of logs, errors, answers and headers', () => {
    expect(assertionsSeen).toBeGreaterThan(40);
    for (const line of logger.lines)
      scan.text(`log ${line.level}`, `${line.message} ${JSON.stringify(line.rest)}`);
    for (const error of app.errors) scan.text('error', error);
    expect(app.errors.length).toBeGreaterThan(20);
    expect(app.unexpected).toEqual([]);
    expect(scan.leaks()).toEqual([]);
  });
});

function status(code: number, headers?: Record<string, string>): Fault {
  return { kind: 'status', status: code, headers, body: '' };
}

function json(value: unknown, code = 200): Fault {
  return { kind: 'json', value, status: code };
}

function outage(
  name: string,
  fault: FaultCase['fault'],
  attempts: number,
  log: RegExp,
  retryAfter?: number,
): FaultCase {
  return { name, fault, status: 503, attempts, log: ['warn', log], retryAfter };
}
