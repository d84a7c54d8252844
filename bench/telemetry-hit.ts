/**
 * `npx tsx bench/telemetry-hit.ts [iterations]` — µs per warm cache hit
 * through the `zitadelAuth` middleware function (no HTTP), with nobody
 * listening vs a no-op subscriber on every channel of the package (the
 * decision channel, the http tracing channel, the circuit channel).
 * Rounds alternate so that drift of a loaded machine hits both alike;
 * prints the median of each.
 */
import { subscribe, tracingChannel, unsubscribe } from 'node:diagnostics_channel';
import type { NextFunction, Request, Response } from 'express';
import { serviceUserTokenSource, zitadelAuth } from '../lib';
import { startLocalZitadel } from '../lib/testing';
import { projectScopes } from '../examples/shared';
import { median } from './stats';

const ITERATIONS = Number(process.argv[2] ?? 100_000);
const ROUNDS = 7;

async function main(): Promise<void> {
  const zitadel = await startLocalZitadel();
  try {
    const user = await zitadel.createServiceUser({ name: 'bench', auth: 'key' });
    const token = await serviceUserTokenSource({
      issuer: zitadel.issuer,
      key: user.keyPath as string,
      scope: projectScopes(zitadel.projectId),
    }).getToken();
    const auth = zitadelAuth({ issuer: zitadel.issuer, key: zitadel.apiKeyPath });
    const authorization = `Bearer ${token}`;
    const res = { setHeader: () => undefined } as unknown as Response;
    let granted = 0;
    const next: NextFunction = (error?: unknown) => {
      if (error) throw error;
      granted++;
    };
    const hit = () => auth({ headers: { authorization } } as Request, res, next);
    // The first call introspects; the rest are synchronous memory hits.
    await new Promise<void>((resolve, reject) =>
      auth({ headers: { authorization } } as Request, res, (error?: unknown) =>
        error ? reject(error as Error) : resolve(),
      ),
    );
    const loop = () => {
      const before = granted;
      const started = performance.now();
      for (let i = 0; i < ITERATIONS; i++) hit();
      const micros = ((performance.now() - started) * 1000) / ITERATIONS;
      if (granted - before !== ITERATIONS) throw new Error('a hit was not synchronous');
      return micros;
    };
    const listeners = subscribeAll();
    loop(); // JIT warm-up with the subscribed paths
    listeners.stop();
    loop();
    const none: number[] = [];
    const subscribed: number[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      none.push(loop());
      const on = subscribeAll();
      subscribed.push(loop());
      on.stop();
    }
    const fmt = (values: number[]) => `${median(values).toFixed(3)} µs`;
    console.log(`${ITERATIONS} hits × ${ROUNDS} rounds`);
    console.log(`nobody listening      ${fmt(none)}  rounds ${none.map((v) => v.toFixed(3))}`);
    console.log(
      `every channel         ${fmt(subscribed)}  rounds ${subscribed.map((v) => v.toFixed(3))}`,
    );
    console.log(`added by subscribers  ${(median(subscribed) - median(none)).toFixed(3)} µs`);
    await auth.introspector.close();
  } finally {
    await zitadel.close();
  }
}

function subscribeAll(): { stop(): void } {
  const noop = () => {};
  const http = tracingChannel('express-zitadel-introspection:http');
  const handlers = { start: noop, end: noop, asyncStart: noop, asyncEnd: noop, error: noop };
  subscribe('express-zitadel-introspection:decision', noop);
  subscribe('express-zitadel-introspection:circuit', noop);
  http.subscribe(handlers);
  return {
    stop() {
      unsubscribe('express-zitadel-introspection:decision', noop);
      unsubscribe('express-zitadel-introspection:circuit', noop);
      http.unsubscribe(handlers);
    },
  };
}

main().catch((error: Error) => {
  console.error(`bench failed: ${error.stack ?? error.message}`);
  process.exitCode = 1;
});
