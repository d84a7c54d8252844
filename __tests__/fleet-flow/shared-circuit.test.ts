/**
 * The circuit and the 429 back-off shared by a fleet over a real
 * redis-server: four replicas, each with its own ioredis client and
 * coordinating RedisStore (the store's own link and sealed messages).
 */
import { startRedis, uniquePrefix, type RedisServer } from '../helpers/redis-server';
import { startScriptedZitadel, type ScriptedZitadel } from '../helpers/scripted-zitadel';
import {
  outage,
  randomToken,
  sleep,
  startReplicas,
  stopReplicas,
  until,
  type Replica,
} from './support/replicas';
import type { CircuitChange } from '../../lib/back-pressure';
import { CIRCUIT_LISTENER } from '../../lib/fleet-flow';

const OPTIONS = {};
let redis: RedisServer;
let zitadel: ScriptedZitadel;
let replicas: Replica[];
let prefix: string;

beforeAll(async () => {
  redis = await startRedis();
});
afterAll(() => redis.stop());
beforeEach(async () => {
  zitadel = await startScriptedZitadel();
  prefix = uniquePrefix();
  replicas = await startReplicas(4, { redisUrl: redis.url, prefix, zitadel });
});
afterEach(async () => {
  await stopReplicas(replicas);
  await zitadel.close();
});

const heardCircuit = (replica: Replica) => replica.received.some((m) => m.type === 'circuit');

it('one replica meets a 503 with Retry-After: every replica answers 503 without a call', async () => {
  zitadel.answer('default', { status: 503, headers: { 'Retry-After': '5' }, body: '' });
  expect((await outage(replicas[0].introspector.introspect(randomToken()))).retryAfterSeconds).toBe(
    5,
  );
  expect(await until(() => replicas.slice(1).every(heardCircuit))).toBe(true);
  zitadel.answer('default', { json: { active: false } });
  for (const replica of replicas.slice(1)) {
    const refused = await outage(replica.introspector.introspect(randomToken()));
    expect(refused.retryAfterSeconds).toBeGreaterThanOrEqual(4);
    expect(refused.retryAfterSeconds).toBeLessThanOrEqual(5);
    expect(replica.introspector.stats().shed).toBe(1);
  }
  expect(zitadel.requests).toHaveLength(1);
  // A circuit opened by a message is not published again.
  expect(replicas[0].received.filter((m) => m.type === 'circuit')).toEqual([]);
});

it('the 429 back-off doubles fleet-wide and a success resets it', async () => {
  zitadel.answer('default', { status: 429, body: '' });
  expect((await outage(replicas[0].introspector.introspect(randomToken()))).retryAfterSeconds).toBe(
    1,
  );
  expect(await until(() => replicas.slice(1).every(heardCircuit))).toBe(true);
  await sleep(1200);
  // Replica 2 never met a 429 itself: its probe's 429 is the fleet's second.
  expect((await outage(replicas[2].introspector.introspect(randomToken()))).retryAfterSeconds).toBe(
    2,
  );
  // Replica 3 may not have heard of the new circuit yet: the probe lock still holds it back.
  const held = await outage(replicas[3].introspector.introspect(randomToken()));
  expect(held.retryAfterSeconds).toBeLessThanOrEqual(2);
  expect(zitadel.requests).toHaveLength(2);
  await sleep(2200);
  zitadel.answer('default', { json: { active: false } });
  expect(await replicas[3].introspector.introspect(randomToken())).toEqual({
    active: false,
    reason: 'inactive',
  });
  zitadel.answer('default', { status: 429, body: '' });
  expect((await outage(replicas[1].introspector.introspect(randomToken()))).retryAfterSeconds).toBe(
    1,
  );
  expect(zitadel.requests).toHaveLength(4);
});

it('a wave of 429s from calls in flight at once is one back-off step, not one per call', async () => {
  zitadel.answer('default', { status: 429, body: '', delayMs: 100 });
  const errors = await Promise.all(
    replicas.map((r) => outage(r.introspector.introspect(randomToken()))),
  );
  expect(errors.map((e) => e.retryAfterSeconds)).toEqual([1, 1, 1, 1]);
});

