/**
 * The few Redis commands the fleet needs, over either client family —
 * ioredis (`Redis`, `Redis.Cluster`) or node-redis 4+ (`createClient`,
 * `createCluster`) — duck-typed, so neither is a dependency. Scripts run by
 * EVALSHA with an EVAL fallback; the subscriber is a `duplicate()` of the
 * caller's client, connected and `ready` before it subscribes.
 */
import { hash } from 'node:crypto';
import { deadline } from './deadline';

/** How long close() waits for Redis to confirm UNSUBSCRIBE / QUIT. */
const CLOSE_MS = 500;

/**
 * A Lua script with its SHA-1, computed once.
 *
 * @example
 * ```ts
 * const PING = luaScript("return redis.call('PING')");
 * await commands.run(PING, [key], []);
 * ```
 */
export interface LuaScript {
  source: string;
  sha: string;
}

/**
 * Wraps a Lua source.
 *
 * @example
 * ```ts
 * const GET = luaScript("return redis.call('GET', KEYS[1])");
 * ```
 */
export function luaScript(source: string): LuaScript {
  return { source, sha: hash('sha1', source, 'hex') };
}

/**
 * What the fleet calls on a client.
 *
 * @example
 * ```ts
 * const commands = redisCommands(client);
 * await commands.run(luaScript("return 1"), [key], []);
 * ```
 */
export interface RedisCommands {
  readonly family: 'ioredis' | 'node-redis';
  run(script: LuaScript, keys: string[], args: string[]): Promise<unknown>;
  publish(channel: string, message: string): Promise<unknown>;
  /** A duplicate subscribing to `channel`; `reconnected` fires on every later reconnect. */
  subscribe(channel: string, handlers: SubscriberHandlers): Subscription;
}

/** Callbacks of a subscription. */
export interface SubscriberHandlers {
  message(text: string): void;
  /** The subscriber connection came back after a disconnect. */
  reconnected(): void;
  error(error: unknown): void;
}

/** A subscription: `ready` once subscribed; `close()` unsubscribes and quits the duplicate. */
export interface Subscription {
  ready: Promise<void>;
  /** Subscribed and the connection up now (false while it reconnects): `health().store.subscribed`. */
  live(): boolean;
  close(): Promise<void>;
}

type Client = Record<string, (...args: unknown[]) => unknown> & {
  isOpen?: unknown;
  isReady?: unknown;
  status?: unknown;
};

/**
 * Adapts `client` (a node-redis client has a boolean `isOpen`; an ioredis one does not).
 *
 * @example
 * ```ts
 * const commands = redisCommands(new Redis(url));
 * ```
 */
export function redisCommands(client: unknown): RedisCommands {
  const c = client as Client;
  return typeof c.isOpen === 'boolean' ? nodeRedis(c) : ioredis(c);
}

function isNoScript(error: unknown): boolean {
  // Both clients' reply errors read "<name>: NOSCRIPT No matching script…".
  return String(error).includes('NOSCRIPT');
}

function ioredis(client: Client): RedisCommands {
  return {
    family: 'ioredis',
    async run(script, keys, args) {
      try {
        return await call(() => client.evalsha(script.sha, keys.length, ...keys, ...args));
      } catch (error) {
        if (!isNoScript(error)) throw error;
        return call(() => client.eval(script.source, keys.length, ...keys, ...args));
      }
    },
    publish: (channel, message) => call(() => client.publish(channel, message)),
    subscribe(channel, handlers) {
      const sub = client.duplicate() as Client;
      let subscribed = false;
      sub.on('error', handlers.error);
      // 'message' carries strings ('messageBuffer' would carry buffers).
      sub.on('message', (_channel: unknown, text: string) => handlers.message(text));
      sub.on('ready', () => {
        if (subscribed) handlers.reconnected();
      });
      const close = async (): Promise<void> => {
        // Bounded: a dead or stalled Redis must not hold close() up.
        await deadline(
          call(() => sub.unsubscribe()),
          CLOSE_MS,
        ).catch(() => undefined);
        sub.disconnect();
      };
      const ready = (async () => {
        if (sub.status === 'wait') await call(() => sub.connect());
        // A duplicate of a client with enableOfflineQueue: false rejects SUBSCRIBE until ready.
        if (sub.status !== 'ready') await once(sub, 'ready');
        await call(() => sub.subscribe(channel));
        subscribed = true;
      })();
      return { ready, live: () => subscribed && sub.status === 'ready', close };
    },
  };
}

function nodeRedis(client: Client): RedisCommands {
  return {
    family: 'node-redis',
    async run(script, keys, args) {
      const options = { keys, arguments: args };
      try {
        return await call(() => client.evalSha(script.sha, options));
      } catch (error) {
        if (!isNoScript(error)) throw error;
        return call(() => client.eval(script.source, options));
      }
    },
    publish: (channel, message) => call(() => client.publish(channel, message)),
    subscribe(channel, handlers) {
      const sub = client.duplicate() as Client;
      let subscribed = false;
      sub.on('error', handlers.error);
      sub.on('ready', () => {
        if (subscribed) handlers.reconnected();
      });
      const close = async (): Promise<void> => {
        if (!sub.isOpen) return;
        // A connection that is not ready (Redis dead or stalled) is cut at once.
        if (sub.isReady) {
          await deadline(
            call(() => sub.unsubscribe()),
            CLOSE_MS,
          ).catch(() => undefined);
          const quit = typeof sub.close === 'function' ? () => sub.close() : () => sub.quit();
          await deadline(call(quit), CLOSE_MS).catch(() => undefined);
        }
        if (sub.isOpen) void call(() => sub.destroy()).catch(() => undefined);
      };
      const ready = (async () => {
        // A node-redis duplicate is never connected: not until connect() resolves.
        await call(() => sub.connect());
        await call(() =>
          // Without the buffer flag the listener gets strings.
          sub.subscribe(channel, (text: string) => handlers.message(text)),
        );
        subscribed = true;
      })();
      return { ready, live: () => subscribed && sub.isReady === true, close };
    },
  };
}

/** A client method's result as a promise, a synchronous throw included. */
function call(command: () => unknown): Promise<unknown> {
  return new Promise((resolve) => resolve(command()));
}

function once(emitter: Client, event: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const onEvent = (): void => {
      emitter.removeListener('end', onEnd);
      resolve();
    };
    const onEnd = (): void => {
      emitter.removeListener(event, onEvent);
      reject(new Error('the Redis subscriber connection ended'));
    };
    emitter.once(event, onEvent);
    emitter.once('end', onEnd);
  });
}
