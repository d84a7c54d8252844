/**
 * The fleet as the introspector sees it: the envelope derived from the API
 * app's credential, the coordinating store's transport (when the store is
 * one), evictions that reach every replica, and the hooks of the event
 * webhook and local JWT verification. Works without a store (one process)
 * and with a plain store (evictions also skip its older values).
 */
import { createHash } from 'node:crypto';
import type { Logger } from '../logger';
import type { ClientAuthentication } from '../zitadel/introspection';
import type { CacheStore } from './cache-store';
import type { Coordinator } from './coordination';
import { createEnvelope, envelopeSecret, type Envelope } from './envelope';
import { createFleetFlight, type FleetFlight } from './fleet-flight';
import type { FleetHooks } from './fleet-hooks';
import type { FleetLink, FleetMessage } from './fleet-link';
import type { ResultCache } from './result-cache';
import { sessionOf } from './subject-index';
import { createSharedMemory } from './shared-memory';
import { plainTier, type SharedTier } from './shared-tier';

/**
 * What {@link createFleet} needs.
 *
 * @example
 * ```ts
 * const fleet = createFleet({ issuer, store, storeSecret, logger, now, storeTimeoutMs: 50,
 *   callMs: 10_000, credential: () => clientAuth.load() });
 * ```
 */
export interface FleetOptions {
  issuer: string;
  store?: CacheStore;
  storeSecret?: string;
  projectId?: string;
  logger: Logger;
  now: () => number;
  storeTimeoutMs: number;
  /** The longest one logical introspection can take (`timeoutMs × (retries + 1)`). */
  callMs: number;
  credential(): Promise<ClientAuthentication>;
}

/**
 * The fleet of one introspector.
 *
 * @example
 * ```ts
 * await fleet.attach();
 * await fleet.evict(key, jti);
 * ```
 */
export interface Fleet {
  /** Loads the credential, derives the envelope, attaches to the coordinating store (once). */
  attach(): Promise<void>;
  /** Attaches, then waits for the subscription at most `waitMs` (never rejects because of Redis). */
  ready(waitMs: number): Promise<void>;
  envelope(): Envelope | undefined;
  ownerId(kind: string, raw: string): string;
  /** The shared tier for the result cache (`undefined` without a store). */
  readonly shared: SharedTier | undefined;
  /** The lock protocol, once attached to a coordinating store. */
  flight(): FleetFlight | undefined;
  /** The transport for fleet policies (`undefined` without a coordinating store). */
  link(): FleetLink | undefined;
  evict(key: string, jti: string | undefined): Promise<void>;
  evictSubject(subject: string): Promise<void>;
  evictSession(session: string): Promise<void>;
  evictAll(): Promise<void>;
  hooks(projectId: string | undefined): FleetHooks;
  /**
   * `health().store`: `undefined` without a store. A store that can coordinate
   * counts as coordinating from the start, so `ok` stays false until its
   * subscription is up.
   */
  health(): { coordinating: boolean; subscribed: boolean } | undefined;
  close(): Promise<void>;
}

/**
 * Creates the fleet; `bind(cache)` connects it to the result cache it evicts from.
 *
 * @example
 * ```ts
 * const fleet = createFleet(options);
 * const cache = createResultCache({ ...rules, shared: fleet.shared, envelope: fleet.envelope });
 * fleet.bind(cache);
 * ```
 */
