/**
 * Coordinators (the fleet transport of a RedisStore) without an
 * introspector: each with its own client of the given kind, on one prefix
 * and scope, so tests can drive the lock, the writes and the messages
 * directly against a real redis-server.
 */
import { randomBytes } from 'node:crypto';
import { RedisStore } from '../../../lib';
import type { Coordinator } from '../../../lib/cache/coordination';
import { createEnvelope, type Envelope } from '../../../lib/cache/envelope';
import { captureLogger } from '../../helpers/capture-logger';
import { connect, type ClientKind } from '../fleet-kit';

export interface TestCoordinator {
  coordinator: Coordinator;
  client: unknown;
  logger: ReturnType<typeof captureLogger>;
  reconnects: number;
  close(): Promise<void>;
}

/** One fleet: a prefix, a scope and an envelope its coordinators share. */
export function testFleet() {
  const prefix = `coord:${randomBytes(6).toString('hex')}:`;
  const scope = randomBytes(8).toString('base64url');
  const envelope: Envelope = createEnvelope(randomBytes(32));
  return { prefix, scope, envelope, channel: `${prefix}events:${scope}` };
}

/** A coordinator over `client` (already connected, or lazy). */
export function coordinatorOf(
  client: unknown,
  fleet: ReturnType<typeof testFleet>,
  options: { timeoutMs?: number; now?: () => number } = {},
): Omit<TestCoordinator, 'close'> {
  const logger = captureLogger();
  const state = { reconnects: 0 };
  const coordinator = new RedisStore(client, { prefix: fleet.prefix }).coordinate({
    scope: fleet.scope,
    envelope: fleet.envelope,
    logger,
    now: options.now ?? Date.now,
    timeoutMs: options.timeoutMs ?? 500,
    tombstoneMs: 5_000,
    onReconnect: () => state.reconnects++,
  }) as Coordinator;
  return {
    coordinator,
    client,
    logger,
    get reconnects() {
      return state.reconnects;
    },
  };
}

/** A coordinator with its own connected client of `kind`. */
export async function startCoordinator(
  kind: ClientKind,
  url: string,
  fleet: ReturnType<typeof testFleet>,
  options: { timeoutMs?: number; now?: () => number } = {},
): Promise<TestCoordinator> {
  const { client, close } = await connect(kind, [url]);
  const made = coordinatorOf(client, fleet, options);
  return Object.assign(made, {
    async close() {
      await made.coordinator.close();
      await close();
    },
  }) as TestCoordinator;
}
