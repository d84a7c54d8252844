/**
 * A replica in its own process (forked by a test, run through tsx): its own
 * ioredis client, RedisStore and introspector. It tells the parent `ready`,
 * then introspects each token the parent sends and reports the answer.
 * The test SIGKILLs it to play a replica that dies holding the fleet lock.
 */
import Redis from 'ioredis';
import { createIntrospector, RedisStore } from '../../../lib';

interface Settings {
  redisUrl: string;
  prefix: string;
  issuer: string;
  key: string;
  projectId?: string;
}

async function main(): Promise<void> {
  const settings = JSON.parse(process.argv[2]) as Settings;
  const client = new Redis(settings.redisUrl, { maxRetriesPerRequest: 1 });
  const introspector = createIntrospector({
    issuer: settings.issuer,
    key: settings.key,
    projectId: settings.projectId,
    retries: 0,
    timeoutMs: 60_000, // it hangs until it is killed, never gives up on its own
    cache: { store: new RedisStore(client, { prefix: settings.prefix }), storeTimeoutMs: 1_000 },
  });
  await introspector.ready();
  process.on('message', (token: string) => {
    introspector.introspect(token).then(
      (answer) => process.send?.({ token, active: answer.active }),
      (error: unknown) => process.send?.({ token, error: String(error) }),
    );
  });
  process.send?.('ready');
}

void main();
