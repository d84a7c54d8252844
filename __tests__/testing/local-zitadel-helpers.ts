/**
 * Plain-HTTP clients of the local ZITADEL for its own tests: the requests a
 * service user and an API app send, built by hand with jose so the tests do
 * not depend on the package's own client code.
 */
import { createPrivateKey, randomUUID } from 'node:crypto';
import { SignJWT } from 'jose';
import type { LocalZitadel } from '../../lib/testing';

export const JWT_BEARER = 'urn:ietf:params:oauth:grant-type:jwt-bearer';
export const ROLES_SCOPE = 'urn:zitadel:iam:org:projects:roles';
export const RESOURCE_OWNER_SCOPE = 'urn:zitadel:iam:user:resourceowner';

export const audienceScope = (projectId: string) =>
  `urn:zitadel:iam:org:project:id:${projectId}:aud`;

export interface AssertionClaims {
  iss?: string;
  sub?: string;
  aud?: string;
  iat?: number;
  exp?: number;
}

/** Signs a JWT-bearer / client assertion, RS256 with a fresh jti; `undefined` claims are left out. */
export async function signAssertion(pem: string, kid: string, claims: AssertionClaims) {
  const payload = Object.fromEntries(Object.entries(claims).filter(([, v]) => v !== undefined));
  return new SignJWT({ ...payload, jti: randomUUID() })
    .setProtectedHeader({ alg: 'RS256', kid })
    .sign(createPrivateKey(pem));
}

const now = () => Math.floor(Date.now() / 1000);

/** Assertion claims a valid service user sends. */
export function userClaims(z: LocalZitadel, userId: string): AssertionClaims {
  return { iss: userId, sub: userId, aud: z.issuer, iat: now(), exp: now() + 60 };
}

async function form(
  url: string,
  body: Record<string, string>,
  headers: Record<string, string> = {},
) {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
    body: new URLSearchParams(body),
  });
  const text = await response.text();
  return { status: response.status, body: parseObject(text), headers: response.headers };
}

/** The JSON object of a body, or `{ text }` for a body that is not JSON (an injected fault). */
function parseObject(text: string): Record<string, unknown> {
  try {
    return JSON.parse(text) as Record<string, unknown>;
  } catch {
    return { text };
  }
}

/** JWT-bearer grant, no client authentication (as ZITADEL takes it). */
export function jwtBearerGrant(z: LocalZitadel, assertion: string, scope?: string) {
  return form(`${z.issuer}/oauth/v2/token`, {
    grant_type: JWT_BEARER,
    assertion,
    ...(scope === undefined ? {} : { scope }),
  });
}

export function basic(clientId: string, secret: string) {
  const encode = (value: string) => encodeURIComponent(value);
  return `Basic ${Buffer.from(`${encode(clientId)}:${encode(secret)}`).toString('base64')}`;
}

/** Client credentials grant with client_secret_basic. */
export function clientCredentialsGrant(
  z: LocalZitadel,
  clientId: string,
  secret: string,
  scope: string,
) {
  return form(
    `${z.issuer}/oauth/v2/token`,
    { grant_type: 'client_credentials', scope },
    { authorization: basic(clientId, secret) },
  );
}

/** Introspection as the API app with its key file (private_key_jwt). */
export async function introspectWithKey(z: LocalZitadel, token: string, pem = z.apiKeyFile.key) {
  const { clientId, keyId } = z.apiKeyFile;
  const clientAssertion = await signAssertion(pem, keyId, {
    iss: clientId,
    sub: clientId,
    aud: z.issuer,
    exp: now() + 60,
  });
  return form(`${z.issuer}/oauth/v2/introspect`, {
    token,
    client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
    client_assertion: clientAssertion,
  });
}

/** Introspection as the second API app (client_secret_basic). */
export function introspectWithSecret(z: LocalZitadel, token: string, secret = z.apiClientSecret) {
  return form(
    `${z.issuer}/oauth/v2/introspect`,
    { token },
    { authorization: basic(z.apiClientId, secret) },
  );
}

/** A token of a `key` user, through the JWT-bearer grant. */
export async function keyUserToken(
  z: LocalZitadel,
  keyFile: { key: string; keyId: string; userId: string },
  scope: string,
) {
  const assertion = await signAssertion(keyFile.key, keyFile.keyId, userClaims(z, keyFile.userId));
  const { status, body } = await jwtBearerGrant(z, assertion, scope);
  if (status !== 200) throw new Error(`token request failed: ${status} ${JSON.stringify(body)}`);
  return body.access_token as string;
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
