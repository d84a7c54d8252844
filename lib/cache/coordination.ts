/**
 * The fleet's transport over one Redis: the subscriber on the fleet's event
 * channel, sealed messages, the lock, the refusing writes and the eviction
 * scripts. Every operation is bounded by the store deadline and rejects when
 * it passes ("Redis unavailable": the caller then acts alone).
 */
import { randomBytes } from 'node:crypto';
import { rateLimitedLog, type Logger } from '../logger';
import type { Envelope } from './envelope';
import type { FleetLink, FleetMessage } from './fleet-link';
import * as scripts from './fleet-scripts';
import { luaScript, type LuaScript, type RedisCommands, type Subscription } from './redis-commands';
import type { SharedTier } from './shared-tier';
import { deadline } from './deadline';

/** How long a lock lives without renewal (DESIGN: `SET … NX PX 2000`). */
export const LOCK_MS = 2_000;

/** How long owner, jti and fleet-wide eviction markers last (24 h). */
const MARKER_MS = 24 * 3600 * 1000;

/**
 * What {@link createCoordinator} needs.
 *
 * @example
 * ```ts
 * const options: CoordinatorOptions = { prefix: 'zitadel:introspection:', scope, envelope,
 *   logger, now: Date.now, timeoutMs: 50, tombstoneMs: 12_000, onReconnect: () => cache.clear() };
 * ```
 */
export interface CoordinatorOptions {
  prefix: string;
  /** Hash of the issuer and API app: the hash tag of every key and the channel's suffix. */
  scope: string;
  envelope: Envelope;
  logger: Logger;
  now: () => number;
  /** Deadline of each Redis operation (`storeTimeoutMs`). */
  timeoutMs: number;
  /** Lifetime of a tombstone: ≥ lock time + the longest call. */
  tombstoneMs: number;
  /** The subscriber reconnected: evictions may have been missed. */
  onReconnect(): void;
}

/**
 * A lock attempt: `won` when this replica makes the call. `startedAt` is
 * Redis's time of the attempt (0 when Redis did not answer).
 *
 * @example
 * ```ts
 * const lock = await coordinator.lock(key);
 * try { if (lock.won) await call(); } finally { await lock.release(); }
 * ```
 */
export interface FleetLock {
  won: boolean;
  startedAt: number;
  release(): Promise<void>;
}

/**
 * The transport of one fleet (one issuer and API app on one Redis).
 *
 * @example
 * ```ts
 * const coordinator = createCoordinator(redisCommands(client), options);
 * await coordinator.ready(5_000);
 * ```
 */
export interface Coordinator extends FleetLink {
  readonly shared: SharedTier;
  /** Subscribes (once); resolves within `waitMs`, never rejects. `false` = working alone. */
  ready(waitMs: number): Promise<boolean>;
  /** The event subscription is up right now (false before it, while it reconnects, after close). */
  subscribed(): boolean;
  lock(key: string): Promise<FleetLock>;
  /** The stored value of `key` and the PTTL of its lock (≤ 0: no holder). */
  poll(key: string): Promise<{ value: string | undefined; lockTtl: number }>;
  /** Tombstones and deletes; resolves with the eviction's Redis time. */
  evictKeys(keys: string[]): Promise<number>;
  /** Tombstones a subject or session (ids are HMACs) and evicts its indexed keys one by one. */
  evictOwner(owner: { subject: string } | { session: string }): Promise<number>;
  /** A fleet-wide marker of an evicted token id (an HMAC), for local JWT verification. */
  evictJti(jti: string): Promise<number>;
  evictAll(): Promise<number>;
  /** Latest Redis-side eviction time covering this jti or subject id (the epoch included). */
  evictedAt(owner: {
    jti?: string;
    subject?: string;
    session?: string;
  }): Promise<number | undefined>;
  close(): Promise<void>;
}

/**
 * Creates the transport; nothing talks to Redis until the first call.
 *
 * @example
 * ```ts
 * const coordinator = createCoordinator(redisCommands(client), options);
 * ```
 */
