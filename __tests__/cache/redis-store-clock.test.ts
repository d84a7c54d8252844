/**
 * The RedisStore's own warn about client errors (at most once a minute)
 * reads the introspector's injected clock once the introspector attached.
 */
import Redis from 'ioredis';
import { RedisStore } from '../../lib';
import { createFleet } from '../../lib/cache/fleet';
import { captureLogger } from '../helpers/capture-logger';

it("the client-error warn is rate-limited on the introspector's clock", async () => {
  const client = new Redis({ lazyConnect: true }); // never connects: errors are emitted by hand
  const logger = captureLogger();
  const clock = { now: 1_000_000 };
  const fleet = createFleet({
    issuer: 'https://zitadel.example',
    store: new RedisStore(client, { logger, coordinate: false }),
    logger,
    now: () => clock.now,
    storeTimeoutMs: 50,
    callMs: 1_000,
    credential: async () => ({
      method: 'client_secret_basic',
      clientId: 'api@project',
      clientSecret: 'a-long-client-secret',
    }),
  });
  await fleet.attach();
  const levels = () => logger.lines.map((l) => l.level);
  client.emit('error', new Error('connect ECONNREFUSED'));
  client.emit('error', new Error('connect ECONNREFUSED'));
  expect(levels()).toEqual(['warn', 'debug']);
  clock.now += 60_000; // a minute on the injected clock, none on the wall clock
  client.emit('error', new Error('connect ECONNREFUSED'));
  expect(levels()).toEqual(['warn', 'debug', 'warn']);
  await fleet.close();
  client.disconnect();
});
