/**
 * The calling side: access tokens for a ZITADEL service user, by JWT-bearer
 * grant (key file), client credentials (id + secret) or a personal access
 * token, cached until shortly before they expire.
 */
import { ConfigError, IntrospectionUnavailableError, TokenRequestError } from '../errors';
import { explainRefusedAssertion } from './refused-assertion';
import { signJwtBearerAssertion } from './assertion';
import { createDiscovery } from './discovery';
import { basicCredentials, isPlainObject, parseJson, redactSecrets } from './encoding';
import { BodyTooLargeError, readBoundedText, RequestFailure, send, type Exchange } from './http';
import { loadKeyFile, type KeySource, type ServiceAccountKey } from './key-file';
import { traceHttp, type ReportHttpResult } from '../telemetry/http-tracing';

/**
 * Options of {@link serviceUserTokenSource}: `issuer` and exactly one of
 * `key`, `clientId` + `clientSecret`, or `pat`.
 *
 * @example
 * ```ts
 * const options: ServiceUserTokenSourceOptions = {
 *   issuer: 'https://acme.zitadel.cloud',
 *   clientId: 'invoice-worker',
 *   clientSecret: process.env.ZITADEL_CLIENT_SECRET,
 * };
 * ```
 */
export interface ServiceUserTokenSourceOptions {
  /** The issuer URL; required unless `pat` is given. */
  issuer: string;
  /** Service-user key file (path, JSON string or object) → JWT-bearer grant. */
  key?: KeySource;
  /** With `clientSecret` → client credentials grant, client_secret_basic. */
  clientId?: string;
  clientSecret?: string;
  /** A personal access token, returned as is. */
  pat?: string;
  /** Default `['openid']`; an array is joined with spaces. */
  scope?: string | string[];
  /** Skips discovery. */
  tokenEndpoint?: string;
  /** Refresh when less than this much of `expires_in` is left; default 60. */
  refreshSkewSeconds?: number;
  /** Per request; default 5000. */
  timeoutMs?: number;
  /** The fetch for discovery and the token endpoint (custom CA, proxy); default the global fetch. */
  fetch?: typeof fetch;
  /** Clock in ms since the epoch, for cache decisions and assertion timestamps alike. */
  now?: () => number;
}

/**
 * Gives the current access token of a service user.
 *
 * @example
 * ```ts
 * const source: TokenSource = serviceUserTokenSource({ issuer, pat: process.env.ZITADEL_PAT });
 * const headers = { authorization: await source.authorizationHeader() };
 * ```
 */
export interface TokenSource {
  /** An access token, reused until shortly before it expires. */
  getToken(): Promise<string>;
  /** `Bearer <token>`, for an `Authorization` header. */
  authorizationHeader(): Promise<string>;
}

const DEFAULT_SCOPE = ['openid'];
const JWT_BEARER_GRANT = 'urn:ietf:params:oauth:grant-type:jwt-bearer';
const DEFAULT_SKEW_SECONDS = 60;
const DEFAULT_TIMEOUT_MS = 5000;

/**
 * Creates a token source for a ZITADEL service user. Exactly one of `key`,
 * `clientId` + `clientSecret` or `pat` must be given (else `ConfigError`,
 * thrown at once).
 *
 * Caching: a token is reused until less than `refreshSkewSeconds` of its
 * `expires_in` remain; when `expires_in` is not longer than the skew, it is
 * refreshed once half of its lifetime has passed. A token without a positive
 * `expires_in` is not reused. An expired token is never returned; concurrent
 * `getToken()` calls share one request; a failed request is not remembered.
 *
 * Failures reject with `TokenRequestError` (`status` undefined and `error`
 * `network_error` when the endpoint or discovery is unreachable); a bad key
 * file or discovery document with `ConfigError`.
 *
 * @example
 * ```ts
 * const source = serviceUserTokenSource({
 *   issuer: 'https://acme.zitadel.cloud',
 *   key: './service-user.json',
 *   scope: ['openid', 'urn:zitadel:iam:org:project:id:PROJECT_ID:aud'],
 * });
 * await fetch(url, { headers: { authorization: await source.authorizationHeader() } });
 * ```
 */