export function createFleet(
  options: FleetOptions,
): Fleet & { bind(cache: ResultCache<unknown>): void } {
  const { logger, now } = options;
  let cache: ResultCache<unknown> | undefined;
  let envelope: Envelope | undefined;
  let coordinator: Coordinator | undefined;
  let flight: FleetFlight | undefined;
  let attaching: Promise<void> | undefined;
  let closed = false;
  const plain = options.store && plainTier(options.store, { ...options });
  const tombstoneMs = 2_000 + options.callMs + 1_000;

  const ownerId = (kind: string, raw: string): string => (envelope ? envelope.id(kind, raw) : raw);
  const drop = (target: Parameters<ResultCache<unknown>['drop']>[0], at: number): void =>
    cache?.drop(target, at);

  const onMessage = (message: FleetMessage): void => {
    const at = Number(message.at) || now();
    if (message.type === 'evict' && Array.isArray(message.keys)) {
      const jti = typeof message.jti === 'string' ? message.jti : undefined;
      for (const key of message.keys) if (typeof key === 'string') drop({ key, jti }, at);
    } else if (message.type === 'evict-subject' && typeof message.subject === 'string') {
      drop({ subject: message.subject }, at);
    } else if (message.type === 'evict-session' && typeof message.session === 'string') {
      drop({ session: message.session }, at);
    } else if (message.type === 'evict-all') {
      drop({ all: true }, at);
    }
  };

  /** Settled once attachOnce ran: a store whose coordinate() gave nothing is plain from then on. */
  let attached = false;

  const attachOnce = async (): Promise<void> => {
    const auth = await options.credential();
    envelope ??= createEnvelope(envelopeSecret(auth, options.storeSecret));
    if (closed || coordinator || !options.store?.coordinate) return;
    attached = true;
    const scope = createHash('sha256')
      .update(`${options.issuer}\n${auth.clientId}`)
      .digest('base64url')
      .slice(0, 22);
    coordinator = options.store.coordinate({
      scope,
      envelope,
      logger,
      now,
      timeoutMs: options.storeTimeoutMs,
      tombstoneMs,
      onReconnect: () => cache?.clear?.(),
    });
    if (!coordinator) return;
    coordinator.onMessage(onMessage);
    flight = createFleetFlight(coordinator, { waitMs: options.callMs + 2_000, now });
    // Subscribe at once, not only from ready(): evictions must reach a replica nobody readied.
    void coordinator.ready(options.callMs);
  };

  /** Evicts in Redis; the fleet time of the eviction, or the local clock if Redis is away. */
  const remote = async (work: (c: Coordinator) => Promise<number>): Promise<number> => {
    if (!coordinator) return now();
    return work(coordinator).catch(() => now());
  };

  const shared: SharedTier | undefined = options.store && {
    read: (key) => (coordinator?.shared ?? plain!).read(key),
    write: (key, value, ttl, meta) => (coordinator?.shared ?? plain!).write(key, value, ttl, meta),
    remove: (key) => (coordinator?.shared ?? plain!).remove(key),
  };

  const fleet = {
    bind(bound: ResultCache<unknown>) {
      cache = bound;
    },
    health() {
      if (!options.store) return undefined;
      const coordinating = coordinator
        ? true
        : !attached && typeof options.store.coordinate === 'function';
      return { coordinating, subscribed: coordinator?.subscribed() ?? false };
    },
    attach() {
      attaching ??= attachOnce().catch((error: unknown) => {
        attaching = undefined;
        throw error;
      });
      return attaching;
    },
    async ready(waitMs: number) {
      await fleet.attach();
      if (!(await coordinator?.ready(waitMs))) return;
      // A replica that starts after an evictAll() must not serve values from before it.
      const epoch = await coordinator?.evictedAt({}).catch(() => undefined);
      if (epoch !== undefined) cache?.ledger.evict({ all: true }, epoch);
    },
    envelope: () => envelope,
    ownerId,
    shared,
    flight: () => flight,
    link: () => coordinator,

    async evict(key: string, rawJti: string | undefined) {
      await fleet.attach();
      const jti = rawJti === undefined ? undefined : ownerId('jti', rawJti);
      drop({ key, jti }, now());
      if (!coordinator) return void (await plain?.remove(key));
      const at = await remote(async (c) => {
        const times = await Promise.all([c.evictKeys([key]), jti ? c.evictJti(jti) : 0]);
        return Math.max(...times);
      });
      drop({ key, jti }, at);
      await coordinator.publish({ type: 'evict', keys: [key], jti, at });
    },

    async evictSubject(subject: string) {
      await fleet.attach();
      const id = ownerId('subject', subject);
      drop({ subject: id }, now());
      const at = await remote((c) => c.evictOwner({ subject: id }));
      drop({ subject: id }, at);
      await coordinator?.publish({ type: 'evict-subject', subject: id, at });
    },

    async evictSession(session: string) {
      await fleet.attach();
      const id = ownerId('session', session);
      drop({ session: id }, now());
      const at = await remote((c) => c.evictOwner({ session: id }));
      drop({ session: id }, at);
      await coordinator?.publish({ type: 'evict-session', session: id, at });
    },

    async evictAll() {
      await fleet.attach();
      drop({ all: true }, now());
      const at = await remote((c) => c.evictAll());
      drop({ all: true }, at);
      await coordinator?.publish({ type: 'evict-all', at });
    },

    hooks(projectId: string | undefined): FleetHooks {
      return {
        projectId,
        evictSession: (session) => fleet.evictSession(session),
        sharedMemory: (namespace) =>
          createSharedMemory(namespace, {
            coordinator: () => coordinator,
            envelope: () => envelope,
            now,
          }),
        async evictedAfter({ jti, subject, issuedAtMs }) {
          await fleet.attach();
          // Nothing evicted in this process and no fleet to ask: no id to compute (the cold path).
          if (!coordinator && !cache?.ledger.hasMarkers()) return false;
          // ZITADEL's token ids are `<oidcSessionID>.<at_id>`: a revoked session covers its JWTs.
          const session = sessionOf(jti);
          const ids = {
            jti: ownerId('jti', jti),
            subject: ownerId('subject', subject),
            session: session === undefined ? undefined : ownerId('session', session),
          };
          const local = cache?.ledger.evictedAt(ids);
          if (local !== undefined && local >= issuedAtMs) return true;
          const fleetWide = await coordinator?.evictedAt(ids).catch(() => undefined);
          return fleetWide !== undefined && fleetWide >= issuedAtMs;
        },
      };
    },

    async close() {
      closed = true;
      await coordinator?.close();
    },
  };
  return fleet;
}
