/**
 * The two Redis clients RedisStore supports, connected for a test, with raw
 * access to check what really is in Redis.
 */
import Redis from 'ioredis';
import { createClient } from 'redis';

export interface ClientUnderTest {
  client: unknown;
  /** Emits connection errors; the test may listen too. */
  events: { on(event: 'error', listener: (error: unknown) => void): unknown };
  raw: {
    get(key: string): Promise<string | null>;
    pttl(key: string): Promise<number>;
    set(key: string, value: string): Promise<unknown>;
  };
  close(): Promise<void>;
}

export type Connect = (url: string) => Promise<ClientUnderTest>;

export const connectIoredis: Connect = async (url) => {
  // disconnectTimeout: ioredis otherwise keeps a 2 s timer after disconnecting from a dead server.
  const client = new Redis(url, { maxRetriesPerRequest: 1, disconnectTimeout: 50 });
  await client.ping();
  return {
    client,
    events: client,
    raw: {
      get: (key) => client.get(key),
      pttl: (key) => client.pttl(key),
      set: (key, value) => client.set(key, value),
    },
    close: async () => client.disconnect(),
  };
};

export const connectNodeRedis: Connect = async (url) => {
  const client = createClient({ url });
  await client.connect();
  return {
    client,
    events: client,
    raw: {
      get: (key) => client.get(key),
      pttl: (key) => client.pTTL(key),
      set: (key, value) => client.set(key, value),
    },
    close: async () => client.destroy(),
  };
};

export const clients: [string, Connect][] = [
  ['ioredis', connectIoredis],
  ['node-redis', connectNodeRedis],
];