export function serviceUserTokenSource(options: ServiceUserTokenSourceOptions): TokenSource {
  const grant = chooseGrant(options);
  const getToken =
    grant.kind === 'pat' ? () => Promise.resolve(grant.pat) : cachedTokens(options, grant);
  return {
    getToken,
    authorizationHeader: async () => `Bearer ${await getToken()}`,
  };
}

type RequestedGrant =
  | { kind: 'jwt-bearer'; key: KeySource }
  | { kind: 'client-credentials'; clientId: string; clientSecret: string };
type Grant = { kind: 'pat'; pat: string } | RequestedGrant;

function chooseGrant(options: ServiceUserTokenSourceOptions): Grant {
  const { key, clientId, clientSecret, pat } = options;
  const given = [
    key !== undefined,
    clientId !== undefined || clientSecret !== undefined,
    pat !== undefined,
  ];
  if (given.filter(Boolean).length !== 1) {
    throw new ConfigError('give exactly one of key, clientId + clientSecret, or pat', {
      field: 'key',
    });
  }
  if (pat !== undefined) {
    if (typeof pat !== 'string' || pat === '') throw optionError('pat');
    return { kind: 'pat', pat };
  }
  if (typeof options.issuer !== 'string' || options.issuer === '') throw optionError('issuer');
  if (key !== undefined) return { kind: 'jwt-bearer', key };
  if (typeof clientId !== 'string' || clientId === '') throw optionError('clientId');
  if (typeof clientSecret !== 'string' || clientSecret === '') throw optionError('clientSecret');
  return { kind: 'client-credentials', clientId, clientSecret };
}

function optionError(field: string): ConfigError {
  return new ConfigError(`option ${field} must be a non-empty string`, { field });
}

interface CachedToken {
  token: string;
  /** Never later than the expiry, so an expired token is never handed out. */
  refreshAt: number;
}

function cachedTokens(
  options: ServiceUserTokenSourceOptions,
  grant: RequestedGrant,
): () => Promise<string> {
  const now = options.now ?? Date.now;
  const skewMs = (options.refreshSkewSeconds ?? DEFAULT_SKEW_SECONDS) * 1000;
  const requester = createRequester(options, grant);
  let cached: CachedToken | undefined;
  let inFlight: Promise<string> | undefined;

  return () => {
    const at = now();
    if (cached && at < cached.refreshAt) {
      return Promise.resolve(cached.token);
    }
    if (inFlight) return inFlight;
    inFlight = requester(at).then(
      ({ token, expiresInMs }) => {
        inFlight = undefined;
        const refreshIn = expiresInMs > skewMs ? expiresInMs - skewMs : expiresInMs / 2;
        cached = { token, refreshAt: at + refreshIn };
        return token;
      },
      (error: unknown) => {
        inFlight = undefined;
        throw error;
      },
    );
    return inFlight;
  };
}

/** Finds the token endpoint, builds the grant's request and sends it. */
function createRequester(options: ServiceUserTokenSourceOptions, grant: RequestedGrant) {
  const discovery = createDiscovery({
    issuer: options.issuer,
    tokenEndpoint: options.tokenEndpoint,
    fetch: options.fetch,
    timeoutMs: options.timeoutMs,
    now: options.now,
  });
  const scope = Array.isArray(options.scope)
    ? options.scope.join(' ')
    : (options.scope ?? DEFAULT_SCOPE.join(' '));
  const authenticate = grantAuthentication(grant);

  return async (nowMs: number) => {
    const metadata = await discovery.get().catch((error: unknown) => {
      if (!(error instanceof IntrospectionUnavailableError)) throw error;
      throw new TokenRequestError(undefined, 'network_error', error.description);
    });
    if (!metadata.tokenEndpoint) {
      throw new ConfigError(`the discovery document of ${metadata.issuer} has no token_endpoint`, {
        field: 'tokenEndpoint',
      });
    }
    const { params, authorization, secrets } = await authenticate(metadata.issuer, nowMs);
    const form = new URLSearchParams(params);
    if (scope) form.set('scope', scope);
    const headers: Record<string, string> = {
      accept: 'application/json',
      'content-type': 'application/x-www-form-urlencoded',
      ...(authorization && { authorization }),
    };
    const init = { method: 'POST', headers, body: form };
    const endpoint = metadata.tokenEndpoint;
    return traceHttp({ kind: 'token', endpoint, attempt: 1 }, (report) =>
      requestToken(endpoint, init, options, secrets, report),
    ).catch((error: unknown) => {
      throw explainRefusedAssertion(error, params.grant_type);
    });
  };
}

