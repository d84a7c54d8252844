/**
 * maxIntrospectionsPerSecond in one process (no fleet link), on an injected
 * clock against a scripted ZITADEL (a real HTTP server).
 */
import { createIntrospector } from '../../lib/introspector';
import type { IntrospectorOptions } from '../../lib/options';
import {
  activeAnswer,
  startScriptedZitadel,
  type ScriptedZitadel,
} from '../helpers/scripted-zitadel';

let zitadel: ScriptedZitadel;
let clock: { now: number };
const closers: Array<() => Promise<void>> = [];

beforeEach(async () => {
  zitadel = await startScriptedZitadel();
  zitadel.answer('default', { json: activeAnswer({}, 3600) });
  // The start of a second, so a burst stays in one.
  clock = { now: Math.ceil(Date.now() / 1000) * 1000 };
});
afterEach(async () => {
  await Promise.all(closers.splice(0).map((close) => close()));
  await zitadel.close();
});

function make(cache: object = {}) {
  const introspector = createIntrospector({
    issuer: zitadel.issuer,
    clientId: 'api@project',
    clientSecret: 'secret',
    retries: 0,
    now: () => clock.now,
    maxIntrospectionsPerSecond: 2,
    cache,
  } as IntrospectorOptions);
  closers.push(() => introspector.close());
  return introspector;
}

it('beyond the budget a miss gets 503 Retry-After 1 without a call; cached tokens pass; a new second, a new budget', async () => {
  const introspector = make();
  await introspector.introspect('a');
  await introspector.introspect('b');
  await expect(introspector.introspect('c')).rejects.toMatchObject({
    status: 503,
    retryAfterSeconds: 1,
    message: 'over the introspection budget (maxIntrospectionsPerSecond 2)',
  });
  for (let i = 0; i < 20; i++) await introspector.introspect('a');
  expect(zitadel.requests).toHaveLength(2);
  clock.now += 1000;
  await introspector.introspect('c');
  expect(zitadel.requests).toHaveLength(3);
  expect(introspector.stats()).toMatchObject({ shed: 1, misses: 3, hits: 20 });
});

it('a call with its retries counts once', async () => {
  const introspector = createIntrospector({
    issuer: zitadel.issuer,
    clientId: 'api@project',
    clientSecret: 'secret',
    retries: 2,
    now: () => clock.now,
    maxIntrospectionsPerSecond: 1,
  });
  closers.push(() => introspector.close());
  let attempts = 0;
  zitadel.answer('default', () =>
    ++attempts < 3 ? { status: 502, body: '' } : { json: { active: false } },
  );
  expect(await introspector.introspect('x')).toMatchObject({ active: false });
  expect(attempts).toBe(3);
});

it('over the budget, a stale copy is served when staleIfErrorSeconds allows', async () => {
  const introspector = make({ maxTtlSeconds: 1, staleIfErrorSeconds: 30 });
  await introspector.introspect('stale');
  clock.now += 2000;
  await introspector.introspect('b');
  await introspector.introspect('c');
  expect(await introspector.introspect('stale')).toMatchObject({ active: true });
  expect(introspector.stats()).toMatchObject({ staleServed: 1, shed: 1 });
  expect(zitadel.requests).toHaveLength(3);
});
