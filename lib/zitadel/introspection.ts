/**
 * The HTTP call to ZITADEL's introspection endpoint (RFC 7662), with client
 * authentication, a per-attempt timeout, bounded retries and the mapping of
 * every answer to a result or one of our errors.
 */
import { ConfigError, IntrospectionUnavailableError } from '../errors';
import { signClientAssertion } from './assertion';
import { basicCredentials, isPlainObject, parseJson, redactSecrets } from './encoding';
import {
  BodyTooLargeError,
  pause,
  readBoundedText,
  RequestFailure,
  send,
  type Exchange,
} from './http';
import type { SigningKey } from './key-file';
import { withReason } from '../telemetry/decision';
import { traceHttp, type ReportHttpResult } from '../telemetry/http-tracing';

/**
 * How we authenticate to the introspection endpoint.
 *
 * @example
 * ```ts
 * const auth: ClientAuthentication = { method: 'private_key_jwt', clientId: key.clientId, key };
 * ```
 */
export type ClientAuthentication =
  | { method: 'private_key_jwt'; clientId: string; key: SigningKey }
  | { method: 'client_secret_basic'; clientId: string; clientSecret: string };

/**
 * Options of {@link introspectToken}.
 *
 * @example
 * ```ts
 * const options: IntrospectionCallOptions = {
 *   endpoint, audience: issuer, auth, timeoutMs: 5000, retries: 1, onAttempt: () => stats.introspections++,
 * };
 * ```
 */
export interface IntrospectionCallOptions {
  endpoint: string;
  /** The client assertion's `aud`: the issuer. */
  audience: string;
  auth: ClientAuthentication;
  /** Per HTTP attempt, including reading the body. */
  timeoutMs: number;
  /** Extra attempts after a network error, a timeout or a 5xx. */
  retries: number;
  /** Default: the global fetch (the introspector passes its own pool). */
  fetch?: typeof fetch;
  /** Called once per HTTP request sent, retries included. */
  onAttempt?: () => void;
  /** Aborts the call, including a pause between attempts. */
  signal?: AbortSignal;
}

/**
 * A 429 or 503 that carried `Retry-After`: ZITADEL asked us to back off, so
 * the call is not retried and `retryAfterSeconds` (capped at 60) says for how long.
 *
 * @example
 * ```ts
 * catch (e) { if (e instanceof ServerBusyError) openCircuitFor(e.retryAfterSeconds); }
 * ```
 */
export class ServerBusyError extends IntrospectionUnavailableError {}

/**
 * A 429 without a usable `Retry-After` (ZITADEL Cloud's per-IP limit, a
 * blocked instance): not retried; the caller backs off by its own schedule
 * (1, 2, 4, … s), since calling on gets the IP banned.
 *
 * @example
 * ```ts
 * catch (e) { if (e instanceof RateLimitedError) backOff(); }
 * ```
 */
export class RateLimitedError extends IntrospectionUnavailableError {}

const MAX_RETRY_PAUSE_MS = 200;

/**
 * Asks the introspection endpoint about `token` and returns its answer as is
 * (`active: false` is a normal result; the caller decides).
 *
 * A fresh client assertion is signed for every HTTP attempt. Redirects are
 * not followed, bodies over 1 MiB are abandoned.
 *
 * @throws {IntrospectionUnavailableError} unreachable, timed out, 3xx, 429,
 * other 4xx, 5xx (after `retries`), a body over 1 MiB, or a malformed answer.
 * @throws {ServerBusyError} a 429 or 503 with `Retry-After`.
 * @throws {RateLimitedError} a 429 without `Retry-After`.
 * @throws {ConfigError} HTTP 400/401: ZITADEL rejected our client authentication.
 *
 * @example
 * ```ts
 * const answer = await introspectToken(token, {
 *   endpoint: 'https://acme.zitadel.cloud/oauth/v2/introspect',
 *   audience: 'https://acme.zitadel.cloud',
 *   auth: { method: 'private_key_jwt', clientId: key.clientId, key },
 *   timeoutMs: 5000,
 *   retries: 1,
 * });
 * if (answer.active === true) grant();
 * ```
 */
export async function introspectToken(
  token: string,
  options: IntrospectionCallOptions,
): Promise<Record<string, unknown>> {
  for (let attempt = 0; ; attempt++) {
    const outcome = await attemptOnce(token, options, attempt + 1);
    if ('answer' in outcome) return outcome.answer;
    if (!outcome.retryable || attempt >= options.retries) throw outcome.error;
    try {
      await pause(Math.random() * MAX_RETRY_PAUSE_MS, options.signal);
    } catch {
      throw aborted();
    }
  }
}

type Outcome = { answer: Record<string, unknown> } | { error: Error; retryable: boolean };

async function attemptOnce(
  token: string,
  options: IntrospectionCallOptions,
  attempt: number,
): Promise<Outcome> {
  if (options.signal?.aborted) return { error: aborted(), retryable: false };
  const request = await buildRequest(token, options);
  options.onAttempt?.();
  return traceHttp(
    { kind: 'introspection', endpoint: options.endpoint, attempt },
    (report) => exchangeOnce(request, options, report),
    (outcome) => ('error' in outcome ? outcome.error : undefined),
  );
}

async function exchangeOnce(
  request: Awaited<ReturnType<typeof buildRequest>>,
  options: IntrospectionCallOptions,
  report: ReportHttpResult,
): Promise<Outcome> {
  let exchange: Exchange;
  try {
    exchange = await send(
      options.fetch ?? globalThis.fetch,
      options.endpoint,
      request.init,
      options.timeoutMs,
      options.signal,
    );
  } catch (error) {
    return fromFailure(error as RequestFailure);
  }

  const { status } = exchange.response;
  const outcome = await answerOf(exchange, options, request.secrets);
  report('answer' in outcome ? { status, active: outcome.answer.active === true } : { status });
  return outcome;
}

