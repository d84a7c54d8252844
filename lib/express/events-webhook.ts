/**
 * `zitadelEvents()`: the endpoint ZITADEL's Actions v2 posts events to. It
 * verifies each call's signature and evicts what the event revokes on every
 * replica, so a deactivated user or a removed key stops working in about a
 * second instead of at the end of the cache TTL.
 */
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { FLEET_HOOKS, type FleetHooks, type SharedMemory } from '../cache/fleet-hooks';
import { ConfigError } from '../errors';
import type { Introspector } from '../introspector';
import { rateLimitedLog, silentLogger, type Logger } from '../logger';
import type { EventSink, UnmappedGrantPolicy } from '../events/event-actions';
import { createEventReceiver, type EventStats } from '../events/event-receiver';
import { readRawBody } from './raw-body';

/**
 * Options of {@link zitadelEvents}.
 *
 * @example
 * ```ts
 * const options: ZitadelEventsOptions = {
 *   signingKey: [process.env.NEW_KEY!, process.env.OLD_KEY!],
 *   introspector: auth.introspector,
 *   instanceId: '301255600000000100',
 *   onUnmappedGrantChange: 'evict-all',
 * };
 * ```
 */
export interface ZitadelEventsOptions {
  /**
   * The target's signing key, returned once by ZITADEL when the target is
   * created (`POST /v2/actions/targets`). An array accepts any of them (rotation).
   */
  signingKey: string | readonly string[];
  /** The introspector whose cache the events evict (`auth.introspector`). */
  introspector: Introspector;
  /** Accept only events of this ZITADEL instance (`instanceID`); others get 403. */
  instanceId?: string;
  /** The project whose grants and roles matter (default: the introspector's `projectId`). */
  projectId?: string;
  /**
   * A change to a grant whose `user.grant.added` the webhook never saw:
   * `'ignore'` (default; the TTL bounds it, warned once a minute) or
   * `'evict-all'` (everything, at most once a minute fleet-wide).
   */
  onUnmappedGrantChange?: UnmappedGrantPolicy;
  /** Never sees the signing key, a body or an id. */
  logger?: Logger;
}

/**
 * The webhook handler, with its counters.
 *
 * @example
 * ```ts
 * const events = zitadelEvents({ signingKey, introspector: auth.introspector });
 * app.post('/zitadel/events', events);
 * setInterval(() => metrics.record(events.stats()), 10_000);
 * ```
 */
export type ZitadelEventsHandler = RequestHandler & {
  /** `{ accepted, refused, duplicates, ignored, evictions }` since the handler was built. */
  stats(): EventStats;
};

/**
 * The body cap: ZITADEL's events are a few hundred bytes.
 *
 * @example
 * ```ts
 * app.post('/zitadel/events', express.raw({ type: '*\/*', limit: MAX_EVENT_BODY_BYTES }), events);
 * ```
 */
export const MAX_EVENT_BODY_BYTES = 64 * 1024;
const BODY_TIMEOUT_MS = 10_000;

/**
 * What the webhook reaches on the introspector: the public evictions plus the
 * fleet seam (checked at run time too: a JavaScript caller may pass anything).
 */
type EvictingIntrospector = Introspector & { [FLEET_HOOKS]?: FleetHooks };

/**
 * Builds the webhook. Mount it on its own path, before any body parser.
 * Answers with empty bodies: 204 (handled, ignored or a duplicate), 400 (not
 * an event), 401 (signature), 403 (other instance), 413 (over 64 KiB). A body
 * parser that ran first is a {@link ConfigError} passed to `next`.
 *
 * @example
 * ```ts
 * const auth = zitadelAuth({ issuer, key: './api-key.json', projectId, cache: { store } });
 * app.post('/zitadel/events', zitadelEvents({
 *   signingKey: process.env.ZITADEL_EVENTS_SIGNING_KEY!,
 *   introspector: auth.introspector,
 * }));
 * app.use('/api', express.json(), auth);
 * ```
 */
