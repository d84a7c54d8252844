/**
 * zitadelEvents() on a real Express app (both majors), a real introspector
 * and the local ZITADEL: each refusal leaves the cache as it was, each
 * accepted event shows by its effect (the next introspection misses).
 */
import { request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import request from 'supertest';
import { ConfigError, zitadelEvents } from 'express-zitadel-introspection';
import type { Introspector } from '../../lib/introspector';
import { signEvent } from '../../lib/events/signature';
import { captureLogger } from '../helpers/capture-logger';
import { expressVersions } from '../express/support';
import {
  answeredFromCache,
  eventBody,
  EVENTS_PATH,
  type EventsKit,
  type PatUser,
  post,
  startEventsKit,
  webhookApp,
} from './support';

const KEY = 'webhook-signing-key-1';
let kit: EventsKit | undefined;
let introspector: Introspector;
let alice: PatUser;
let bob: PatUser;

beforeAll(async () => {
  kit = await startEventsKit('webhook');
  ({ introspector, alice, bob } = kit);
});

afterAll(() => kit?.close());

/** Both users' tokens in the cache. */
async function warm() {
  for (const { pat } of [alice, bob]) {
    expect((await introspector.introspect(pat)).active).toBe(true);
    expect(await answeredFromCache(introspector, pat)).toEqual({ cached: true, active: true });
  }
}

const stillCached = async (token: string) => (await answeredFromCache(introspector, token)).cached;

describe.each(expressVersions)('%s', (_name, factory) => {
  it("user.deactivated → 204 with an empty body; the user's tokens are evicted, nobody else's", async () => {
    await warm();
    const handler = zitadelEvents({ signingKey: KEY, introspector });
    const app = webhookApp(factory, handler);
    const response = await post(app, eventBody('user.deactivated', alice.userId), { keys: [KEY] });
    expect(response.status).toBe(204);
    expect(response.text).toBe('');
    expect(await stillCached(alice.pat)).toBe(false);
    expect(await stillCached(bob.pat)).toBe(true);
    expect(handler.stats()).toEqual({
      accepted: 1,
      refused: 0,
      duplicates: 0,
      ignored: 0,
      evictions: 1,
    });
  });

  it('a forged, stale or unsigned call → 401 with an empty body, no eviction, one warn a minute', async () => {
    await warm();
    const logger = captureLogger();
    const handler = zitadelEvents({ signingKey: KEY, introspector, logger });
    const app = webhookApp(factory, handler);
    const body = eventBody('user.deactivated', alice.userId);
    const now = Math.floor(Date.now() / 1000);
    const forgeries = [
      {
        name: 'changed body',
        body: body.replace('deactivated', 'locked'),
        keys: [KEY],
        header: signEvent([KEY], now, body),
      },
      {
        name: 'changed t',
        body,
        keys: [KEY],
        header: signEvent([KEY], now, body).replace(`t=${now}`, `t=${now - 1}`),
      },
      { name: '301 s old', body, keys: [KEY], t: now - 301 },
      { name: '61 s ahead', body, keys: [KEY], t: now + 61 },
      { name: 'wrong key', body, keys: ['another-key'] },
      { name: 'empty key', body, keys: [''] },
      { name: 'missing header', body, keys: [KEY], header: '' },
      { name: 'malformed header', body, keys: [KEY], header: 'v1=abc' },
    ];
    for (const forgery of forgeries) {
      const { body: sent, keys, t, header } = forgery;
      const response = await post(app, sent, { keys, t, header });
      expect([forgery.name, response.status, response.text]).toEqual([forgery.name, 401, '']);
    }
    expect(await stillCached(alice.pat)).toBe(true);
    expect(handler.stats()).toMatchObject({ accepted: 0, refused: forgeries.length, evictions: 0 });
    expect(logger.lines.filter((l) => l.level === 'warn')).toHaveLength(1);
    expect(logger.lines.filter((l) => l.level === 'debug')).toHaveLength(forgeries.length - 1);
    expect(logger.text()).not.toContain(KEY);
    expect(logger.text()).not.toContain(alice.userId);
  });

  it('several v1 (a rotation on either side) → accepted', async () => {
    await warm();
    const handler = zitadelEvents({ signingKey: ['new-key', KEY], introspector });
    const app = webhookApp(factory, handler);
    const body = eventBody('user.locked', alice.userId);
    const response = await post(app, body, { keys: ['retired-key', KEY] });
    expect(response.status).toBe(204);
    expect(await stillCached(alice.pat)).toBe(false);
    expect(await stillCached(bob.pat)).toBe(true);
  });

  it("reads X-ZITADEL-Signature too (the name in ZITADEL's API docs)", async () => {
    await warm();
    const app = webhookApp(factory, zitadelEvents({ signingKey: KEY, introspector }));
    const body = eventBody('user.deactivated', alice.userId);
    const response = await request(app)
      .post(EVENTS_PATH)
      .set('content-type', 'application/json')
      .set('x-zitadel-signature', signEvent([KEY], Math.floor(Date.now() / 1000), body))
      .send(body);
    expect(response.status).toBe(204);
    expect(await stillCached(alice.pat)).toBe(false);
  });

  it('a body parsed by express.json() first → ConfigError through next(), no eviction', async () => {
    await warm();
    const app = webhookApp(
      factory,
      zitadelEvents({ signingKey: KEY, introspector }),
      express.json(),
    );
    const response = await post(app, eventBody('user.deactivated', alice.userId), { keys: [KEY] });
    expect(response.status).toBe(500);
    expect(response.body).toMatchObject({ error: 'ConfigError' });
    expect(response.body.message).toContain('before any body parser');
    expect(await stillCached(alice.pat)).toBe(true);
  });

  it('a Buffer from express.raw() is used as is; an unrelated parser in front does no harm', async () => {
    await warm();
    const handler = zitadelEvents({ signingKey: KEY, introspector });
    const raw = webhookApp(factory, handler, express.raw({ type: '*/*' }));
    expect((await post(raw, eventBody('user.removed', alice.userId), { keys: [KEY] })).status).toBe(
      204,
    );
    expect(await stillCached(alice.pat)).toBe(false);
    const form = webhookApp(factory, handler, express.urlencoded({ extended: false }));
    expect((await post(form, eventBody('user.removed', bob.userId), { keys: [KEY] })).status).toBe(
      204,
    );
    expect(await stillCached(bob.pat)).toBe(false);
  });

  it('a 65 KiB body → 413 (declared or streamed), no eviction', async () => {
    await warm();
    const handler = zitadelEvents({ signingKey: KEY, introspector });
    const app = webhookApp(factory, handler);
    const big = eventBody('user.deactivated', alice.userId, { padding: 'x'.repeat(65 * 1024) });
    expect((await post(app, big, { keys: [KEY] })).status).toBe(413);
    expect(await streamed(app, big, KEY)).toBe(413);
    const bigRaw = webhookApp(factory, handler, express.raw({ type: '*/*', limit: '1mb' }));
    expect((await post(bigRaw, big, { keys: [KEY] })).status).toBe(413);
    expect(await stillCached(alice.pat)).toBe(true);
    expect(handler.stats()).toMatchObject({ refused: 3, accepted: 0, evictions: 0 });
  });

  it('duplicates within ten minutes → 204, ignored; the cache filled again is left alone', async () => {
    await warm();
    const handler = zitadelEvents({ signingKey: KEY, introspector });
    const app = webhookApp(factory, handler);
    const body = eventBody('user.deactivated', alice.userId);
    expect((await post(app, body, { keys: [KEY] })).status).toBe(204);
    await warm();
    const again = await post(app, body, { keys: [KEY] });
    expect(again.status).toBe(204);
    expect(await stillCached(alice.pat)).toBe(true);
    // The same event with a new sequence is a new event.
    const next = JSON.stringify({ ...JSON.parse(body), sequence: JSON.parse(body).sequence + 1 });
    expect((await post(app, next, { keys: [KEY] })).status).toBe(204);
    expect(await stillCached(alice.pat)).toBe(false);
    expect(handler.stats()).toMatchObject({ accepted: 2, duplicates: 1, evictions: 2 });
  });

  it('400 for a body that is not an event, 403 for another instance; never an eviction', async () => {
    await warm();
    const handler = zitadelEvents({ signingKey: KEY, introspector, instanceId: 'instance-1' });
    const app = webhookApp(factory, handler);
    const cases: Array<[string, number]> = [
      ['not json', 400],
      ['[1,2]', 400],
      [JSON.stringify({ aggregateID: alice.userId, instanceID: 'instance-1' }), 400],
      [JSON.stringify({ event_type: 'user.deactivated', instanceID: 'instance-1' }), 400],
      [eventBody('user.deactivated', alice.userId, { instanceID: 'instance-2' }), 403],
      [eventBody('user.deactivated', alice.userId, { instanceID: undefined }), 403],
    ];
    for (const [body, status] of cases) {
      const response = await post(app, body, { keys: [KEY] });
      expect([body.slice(0, 40), response.status, response.text]).toEqual([
        body.slice(0, 40),
        status,
        '',
      ]);
    }
    expect(await stillCached(alice.pat)).toBe(true);
    expect(handler.stats()).toMatchObject({ refused: cases.length, accepted: 0 });
  });
});

describe('built with bad options → ConfigError', () => {
  it.each([
    ['no signing key', { signingKey: undefined }, 'signingKey'],
    ['an empty signing key', { signingKey: '' }, 'signingKey'],
    ['an empty list', { signingKey: [] }, 'signingKey'],
    ['an empty key in the list', { signingKey: ['ok', ''] }, 'signingKey'],
    ['a key that is not a string', { signingKey: 42 }, 'signingKey'],
    ['an empty instanceId', { instanceId: '' }, 'instanceId'],
    ['a projectId that is not a string', { projectId: 7 }, 'projectId'],
    [
      'an unknown onUnmappedGrantChange',
      { onUnmappedGrantChange: 'evict' },
      'onUnmappedGrantChange',
    ],
    ['no introspector', { introspector: undefined }, 'introspector'],
    ['an introspector without evictions', { introspector: { introspect() {} } }, 'introspector'],
  ])('%s', (_name, bad, field) => {
    let thrown: unknown;
    try {
      zitadelEvents({
        signingKey: KEY,
        introspector,
        ...(bad as unknown as Record<string, never>),
      });
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(ConfigError);
    expect(thrown).toMatchObject({ field });
    expect(String((thrown as Error).message)).not.toContain(KEY);
  });

  it('no options at all', () => {
    expect(() => (zitadelEvents as (o?: unknown) => unknown)()).toThrow(ConfigError);
  });
});

/** POSTs `body` chunked (no Content-Length), in 8 KiB pieces; resolves the status. */
async function streamed(app: express.Express, body: string, key: string): Promise<number> {
  const server = app.listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  try {
    return await new Promise<number>((resolve, reject) => {
      const req = httpRequest(
        {
          host: '127.0.0.1',
          port: (server.address() as AddressInfo).port,
          path: EVENTS_PATH,
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            'zitadel-signature': signEvent([key], Math.floor(Date.now() / 1000), body),
          },
        },
        (res) => {
          res.resume();
          resolve(res.statusCode!);
        },
      );
      // The server may close before every piece is written.
      req.on('error', () => {});
      req.on('close', () => reject(new Error('closed without an answer')));
      const bytes = Buffer.from(body);
      for (let at = 0; at < bytes.length; at += 8192) req.write(bytes.subarray(at, at + 8192));
      req.end();
    });
  } finally {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
}
