/**
 * The result cache (RFC 7662 §4): TTL rules, a memory tier in front of an
 * optional shared store, and stale copies for stale-if-error. It knows
 * introspection answers only by their `active` and `exp` members; what the
 * memory tier holds (`V`) is whatever the caller derives from an answer.
 */
import { types } from 'node:util';
import type { Envelope } from './envelope';
import { createEvictionLedger } from './eviction-ledger';
import { createMemoryTier, type MemoryEntry } from './memory-store';
import { refreshAtOf } from './refresh-ahead';
import type { CacheLookup, ResultCache, ResultCacheOptions } from './result-cache-api';
import { decodeStoredAnswer, subjectOf, ttlMs } from './stored-answer';
import { plainTier } from './shared-tier';
import { createSubjectIndex, sessionOf, type IndexOwner } from './subject-index';

export type { CacheStore } from './cache-store';
export { cacheKey } from './cache-store';
export type { CacheLookup, ResultCache, ResultCacheOptions } from './result-cache-api';

/**
 * Creates the result cache.
 *
 * @example
 * ```ts
 * const cache = createResultCache<AuthInfo>({
 *   maxEntries: 10_000, maxTtlSeconds: 300, inactiveTtlSeconds: 10, clockToleranceSeconds: 5,
 *   staleIfErrorSeconds: 30, store: new RedisStore(redis), storeTimeoutMs: 50,
 *   now: Date.now, logger, revive: (claims) => toAuthInfo(claims),
 * });
 * const key = cacheKey(issuer, clientId, token);
 * const hit = await cache.get(key);
 * ```
 */