/** Maps a response to an answer or one of our errors, by its status. */
async function answerOf(
  exchange: Exchange,
  options: IntrospectionCallOptions,
  secrets: string[],
): Promise<Outcome> {
  const { status, headers } = exchange.response;
  const retryAfterSeconds = retryAfterOf(headers.get('retry-after'));
  const unavailable = (description: string, retryable = false): Outcome => ({
    error: new IntrospectionUnavailableError(description, { retryAfterSeconds }),
    retryable,
  });

  if (status === 200) return readAnswer(exchange);
  if (status === 400 || status === 401) return rejection(exchange, options, secrets);
  exchange.discard();
  if ((status === 429 || status === 503) && retryAfterSeconds !== undefined) {
    const error = new ServerBusyError(
      `introspection endpoint is busy (HTTP ${status}, Retry-After ${retryAfterSeconds} s)`,
      { retryAfterSeconds },
    );
    return { error, retryable: false };
  }
  if (status >= 500) return unavailable(`introspection endpoint answered HTTP ${status}`, true);
  if (status >= 300 && status < 400) {
    return unavailable(
      `introspection endpoint redirected (HTTP ${status}); redirects are not followed, check the introspection endpoint URL`,
    );
  }
  if (status === 429) {
    const error = new RateLimitedError(
      'introspection endpoint is rate limiting (HTTP 429 without Retry-After)',
    );
    return { error, retryable: false };
  }
  return unavailable(`introspection endpoint answered HTTP ${status}`);
}

/**
 * ZITADEL's `Retry-After` as we honour it: whole delta-seconds of at least 1,
 * capped at 60. An HTTP-date (clock skew makes it meaningless) or a value
 * below 1 counts as none.
 */
function retryAfterOf(header: string | null): number | undefined {
  const text = header?.trim();
  if (text === undefined || !/^\d+$/.test(text)) return undefined;
  const seconds = Number(text);
  return seconds >= 1 ? Math.min(seconds, 60) : undefined;
}

async function buildRequest(token: string, options: IntrospectionCallOptions) {
  const { auth } = options;
  const form = new URLSearchParams({ token, token_type_hint: 'access_token' });
  const headers: Record<string, string> = {
    accept: 'application/json',
    'content-type': 'application/x-www-form-urlencoded',
  };
  const secrets = [token];
  if (auth.method === 'private_key_jwt') {
    const assertion = await signClientAssertion(auth.key, auth.clientId, options.audience);
    form.set('client_assertion_type', 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer');
    form.set('client_assertion', assertion);
    secrets.push(assertion);
  } else {
    const encoded = basicCredentials(auth.clientId, auth.clientSecret);
    headers.authorization = `Basic ${encoded}`;
    secrets.push(auth.clientSecret, encoded);
  }
  return { init: { method: 'POST', headers, body: form.toString() }, secrets };
}

async function readAnswer(exchange: Exchange): Promise<Outcome> {
  const malformed = (why: string): Outcome => ({
    error: new IntrospectionUnavailableError(`malformed introspection answer: ${why}`),
    retryable: false,
  });
  let text: string;
  try {
    text = await exchange.read(readBoundedText);
  } catch (error) {
    if (error instanceof BodyTooLargeError) return malformed('larger than 1 MiB, not read');
    return fromFailure(error as RequestFailure);
  }
  const answer = parseJson(text);
  if (answer === undefined) return malformed('not JSON');
  if (!isPlainObject(answer)) return malformed('not a JSON object');
  if (typeof answer.active !== 'boolean') return malformed('active is missing or not a boolean');
  return { answer };
}

/**
 * HTTP 400/401 is ZITADEL rejecting our client authentication — except a 400
 * `unsupported_token_type`, which some servers (oidc-provider for a JWT-shaped
 * token) send about the *caller's* token: that token is not active for us, and
 * must not turn into a 500 and an error log that any caller could trigger.
 */
async function rejection(
  exchange: Exchange,
  options: IntrospectionCallOptions,
  secrets: string[],
): Promise<Outcome> {
  const { status } = exchange.response;
  const body = await exchange.read(readBoundedText).catch(() => '');
  const parsed = parseJson(body);
  if (status === 400 && isPlainObject(parsed) && parsed.error === 'unsupported_token_type') {
    return { answer: { active: false } };
  }
  const details: string[] = [];
  if (isPlainObject(parsed)) {
    const { error, error_description: description } = parsed;
    if (typeof error === 'string') details.push(redactSecrets(error, secrets, 60));
    if (typeof description === 'string') details.push(redactSecrets(description, secrets, 200));
  }
  const hint =
    options.auth.method === 'private_key_jwt'
      ? 'is the key revoked, is it the key of another application, or is the issuer wrong?'
      : 'are the client id and secret right, and is the issuer right?';
  const what = [`HTTP ${status}`, ...details].join(' ');
  const error = new ConfigError(`ZITADEL rejected our client authentication (${what}) - ${hint}`, {
    field: options.auth.method === 'private_key_jwt' ? 'key' : 'clientSecret',
  });
  return { error: withReason(error, 'client_auth_rejected'), retryable: false };
}

function fromFailure(failure: RequestFailure): Outcome {
  if (failure.reason === 'aborted') return { error: aborted(), retryable: false };
  const description =
    failure.reason === 'timeout'
      ? `introspection ${failure.detail}`
      : `introspection endpoint unreachable (${failure.detail})`;
  return { error: new IntrospectionUnavailableError(description), retryable: true };
}

function aborted(): IntrospectionUnavailableError {
  return new IntrospectionUnavailableError('introspection aborted: the introspector is closing');
}