export function zitadelEvents(options: ZitadelEventsOptions): ZitadelEventsHandler {
  const { keys, sink, instanceId, onUnmappedGrantChange, logger } = checkOptions(options);
  const receiver = createEventReceiver({
    keys,
    sink,
    instanceId,
    onUnmappedGrantChange,
    logger,
    now: Date.now,
  });
  const logSetupFault = rateLimitedLog(logger, 'error');

  async function zitadelEventsHandler(req: Request, res: Response, next: NextFunction) {
    let status;
    try {
      const read = await readRawBody(req, {
        limit: MAX_EVENT_BODY_BYTES,
        timeoutMs: BODY_TIMEOUT_MS,
      });
      if ('status' in read) {
        // The rest of the body is not read: close the connection after the answer.
        res.set('Connection', 'close');
        status = receiver.refused(read.status, read.reason);
      } else {
        // ZITADEL sends `ZITADEL-Signature` (pkg/actions/signing.go); its API docs
        // say `X-ZITADEL-Signature`, so that one is read too.
        const header = req.get('zitadel-signature') ?? req.get('x-zitadel-signature');
        status = await receiver.receive(header, read.body);
      }
    } catch (error) {
      logSetupFault((error as Error).message);
      return next(error);
    }
    res.status(status).end();
  }

  return Object.assign(zitadelEventsHandler, { stats: () => receiver.stats() });
}

function checkOptions(options: ZitadelEventsOptions) {
  if (typeof options !== 'object' || options === null) {
    throw new ConfigError('zitadelEvents() needs an options object', { field: 'options' });
  }
  const raw = options.signingKey;
  const keys: unknown[] = Array.isArray(raw) ? [...raw] : [raw];
  if (keys.length === 0 || !keys.every((key) => typeof key === 'string' && key !== '')) {
    throw new ConfigError(
      'signingKey is required: the signing key ZITADEL returned when the target was created (a non-empty string, or an array of them during a rotation)',
      { field: 'signingKey' },
    );
  }
  const { instanceId, projectId, onUnmappedGrantChange = 'ignore' } = options;
  for (const [field, value] of [
    ['instanceId', instanceId],
    ['projectId', projectId],
  ] as const) {
    if (value !== undefined && (typeof value !== 'string' || value === '')) {
      throw new ConfigError(`${field} must be a non-empty string when given`, { field });
    }
  }
  if (onUnmappedGrantChange !== 'ignore' && onUnmappedGrantChange !== 'evict-all') {
    throw new ConfigError("onUnmappedGrantChange must be 'ignore' or 'evict-all'", {
      field: 'onUnmappedGrantChange',
    });
  }
  return {
    keys: keys as string[],
    sink: sinkOf(options.introspector, projectId),
    instanceId,
    onUnmappedGrantChange,
    logger: options.logger ?? silentLogger,
  };
}

function sinkOf(
  introspector: EvictingIntrospector | undefined,
  projectId: string | undefined,
): EventSink {
  const hooks = introspector?.[FLEET_HOOKS];
  if (
    typeof introspector?.evictSubject !== 'function' ||
    typeof introspector.evictAll !== 'function' ||
    typeof hooks?.evictSession !== 'function' ||
    typeof hooks.sharedMemory !== 'function'
  ) {
    throw new ConfigError(
      'introspector must be the one this package built (auth.introspector or createIntrospector()): the webhook needs its evictSubject(), evictAll() and fleet hooks',
      { field: 'introspector' },
    );
  }
  return {
    projectId: projectId ?? hooks.projectId,
    evictSubject: (subject) => introspector.evictSubject(subject),
    evictAll: () => introspector.evictAll(),
    evictSession: (sessionId) => hooks.evictSession(sessionId),
    sharedMemory: (namespace) => memoryOf(hooks, namespace),
  };
}

/**
 * One memory per introspector and namespace, so two handlers on one
 * introspector share what they remember (and their duplicates) in-process
 * as they do through the store.
 */
const memories = new WeakMap<FleetHooks, Map<string, SharedMemory>>();
function memoryOf(hooks: FleetHooks, namespace: string): SharedMemory {
  let byNamespace = memories.get(hooks);
  if (!byNamespace) memories.set(hooks, (byNamespace = new Map()));
  let memory = byNamespace.get(namespace);
  if (!memory) byNamespace.set(namespace, (memory = hooks.sharedMemory(namespace)));
  return memory;
}
