/**
 * The issuer's JSON Web Key Set for local JWT verification: fetched over the
 * introspector's own wire (pool, timeout, close signal), kept per its
 * `Cache-Control: max-age` (60 s – 24 h), refetched at most once per cooldown
 * for an unknown `kid`, and the last good set kept for up to 24 h while the
 * JWKS cannot be fetched.
 */
import type { KeyObject } from 'node:crypto';
import type { JWK } from 'jose';
import { IntrospectionUnavailableError } from '../errors';
import { importPublicKey } from './jws-signature';
import type { Logger } from '../logger';
import { withReasonWord } from '../telemetry/log-reason';
import { isPlainObject, parseJson } from './encoding';
import { BodyTooLargeError, readBoundedText, RequestFailure, send } from './http';

/**
 * Options of {@link createJwks}.
 *
 * @example
 * ```ts
 * const options: JwksOptions = { uri: async () => `${issuer}/oauth/v2/keys`, timeoutMs: 5000, cooldownMs: 30_000 };
 * ```
 */
export interface JwksOptions {
  /** Where the set lives: `jwt.jwksUri` or discovery's `jwks_uri`. */
  uri: () => Promise<string>;
  fetch?: typeof fetch;
  timeoutMs: number;
  /** An unknown `kid` (or a failed fetch) refetches at most this often. */
  cooldownMs: number;
  /** Ends a fetch in flight (the introspector's `close()`). */
  signal?: AbortSignal;
  now?: () => number;
  logger?: Logger;
}

/**
 * What {@link Jwks.keysFor} finds: the JWK of that `kid` with its public key
 * (imported once per fetched set; `undefined` when the JWK is no usable
 * public key), or that the freshly fetched set has no key of that `kid` (the
 * token's fault: 401).
 *
 * @example
 * ```ts
 * const found: KeyLookup = await jwks.keysFor(kid);
 * if (found === 'unknown') reject('unknown kid');
 * else if (found.key) verifySignature(alg, found.key, signingInput, signature);
 * ```
 */
export type KeyLookup = { jwk: JWK; key: KeyObject | undefined } | 'unknown';

/**
 * The key set; see {@link createJwks}.
 *
 * @example
 * ```ts
 * const found = await jwks.keysFor(kid);
 * ```
 */
export interface Jwks {
  /**
   * The set holding `kid`. Rejects with IntrospectionUnavailableError when no
   * set younger than 24 h could be had, or when the set lacks `kid` and the
   * JWKS cannot be fetched (an outage, not the token's fault).
   */
  keysFor(kid: string): Promise<KeyLookup>;
  /** Fetches the set now (the introspector's `ready()`). */
  ready(): Promise<void>;
  /**
   * `health().jwks`: keys in the set that verifies now (0 before the first
   * fetch, or once the last good set is older than 24 h) and seconds since
   * it was fetched.
   */
  state(): { keys: number; ageSeconds: number };
  /** Drops the set; later calls fail as the close signal says. */
  close(): void;
}

const MIN_MAX_AGE_MS = 60_000;
const MAX_AGE_MS = 24 * 3600_000;
/** ZITADEL's own `max-age` for `/oauth/v2/keys`; used when the answer names none. */
const DEFAULT_MAX_AGE_MS = 300_000;
/** How long the last good set serves while the JWKS cannot be fetched. */
const LAST_GOOD_MS = 24 * 3600_000;

interface KeySet {
  kids: Map<string, JWK>;
  /** Public keys by kid, imported on first use: a set is replaced, never edited. */
  imported: Map<string, KeyObject | undefined>;
  fetchedAt: number;
  expiresAt: number;
}

/**
 * Creates the JWKS cache. A successful fetch replaces the whole set, so a key
 * the issuer removed stops verifying; keys live in a `Map` by `kid` (never a
 * plain object), and no `kid` is ever logged.
 *
 * @example
 * ```ts
 * const jwks = createJwks({ uri: async () => jwksUri, timeoutMs: 5000, cooldownMs: 30_000 });
 * const found = await jwks.keysFor(header.kid);
 * if (found !== 'unknown' && found.key) verifySignature(alg, found.key, signingInput, signature);
 * ```
 */
