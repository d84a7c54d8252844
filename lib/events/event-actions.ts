/**
 * The event → action table of DESIGN.md "Revocation pushed by ZITADEL": what
 * each ZITADEL event does to the cache. Anything not listed is ignored, and
 * nothing ever reinstates (`user.reactivated`, `user.unlocked`: the next
 * introspection decides).
 */
import type { SharedMemory } from '../cache/fleet-hooks';
import type { ZitadelEvent } from './event-body';
import type { EventMemory } from './event-memory';

/**
 * What the webhook needs from the cache: the introspector's fleet-wide
 * evictions and its shared memory.
 */
export interface EventSink {
  /** The project whose grants and roles matter; `undefined`: treat every project as ours. */
  readonly projectId: string | undefined;
  evictSubject(subject: string): Promise<void>;
  evictAll(): Promise<void>;
  /** Every cached token of one OIDC session (`jti` = `<sessionId>.<…>` or `<sessionId>-<…>`). */
  evictSession(sessionId: string): Promise<void>;
  sharedMemory(namespace: string): SharedMemory;
}

/** What an event led to; published on the `…:event` channel (never with ids). */
export type EventOutcome = 'evict-subject' | 'evict-session' | 'evict-all' | 'remember' | 'ignored';

/** How to treat a change to a grant the webhook never saw added. */
export type UnmappedGrantPolicy = 'ignore' | 'evict-all';

/** Everything {@link applyEvent} acts through. */
export interface EventContext {
  sink: EventSink;
  memory: EventMemory;
  onUnmappedGrantChange: UnmappedGrantPolicy;
  /** Called when a grant change finds no user: a warn once a minute, by the caller. */
  warnUnmapped(message: string): void;
  debug(message: string): void;
}

/** Events about a user whose cached tokens must stop working (aggregateID = the user). */
export const SUBJECT_EVENTS: ReadonlySet<string> = new Set([
  'user.deactivated',
  'user.locked',
  'user.removed',
  'user.machine.key.removed',
  'user.machine.secret.removed',
  'user.machine.secret.set',
  'user.pat.removed',
  'user.token.removed',
  'user.human.refresh.token.removed',
  'user.impersonated',
]);

/** Revocations of one OIDC session's tokens (aggregateID = the OIDC session). */
export const SESSION_TOKEN_EVENTS: ReadonlySet<string> = new Set([
  'oidc_session.access_token.revoked',
  'oidc_session.refresh_token.revoked',
]);

/** Changes of a grant (aggregateID = the grant; the user only via `user.grant.added`). */
export const GRANT_CHANGE_EVENTS: ReadonlySet<string> = new Set([
  'user.grant.changed',
  'user.grant.cascade.changed',
  'user.grant.removed',
  'user.grant.cascade.removed',
  'user.grant.deactivated',
]);

const GRANT_GONE_EVENTS: ReadonlySet<string> = new Set([
  'user.grant.removed',
  'user.grant.cascade.removed',
]);

/**
 * Applies one verified, first-delivered event; resolves once its evictions
 * are published.
 *
 * @example
 * ```ts
 * const outcome = await applyEvent({ type: 'user.deactivated', aggregateId: userId, sequence: '7', payload: {} }, context);
 * // 'evict-subject'
 * ```
 */
export async function applyEvent(
  event: ZitadelEvent,
  context: EventContext,
): Promise<EventOutcome> {
  const { type, aggregateId, payload } = event;
  const { sink, memory } = context;
  if (SUBJECT_EVENTS.has(type)) {
    await sink.evictSubject(aggregateId);
    return 'evict-subject';
  }
  if (SESSION_TOKEN_EVENTS.has(type)) {
    await sink.evictSession(aggregateId);
    return 'evict-session';
  }
  if (GRANT_CHANGE_EVENTS.has(type)) return grantChanged(event, context);
  switch (type) {
    case 'user.grant.added':
      if (!isOurProject(payload.projectId, sink) || !isId(payload.userId)) return 'ignored';
      await memory.grants.remember(aggregateId, payload.userId);
      return 'remember';
    case 'oidc_session.added':
      if (!isId(payload.sessionID) || !isId(payload.userID)) return 'ignored';
      await memory.sessions.remember(payload.sessionID, payload.userID);
      return 'remember';
    case 'session.terminated':
      return sessionTerminated(aggregateId, context);
    case 'project.role.removed':
      // Roles are in every cached answer of the project; refresh-ahead and
      // the budget spread the re-introspection that follows.
      if (!isOurProject(aggregateId, sink)) return 'ignored';
      await sink.evictAll();
      return 'evict-all';
    default:
      return 'ignored';
  }
}

async function grantChanged(event: ZitadelEvent, context: EventContext): Promise<EventOutcome> {
  const { sink, memory } = context;
  const userId = await memory.grants.lookup(event.aggregateId);
  if (userId !== undefined) {
    await sink.evictSubject(userId);
    if (GRANT_GONE_EVENTS.has(event.type)) await memory.grants.forget(event.aggregateId);
    return 'evict-subject';
  }
  // A grant added before the webhook existed (or of another project: its
  // `user.grant.added` was not remembered). The TTL bounds it, as without
  // the webhook, unless the operator prefers to evict everything.
  if (context.onUnmappedGrantChange === 'evict-all') {
    if (await memory.mayEvictAllForUnmappedGrant()) {
      await sink.evictAll();
      return 'evict-all';
    }
    context.warnUnmapped(
      `ZITADEL event ${event.type} for a grant the webhook never saw added; everything was evicted less than a minute ago, so the cache TTL bounds this change`,
    );
    return 'ignored';
  }
  context.warnUnmapped(
    `ZITADEL event ${event.type} for a grant the webhook never saw added (older than the webhook, or of another project); the cache TTL bounds this change (onUnmappedGrantChange: 'evict-all' evicts everything instead)`,
  );
  return 'ignored';
}

async function sessionTerminated(sessionId: string, context: EventContext): Promise<EventOutcome> {
  const userId = await context.memory.sessions.lookup(sessionId);
  if (userId === undefined) {
    context.debug('ZITADEL event session.terminated for a session the webhook never saw added');
    return 'ignored';
  }
  await context.sink.evictSubject(userId);
  await context.memory.sessions.forget(sessionId);
  return 'evict-subject';
}

/** Without a configured project every project counts as ours: evicting too much is safe. */
function isOurProject(projectId: unknown, sink: EventSink): boolean {
  return sink.projectId === undefined || projectId === sink.projectId;
}

function isId(value: unknown): value is string {
  return typeof value === 'string' && value !== '';
}