it('when the circuit ends one replica probes; the others answer 503 Retry-After 1 until it succeeds', async () => {
  zitadel.answer('default', { status: 503, headers: { 'Retry-After': '1' }, body: '' });
  await outage(replicas[0].introspector.introspect(randomToken()));
  expect(await until(() => replicas.slice(1).every(heardCircuit))).toBe(true);
  await sleep(1200);
  zitadel.answer('default', { json: { active: false }, delayMs: 400 });
  const answers = await Promise.allSettled(
    replicas.map((r) => r.introspector.introspect(randomToken())),
  );
  expect(zitadel.requests).toHaveLength(2);
  const refused = answers.filter((a) => a.status === 'rejected');
  expect(refused).toHaveLength(3);
  for (const a of refused) expect((a as PromiseRejectedResult).reason.retryAfterSeconds).toBe(1);
  // The prober tells the fleet; everyone calls again.
  const heardClosed = (r: Replica) => r.received.some((m) => m.type === 'circuit-closed');
  expect(await until(() => replicas.filter(heardClosed).length === 3)).toBe(true);
  zitadel.answer('default', { json: { active: false } });
  await Promise.all(replicas.map((r) => r.introspector.introspect(randomToken())));
  expect(zitadel.requests).toHaveLength(6);
});

it('a stalled Redis: a replica backs off and probes alone, each step within bounded time', async () => {
  zitadel.answer('default', { status: 429, body: '' });
  await stopReplicas(replicas);
  // Each Redis operation of these replicas gives up after 100 ms.
  replicas = await startReplicas(
    4,
    { redisUrl: redis.url, prefix: uniquePrefix(), zitadel, storeTimeoutMs: 100 },
    OPTIONS,
  );
  process.kill(redis.pid, 'SIGSTOP');
  try {
    let started = Date.now();
    const error = await outage(replicas[0].introspector.introspect(randomToken()));
    expect(error.retryAfterSeconds).toBe(1);
    expect(Date.now() - started).toBeLessThan(2000);
    await outage(replicas[0].introspector.introspect(randomToken()));
    expect(zitadel.requests).toHaveLength(1);
    await sleep(1100);
    // The probe lock cannot be had from Redis: this replica probes on its own.
    zitadel.answer('default', { json: { active: false } });
    started = Date.now();
    expect(await replicas[0].introspector.introspect(randomToken())).toMatchObject({
      active: false,
    });
    expect(Date.now() - started).toBeLessThan(2000);
    expect(zitadel.requests).toHaveLength(2);
  } finally {
    process.kill(redis.pid, 'SIGCONT');
  }
});

it('circuit changes reach the listener: open (with its cause) and closed', async () => {
  const changes: CircuitChange[][] = [[], []];
  await stopReplicas(replicas);
  const prefix = uniquePrefix();
  replicas = [
    ...(await startReplicas(1, { redisUrl: redis.url, prefix, zitadel }, {
      [CIRCUIT_LISTENER]: (c: CircuitChange) => changes[0].push(c),
    } as object)),
    ...(await startReplicas(1, { redisUrl: redis.url, prefix, zitadel }, {
      [CIRCUIT_LISTENER]: (c: CircuitChange) => changes[1].push(c),
    } as object)),
  ];
  zitadel.answer('default', { status: 429, body: '' });
  await outage(replicas[0].introspector.introspect(randomToken()));
  expect(await until(() => changes[1].length === 1)).toBe(true);
  expect(changes).toEqual([
    [{ state: 'open', seconds: 1, cause: 'backoff' }],
    [{ state: 'open', seconds: 1, cause: 'peer' }],
  ]);
  await sleep(1200);
  zitadel.answer('default', { json: { active: false } });
  await replicas[0].introspector.introspect(randomToken());
  expect(await until(() => changes[1].length === 2)).toBe(true);
  expect(changes[0].at(-1)).toEqual({ state: 'closed' });
  expect(changes[1].at(-1)).toEqual({ state: 'closed' });
});

it('received seconds are clamped to 1..60; a message without a number is ignored', async () => {
  // A fifth replica of the fleet (it holds the key: only such a sender's messages open).
  const [sender] = await startReplicas(1, { redisUrl: redis.url, prefix, zitadel });
  replicas.push(sender);
  zitadel.answer('default', { json: { active: false } });
  await sender.link.publish({ type: 'circuit', seconds: 'soon' });
  await sender.link.publish({ type: 'circuit', seconds: 3600 });
  const others = replicas.slice(0, 4);
  expect(await until(() => others.every((r) => r.received.length === 2))).toBe(true);
  for (const replica of others) {
    const refused = await outage(replica.introspector.introspect(randomToken()));
    expect(refused.retryAfterSeconds).toBe(60);
  }
  expect(zitadel.requests).toHaveLength(0);
});
