/**
 * The event → action table, on a real introspector and the local ZITADEL:
 * each event shows by its effect on the cache, and on the `…:event` channel.
 */
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { createIntrospector, zitadelEvents } from 'express-zitadel-introspection';
import type { LocalZitadel } from 'express-zitadel-introspection/testing';
import express from 'express';
import type { Introspector } from '../../lib/introspector';
import { EVENT_CHANNEL, type EventMessage } from '../../lib/events/event-receiver';
import type { ZitadelEventsOptions } from '../../lib/express/events-webhook';
import { captureLogger } from '../helpers/capture-logger';
import {
  answeredFromCache,
  eventBody,
  type EventsKit,
  type PatUser,
  post,
  startEventsKit,
  webhookApp,
} from './support';

const KEY = 'table-signing-key';
let kit: EventsKit | undefined;
let z: LocalZitadel;
let introspector: Introspector;
let alice: PatUser;
let bob: PatUser;
let grantSequence = 0;

beforeAll(async () => {
  kit = await startEventsKit('table');
  ({ z, introspector, alice, bob } = kit);
});

afterAll(() => kit?.close());

/** A webhook on a fresh app, its log and the channel's messages. */
function webhook(options: Partial<ZitadelEventsOptions> = {}) {
  const logger = captureLogger();
  const handler = zitadelEvents({ signingKey: KEY, introspector, logger, ...options });
  const app = webhookApp(express, handler);
  const messages: unknown[] = [];
  const listener = (message: unknown) => messages.push(message);
  subscribe(EVENT_CHANNEL, listener);
  listeners.push(listener);
  const send = async (type: string, aggregateId: string, extra: Record<string, unknown> = {}) => {
    const response = await post(app, eventBody(type, aggregateId, extra), { keys: [KEY] });
    expect([type, response.status]).toEqual([type, 204]);
  };
  return { handler, logger, messages, send };
}

const listeners: Array<(message: unknown) => void> = [];
afterEach(() => {
  for (const listener of listeners.splice(0)) unsubscribe(EVENT_CHANNEL, listener);
});

async function warm() {
  for (const { pat } of [alice, bob]) await introspector.introspect(pat);
  for (const { pat } of [alice, bob]) expect(await cached(pat)).toBe(true);
}
const cached = async (token: string) => (await answeredFromCache(introspector, token)).cached;
const newGrantId = () => `grant-${Date.now()}-${++grantSequence}`;

it.each([
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
])('%s evicts the user (aggregateID), never the actor (userID)', async (type) => {
  await warm();
  const { send, messages } = webhook();
  await send(type, alice.userId, { userID: bob.userId });
  expect(await cached(alice.pat)).toBe(false);
  expect(await cached(bob.pat)).toBe(true);
  expect(messages).toEqual([{ type, action: 'evict-subject' } satisfies EventMessage]);
});

it('a grant of our project: added, then changed → its user is evicted; removed → forgotten', async () => {
  await warm();
  const { send, handler, messages, logger } = webhook();
  const grant = newGrantId();
  await send('user.grant.added', grant, {
    aggregateType: 'usergrant',
    event_payload: { userId: alice.userId, projectId: z.projectId, roleKeys: ['reader'] },
  });
  expect(await cached(alice.pat)).toBe(true);
  for (const type of [
    'user.grant.changed',
    'user.grant.cascade.changed',
    'user.grant.deactivated',
  ]) {
    await send(type, grant, { event_payload: { roleKeys: ['writer'] } });
    expect([type, await cached(alice.pat), await cached(bob.pat)]).toEqual([type, false, true]);
  }
  await send('user.grant.removed', grant);
  expect(await cached(alice.pat)).toBe(false);
  // Forgotten: a later change of that grant is an unknown grant.
  await send('user.grant.changed', grant);
  expect(await cached(alice.pat)).toBe(true);
  expect(messages.map((m) => (m as EventMessage).action)).toEqual([
    'remember',
    'evict-subject',
    'evict-subject',
    'evict-subject',
    'evict-subject',
    'ignored',
  ]);
  expect(handler.stats()).toEqual({
    accepted: 6,
    refused: 0,
    duplicates: 0,
    ignored: 1,
    evictions: 4,
  });
  expect(logger.lines.filter((l) => l.level === 'warn')).toHaveLength(1);
  expect(logger.text()).not.toContain(grant);
  expect(logger.text()).not.toContain(alice.userId);
  expect(JSON.stringify(messages)).not.toContain(grant);
});

