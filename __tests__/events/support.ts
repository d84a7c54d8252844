/**
 * Shared pieces of the event-webhook tests: the local ZITADEL with two users
 * and a real introspector, an app with the webhook mounted as
 * docs/caching.md says, signed posts, and "is this token still cached?"
 * answered by its effect on the introspector's counters.
 */
import type { Express, RequestHandler } from 'express';
import request from 'supertest';
import { createIntrospector } from 'express-zitadel-introspection';
import { startLocalZitadel, type LocalZitadel } from 'express-zitadel-introspection/testing';
import type { Introspector } from '../../lib/introspector';
import { signEvent } from '../../lib/events/signature';
import type { ExpressFactory } from '../express/support';

export const EVENTS_PATH = '/zitadel/events';

/** A service user of the kit with its personal access token. */
export interface PatUser {
  userId: string;
  pat: string;
}

/** What the webhook suites run against; `close()` stops it all. */
export interface EventsKit {
  z: LocalZitadel;
  introspector: Introspector;
  alice: PatUser;
  bob: PatUser;
  close(): Promise<void>;
}

/**
 * The local ZITADEL with two users (`<prefix>-alice`, `<prefix>-bob`, role
 * `reader` granted by org-1, PATs) and a ready introspector for its project.
 */
export async function startEventsKit(prefix: string): Promise<EventsKit> {
  const z = await startLocalZitadel();
  let introspector: Introspector | undefined;
  const close = async () => {
    await introspector?.close();
    await z.close();
  };
  try {
    const users = await Promise.all(
      ['alice', 'bob'].map((name) =>
        z.createServiceUser({
          name: `${prefix}-${name}`,
          auth: 'pat',
          roles: { reader: ['org-1'] },
        }),
      ),
    );
    const [alice, bob] = users.map((u) => ({ userId: u.userId, pat: u.pat! }));
    introspector = createIntrospector({
      issuer: z.issuer,
      key: z.apiKeyPath,
      projectId: z.projectId,
    });
    await introspector.ready();
    return { z, introspector, alice: alice!, bob: bob!, close };
  } catch (error) {
    await close();
    throw error;
  }
}

/** The webhook on its own path, `before` handlers (body parsers) in front of it. */
export function webhookApp(
  factory: ExpressFactory,
  handler: RequestHandler,
  ...before: RequestHandler[]
): Express {
  const app = factory();
  app.post(EVENTS_PATH, ...before, handler);
  // What a stray next(err) would reach: a JSON body we can tell apart.
  app.use(((err, _req, res, _next) => {
    res.status(500).json({ error: (err as Error).name, message: (err as Error).message });
  }) as import('express').ErrorRequestHandler);
  return app;
}

/** A ZITADEL-shaped body. */
export function eventBody(
  type: string,
  aggregateId: string,
  extra: Record<string, unknown> = {},
): string {
  return JSON.stringify({
    aggregateID: aggregateId,
    aggregateType: type.split('.')[0],
    resourceOwner: 'org-1',
    instanceID: 'instance-1',
    version: 'v2',
    sequence: nextSequence(),
    event_type: type,
    created_at: new Date().toISOString(),
    userID: 'admin-actor-1',
    event_payload: null,
    ...extra,
  });
}

let sequence = 1000;
const nextSequence = () => ++sequence;

/** POSTs `body` signed with `keys` at `t` (default now), as ZITADEL does. */
export function post(
  app: Express,
  body: string | Buffer,
  {
    keys,
    t = Math.floor(Date.now() / 1000),
    header,
  }: { keys: string[]; t?: number; header?: string },
) {
  const signature = header ?? signEvent(keys, t, body);
  return request(app)
    .post(EVENTS_PATH)
    .set('content-type', 'application/json')
    .set('zitadel-signature', signature)
    .send(typeof body === 'string' ? body : body.toString('latin1'));
}

/**
 * Introspects `token` and says whether the answer came from the cache
 * (a hit) or needed ZITADEL (an eviction happened).
 */
export async function answeredFromCache(introspector: Introspector, token: string) {
  const before = introspector.stats().hits;
  const info = await introspector.introspect(token);
  return { cached: introspector.stats().hits > before, active: info.active };
}
