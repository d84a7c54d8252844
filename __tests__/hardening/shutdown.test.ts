/**
 * Shutting down on a bad day: `introspector.close()` while introspections
 * hang at ZITADEL ends them at once with 503 (no waiting for the timeout, no
 * unhandled rejection), refuses later requests with 503, and leaves no
 * socket behind — also when the discovery request is the one hanging.
 */
import { zitadelAuth } from '../../lib/express/middleware';
import { startFaultProxy, type FaultProxy } from '../helpers/fault-proxy';
import {
  activeAnswer,
  startScriptedZitadel,
  type ScriptedZitadel,
} from '../helpers/scripted-zitadel';
import { bearer, createClient, expectErrorAnswer, startApp, type TestApp } from './support/app';
import {
  handlesLeftOver,
  liveHandles,
  unexpectedWarnings,
  watchProcess,
} from './support/process-watch';

const TIMEOUT_MS = 4000;

let upstream: ScriptedZitadel;
let proxy: FaultProxy;
const apps: TestApp[] = [];
const client = createClient();
const watch = watchProcess();
const baseline = liveHandles();

beforeAll(async () => {
  upstream = await startScriptedZitadel();
  upstream.answer('default', { json: activeAnswer() });
  proxy = await startFaultProxy(upstream.issuer);
  // Serves a discovery document naming the proxy itself, so the proxy can be the issuer.
  upstream.discovery({
    json: { issuer: proxy.url, introspection_endpoint: `${proxy.url}/oauth/v2/introspect` },
  });
});

afterAll(async () => {
  client.close();
  await Promise.all(apps.map((app) => app.close()));
  await proxy.close();
  await upstream.close();
  watch.stop();
  expect(watch.failures).toEqual([]);
  expect(unexpectedWarnings(watch.warnings)).toEqual([]);
  expect(await handlesLeftOver(baseline)).toEqual({});
});

afterEach(() => proxy.reset());

async function closeMidFlight(
  path: string,
  options: { introspectionEndpoint?: string },
  expectedOpen: number,
) {
  proxy.set(path, { kind: 'hang' });
  const auth = zitadelAuth({
    issuer: proxy.url,
    clientId: 'api-client',
    clientSecret: 'api-secret',
    timeoutMs: TIMEOUT_MS,
    ...options,
  });
  const app = await startApp(auth);
  apps.push(app);
  const pending = Array.from({ length: 10 }, (_, i) =>
    client.get(`${app.url}/api/whoami`, bearer(`token-${i}`)),
  );
  while (proxy.stats(path).open < expectedOpen) {
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  const closedAt = Date.now();
  await auth.introspector.close();
  const answers = await Promise.all(pending);
  const waited = Date.now() - closedAt;
  answers.forEach((answer) => expectErrorAnswer(answer, 503));
  expectErrorAnswer(await client.get(`${app.url}/api/whoami`, bearer('later')), 503);
  await proxy.idle(path, 2000);
  return waited;
}

it('ends hanging introspections at once with 503 and closes their sockets', async () => {
  const path = '/oauth/v2/introspect';
  const waited = await closeMidFlight(path, { introspectionEndpoint: `${proxy.url}${path}` }, 10);
  expect(waited).toBeLessThan(1000);
  expect(proxy.stats(path).requests).toBe(10);
});

// BUG (lead): close() aborts introspection calls only. A discovery request in
// flight runs on to its timeout (lib/zitadel/discovery.ts takes no signal;
// lib/introspector.ts passes none), and every request waiting on it waits too:
// here 10 s after close(). Fix: give createDiscovery the introspector's
// abort.signal and pass it to send(). Remove `.failing` once fixed.
it('ends a hanging discovery at once with 503 and closes its socket', async () => {
  const path = '/.well-known/openid-configuration';
  const waited = await closeMidFlight(path, {}, 1);
  expect(waited).toBeLessThan(1000);
  expect(proxy.stats(path).requests).toBe(1);
});
