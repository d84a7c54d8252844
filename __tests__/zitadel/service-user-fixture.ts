/**
 * Shared set-up of the service-user tests: a small ZITADEL-like discovery and
 * token endpoint that verifies JWT-bearer assertions and Basic credentials;
 * every error the tests saw is checked for secrets at the end.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { inspect } from 'node:util';
import { jwtVerify } from 'jose';
import {
  serviceUserTokenSource,
  type ServiceUserTokenSourceOptions,
} from '../../lib/zitadel/service-user';
import {
  decodeBasic,
  json,
  rsaPkcs1,
  startServer,
  type Handler,
  type Recorded,
  type TestServer,
} from './helpers';

export const USER_ID = '301255944417345537';
export const CLIENT_ID = 'svc:worker@acme';
export const CLIENT_SECRET = 'p%&+ é-secret';
export const rsa = rsaPkcs1();
export const keyFile = { type: 'serviceaccount', keyId: 'su-key-1', key: rsa.pem, userId: USER_ID };
export const dir = mkdtempSync(path.join(tmpdir(), 'service-user-test-'));

export let server: TestServer;
export let other: TestServer;
let issued = 0;
/** A new, unique access token. */
export const nextToken = () => `at-${++issued}`;
/** How the token endpoint answers a valid grant; tests replace `answer`. */
export const endpoint: { answer: Handler } = { answer: () => undefined };
export const grants: { grant: string; scope: string | null; jti?: unknown; aud?: unknown }[] = [];
export const errors: unknown[] = [];

export const tokenRequests = () => server.requests.filter((r) => r.url === '/oauth/v2/token');
export const discoveryRequests = () =>
  server.requests.filter((r) => r.url.startsWith('/.well-known/'));

/** A small ZITADEL-like token endpoint: checks the grant, then hands out tokens. */
async function tokenEndpoint(req: Recorded, res: Parameters<Handler>[1]) {
  const form = new URLSearchParams(req.body);
  const grant = form.get('grant_type') ?? '';
  if (grant === 'urn:ietf:params:oauth:grant-type:jwt-bearer') {
    try {
      const { payload, protectedHeader } = await jwtVerify(
        form.get('assertion') ?? '',
        rsa.publicKey,
        {
          issuer: USER_ID,
          subject: USER_ID,
          audience: server.url,
          requiredClaims: ['iat', 'exp', 'jti'],
        },
      );
      if (protectedHeader.kid !== 'su-key-1') throw new Error('kid');
      if ((payload.exp as number) - (payload.iat as number) !== 305) throw new Error('lifetime');
      grants.push({ grant, scope: form.get('scope'), jti: payload.jti });
    } catch (error) {
      return json(res, 400, {
        error: 'invalid_grant',
        error_description: (error as Error).message,
      });
    }
  } else if (grant === 'client_credentials') {
    const basic = decodeBasic(req.headers.authorization);
    if (basic?.id !== CLIENT_ID || basic.secret !== CLIENT_SECRET) {
      return json(res, 401, { error: 'invalid_client', error_description: 'bad client' });
    }
    grants.push({ grant, scope: form.get('scope') });
  } else {
    return json(res, 400, { error: 'unsupported_grant_type' });
  }
  return endpoint.answer(req, res);
}

export const issue =
  (expiresIn?: number): Handler =>
  (_req, res) =>
    json(res, 200, { access_token: nextToken(), token_type: 'Bearer', expires_in: expiresIn });

beforeAll(async () => {
  server = await startServer();
  other = await startServer((_req, res) => json(res, 200, { access_token: 'wrong' }));
});

beforeEach(() => {
  server.requests.length = 0;
  other.requests.length = 0;
  grants.length = 0;
  endpoint.answer = issue(3600);
  server.handler = (req, res) => {
    if (req.url === '/.well-known/openid-configuration') {
      return json(res, 200, {
        issuer: server.url,
        token_endpoint: `${server.url}/oauth/v2/token`,
        introspection_endpoint: `${server.url}/oauth/v2/introspect`,
      });
    }
    return tokenEndpoint(req, res);
  };
});

afterAll(async () => {
  await server.close();
  await other.close();
  rmSync(dir, { recursive: true, force: true });
  expect(errors.length).toBeGreaterThan(0); // the check below must have had work
  for (const error of errors) {
    const text = `${(error as Error).message} ${inspect(error, { depth: 10 })}`;
    expect(text).not.toContain(CLIENT_SECRET);
    expect(text).not.toContain(encodeURIComponent(CLIENT_SECRET));
    expect(text).not.toContain(Buffer.from(CLIENT_SECRET).toString('base64'));
    expect(text).not.toMatch(/eyJ[\w-]+\.[\w-]+\./);
    expect(text).not.toContain(rsa.pem.split('\n')[1]);
  }
});

export function keySource(extra: Partial<ServiceUserTokenSourceOptions> = {}) {
  return serviceUserTokenSource({ issuer: server.url, key: keyFile, ...extra });
}

export async function failure(promise: Promise<unknown>): Promise<Error> {
  const error = await promise.then(
    () => {
      throw new Error('expected a rejection');
    },
    (e: Error) => e,
  );
  errors.push(error);
  return error;
}
