/**
 * The TTL rules (RFC 7662 §4) and the shape of an answer in a shared store:
 * `{"claims":{…},"expiresAt":ms,"startedAt":ms,"source":"jwt"}` — the
 * answer, when the store entry ends, when the work that produced it began (so
 * an eviction after that start makes it a miss), and who decided it when that
 * was not ZITADEL's introspection (`"jwt"`: a locally verified JWT, so
 * `req.auth.source` says so on every replica). `source` is optional both
 * ways: an entry written before it existed reads as an introspection answer,
 * and a replica that predates it ignores the member. The sealed format
 * (envelope.ts, `z1.`) is unchanged.
 */

/** The TTL settings {@link ttlMs} needs. */
export interface TtlRules {
  maxTtlSeconds: number;
  inactiveTtlSeconds: number;
  clockToleranceSeconds: number;
}

/**
 * TTL in ms by the RFC 7662 §4 rules, or undefined when the answer is not to be cached.
 *
 * @example
 * ```ts
 * ttlMs({ active: true, exp: now / 1000 + 60 }, now, rules); // 55_000 with a 5 s tolerance
 * ```
 */
export function ttlMs(
  claims: Record<string, unknown>,
  now: number,
  rules: TtlRules,
): number | undefined {
  let ttl: number;
  if (claims.active === true) {
    if (typeof claims.exp !== 'number' || !Number.isFinite(claims.exp)) return undefined;
    const untilExp = claims.exp * 1000 - now - rules.clockToleranceSeconds * 1000;
    ttl = Math.min(rules.maxTtlSeconds * 1000, untilExp);
  } else if (claims.active === false) {
    ttl = rules.inactiveTtlSeconds * 1000;
  } else {
    return undefined;
  }
  return ttl > 0 ? ttl : undefined;
}

/**
 * A decoded store value.
 *
 * @example
 * ```ts
 * const stored = decodeStoredAnswer(raw, Date.now());
 * if (typeof stored !== 'string') use(stored.claims);
 * ```
 */
export interface StoredAnswer {
  claims: Record<string, unknown>;
  expiresAt: number;
  /** Start of the work that wrote it; 0 when the writer did not say. */
  startedAt: number;
  /** Who decided, when not an introspection (`'jwt'`); absent in older entries. */
  source?: string;
}

/**
 * Parses a store value; a string says why it is not usable.
 *
 * @example
 * ```ts
 * decodeStoredAnswer('[]', Date.now()); // 'unknown shape'
 * ```
 */
export function decodeStoredAnswer(raw: string, now: number): StoredAnswer | string {
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    return 'not JSON';
  }
  if (!isRecord(parsed) || !isRecord(parsed.claims)) return 'unknown shape';
  const { claims, expiresAt, startedAt, source } = parsed;
  if (typeof claims.active !== 'boolean') return 'claims.active is not a boolean';
  if (typeof expiresAt !== 'number' || !Number.isFinite(expiresAt)) return 'no expiresAt';
  if (expiresAt <= now) return 'expired';
  const answer: StoredAnswer = {
    claims,
    expiresAt,
    startedAt: typeof startedAt === 'number' ? startedAt : 0,
  };
  if (typeof source === 'string') answer.source = source;
  return answer;
}

/**
 * The subject an answer belongs to, as `AuthInfo.subject` has it: `sub`,
 * else `client_id`, else `''`.
 *
 * @example
 * ```ts
 * subjectOf({ active: true, client_id: 'svc' }); // 'svc'
 * ```
 */
export function subjectOf(claims: Record<string, unknown>): string {
  if (typeof claims.sub === 'string' && claims.sub !== '') return claims.sub;
  return typeof claims.client_id === 'string' ? claims.client_id : '';
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
