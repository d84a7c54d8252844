/**
 * `npx tsx bench/req-access.ts [--quick]` — what one access on `req` costs
 * inside a real Express server, against the same access on a plain object.
 * It explains why a memory hit costs more in a server than in the micro:
 * Express re-prototypes every request and then adds properties to it, so V8
 * gives each request its own hidden class and every named access on `req`
 * misses its inline cache.
 *
 * One Express app on 127.0.0.1, one middleware that times a single access
 * with `process.hrtime.bigint()` on every request; keep-alive requests, four
 * at a time, from this process. The modes run in turn (A B C … A B C …) and
 * the medians are printed, the timer's own cost (`nothing`) included in each.
 * Writes nothing.
 */
import { Agent, get } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { runScript } from './processes';
import { median } from './stats';

const quick = process.argv.includes('--quick');
const ROUNDS = quick ? 2 : 5;
const BATCHES = quick ? 300 : 1500;

const MISSING = Symbol('missing');

/** The single access each mode times; `plain` is a fresh object literal's. */
const MODES: Record<string, (req: express.Request) => unknown> = {
  nothing: () => undefined,
  'read req.url (own)': (req) => req.url,
  'read a missing symbol': (req) => (req as unknown as Record<symbol, unknown>)[MISSING],
  'read req.headers (getter)': (req) => req.headers.authorization,
  'add req.auth': (req) => ((req as unknown as Record<string, unknown>).auth = 1),
  'add a property to a plain object': () => {
    const plain: Record<string, unknown> = { url: '/hello' };
    plain.auth = 1;
    return plain;
  },
};

runScript(main, 'req-access');

async function main(): Promise<void> {
  const names = Object.keys(MODES);
  let mode = MODES.nothing;
  let total = 0n;
  let count = 0;
  let sink: unknown;

  const app = express();
  app.disable('x-powered-by');
  app.use((req, _res, next) => {
    const started = process.hrtime.bigint();
    sink = mode(req);
    total += process.hrtime.bigint() - started;
    count++;
    next();
  });
  app.get('/hello', (_req, res) => {
    res.send('hello world');
  });
  const server = app.listen(0, '127.0.0.1');
  await new Promise<void>((resolve) => server.once('listening', resolve));
  const { port } = server.address() as AddressInfo;
  const agent = new Agent({ keepAlive: true, maxSockets: 4 });
  const one = () =>
    new Promise<void>((resolve, reject) => {
      get({ port, path: '/hello', agent, headers: { authorization: 'Bearer abc' } }, (res) => {
        res.resume();
        res.on('end', resolve);
      }).on('error', reject);
    });
  const batches = async (n: number) => {
    for (let i = 0; i < n; i++) await Promise.all([one(), one(), one(), one()]);
  };

  const samples = new Map<string, number[]>(names.map((name) => [name, []]));
  for (const name of names) {
    mode = MODES[name];
    await batches(100); // warm-up: let each mode's code be optimized
  }
  for (let round = 0; round < ROUNDS; round++) {
    for (const name of round % 2 ? [...names].reverse() : names) {
      mode = MODES[name];
      total = 0n;
      count = 0;
      await batches(BATCHES);
      samples.get(name)!.push(Number(total) / count);
    }
  }
  void sink;
  agent.destroy();
  server.close();

  console.log(`ns per access inside an Express middleware (median of ${ROUNDS} rounds):`);
  for (const name of names) {
    const values = samples.get(name)!;
    console.log(
      `  ${name.padEnd(34)} ${median(values).toFixed(0).padStart(6)}   (${values.map((v) => v.toFixed(0)).join(' / ')})`,
    );
  }
}
