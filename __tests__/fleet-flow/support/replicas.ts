/**
 * N "replicas" in one test process: each an introspector with its own Redis
 * connection (a TestFleetLink), all against one scripted ZITADEL.
 */
import { randomBytes } from 'node:crypto';
import { IntrospectionUnavailableError } from '../../../lib/errors';
import { TEST_FLEET_LINK } from '../../../lib/fleet-flow';
import { createIntrospector, type Introspector } from '../../../lib/introspector';
import type { IntrospectorOptions } from '../../../lib/options';
import type { ScriptedZitadel } from '../../helpers/scripted-zitadel';
import { connectTestFleetLink, type TestFleetLink } from './test-fleet-link';

export interface Replica {
  introspector: Introspector;
  link: TestFleetLink;
}

export async function startReplicas(
  count: number,
  setup: {
    redisUrl: string;
    prefix: string;
    zitadel: ScriptedZitadel;
    /** The link's bound per Redis call: generous by default, this machine is loaded. */
    linkTimeoutMs?: number;
  },
  options: Partial<IntrospectorOptions> = {},
): Promise<Replica[]> {
  return Promise.all(
    Array.from({ length: count }, async () => {
      const link = await connectTestFleetLink(setup.redisUrl, {
        prefix: setup.prefix,
        timeoutMs: setup.linkTimeoutMs ?? 1000,
      });
      const introspector = createIntrospector({
        issuer: setup.zitadel.issuer,
        clientId: 'api@project',
        clientSecret: 'secret',
        retries: 0,
        [TEST_FLEET_LINK]: link,
        ...options,
      } as IntrospectorOptions);
      await introspector.ready();
      return { introspector, link };
    }),
  );
}

export async function stopReplicas(replicas: Replica[]): Promise<void> {
  await Promise.all(replicas.map((r) => r.introspector.close()));
  await Promise.all(replicas.map((r) => r.link.close()));
}

export const randomToken = () => randomBytes(24).toString('base64url');

/** The 503 an introspection rejects with (fails the test if it succeeds or fails otherwise). */
export async function outage(answer: Promise<unknown>): Promise<IntrospectionUnavailableError> {
  const error = await answer.then(
    () => new Error('expected a 503'),
    (e: unknown) => e,
  );
  if (!(error instanceof IntrospectionUnavailableError)) throw error;
  return error;
}

/** Polls `check` every 10 ms until it holds or `ms` pass; returns whether it held. */
export async function until(check: () => boolean, ms = 500): Promise<boolean> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) return false;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  return true;
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
