/**
 * Shared set-up of the introspection tests: a real server that checks the
 * form and the client authentication as ZITADEL does, and every error the
 * tests saw is checked for secrets at the end.
 */
import { inspect } from 'node:util';
import { decodeProtectedHeader, jwtVerify } from 'jose';
import {
  type ClientAuthentication,
  type IntrospectionCallOptions,
} from '../../lib/zitadel/introspection';
import { loadKeyFile, type ApplicationKey } from '../../lib/zitadel/key-file';
import {
  decodeBasic,
  json,
  rsaPkcs1,
  startServer,
  type Handler,
  type Recorded,
  type TestServer,
} from './helpers';

/** ZITADEL's answer for an active service-user token (trimmed from a real answer). */
export const activeAnswer: Record<string, unknown> = {
  active: true,
  scope: 'openid urn:zitadel:iam:org:project:id:301255683459087361:aud',
  client_id: '301255944417345537',
  token_type: 'Bearer',
  exp: 1795500000,
  iat: 1795456800,
  sub: '301255944417345537',
  aud: ['301255944417345537', '301255683459087361'],
  iss: 'https://acme-4tbz9q.zitadel.cloud',
  username: 'invoice-worker',
  'urn:zitadel:iam:org:project:roles': {
    reader: { '301255600000000001': 'acme.acme-4tbz9q.zitadel.cloud' },
  },
};

export const TOKEN = 'opaque-token_Abc.123~xyz+/=';
export const CLIENT_ID = '301255716950934017@billing';
export const SECRET_ID = 'a:b@c';
export const SECRET = 'p%&+ é';
const rsa = rsaPkcs1();

export let server: TestServer;
export let other: TestServer;
let key: ApplicationKey;
let audience: string;
export let attempts: number;
export const jtis: string[] = [];
const errors: unknown[] = [];

beforeAll(async () => {
  server = await startServer();
  other = await startServer((_req, res) => json(res, 200, { active: true }));
  audience = server.url;
  key = await loadKeyFile(
    { type: 'application', keyId: 'kid-7', key: rsa.pem, appId: 'app-1', clientId: CLIENT_ID },
    'application',
  );
});

afterAll(async () => {
  await server.close();
  await other.close();
});

beforeEach(() => {
  attempts = 0;
  jtis.length = 0;
  server.requests.length = 0;
  other.requests.length = 0;
});

// Every error any test saw is checked for secrets at the end.
afterAll(() => {
  expect(errors.length).toBeGreaterThan(3); // the check below must have had work
  for (const error of errors) expectNoSecrets(error);
});

export const jwtAuth = (): ClientAuthentication => ({
  method: 'private_key_jwt',
  clientId: CLIENT_ID,
  key,
});
export const basicAuth: ClientAuthentication = {
  method: 'client_secret_basic',
  clientId: SECRET_ID,
  clientSecret: SECRET,
};

export function options(extra: Partial<IntrospectionCallOptions> = {}): IntrospectionCallOptions {
  return {
    endpoint: `${server.url}/oauth/v2/introspect`,
    audience,
    auth: jwtAuth(),
    timeoutMs: 2000,
    retries: 0,
    onAttempt: () => attempts++,
    ...extra,
  };
}

/** What ZITADEL checks on the request; returns the problem, if any. */
async function clientProblem(req: Recorded): Promise<string | undefined> {
  const form = new URLSearchParams(req.body);
  if (req.method !== 'POST') return 'not POST';
  if (req.headers['content-type'] !== 'application/x-www-form-urlencoded') return 'content-type';
  if (req.headers.accept !== 'application/json') return 'accept';
  if (form.get('token') !== TOKEN) return 'token';
  if (form.get('token_type_hint') !== 'access_token') return 'token_type_hint';
  const basic = decodeBasic(req.headers.authorization);
  if (basic) {
    if (form.has('client_assertion')) return 'both methods';
    return basic.id === SECRET_ID && basic.secret === SECRET ? undefined : 'basic';
  }
  if (
    form.get('client_assertion_type') !== 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer'
  ) {
    return 'client_assertion_type';
  }
  const assertion = form.get('client_assertion') ?? '';
  try {
    if (decodeProtectedHeader(assertion).kid !== 'kid-7') return 'kid';
    const { payload } = await jwtVerify(assertion, rsa.publicKey, {
      algorithms: ['RS256'],
      issuer: CLIENT_ID,
      subject: CLIENT_ID,
      audience,
      requiredClaims: ['iat', 'exp', 'jti'],
    });
    jtis.push(payload.jti as string);
  } catch (error) {
    return `assertion: ${(error as Error).message}`;
  }
  return undefined;
}

export function serve(...answers: Handler[]) {
  server.handler = async (req, res) => {
    const problem = await clientProblem(req);
    if (problem)
      return json(res, 400, { error: 'unauthorized_client', error_description: problem });
    const answer = answers[Math.min(server.requests.length - 1, answers.length - 1)];
    return answer(req, res);
  };
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

function expectNoSecrets(error: unknown) {
  const text = `${(error as Error).message} ${inspect(error, { depth: 10 })}`;
  expect(text).not.toContain(TOKEN);
  expect(text).not.toContain(SECRET);
  for (const secret of [TOKEN, SECRET]) {
    expect(text).not.toContain(encodeURIComponent(secret));
    expect(text).not.toContain(new URLSearchParams({ v: secret }).toString().slice(2));
  }
  expect(text).not.toMatch(/eyJ[\w-]+\.[\w-]+\./); // no JWT
  expect(text).not.toContain(rsa.pem.split('\n')[1]);
}
