/**
 * The framework-free heart of the event webhook: raw bytes and the signature
 * header in, an HTTP status out. The Express face (lib/express/events-webhook.ts)
 * only reads the body and sends the status.
 *
 * Order, as DESIGN.md lists it: signature (401) → JSON object (400) →
 * instance (403) → required fields (400) → duplicate (204, ignored) → the
 * event table (204 once its evictions are published).
 */
import { createHash } from 'node:crypto';
import { channel } from 'node:diagnostics_channel';
import { rateLimitedLog, type Logger } from '../logger';
import {
  applyEvent,
  type EventOutcome,
  type EventSink,
  type UnmappedGrantPolicy,
} from './event-actions';
import { readEvent, type ZitadelEvent } from './event-body';
import { eventMemory } from './event-memory';
import { verifySignature } from './signature';

/** The diagnostics channel every accepted event goes out on, as `{ type, action }`. */
export const EVENT_CHANNEL = 'express-zitadel-introspection:event';

/**
 * A message on the diagnostics channel `express-zitadel-introspection:event`: the event type and what it led to, never an id.
 *
 * @example
 * ```ts
 * import { subscribe } from 'node:diagnostics_channel';
 * subscribe('express-zitadel-introspection:event', (m) => counter.inc((m as EventMessage).action));
 * ```
 */
export interface EventMessage {
  type: string;
  action: EventOutcome;
}

/**
 * Counters of `handler.stats()`.
 *
 * @example
 * ```ts
 * const { accepted, refused } = events.stats();
 * if (refused > 0 && accepted === 0) alert('ZITADEL events refused: check the signing key');
 * ```
 */
export interface EventStats {
  /** Verified, well-formed, first deliveries (the ignored ones included). */
  accepted: number;
  /** Answered 400, 401, 403 or 413. */
  refused: number;
  /** Deliveries of an event already handled within ten minutes. */
  duplicates: number;
  /** Accepted events that changed nothing (not in the table, another project, an unknown grant…). */
  ignored: number;
  /** Evictions made (`evictSubject`, a session's tokens, `evictAll`), each counted once. */
  evictions: number;
}

/** Options of {@link createEventReceiver}. */
export interface EventReceiverOptions {
  /** Signing keys (several during a rotation); at least one, none empty. */
  keys: readonly string[];
  sink: EventSink;
  instanceId: string | undefined;
  onUnmappedGrantChange: UnmappedGrantPolicy;
  logger: Logger;
  /** Milliseconds since the epoch. */
  now: () => number;
}

/** The statuses the webhook answers with (empty bodies). */
export type EventStatus = 204 | 400 | 401 | 403 | 413 | 500;

/** What {@link createEventReceiver} returns. */
export interface EventReceiver {
  /** Verifies and applies one delivery. Never rejects. */
  receive(signatureHeader: string | undefined, body: Buffer): Promise<EventStatus>;
  /** Counts a delivery the transport refused before it got here (a body over the cap). */
  refused(status: 400 | 413, reason: string): EventStatus;
  stats(): EventStats;
}

const events = channel(EVENT_CHANNEL);

/**
 * Builds a receiver.
 *
 * @example
 * ```ts
 * const receiver = createEventReceiver({ keys: [signingKey], sink, instanceId: undefined,
 *   onUnmappedGrantChange: 'ignore', logger, now: Date.now });
 * res.status(await receiver.receive(req.get('zitadel-signature'), body)).end();
 * ```
 */
export function createEventReceiver(options: EventReceiverOptions): EventReceiver {
  const { keys, sink, instanceId, logger, now } = options;
  const memory = eventMemory((namespace) => sink.sharedMemory(namespace));
  const counts: EventStats = { accepted: 0, refused: 0, duplicates: 0, ignored: 0, evictions: 0 };
  // One line a minute per kind: a wrong key or a scanner must not flood the logs.
  const warnForged = rateLimitedLog(logger, 'warn');
  const warnBad = rateLimitedLog(logger, 'warn');
  const warnUnmapped = rateLimitedLog(logger, 'warn');
  const logFailure = rateLimitedLog(logger, 'error');
  const context = {
    sink,
    memory,
    onUnmappedGrantChange: options.onUnmappedGrantChange,
    warnUnmapped,
    debug: (message: string) => logger.debug(message),
  };

  function refuse(status: 400 | 403 | 413, reason: string): EventStatus {
    counts.refused += 1;
    warnBad(`ZITADEL event refused with ${status}: ${reason}`);
    return status;
  }

  return {
    refused: refuse,
    stats: () => ({ ...counts }),
    async receive(signatureHeader, body) {
      const fault = verifySignature({
        header: signatureHeader,
        body,
        keys,
        nowSeconds: Math.floor(now() / 1000),
      });
      if (fault) {
        counts.refused += 1;
        warnForged(
          `ZITADEL event refused with 401: ${fault} (is the signing key the one ZITADEL returned for this target, and are the clocks in sync?)`,
        );
        return 401;
      }
      const read = readEvent(body, instanceId);
      if (!('event' in read)) return refuse(read.status, read.fault);
      const { event } = read;
      const deliveryKey = deliveryKeyOf(event, body);
      if (!(await memory.firstDelivery(deliveryKey))) {
        counts.duplicates += 1;
        logger.debug(`ZITADEL event ${event.type} delivered again; ignored`);
        return 204;
      }
      let outcome: EventOutcome;
      try {
        outcome = await applyEvent(event, context);
      } catch (error) {
        // Not a bad event: our cache could not act on it. Let a redelivery
        // (a replay by hand) through, and say so without ids.
        await memory.releaseDelivery(deliveryKey).catch(() => {});
        logFailure(
          `ZITADEL event ${event.type} could not be applied (${describe(error)}); the cache TTL bounds it`,
        );
        return 500;
      }
      counts.accepted += 1;
      if (outcome === 'ignored') counts.ignored += 1;
      else if (outcome !== 'remember') counts.evictions += 1;
      if (events.hasSubscribers) {
        events.publish({ type: event.type, action: outcome } satisfies EventMessage);
      }
      return 204;
    },
  };
}

/**
 * `(aggregateID, sequence, event_type)`; without a sequence, the body's hash
 * (a replay is byte for byte the same). Hashed, so the store never sees an
 * id in clear even before the fleet HMACs the name.
 */
function deliveryKeyOf(event: ZitadelEvent, body: Buffer): string {
  const sequence = event.sequence ?? `body:${createHash('sha256').update(body).digest('hex')}`;
  return createHash('sha256')
    .update(`${event.aggregateId}\n${sequence}\n${event.type}`)
    .digest('base64url');
}

function describe(error: unknown): string {
  return error instanceof Error ? error.name : 'unknown error';
}
