/**
 * Load shedding and back-off against the local ZITADEL behind a fault proxy
 * (which counts how many introspections are open at once):
 *
 * - a flood of random tokens never has more than `maxInFlight` calls open,
 *   the excess is answered 503 at once without a call, the memory tier stays
 *   within `maxEntries`, the heap does not grow, and callers whose answer is
 *   cached keep getting 200 all along;
 * - a 429 or 503 with `Retry-After` (seconds or an HTTP-date; capped at 60)
 *   opens a circuit for that long: misses get 503 without a call, cached
 *   callers 200, and the circuit closes by itself.
 */
import { randomBytes } from 'node:crypto';
import {
  zitadelAuth,
  type ZitadelAuthMiddleware,
  type ZitadelAuthOptions,
} from '../../lib/express/middleware';
import { startLocalZitadel, type LocalZitadel } from '../../lib/testing';
import { captureLogger } from '../helpers/capture-logger';
import { startFaultProxy, type FaultProxy } from '../helpers/fault-proxy';
import {
  bearer,
  createClient,
  expectErrorAnswer,
  jsonOf,
  runPool,
  startApp,
  type Answer,
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
const MAX_IN_FLIGHT = 20;
const MAX_ENTRIES = 100;

let z: LocalZitadel;
let proxy: FaultProxy;
let app: TestApp;
let client: Client;
const callers: Array<{ token: string; userId: string }> = [];
const logger = captureLogger();
const scan = new SecretScan();
const built: ZitadelAuthMiddleware[] = [];
const watch = watchProcess();
const baseline = liveHandles();

function freshAuth(options: Partial<ZitadelAuthOptions> = {}): ZitadelAuthMiddleware {
  const auth = zitadelAuth({
    issuer: z.issuer,
    key: z.apiKeyFile,
    introspectionEndpoint: `${proxy.url}${INTROSPECT}`,
    logger,
    ...options,
  });
  built.push(auth);
  app.use(auth);
  return auth;
}

const randomToken = () => randomBytes(24).toString('base64url');
const ask = async (token: string): Promise<Answer> => {
  const answer = await client.get(`${app.url}/api/whoami`, bearer(token));
  if (answer.status !== 200) scan.response('answer', answer);
  return answer;
};

/** Asks with the cached callers' tokens, one after another, until `done()`; every answer must be theirs. */
async function cachedCallersUntil(done: () => boolean): Promise<number> {
  let asked = 0;
  while (!done()) {
    const caller = callers[asked % callers.length];
    const answer = await ask(caller.token);
    expect([answer.status, jsonOf(answer)?.subject]).toEqual([200, caller.userId]);
    asked++;
  }
  return asked;
}

beforeAll(async () => {
  z = await startLocalZitadel();
  proxy = await startFaultProxy(z.issuer);
  for (const name of ['shed-a', 'shed-b', 'shed-c']) {
    const user = await z.createServiceUser({ name, roles: { reader: ['org-1'] }, auth: 'pat' });
    callers.push({ token: user.pat!, userId: user.userId });
    scan.secret(name, user.pat);
  }
  scan.key('API key', z.apiKeyFile.key);
  app = await startApp((_req, _res, next) => next());
  client = createClient(200);
});

afterAll(async () => {
  await Promise.all(built.map((auth) => auth.introspector.close()));
  client?.close();
  await app?.close();
  await proxy?.close();
  await z?.close();
  watch.stop();
  expect(watch.failures).toEqual([]);
  expect(unexpectedWarnings(watch.warnings)).toEqual([]);
  expect(await handlesLeftOver(baseline)).toEqual({});
});

afterEach(() => {
  scan.sentBy('introspection', proxy.received(INTROSPECT));
  proxy.reset();
});

describe('maxInFlight under a flood of random tokens', () => {
  let auth: ZitadelAuthMiddleware;
  beforeAll(() => {
    auth = freshAuth({
      // Generous: on a slow machine a queued call must not time out into a 503 that is no shed.
      timeoutMs: 15_000,
      maxInFlight: MAX_IN_FLIGHT,
      cache: { maxEntries: MAX_ENTRIES, inactiveTtlSeconds: 60 },
    });
  });

  it('caps calls in flight, sheds the excess at once, keeps cached callers served', async () => {
    // Warm: the callers' answers cached, and 200 keep-alive connections open,
    // so that what is measured is the server, not a storm of TCP handshakes.
    await runPool(400, 200, (i) => ask(callers[i % callers.length].token));
    proxy.reset();
    await z.setLatency(50);
    const heapBefore = heapAfterGc();
    const timingsBefore = app.timings.length;

    const tokens = Array.from({ length: 2000 }, randomToken);
    let flooding = true;
    const [answers, cachedAsked] = await Promise.all([
      runPool(tokens.length, 200, (i) => ask(tokens[i])).finally(() => (flooding = false)),
      cachedCallersUntil(() => !flooding),
    ]);
    await z.setLatency(0);

    const denied = answers.filter((a) => a.status === 401);
    const shed = answers.filter((a) => a.status === 503);
    expect(denied.length + shed.length).toBe(tokens.length);
    expect(denied.length).toBeGreaterThan(0);
    expect(shed.length).toBeGreaterThan(0);
    shed.forEach((answer) => expectErrorAnswer(answer, 503));
    // The excess got its 503 without a call: one call per denial, no more.
    expect(auth.introspector.stats().shed).toBe(shed.length);
    expect(proxy.stats(INTROSPECT).requests).toBe(denied.length);
    expect(proxy.stats(INTROSPECT).maxOpen).toBeLessThanOrEqual(MAX_IN_FLIGHT);
    expect(proxy.stats(INTROSPECT).maxOpen).toBeGreaterThanOrEqual(MAX_IN_FLIGHT / 2);
    // "At once", measured in the server: far inside the 5 s a waiting call could take.
    const shedTimes = app.timings.slice(timingsBefore).filter((t) => t.status === 503);
    expect(shedTimes).toHaveLength(shed.length);
    expect(Math.max(...shedTimes.map((t) => t.ms))).toBeLessThan(1000);
    expect(cachedAsked).toBeGreaterThan(10);
    expect(heapAfterGc() - heapBefore).toBeLessThan(16 * 1024 * 1024);
  }, 40_000);

  it('keeps at most maxEntries answers in memory', async () => {
    // Below maxInFlight, so nothing is shed: every token is asked about and cached (inactive, 60 s).
    const tokens = Array.from({ length: MAX_ENTRIES * 3 }, randomToken);
    const first = await runPool(tokens.length, 10, (i) => ask(tokens[i]));
    expect(first.every((answer) => answer.status === 401)).toBe(true);
    const hitsBefore = auth.introspector.stats().hits;
    // Newest first: the ones a bounded LRU kept are asked before misses evict them.
    const again = await runPool(tokens.length, 1, (i) => ask(tokens[tokens.length - 1 - i]));
    expect(again.every((answer) => answer.status === 401)).toBe(true);
    const hits = auth.introspector.stats().hits - hitsBefore;
    expect(hits).toBeGreaterThanOrEqual(MAX_ENTRIES / 2);
    expect(hits).toBeLessThanOrEqual(MAX_ENTRIES);
  }, 30_000);

  // lib/zitadel/http.ts send() adds an 'abort' listener per call to the
  // introspector's one AbortSignal; past 10 calls in flight Node warns of a
  // leak. Fix (lead): setMaxListeners(0, abort.signal) in lib/introspector.ts.
  it('emits no MaxListenersExceededWarning with more than 10 calls in flight', async () => {
    const warningsBefore = watch.warnings.length;
    freshAuth();
    await z.setLatency(50);
    await runPool(30, 30, () => ask(randomToken())).finally(() => z.setLatency(0));
    await new Promise((resolve) => setImmediate(resolve));
    expect(watch.warnings.slice(warningsBefore)).not.toContain('MaxListenersExceededWarning');
  });
});

describe('a circuit opened by ZITADEL asking us to back off', () => {
  it.each([
    ['429 with Retry-After: 2', 429, () => '2', 2],
    ['503 with Retry-After: 2', 503, () => '2', 2],
  ])(
    '%s: misses 503 without a call, cached callers 200, then closes',
    async (_n, code, value, s) => {
      const auth = freshAuth();
      for (const caller of callers) expect((await ask(caller.token)).status).toBe(200);
      proxy.reset();
      proxy.set(INTROSPECT, { kind: 'status', status: code, headers: { 'Retry-After': value() } });
      const opened = await ask(randomToken());
      const openedAt = Date.now();
      expectErrorAnswer(opened, 503);
      expect(Number(opened.headers['retry-after'])).toBeGreaterThanOrEqual(s - 1);
      expect(Number(opened.headers['retry-after'])).toBeLessThanOrEqual(s);
      expect(proxy.stats(INTROSPECT).requests).toBe(1);

      // While it is open: a burst of misses is refused without a call; cached callers pass.
      proxy.set(INTROSPECT, { kind: 'pass' });
      const burst = await runPool(100, 50, () => ask(randomToken()));
      burst.forEach((answer) => expectErrorAnswer(answer, 503));
      for (const answer of burst)
        expect(Number(answer.headers['retry-after'])).toBeLessThanOrEqual(s);
      expect(await cachedCallersUntil(countdown(9))).toBe(9);
      expect(proxy.stats(INTROSPECT).requests).toBe(1);
      expect(Date.now() - openedAt).toBeLessThan(s * 1000 - 200);

      // It closes by itself once the window has passed.
      await new Promise((resolve) => setTimeout(resolve, s * 1000 - (Date.now() - openedAt) + 150));
      const closed = await ask(randomToken());
      expect(closed.status).toBe(401);
      expect(proxy.stats(INTROSPECT).requests).toBe(2);
      expect(auth.introspector.stats().shed).toBe(100);
    },
  );

  it.each([
    ['no Retry-After', undefined],
    ['an HTTP-date 3 s ahead (counts as none)', () => new Date(Date.now() + 3000).toUTCString()],
  ])('429 with %s: a back-off of 1 s, then 2 s, reset by a success', async (_n, value) => {
    freshAuth();
    expect((await ask(callers[0].token)).status).toBe(200);
    proxy.reset();
    const rateLimit = () =>
      proxy.set(INTROSPECT, {
        kind: 'status',
        status: 429,
        headers: value ? { 'Retry-After': value() } : {},
      });
    const waitOut = (seconds: number) =>
      new Promise((resolve) => setTimeout(resolve, seconds * 1000 + 100));
    rateLimit();
    expect((await ask(randomToken())).headers['retry-after']).toBe('1');
    const shed = await ask(randomToken());
    expectErrorAnswer(shed, 503);
    expect(shed.headers['retry-after']).toBe('1');
    expect((await ask(callers[0].token)).status).toBe(200);
    expect(proxy.stats(INTROSPECT).requests).toBe(1);
    await waitOut(1);
    // The probe after the first back-off meets another 429: the back-off doubles.
    expect((await ask(randomToken())).headers['retry-after']).toBe('2');
    expect(proxy.stats(INTROSPECT).requests).toBe(2);
    await waitOut(2);
    proxy.set(INTROSPECT, { kind: 'pass' });
    expect((await ask(randomToken())).status).toBe(401);
    // The success reset it: the next 429 backs off 1 s again.
    rateLimit();
    expect((await ask(randomToken())).headers['retry-after']).toBe('1');
    expect(proxy.stats(INTROSPECT).requests).toBe(4);
    await waitOut(1);
    proxy.set(INTROSPECT, { kind: 'pass' });
  });

  it('caps a Retry-After of an hour at 60 s', async () => {
    freshAuth();
    expect((await ask(callers[0].token)).status).toBe(200);
    proxy.set(INTROSPECT, { kind: 'status', status: 503, headers: { 'Retry-After': '3600' } });
    expect((await ask(randomToken())).headers['retry-after']).toBe('60');
    const shed = await ask(randomToken());
    expect(Number(shed.headers['retry-after'])).toBeGreaterThanOrEqual(59);
    expect(Number(shed.headers['retry-after'])).toBeLessThanOrEqual(60);
    expect((await ask(callers[0].token)).status).toBe(200);
  });

  it('logs the back-off once, names no token, and leaks no secret', () => {
    const backOffs = logger.lines.filter((line) => /not calling again/.test(line.message));
    // One per opening: 3 Retry-After cases and the cap, 3 back-offs in each 429 case.
    expect(backOffs).toHaveLength(9);
    for (const line of logger.lines) scan.text(`log ${line.level}`, line.message);
    for (const error of app.errors) scan.text('error', error);
    expect(app.unexpected).toEqual([]);
    expect(scan.leaks()).toEqual([]);
  });
});

function countdown(times: number): () => boolean {
  let left = times;
  return () => left-- <= 0;
}
