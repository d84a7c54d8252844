/**
 * The receiver when the cache cannot act on a verified event: a failure no
 * real fleet produces on demand, so the sink here fails on purpose. The
 * answer is 500 (our fault, not the event's), and the delivery is let
 * through again so a replay by hand is not taken for a duplicate.
 */
import type { SharedMemory } from '../../lib/cache/fleet-hooks';
import type { EventSink } from '../../lib/events/event-actions';
import { createEventReceiver } from '../../lib/events/event-receiver';
import { signEvent } from '../../lib/events/signature';
import { captureLogger } from '../helpers/capture-logger';

/** An in-process SharedMemory, as the fleet's own is without a store. */
function mapMemory(): (namespace: string) => SharedMemory {
  const entries = new Map<string, string>();
  return (namespace) => ({
    get: async (name) => entries.get(`${namespace}/${name}`),
    set: async (name, value) => void entries.set(`${namespace}/${name}`, value),
    delete: async (name) => void entries.delete(`${namespace}/${name}`),
    claim: async (name) => {
      const key = `${namespace}/${name}`;
      if (entries.has(key)) return false;
      entries.set(key, '1');
      return true;
    },
  });
}

it('an eviction that fails → 500, logged without ids, and the same delivery may come again', async () => {
  let failures = 1;
  const evicted: string[] = [];
  const sink: EventSink = {
    projectId: 'p',
    async evictSubject(subject) {
      if (failures-- > 0) throw new Error(`redis said no about ${subject}`);
      evicted.push(subject);
    },
    evictAll: async () => {},
    evictSession: async () => {},
    sharedMemory: mapMemory(),
  };
  const logger = captureLogger();
  const receiver = createEventReceiver({
    keys: ['k'],
    sink,
    instanceId: undefined,
    onUnmappedGrantChange: 'ignore',
    logger,
    now: Date.now,
  });
  const body = Buffer.from(
    JSON.stringify({ aggregateID: 'user-42', event_type: 'user.locked', sequence: 7 }),
  );
  const header = signEvent(['k'], Math.floor(Date.now() / 1000), body);

  expect(await receiver.receive(header, body)).toBe(500);
  expect(logger.lines.filter((l) => l.level === 'error')).toHaveLength(1);
  expect(logger.text()).not.toContain('user-42');
  expect(receiver.stats()).toEqual({
    accepted: 0,
    refused: 0,
    duplicates: 0,
    ignored: 0,
    evictions: 0,
  });

  expect(await receiver.receive(header, body)).toBe(204);
  expect(evicted).toEqual(['user-42']);
  expect(await receiver.receive(header, body)).toBe(204);
  expect(receiver.stats()).toMatchObject({ accepted: 1, duplicates: 1, evictions: 1 });
});

it('without a sequence, a replay of the same bytes is still a duplicate; other bytes are not', async () => {
  const subjects: string[] = [];
  const sink: EventSink = {
    projectId: undefined,
    evictSubject: async (subject) => void subjects.push(subject),
    evictAll: async () => {},
    evictSession: async () => {},
    sharedMemory: mapMemory(),
  };
  const receiver = createEventReceiver({
    keys: ['k'],
    sink,
    instanceId: undefined,
    onUnmappedGrantChange: 'ignore',
    logger: captureLogger(),
    now: Date.now,
  });
  const send = async (json: object) => {
    const body = Buffer.from(JSON.stringify(json));
    return receiver.receive(signEvent(['k'], Math.floor(Date.now() / 1000), body), body);
  };
  const event = { aggregateID: 'u', event_type: 'user.deactivated' };
  expect(await send(event)).toBe(204);
  expect(await send(event)).toBe(204);
  expect(await send({ ...event, created_at: 'later' })).toBe(204);
  expect(subjects).toEqual(['u', 'u']);
  expect(receiver.stats()).toMatchObject({ accepted: 2, duplicates: 1 });
});
