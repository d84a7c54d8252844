/**
 * OpenID discovery of ZITADEL's endpoints: one request shared by concurrent
 * callers, the answer kept for good, a failure retried at most once per
 * interval — or no request at all when the endpoints are configured.
 */
import { ConfigError, IntrospectionUnavailableError } from '../errors';
import { isPlainObject, parseJson, parseRetryAfter } from './encoding';
import { BodyTooLargeError, readBoundedText, RequestFailure, send } from './http';
import { loadOnce } from './load-once';
import { traceHttp, type ReportHttpResult } from '../telemetry/http-tracing';

/**
 * What we need from the discovery document.
 *
 * @example
 * ```ts
 * const { issuer, introspectionEndpoint, tokenEndpoint }: ProviderMetadata = await discovery.get();
 * ```
 */
export interface ProviderMetadata {
  /** The issuer as the document names it: the `aud` of our assertions. */
  issuer: string;
  introspectionEndpoint: string;
  tokenEndpoint?: string;
  /** `jwks_uri`: the issuer's signing keys (local JWT verification). */
  jwksUri?: string;
}

/**
 * Options of {@link createDiscovery}.
 *
 * @example
 * ```ts
 * const options: DiscoveryOptions = { issuer: 'https://acme.zitadel.cloud', timeoutMs: 2000 };
 * ```
 */
export interface DiscoveryOptions {
  /** The issuer URL, e.g. `https://acme.zitadel.cloud`. */
  issuer: string;
  /** Skips discovery (e.g. ZITADEL reached at an internal URL). */
  introspectionEndpoint?: string;
  /** Skips discovery too; the other endpoint is derived from `issuer`. */
  tokenEndpoint?: string;
  fetch?: typeof fetch;
  /** Per request; default 5000. */
  timeoutMs?: number;
  /** After a failure, `get()` rejects at once with it for this long; default 5000. */
  retryIntervalMs?: number;
  /** Clock in ms; for tests. */
  now?: () => number;
  /** Ends a request in flight (the introspector's `close()`). */
  signal?: AbortSignal;
}

/**
 * Resolves the provider metadata; see {@link createDiscovery}.
 *
 * @example
 * ```ts
 * const discovery: Discovery = createDiscovery({ issuer });
 * await discovery.get();
 * ```
 */
export interface Discovery {
  get(): Promise<ProviderMetadata>;
  /** Whether the metadata is at hand (configured, or fetched once): `health().discovery.ok`. */
  loaded(): boolean;
}

const DEFAULT_TIMEOUT_MS = 5000;
const DEFAULT_RETRY_INTERVAL_MS = 5000;

/**
 * Creates the discovery of `{issuer}/.well-known/openid-configuration`.
 *
 * - A resolved answer is cached forever; concurrent `get()` calls share one request.
 * - A failure is not cached, but for `retryIntervalMs` after it `get()` rejects
 *   at once with the same error, so a flood of requests cannot hammer ZITADEL.
 * - Unreachable, timed out, non-2xx, or a body over 1 MiB →
 *   `IntrospectionUnavailableError`; a document that is not a JSON object,
 *   lacks `introspection_endpoint`, or names another issuer (a trailing slash
 *   on either side is tolerated) → `ConfigError`.
 * - With `introspectionEndpoint` or `tokenEndpoint` set, no request is made;
 *   the missing one is derived as `{issuer}/oauth/v2/introspect` / `{issuer}/oauth/v2/token`.
 *
 * @example
 * ```ts
 * const discovery = createDiscovery({ issuer: 'https://acme.zitadel.cloud' });
 * const { introspectionEndpoint, issuer } = await discovery.get();
 * ```
 */
export function createDiscovery(options: DiscoveryOptions): Discovery {
  if (options.introspectionEndpoint !== undefined || options.tokenEndpoint !== undefined) {
    const base = withoutTrailingSlash(options.issuer);
    const metadata = Promise.resolve<ProviderMetadata>({
      issuer: options.issuer,
      introspectionEndpoint: options.introspectionEndpoint ?? `${base}/oauth/v2/introspect`,
      tokenEndpoint: options.tokenEndpoint ?? `${base}/oauth/v2/token`,
    });
    return { get: () => metadata, loaded: () => true };
  }

  const url = `${withoutTrailingSlash(options.issuer)}/.well-known/openid-configuration`;
  const metadata = loadOnce(
    () =>
      traceHttp({ kind: 'discovery', endpoint: url, attempt: 1 }, (report) =>
        fetchMetadata(url, options, report),
      ),
    {
      retryIntervalMs: options.retryIntervalMs ?? DEFAULT_RETRY_INTERVAL_MS,
      now: options.now ?? Date.now,
    },
  );
  return { get: metadata.get, loaded: () => metadata.value() !== undefined };
}

async function fetchMetadata(
  url: string,
  options: DiscoveryOptions,
  report: ReportHttpResult,
): Promise<ProviderMetadata> {
  const unreachable = (why: string, retryAfterSeconds?: number) =>
    new IntrospectionUnavailableError(`discovery at ${url} unreachable: ${why}`, {
      retryAfterSeconds,
    });
  const invalid = (why: string, field?: string) =>
    new ConfigError(`discovery document at ${url} ${why}`, { field });

  const fetchFn = options.fetch ?? globalThis.fetch;
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  let text: string;
  try {
    const exchange = await send(
      fetchFn,
      url,
      { method: 'GET', headers: { accept: 'application/json' } },
      timeoutMs,
      options.signal,
    );
    const { response } = exchange;
    report({ status: response.status });
    if (response.status < 200 || response.status > 299) {
      exchange.discard();
      const retryAfter = parseRetryAfter(response.headers.get('retry-after'), Date.now());
      throw unreachable(`HTTP ${response.status}`, retryAfter);
    }
    text = await exchange.read(readBoundedText);
  } catch (error) {
    if (error instanceof IntrospectionUnavailableError) throw error;
    if (error instanceof BodyTooLargeError) throw unreachable('document larger than 1 MiB');
    throw unreachable((error as RequestFailure).detail);
  }

  const document = parseJson(text);
  if (!isPlainObject(document)) throw invalid('is not a JSON object');
  const {
    issuer,
    introspection_endpoint: introspection,
    token_endpoint: token,
    jwks_uri: jwks,
  } = document;
  if (typeof issuer !== 'string') throw invalid('has no issuer', 'issuer');
  if (withoutTrailingSlash(issuer) !== withoutTrailingSlash(options.issuer)) {
    throw invalid(`names another issuer (${issuer}) than the configured one`, 'issuer');
  }
  if (typeof introspection !== 'string' || introspection === '') {
    throw invalid('has no introspection_endpoint', 'introspectionEndpoint');
  }
  return {
    issuer,
    introspectionEndpoint: introspection,
    tokenEndpoint: typeof token === 'string' && token !== '' ? token : undefined,
    jwksUri: typeof jwks === 'string' && jwks !== '' ? jwks : undefined,
  };
}

function withoutTrailingSlash(url: string): string {
  return url.replace(/\/+$/, '');
}
