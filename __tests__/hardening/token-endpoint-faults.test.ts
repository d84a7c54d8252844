/**
 * The calling side on a bad day: `serviceUserTokenSource` against a fault
 * proxy in front of the local ZITADEL's token endpoint, for a key user
 * (JWT-bearer grant) and a client-credentials user. Every fault rejects with
 * a `TokenRequestError` of the documented shape within the timeout, nothing
 * secret in it, concurrent callers share one request, a failure is not
 * remembered — and once the fault clears, the same source gets a token that
 * the API (zitadelAuth against the same ZITADEL) accepts.
 */
import { inspect } from 'node:util';
import { TokenRequestError } from '../../lib/errors';
import { zitadelAuth, type ZitadelAuthMiddleware } from '../../lib/express/middleware';
import { serviceUserTokenSource, type TokenSource } from '../../lib/zitadel/service-user';
import {
  startLocalZitadel,
  type LocalZitadel,
  type ServiceUserCredentials,
} from '../../lib/testing';
import { startFaultProxy, type Fault, type FaultProxy } from '../helpers/fault-proxy';
import { bearer, createClient, jsonOf, startApp, type Client, type TestApp } from './support/app';
import {
  handlesLeftOver,
  unexpectedWarnings,
  liveHandles,
  watchProcess,
} from './support/process-watch';
import { SecretScan } from './support/secrets';

const TOKEN_PATH = '/oauth/v2/token';
const TIMEOUT_MS = 1000;
const BOUND_MS = TIMEOUT_MS + 1000;
const TEN_MIB = 10 * 1024 * 1024;

let z: LocalZitadel;
let proxy: FaultProxy;
/** Another way to the same ZITADEL: a followed redirect would get a real token there. */
let elsewhere: FaultProxy;
let app: TestApp;
let auth: ZitadelAuthMiddleware;
let client: Client;
const users: Record<'key' | 'secret', ServiceUserCredentials> = {} as never;
const scan = new SecretScan();
const watch = watchProcess();
const baseline = liveHandles();

beforeAll(async () => {
  z = await startLocalZitadel();
  proxy = await startFaultProxy(z.issuer);
  elsewhere = await startFaultProxy(z.issuer);
  users.key = await z.createServiceUser({ name: 'caller-key', auth: 'key' });
  users.secret = await z.createServiceUser({ name: 'caller-secret', auth: 'secret' });
  scan.key('service user key', users.key.keyFile!.key);
  scan.secret('client secret', users.secret.clientSecret);
  auth = zitadelAuth({ issuer: z.issuer, key: z.apiKeyFile, projectId: z.projectId });
  app = await startApp(auth);
  client = createClient();
});

