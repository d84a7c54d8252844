/**
 * Whatever a caller puts in a well-formed Bearer header, the real (local)
 * ZITADEL behind the middleware answers it — and the caller can only ever
 * get 401 for a token that is not one of ours: never a 500 or a 503, never an
 * error-level log line (those page someone), never a grant. Property-tested
 * with random b64tokens, JWT-shaped strings (`alg: none`, garbage segments,
 * signed assertions of a real service user) and oversized-but-allowed ones.
 */
import { createPrivateKey, randomUUID } from 'node:crypto';
import fc from 'fast-check';
import { SignJWT } from 'jose';
import { zitadelAuth } from '../../lib/express/middleware';
import { startLocalZitadel, type LocalZitadel, type ServiceUserKeyFile } from '../../lib/testing';
import { captureLogger } from '../helpers/capture-logger';
import { bearer, createClient, startApp, type TestApp } from './support/app';
import {
  handlesLeftOver,
  liveHandles,
  unexpectedWarnings,
  watchProcess,
} from './support/process-watch';

let z: LocalZitadel;
let app: TestApp;
let close: () => Promise<void>;
let keyFile: ServiceUserKeyFile;
const logger = captureLogger();
const client = createClient(4);
const watch = watchProcess();
const baseline = liveHandles();

beforeAll(async () => {
  z = await startLocalZitadel();
  keyFile = (await z.createServiceUser({ name: 'hostile', auth: 'key' })).keyFile!;
  const auth = zitadelAuth({ issuer: z.issuer, key: z.apiKeyFile, cache: false, logger });
  close = () => auth.introspector.close();
  app = await startApp(auth);
});

afterAll(async () => {
  await close?.();
  client.close();
  await app?.close();
  await z?.close();
  watch.stop();
  expect(watch.failures).toEqual([]);
  expect(unexpectedWarnings(watch.warnings)).toEqual([]);
  expect(await handlesLeftOver(baseline)).toEqual({});
});

const segment = fc.oneof(
  fc.stringMatching(/^[A-Za-z0-9_-]{0,60}$/),
  fc.json().map((text) => Buffer.from(text).toString('base64url')),
  fc.constantFrom(
    Buffer.from('{"alg":"none","typ":"JWT"}').toString('base64url'),
    Buffer.from('{"alg":"RS256","kid":"1"}').toString('base64url'),
    Buffer.from('{"active":true,"sub":"root"}').toString('base64url'),
  ),
);
const jwtShaped = fc
  .tuple(segment, segment, segment)
  .map(([a, b, c]) => `${a}.${b}.${c}`)
  .filter((token) => /^[A-Za-z0-9\-._~+/]+=*$/.test(token));
const b64token = fc.stringMatching(/^[A-Za-z0-9\-._~+/]{1,200}=*$/);
const long = fc.integer({ min: 1000, max: 8192 }).map((n) => 'x'.repeat(n));

it('answers 401 to any token that is not ours, and logs nothing at error level', async () => {
  const signed = await signedAssertion();
  let asked = 0;
  await fc.assert(
    fc.asyncProperty(fc.oneof(b64token, jwtShaped, long, fc.constant(signed)), async (token) => {
      const answer = await client.get(`${app.url}/api/whoami`, bearer(token));
      asked++;
      expect(answer.status).toBe(401);
      expect(answer.headers['www-authenticate']).toMatch(/error="invalid_token"/);
    }),
    { numRuns: 250 },
  );
  expect(asked).toBe(250);
  expect(app.unexpected).toEqual([]);
  expect(logger.lines.filter((line) => line.level === 'error' || line.level === 'warn')).toEqual(
    [],
  );
}, 30_000);

/** A JWT a real service user signed (its JWT-bearer assertion), used as if it were an access token. */
function signedAssertion(): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({ iss: keyFile.userId, sub: keyFile.userId, aud: z.issuer, jti: randomUUID() })
    .setProtectedHeader({ alg: 'RS256', kid: keyFile.keyId })
    .setIssuedAt(now)
    .setExpirationTime(now + 60)
    .sign(createPrivateKey(keyFile.key));
}