it('user.grant.cascade.removed forgets too; a base64 payload (older ZITADEL) is read', async () => {
  await warm();
  const { send } = webhook();
  const grant = newGrantId();
  const payload = { userId: alice.userId, projectId: z.projectId, roleKeys: ['reader'] };
  await send('user.grant.added', grant, {
    event_payload: Buffer.from(JSON.stringify(payload)).toString('base64'),
  });
  await send('user.grant.cascade.removed', grant);
  expect(await cached(alice.pat)).toBe(false);
  await send('user.grant.changed', grant);
  expect(await cached(alice.pat)).toBe(true);
});

it("a grant of another project is not remembered; its changes are unmapped ('ignore')", async () => {
  await warm();
  const { send, handler } = webhook();
  const grant = newGrantId();
  await send('user.grant.added', grant, {
    event_payload: { userId: alice.userId, projectId: 'another-project', roleKeys: ['x'] },
  });
  await send('user.grant.changed', grant);
  expect(await cached(alice.pat)).toBe(true);
  expect(handler.stats()).toMatchObject({ accepted: 2, ignored: 2, evictions: 0 });
});

it("onUnmappedGrantChange: 'evict-all' evicts everything, at most once a minute", async () => {
  await warm();
  const { send, handler, messages, logger } = webhook({ onUnmappedGrantChange: 'evict-all' });
  await send('user.grant.changed', newGrantId());
  expect(await cached(alice.pat)).toBe(false);
  expect(await cached(bob.pat)).toBe(false);
  await warm();
  await send('user.grant.changed', newGrantId());
  expect(await cached(alice.pat)).toBe(true);
  expect(await cached(bob.pat)).toBe(true);
  expect(messages).toEqual([
    { type: 'user.grant.changed', action: 'evict-all' },
    { type: 'user.grant.changed', action: 'ignored' },
  ]);
  expect(handler.stats()).toMatchObject({ evictions: 1, ignored: 1 });
  expect(logger.lines.filter((l) => l.level === 'warn')).toHaveLength(1);
});

it('oidc_session.added remembers session → user; session.terminated evicts that user', async () => {
  await warm();
  const { send, messages } = webhook();
  const session = `session-${Date.now()}`;
  await send('oidc_session.added', `oidc-${session}`, {
    aggregateType: 'oidc_session',
    event_payload: { userID: alice.userId, sessionID: session, clientID: 'app' },
  });
  await send('session.terminated', 'a-session-never-seen');
  expect(await cached(alice.pat)).toBe(true);
  await send('session.terminated', session, { aggregateType: 'session' });
  expect(await cached(alice.pat)).toBe(false);
  expect(await cached(bob.pat)).toBe(true);
  // Forgotten once terminated.
  await send('session.terminated', session, { sequence: 1 });
  expect(await cached(alice.pat)).toBe(true);
  expect(messages.map((m) => (m as EventMessage).action)).toEqual([
    'remember',
    'ignored',
    'evict-subject',
    'ignored',
  ]);
});

it('oidc_session.added without its ids is ignored', async () => {
  const { send, handler } = webhook();
  await send('oidc_session.added', 'oidc-1', { event_payload: { userID: alice.userId } });
  await send('oidc_session.added', 'oidc-2', { event_payload: null });
  expect(handler.stats()).toMatchObject({ accepted: 2, ignored: 2 });
});