export function createResultCache<V>(options: ResultCacheOptions<V>): ResultCache<V> {
  const { now, logger } = options;
  const memory = createMemoryTier<V>({
    maxEntries: options.maxEntries,
    staleIfErrorMs: options.staleIfErrorSeconds * 1000,
  });
  const ledger =
    options.ledger ??
    createEvictionLedger({
      retainMs: options.maxTtlSeconds * 1000 + 60_000,
      markerRetainMs: 24 * 3600 * 1000,
      now,
    });
  const shared = options.shared ?? (options.store && plainTier(options.store, options));
  const ownerId = options.ownerId ?? ((_kind: string, raw: string) => raw);
  const subjectId = (claims: Record<string, unknown>): string =>
    ownerId('subject', subjectOf(claims));
  const sessionId = (claims: Record<string, unknown>): string | undefined => {
    const session = sessionOf(claims.jti);
    return session === undefined ? undefined : ownerId('session', session);
  };
  const ttlOf = (claims: Record<string, unknown>, at: number): number | undefined =>
    ttlMs(claims, at, options);
  /** The subject and session ids of an entry, from the raw strings it keeps. */
  const idsOf = (entry: MemoryEntry<V>): [string | undefined, string | undefined] => {
    const subject = entry.active && entry.subject !== undefined ? entry.subject : undefined;
    const session = sessionOf(entry.jti);
    return [
      subject === undefined ? undefined : ownerId('subject', subject),
      session === undefined ? undefined : ownerId('session', session),
    ];
  };
  /**
   * Whether a key the index found under an owner's hash is that owner's. A key
   * the tier no longer holds cannot be checked and is taken, as before the
   * index was hashed (its eviction is still recorded; nothing is refused by it).
   */
  const owns = (key: string, owner: IndexOwner): boolean => {
    const entry = memory.peek(key);
    if (entry === undefined) return true;
    const [subject, session] = idsOf(entry);
    return 'subject' in owner ? subject === owner.subject : session === owner.session;
  };
  const index = createSubjectIndex(memory.has, options.maxEntries, owns);
  /** The envelope, `null` when values go unsealed, `undefined` when not ready (skip the store). */
  const envelope = (): Envelope | null | undefined =>
    options.envelope ? options.envelope() : null;

  /** The memory entry of a cacheable answer, or undefined when no value can be had. */
  const toEntry = (
    claims: Record<string, unknown>,
    expiresAt: number,
    value: V | undefined,
    at: number,
    source?: string,
  ): MemoryEntry<V> | undefined => {
    // The raw owner strings (held by the value anyway) let the index confirm its hashed buckets.
    const jti = typeof claims.jti === 'string' ? claims.jti : undefined;
    if (claims.active !== true) return { active: false, expiresAt, jti };
    // A cacheable active answer has a numeric exp (see ttlMs).
    const tokenExpiresAt = (claims.exp as number) * 1000;
    const refreshAt = refreshAtOf(at, expiresAt, tokenExpiresAt, options);
    const subject = subjectOf(claims);
    try {
      const revived = value !== undefined ? value : options.revive(claims, source);
      return { active: true, value: revived, expiresAt, tokenExpiresAt, refreshAt, subject, jti };
    } catch (error) {
      logger.debug(`cache entry ignored: revive failed (${errorName(error)})`);
      return undefined;
    }
  };

  const remember = (key: string, entry: MemoryEntry<V>): void => {
    const held = memory.peek(key);
    memory.set(key, entry);
    // The index does not map keys to owners: an entry replaced for other owners unlinks the old ones.
    if (held && (ownerOf(held) !== ownerOf(entry) || held.jti !== entry.jti)) {
      index.remove(key, ...idsOf(held));
    }
    index.add(key, ...idsOf(entry));
  };

  const readStore = async (
    key: string,
    work = ledger.begin(0),
    adopt = false,
  ): Promise<CacheLookup<V> | undefined> => {
    const seal = envelope();
    if (!shared || seal === undefined) return undefined;
    const raw = await shared.read(key);
    if (raw === undefined) return undefined;
    const text = seal ? seal.open(`cache:${key}`, raw) : raw;
    const at = now();
    const stored = text === undefined ? 'does not decrypt' : decodeStoredAnswer(text, at);
    if (typeof stored === 'string') {
      logger.debug(`cache store entry ignored: ${stored}`);
      return undefined;
    }
    const subject = subjectId(stored.claims);
    if (ledger.covers(key, subject, stored.startedAt, work)) {
      logger.debug('cache store entry ignored: stored before an eviction');
      return undefined;
    }
    // Held to this instance's own rules, so a foreign writer cannot stretch a TTL.
    const limit = ttlOf(stored.claims, at);
    if (stored.claims.active === true && limit === undefined) {
      logger.debug('cache store entry ignored: active answer without a usable exp');
      return undefined;
    }
    const entry = toEntry(
      stored.claims,
      Math.min(stored.expiresAt, at + (limit ?? 0)),
      undefined,
      at,
      stored.source,
    );
    if (!entry) return undefined;
    // A concurrent set() already holds a newer answer (refresh-ahead adopts
    // one that ends later); an eviction meanwhile wins.
    const held = memory.fresh(key, at);
    const newer = !held || (adopt && (!entry.active || entry.expiresAt > held.expiresAt));
    if (limit !== undefined && ledger.allows(work, key, subject) && newer) {
      remember(key, entry);
      if (adopt) return lookupOf(entry);
    }
    return adopt ? undefined : lookupOf(entry);
  };

  const dropKey = (key: string): void => {
    memory.delete(key);
  };

  return {
    ledger,
    begin: (startedAt) => ledger.begin(startedAt ?? now()),

    peek(key) {
      const at = now();
      const entry = memory.fresh(key, at);
      if (!entry) return undefined;
      // Refresh-ahead costs the hit path one comparison; the entry itself is
      // a lookup (a superset of its fields), so a hit allocates nothing here.
      return entry.active && at >= (entry.refreshAt ?? Infinity)
        ? { active: true, value: entry.value, refreshDue: true }
        : entry;
    },

    async adoptFromStore(key, work) {
      return (await readStore(key, work ?? ledger.begin(now()), true)) !== undefined;
    },

    async get(key, work) {
      const entry = memory.fresh(key, now());
      if (entry) return lookupOf(entry);
      return readStore(key, work);
    },

    getShared: (key, work) => readStore(key, work),

    async set(key, { claims, value, source }, work) {
      const at = now();
      const started = work ?? ledger.begin(at);
      const subject = subjectId(claims);
      // An eviction since the work began: its answer is not written back anywhere.
      if (!ledger.allows(started, key, subject)) return false;
      const ttl = ttlOf(claims, at);
      if (ttl === undefined) {
        // Whatever was kept for this key (a stale copy above all) is older than this answer.
        memory.delete(key);
        return false;
      }
      const expiresAt = at + ttl;
      const entry = toEntry(claims, expiresAt, value, at);
      if (entry) remember(key, entry);
      else memory.delete(key);
      const seal = envelope();
      if (!shared || seal === undefined) return false;
      // Serialized lazily, inside the tier's guard: a value that cannot be is a failed write.
      const sealed = (): string => {
        const json = JSON.stringify({ claims, expiresAt, startedAt: started.startedAt, source });
        return seal ? seal.seal(`cache:${key}`, json) : json;
      };
      const meta = { startedAt: started.startedAt, subject, session: sessionId(claims) };
      return shared.write(key, sealed, ttl, meta);
    },

    getStale(key) {
      return memory.stale(key, now());
    },

    async delete(key) {
      ledger.evict({ key }, now());
      dropKey(key);
      await shared?.remove(key);
    },

    drop(target, at) {
      if ('session' in target) {
        ledger.evict(target, at);
        for (const key of index.take(target)) {
          ledger.evict({ key }, at);
          dropKey(key);
        }
        return;
      }
      ledger.evict(target, at);
      if ('key' in target) dropKey(target.key);
      else if ('subject' in target) index.take(target).forEach(dropKey);
      else {
        memory.clear();
        index.clear();
      }
    },

    clear() {
      // Marks a generation (no fleet time), so store reads in flight do not refill memory.
      ledger.evict({ all: true }, Number.NEGATIVE_INFINITY);
      memory.clear();
      index.clear();
    },
  };
}

function ownerOf<V>(entry: MemoryEntry<V>): string | undefined {
  return entry.active ? entry.subject : undefined;
}

function lookupOf<V>(entry: MemoryEntry<V>): CacheLookup<V> {
  return entry.active ? { active: true, value: entry.value } : { active: false };
}

function errorName(error: unknown): string {
  return types.isNativeError(error) ? error.name : typeof error;
}
