/**
 * A small FleetLink over a real ioredis client, for testing the fleet
 * policies until the coordinating RedisStore provides the real one: EVAL on
 * a command connection, PUBLISH/SUBSCRIBE on a duplicate, every call bounded
 * by `timeoutMs` (a stalled Redis rejects, as the real link does). No
 * encryption: messages are JSON with the sender's id, so a replica does not
 * hear itself.
 */
import { randomBytes } from 'node:crypto';
import Redis from 'ioredis';
import type { FleetLink, FleetMessage } from '../../../lib/cache/fleet-link';

export interface TestFleetLink extends FleetLink {
  /** Scripts run (attempted), for assertions. */
  evals: number;
  /** Scripts that failed or timed out. */
  failures: number;
  /** Messages received from other replicas. */
  received: FleetMessage[];
  close(): Promise<void>;
}

export async function connectTestFleetLink(
  url: string,
  options: { prefix: string; timeoutMs?: number },
): Promise<TestFleetLink> {
  const { prefix } = options;
  const timeoutMs = options.timeoutMs ?? 50;
  const id = randomBytes(6).toString('hex');
  const channel = `${prefix}events`;
  const commands = new Redis(url, { maxRetriesPerRequest: 1, disconnectTimeout: 50 });
  const subscriber = commands.duplicate();
  await subscriber.subscribe(channel);
  const handlers = new Set<(message: FleetMessage) => void>();
  const link: TestFleetLink = {
    evals: 0,
    failures: 0,
    received: [],
    eval(script, keys, args) {
      link.evals++;
      const answer = bounded(commands.eval(script, keys.length, ...keys, ...args), timeoutMs);
      answer.catch(() => link.failures++);
      return answer;
    },
    key: (name) => `${prefix}${name}`,
    async publish(message) {
      await bounded(commands.publish(channel, JSON.stringify({ from: id, message })), timeoutMs)
        .then(() => undefined)
        .catch(() => undefined);
    },
    onMessage(handler) {
      handlers.add(handler);
      return () => handlers.delete(handler);
    },
    async close() {
      handlers.clear();
      subscriber.disconnect();
      commands.disconnect();
    },
  };
  subscriber.on('message', (_channel: string, text: string) => {
    const { from, message } = JSON.parse(text) as { from: string; message: FleetMessage };
    if (from === id) return;
    link.received.push(message);
    for (const handler of handlers) handler(message);
  });
  return link;
}

/** The promise's answer, or a rejection after `ms` (the late answer is dropped). */
function bounded<T>(promise: Promise<T>, ms: number): Promise<T> {
  promise.catch(() => undefined);
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`Redis did not answer within ${ms} ms`)), ms);
    promise.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (error: unknown) => {
        clearTimeout(timer);
        reject(error as Error);
      },
    );
  });
}