export function createJwks(options: JwksOptions): Jwks {
  const now = options.now ?? Date.now;
  let current: KeySet | undefined;
  let lastAttemptAt = Number.NEGATIVE_INFINITY;
  // Apart from lastAttemptAt: a set fetched by ready() a moment ago must not
  // keep a freshly rotated key out for a whole cooldown.
  let lastUnknownKidFetchAt = Number.NEGATIVE_INFINITY;
  let lastFailure: IntrospectionUnavailableError | undefined;
  let inFlight: Promise<void> | undefined;

  function refresh(): Promise<void> {
    inFlight ??= fetchSet()
      .then(
        (set) => {
          current = set;
          lastFailure = undefined;
        },
        (error: IntrospectionUnavailableError) => {
          lastFailure = error;
          options.logger?.warn(withReasonWord(`JWKS: ${error.message}`, error));
        },
      )
      .finally(() => {
        inFlight = undefined;
      });
    return inFlight;
  }

  async function fetchSet(): Promise<KeySet> {
    lastAttemptAt = now();
    const uri = await options.uri();
    const unreachable = (why: string) =>
      new IntrospectionUnavailableError(`JWKS at ${uri} unreachable: ${why}`);
    let text: string;
    let maxAgeMs: number;
    try {
      const exchange = await send(
        options.fetch ?? globalThis.fetch,
        uri,
        { method: 'GET', headers: { accept: 'application/json' } },
        options.timeoutMs,
        options.signal,
      );
      const { response } = exchange;
      if (response.status < 200 || response.status > 299) {
        exchange.discard();
        throw unreachable(`HTTP ${response.status}`);
      }
      maxAgeMs = maxAgeOf(response.headers.get('cache-control'));
      text = await exchange.read(readBoundedText);
    } catch (error) {
      if (error instanceof IntrospectionUnavailableError) throw error;
      if (error instanceof BodyTooLargeError) throw unreachable('larger than 1 MiB');
      throw unreachable((error as RequestFailure).detail);
    }
    const kids = keysOf(parseJson(text));
    if (!kids) throw unreachable('not a JWKS (a JSON object with a keys array)');
    const fetchedAt = now();
    return { kids, imported: new Map(), fetchedAt, expiresAt: fetchedAt + maxAgeMs };
  }

  const usable = (at: number) =>
    current !== undefined && at - current.fetchedAt <= LAST_GOOD_MS ? current : undefined;
  const mayRetry = (at: number, since = lastAttemptAt) => at - since >= options.cooldownMs;
  const outage = () =>
    lastFailure ?? new IntrospectionUnavailableError('JWKS not available (no key set fetched yet)');

  return {
    async keysFor(kid) {
      if (options.signal?.aborted) {
        throw new IntrospectionUnavailableError('the introspector is closed');
      }
      // Expired (or never fetched): refetch, unless a failure is too recent.
      const stale = !current || now() >= current.expiresAt;
      if (stale && (!lastFailure || mayRetry(now()))) await refresh();
      let set = usable(now());
      if (!set) throw outage();
      if (set.kids.has(kid)) return lookup(set, kid);
      // A set fetched for this very call is as fresh as it gets.
      const justFetched = stale && !lastFailure;
      if (
        !justFetched &&
        mayRetry(now(), lastUnknownKidFetchAt) &&
        (!lastFailure || mayRetry(now()))
      ) {
        lastUnknownKidFetchAt = now();
        await refresh();
        set = usable(now());
        if (!set) throw outage();
        if (set.kids.has(kid)) return lookup(set, kid);
      }
      // The set lacks the kid: the token's fault, unless we could not ask.
      if (lastFailure) throw outage();
      return 'unknown';
    },
    async ready() {
      if (!current) await refresh();
      if (!usable(now())) throw outage();
    },
    state() {
      const at = now();
      const set = usable(at);
      return {
        keys: set ? set.kids.size : 0,
        ageSeconds: current ? Math.max(0, Math.floor((at - current.fetchedAt) / 1000)) : 0,
      };
    },
    close() {
      current = undefined;
    },
  };
}

/** The JWK of a kid the set holds, with its public key imported on first use. */
function lookup(set: KeySet, kid: string): KeyLookup {
  const jwk = set.kids.get(kid)!;
  if (!set.imported.has(kid)) set.imported.set(kid, importPublicKey(jwk));
  return { jwk, key: set.imported.get(kid) };
}

/** `max-age` of a Cache-Control header, within 60 s – 24 h. */
function maxAgeOf(header: string | null): number {
  const match = header ? /(?:^|[,\s])max-age=(\d+)/i.exec(header) : null;
  if (!match) return DEFAULT_MAX_AGE_MS;
  return Math.min(MAX_AGE_MS, Math.max(MIN_MAX_AGE_MS, Number(match[1]) * 1000));
}

/** The keys of a JWKS document by `kid`; keys without a `kid` cannot match our tokens. */
function keysOf(document: unknown): Map<string, JWK> | undefined {
  if (!isPlainObject(document) || !Array.isArray(document.keys)) return undefined;
  const kids = new Map<string, JWK>();
  for (const key of document.keys) {
    if (isPlainObject(key) && typeof key.kid === 'string' && typeof key.kty === 'string') {
      kids.set(key.kid, key as JWK);
    }
  }
  return kids;
}