interface GrantAuthentication {
  params: Record<string, string>;
  authorization?: string;
  /** What must never leave in an error, should the server echo it. */
  secrets: string[];
}

/**
 * The grant-specific part of a token request. The service user's key is
 * loaded once; a key that failed to load is read again on the next call, so a
 * key file fixed on disk is picked up without a restart.
 */
function grantAuthentication(
  grant: RequestedGrant,
): (audience: string, nowMs: number) => Promise<GrantAuthentication> {
  if (grant.kind === 'client-credentials') {
    const encoded = basicCredentials(grant.clientId, grant.clientSecret);
    const authentication: GrantAuthentication = {
      params: { grant_type: 'client_credentials' },
      authorization: `Basic ${encoded}`,
      secrets: [grant.clientSecret, encoded],
    };
    return async () => authentication;
  }
  let key: Promise<ServiceAccountKey> | undefined;
  return async (audience, nowMs) => {
    key ??= loadKeyFile(grant.key, 'serviceaccount');
    const loaded = await key.catch((error: unknown) => {
      key = undefined;
      throw error;
    });
    const assertion = await signJwtBearerAssertion(loaded, audience, nowMs);
    return { params: { grant_type: JWT_BEARER_GRANT, assertion }, secrets: [assertion] };
  };
}

async function requestToken(
  endpoint: string,
  init: RequestInit,
  options: ServiceUserTokenSourceOptions,
  secrets: string[],
  report: ReportHttpResult,
): Promise<{ token: string; expiresInMs: number }> {
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const unreachable = (failure: unknown) =>
    new TokenRequestError(
      undefined,
      'network_error',
      `token endpoint ${(failure as RequestFailure).detail}`,
    );
  let exchange: Exchange;
  try {
    exchange = await send(options.fetch ?? globalThis.fetch, endpoint, init, timeoutMs);
  } catch (failure) {
    throw unreachable(failure);
  }
  const { status } = exchange.response;
  report({ status });
  if (status >= 300 && status < 400) {
    exchange.discard();
    const description = 'the token endpoint redirected; redirects are not followed';
    throw new TokenRequestError(status, 'invalid_response', description);
  }
  let text: string;
  try {
    text = await exchange.read(readBoundedText);
  } catch (error) {
    if (!(error instanceof BodyTooLargeError)) throw unreachable(error);
    throw new TokenRequestError(status, 'invalid_response', 'answer larger than 1 MiB');
  }
  const body = parseJson(text);
  const fields = isPlainObject(body) ? body : {};
  if (status < 200 || status > 299 || typeof fields.error === 'string') {
    const error =
      typeof fields.error === 'string'
        ? redactSecrets(fields.error, secrets, 60)
        : 'invalid_response';
    const description =
      typeof fields.error_description === 'string'
        ? redactSecrets(fields.error_description, secrets, 300)
        : undefined;
    throw new TokenRequestError(status, error, description);
  }
  const token = fields.access_token;
  if (typeof token !== 'string' || token === '') {
    throw new TokenRequestError(status, 'invalid_response', 'the answer has no access_token');
  }
  const expiresIn = Number(fields.expires_in);
  return { token, expiresInMs: Number.isFinite(expiresIn) && expiresIn > 0 ? expiresIn * 1000 : 0 };
}