afterAll(async () => {
  await auth?.introspector.close();
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

let sent = 0;
afterEach(() => {
  sent += scan.sentBy('token request', proxy.received(TOKEN_PATH));
  proxy.reset();
});

function source(kind: 'key' | 'secret'): TokenSource {
  const user = users[kind];
  return serviceUserTokenSource({
    issuer: z.issuer,
    ...(kind === 'key'
      ? { key: user.keyFile }
      : { clientId: user.clientId, clientSecret: user.clientSecret }),
    scope: ['openid', `urn:zitadel:iam:org:project:id:${z.projectId}:aud`],
    tokenEndpoint: `${proxy.url}${TOKEN_PATH}`,
    timeoutMs: TIMEOUT_MS,
  });
}

interface TokenFault {
  name: string;
  fault: Fault | (() => Fault);
  /** The TokenRequestError's `status` and `error`. */
  status: number | undefined;
  error: string;
}

const network = { status: undefined, error: 'network_error' };
const invalid = (status: number | undefined) => ({ status, error: 'invalid_response' });

const tokenFaults: TokenFault[] = [
  { name: 'HTTP 500', fault: { kind: 'status', status: 500 }, ...invalid(500) },
  {
    name: 'HTTP 503 with Retry-After: 1',
    fault: { kind: 'status', status: 503, headers: { 'Retry-After': '1' } },
    ...invalid(503),
  },
  { name: 'a hang', fault: { kind: 'hang' }, ...network },
  { name: 'a slow answer', fault: { kind: 'slow', delayMs: TIMEOUT_MS + 100 }, ...network },
  { name: 'a reset mid-body', fault: { kind: 'reset' }, ...network },
  { name: 'a dropped connection', fault: { kind: 'drop' }, ...network },
  { name: 'a non-JSON 200', fault: { kind: 'non-json' }, ...invalid(200) },
  { name: 'a JSON array', fault: { kind: 'json-array' }, ...invalid(200) },
  {
    name: 'access_token a number',
    fault: { kind: 'json', value: { access_token: 5 } },
    ...invalid(200),
  },
  { name: 'a 10 MiB body', fault: { kind: 'huge' }, ...invalid(200) },
  {
    name: 'a redirect to a server that hands out tokens',
    fault: () => ({ kind: 'redirect', location: `${elsewhere.url}${TOKEN_PATH}` }),
    ...invalid(307),
  },
  {
    name: 'HTTP 400 echoing the request back',
    fault: { kind: 'echo', status: 400 },
    status: 400,
    error: 'unauthorized_client',
  },
];

describe.each(['key', 'secret'] as const)('token source with a %s', (kind) => {
  it.each(tokenFaults)('$name → TokenRequestError, then heals', async (c) => {
    const tokens = source(kind);
    proxy.set(TOKEN_PATH, typeof c.fault === 'function' ? c.fault() : c.fault);
    const started = Date.now();
    const errors = await Promise.all(Array.from({ length: 5 }, () => rejection(tokens)));
    expect(Date.now() - started).toBeLessThan(BOUND_MS);
    for (const error of errors) {
      expect(error).toBeInstanceOf(TokenRequestError);
      expect({ status: error.status, error: error.error }).toEqual({
        status: c.status,
        error: c.error,
      });
    }
    await proxy.idle(TOKEN_PATH);
    // Five concurrent callers, one request.
    expect(proxy.stats(TOKEN_PATH).requests).toBe(1);

    proxy.set(TOKEN_PATH, { kind: 'pass' });
    const token = await tokens.getToken();
    scan.secret(`${kind} user token`, token);
    expect(proxy.stats(TOKEN_PATH).requests).toBe(2);
    const answer = await client.get(`${app.url}/api/whoami`, bearer(token));
    scan.response('API answer', answer);
    expect([answer.status, jsonOf(answer)?.subject]).toEqual([200, users[kind].userId]);
  });

  it('writes far less than 10 MiB of a huge token answer', async () => {
    proxy.set(TOKEN_PATH, { kind: 'huge' });
    await expect(source(kind).getToken()).rejects.toThrow(/larger than 1 MiB/);
    await proxy.idle(TOKEN_PATH);
    expect(proxy.stats(TOKEN_PATH).hugeBytesWritten).toBeLessThan(TEN_MIB * 0.6);
  });
});

it('follows no redirect: the other server got no token request', () => {
  expect(elsewhere.stats(TOKEN_PATH).requests).toBe(0);
});

it('puts no key, secret, assertion or token into an error', () => {
  expect(sent).toBeGreaterThan(40);
  expect(thrown.length).toBeGreaterThan(100);
  // The echo cases carried the assertion and the Basic credentials back: they were cut out.
  expect(thrown.filter((text) => text.includes('[redacted]')).length).toBeGreaterThan(0);
  for (const text of thrown) scan.text('TokenRequestError', text);
  expect(scan.leaks()).toEqual([]);
});

const thrown: string[] = [];

async function rejection(tokens: TokenSource): Promise<TokenRequestError> {
  try {
    await tokens.getToken();
  } catch (error) {
    thrown.push(inspect(error, { depth: 6 }), String((error as Error).message));
    return error as TokenRequestError;
  }
  throw new Error('getToken() resolved during a fault');
}