export function createCoordinator(redis: RedisCommands, options: CoordinatorOptions): Coordinator {
  const { envelope, logger, timeoutMs } = options;
  const tag = `${options.prefix}{${options.scope}}`;
  const key = (name: string): string => tag + name;
  const channel = `${options.prefix}events:${options.scope}`;
  const replica = randomBytes(9).toString('base64url');
  const handlers = new Set<(message: FleetMessage) => void>();
  const held = new Set<FleetLock>();
  const warnOnce = rateLimitedLog(logger, 'warn', 60_000, options.now);
  let subscribing: Promise<boolean> | undefined;
  let subscription: Subscription | undefined;
  let closed = false;
  let warnedNotReady = false;
  // Owner ids arrive as HMACs already (the envelope's id()); never a raw subject.
  const owned = (kind: 'subject' | 'session', id: string): string => `${kind}:${id}`;
  const px = String(Math.ceil(options.tombstoneMs));
  // Subject, session, jti and fleet-wide markers are what keep an evicted
  // value (evictAll deletes nothing) and an evicted JWT (verified locally
  // without a call) refused, so they outlive any cached value and any token
  // they cover: ZITADEL's access tokens live 12 h by default.
  const markerPx = String(Math.max(Math.ceil(options.tombstoneMs), MARKER_MS));

  const run = (script: LuaScript, keys: string[], args: string[]): Promise<unknown> =>
    deadline(redis.run(script, keys, args), timeoutMs);

  const receive = (text: string): void => {
    const opened = envelope.open(channel, text);
    const message = opened === undefined ? undefined : parseMessage(opened);
    if (!message) return logger.debug('fleet message ignored: does not decrypt');
    if (message.from === replica) return;
    for (const handler of handlers) handler(message.body);
  };

  const subscribe = async (): Promise<boolean> => {
    const current = redis.subscribe(channel, {
      message: receive,
      reconnected: () => {
        logger.warn(
          'fleet: the Redis subscriber reconnected; memory tier cleared (evictions may have been missed)',
        );
        options.onReconnect();
      },
      error: (error) => warnOnce(`fleet subscriber error: ${String(error).slice(0, 200)}`),
    });
    subscription = current;
    try {
      await current.ready;
      return true;
    } catch (error) {
      if (closed) return false;
      logger.warn(
        `fleet: no Redis subscription (${String(error).slice(0, 200)}); this replica works alone`,
      );
      return false;
    }
  };

  const shared: SharedTier = {
    read: (name) =>
      run(scripts.READ, [key(`v:${name}`), key(`lock:${name}`)], []).then(
        (reply) => (Array.isArray(reply) && typeof reply[0] === 'string' ? reply[0] : undefined),
        () => undefined,
      ),
    async write(name, value, ttlMs, meta) {
      const keys = [
        key(`v:${name}`),
        key(`tomb:${name}`),
        key(`tomb:${owned('subject', meta.subject)}`),
        key('epoch'),
        key(owned('subject', meta.subject)),
        key(
          meta.session === undefined
            ? owned('subject', meta.subject)
            : owned('session', meta.session),
        ),
      ];
      try {
        const args = [value(), String(Math.max(1, Math.ceil(ttlMs))), String(meta.startedAt), name];
        return (await run(scripts.WRITE, keys, args)) === 1;
      } catch (error) {
        warnOnce(`cache store set failed (${String(error).slice(0, 200)})`);
        return false;
      }
    },
    async remove(name) {
      await evictKeys([name]).catch(() => undefined);
    },
  };

  async function evictKeys(names: string[]): Promise<number> {
    let at = 0;
    // One key at a time: no multi-key command spans the members of an index.
    for (const name of names) {
      const reply = await run(scripts.TOMBSTONE, [key(`tomb:${name}`), key(`v:${name}`)], [px]);
      at = Math.max(at, Number(reply));
    }
    return at;
  }

  return {
    shared,
    key,
    eval: (source, keys, args) => run(luaScriptOf(source), keys, args),
    async publish(message) {
      const text = envelope.seal(channel, JSON.stringify({ from: replica, body: message }));
      await deadline(redis.publish(channel, text), timeoutMs).catch(() => undefined);
    },
    onMessage(handler) {
      handlers.add(handler);
      return () => void handlers.delete(handler);
    },

    subscribed: () => !closed && subscription?.live() === true,

    ready(waitMs) {
      if (closed) return Promise.resolve(false);
      subscribing ??= subscribe();
      return deadline(subscribing, waitMs).catch(() => {
        if (!warnedNotReady) {
          warnedNotReady = true;
          logger.warn(
            'fleet: the Redis subscription is not ready; this replica works alone meanwhile',
          );
        }
        return false;
      });
    },

    async lock(name) {
      const token = randomBytes(12).toString('base64url');
      const lockKey = key(`lock:${name}`);
      let timer: ReturnType<typeof setInterval> | undefined;
      const lock: FleetLock = {
        won: false,
        startedAt: 0,
        async release() {
          clearInterval(timer);
          held.delete(lock);
          // Also after a SET that timed out: it may have landed after all.
          await run(scripts.UNLOCK, [lockKey], [token]).catch(() => undefined);
        },
      };
      try {
        const reply = (await run(scripts.LOCK, [lockKey], [token, String(LOCK_MS)])) as unknown[];
        lock.won = Number(reply[0]) === 1;
        lock.startedAt = Number(reply[1]);
      } catch {
        // Redis unavailable: work alone, judged as of an unknown start.
        lock.won = true;
        return lock;
      }
      if (lock.won) {
        held.add(lock);
        timer = setInterval(() => {
          run(scripts.RENEW, [lockKey], [token, String(LOCK_MS)]).catch(() => undefined);
        }, LOCK_MS / 2);
        timer.unref();
      }
      return lock;
    },

    async poll(name) {
      const reply = await run(scripts.READ, [key(`v:${name}`), key(`lock:${name}`)], []);
      // The script always answers {value or false, PTTL}.
      const [value, ttl] = reply as unknown[];
      return { value: typeof value === 'string' ? value : undefined, lockTtl: Number(ttl) };
    },

    evictKeys,

    async evictOwner(owner) {
      const name =
        'subject' in owner ? owned('subject', owner.subject) : owned('session', owner.session);
      const at = Number(await run(scripts.TOMBSTONE, [key(`tomb:${name}`)], [markerPx]));
      const members = await run(scripts.INDEX_MEMBERS, [key(name)], []);
      const names = (members as unknown[]).filter((m): m is string => typeof m === 'string');
      await evictKeys(names);
      return at;
    },

    async evictJti(jti) {
      return Number(await run(scripts.TOMBSTONE, [key(`tomb:jti:${jti}`)], [markerPx]));
    },

    async evictAll() {
      return Number(await run(scripts.TOMBSTONE, [key('epoch')], [markerPx]));
    },

    async evictedAt({ jti, subject, session }) {
      const keys = [
        key(`tomb:jti:${jti ?? '-'}`),
        key(`tomb:${owned('subject', subject ?? '-')}`),
        key('epoch'),
        key(`tomb:${owned('session', session ?? '-')}`),
      ];
      const reply = await run(scripts.MARKERS, keys, []);
      const times = (reply as unknown[]).map(Number).filter((t) => t > 0);
      return times.length > 0 ? Math.max(...times) : undefined;
    },

    async close() {
      closed = true;
      handlers.clear();
      await Promise.all([...held].map((lock) => lock.release()));
      await subscription?.close().catch(() => undefined);
    },
  };
}

const compiled = new Map<string, LuaScript>();
function luaScriptOf(source: string): LuaScript {
  let script = compiled.get(source);
  if (!script) compiled.set(source, (script = luaScript(source)));
  return script;
}

function parseMessage(text: string): { from: unknown; body: FleetMessage } | undefined {
  try {
    const parsed = JSON.parse(text) as { from?: unknown; body?: { type?: unknown } };
    if (typeof parsed?.body?.type !== 'string') return undefined;
    return { from: parsed.from, body: parsed.body as FleetMessage };
  } catch {
    return undefined;
  }
}