it('project.role.removed of our project evicts everything; of another project nothing', async () => {
  await warm();
  const { send, messages } = webhook();
  await send('project.role.removed', 'another-project', { event_payload: { key: 'reader' } });
  expect(await cached(alice.pat)).toBe(true);
  await send('project.role.removed', z.projectId, { event_payload: { key: 'reader' } });
  expect(await cached(alice.pat)).toBe(false);
  expect(await cached(bob.pat)).toBe(false);
  expect(messages).toEqual([
    { type: 'project.role.removed', action: 'ignored' },
    { type: 'project.role.removed', action: 'evict-all' },
  ]);
});

it('without any projectId every project counts as ours (evicting too much is safe)', async () => {
  const noProject = createIntrospector({ issuer: z.issuer, key: z.apiKeyPath });
  try {
    await noProject.introspect(alice.pat);
    expect((await answeredFromCache(noProject, alice.pat)).cached).toBe(true);
    const handler = zitadelEvents({ signingKey: KEY, introspector: noProject });
    const app = webhookApp(express, handler);
    const grant = newGrantId();
    const added = eventBody('user.grant.added', grant, {
      event_payload: { userId: alice.userId, projectId: 'any-project' },
    });
    expect((await post(app, added, { keys: [KEY] })).status).toBe(204);
    expect((await post(app, eventBody('user.grant.changed', grant), { keys: [KEY] })).status).toBe(
      204,
    );
    expect((await answeredFromCache(noProject, alice.pat)).cached).toBe(false);
    const role = eventBody('project.role.removed', 'any-project');
    expect((await post(app, role, { keys: [KEY] })).status).toBe(204);
    expect(handler.stats()).toMatchObject({ accepted: 3, evictions: 2, ignored: 0 });
  } finally {
    await noProject.close();
  }
});

it('the projectId option overrides the introspector’s', async () => {
  await warm();
  const { send } = webhook({ projectId: 'the-other-project' });
  await send('project.role.removed', z.projectId);
  expect(await cached(alice.pat)).toBe(true);
  await send('project.role.removed', 'the-other-project');
  expect(await cached(alice.pat)).toBe(false);
});

it('user.reactivated, user.unlocked and unknown events change nothing', async () => {
  await warm();
  const { send, handler, messages } = webhook();
  for (const type of ['user.reactivated', 'user.unlocked', 'user.grant.reactivated', 'org.added']) {
    await send(type, alice.userId);
  }
  expect(await cached(alice.pat)).toBe(true);
  expect(handler.stats()).toMatchObject({ accepted: 4, ignored: 4, evictions: 0 });
  expect(new Set(messages.map((m) => (m as EventMessage).action))).toEqual(new Set(['ignored']));
});

it('oidc_session.access_token.revoked / refresh_token.revoked evict by session', async () => {
  await warm();
  const { send, messages } = webhook();
  await send('oidc_session.access_token.revoked', 'oidc-session-1', { event_payload: {} });
  await send('oidc_session.refresh_token.revoked', 'oidc-session-1', { event_payload: {} });
  // A PAT has no session: untouched.
  expect(await cached(alice.pat)).toBe(true);
  expect(messages.map((m) => (m as EventMessage).action)).toEqual([
    'evict-session',
    'evict-session',
  ]);
});

it('two handlers on one introspector share what they remember (as replicas do through Redis)', async () => {
  await warm();
  const first = webhook();
  const second = webhook();
  const grant = newGrantId();
  await first.send('user.grant.added', grant, {
    event_payload: { userId: alice.userId, projectId: z.projectId },
  });
  await second.send('user.grant.changed', grant);
  expect(await cached(alice.pat)).toBe(false);
  expect(second.handler.stats()).toMatchObject({ accepted: 1, evictions: 1, ignored: 0 });
});
