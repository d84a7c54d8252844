/**
 * A real Redis for tests.
 *
 * - `redisTarget()` (synchronous, call it at module level) says how a suite
 *   gets Redis: `REDIS_URL` when set; else a redis-server it starts itself
 *   (`REDIS_SERVER_BIN`, /usr/bin/redis-server or `redis-server` on PATH);
 *   else `skip` with a reason. Under `CI=true` a missing `REDIS_URL` throws,
 *   which fails the suite instead of skipping it.
 * - `describeWithRedis(name, fn)` is `describe` or, with a printed reason,
 *   `describe.skip`.
 * - `redisUrlOrStart()` (in `beforeAll`) gives `{ url, stop() }`: the
 *   `REDIS_URL` server (stop() does nothing) or a fresh redis-server.
 * - `startRedis()` always starts a private redis-server on a free port
 *   (`--save '' --appendonly no`): `{ url, port, stop(), kill() }`, where
 *   `kill()` SIGKILLs it for outage tests. Share a server between tests only
 *   with distinct key prefixes (`uniquePrefix()`).
 *
 * @example
 * ```ts
 * describeWithRedis('my suite', () => {
 *   let redis: { url: string; stop(): Promise<void> };
 *   beforeAll(async () => { redis = await redisUrlOrStart(); });
 *   afterAll(() => redis.stop());
 * });
 * ```
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { accessSync, constants, mkdtempSync, rmSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';

export type RedisTarget =
  { kind: 'url'; url: string } | { kind: 'spawn'; bin: string } | { kind: 'skip'; reason: string };

export interface RedisServer {
  url: string;
  port: number;
  pid: number;
  /** SIGTERM, then resolves when the process is gone. */
  stop(): Promise<void>;
  /** SIGKILL now (a crash, for outage tests); stop() still waits for the exit. */
  kill(): void;
}

/** Where the redis-server binary is, or undefined. */
export function redisServerBin(): string | undefined {
  const candidates = [
    process.env.REDIS_SERVER_BIN,
    '/usr/bin/redis-server',
    ...(process.env.PATH ?? '').split(delimiter).map((dir) => join(dir, 'redis-server')),
  ];
  return candidates.find((path) => path !== undefined && path !== '' && isExecutable(path));
}

/** How this run reaches Redis; throws under CI=true without REDIS_URL. */
export function redisTarget(): RedisTarget {
  if (process.env.REDIS_URL) return { kind: 'url', url: process.env.REDIS_URL };
  if (process.env.CI === 'true') {
    throw new Error('REDIS_URL must be set under CI=true: the Redis suites may not be skipped');
  }
  const bin = redisServerBin();
  if (bin) return { kind: 'spawn', bin };
  return { kind: 'skip', reason: 'no REDIS_URL and no redis-server binary' };
}

/** `describe`, or `describe.skip` with the reason printed when there is no Redis. */
export function describeWithRedis(name: string, fn: () => void): void {
  const target = redisTarget();
  if (target.kind === 'skip') {
    console.warn(`skipping "${name}": ${target.reason}`);
    describe.skip(name, fn);
  } else {
    describe(name, fn);
  }
}

/** The REDIS_URL server, or a private redis-server (stopped by stop()). */
export async function redisUrlOrStart(): Promise<{ url: string; stop(): Promise<void> }> {
  const target = redisTarget();
  if (target.kind === 'url') return { url: target.url, stop: async () => {} };
  if (target.kind === 'skip') throw new Error(`no Redis: ${target.reason}`);
  return startRedis();
}

/** A key prefix no other test (or parallel suite on a shared Redis) uses. */
export function uniquePrefix(label = 'test'): string {
  return `${label}:${randomBytes(6).toString('hex')}:`;
}

/** Starts a private redis-server on a free 127.0.0.1 port. */
export async function startRedis(): Promise<RedisServer> {
  const bin = redisServerBin();
  if (!bin) throw new Error('no redis-server binary (set REDIS_SERVER_BIN)');
  let lastError: unknown;
  // A free port can be taken between probing and binding; try a few.
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      return await spawnRedis(bin, await freePort());
    } catch (error) {
      lastError = error;
    }
  }
  throw lastError;
}

async function spawnRedis(bin: string, port: number): Promise<RedisServer> {
  const dir = mkdtempSync(join(tmpdir(), 'redis-test-'));
  const child = spawn(
    bin,
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
    { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  child.stdout?.resume();
  child.stderr?.resume();
  // 'close' comes after 'exit' once the stdio pipes are closed too: nothing is left open.
  const exited = new Promise<void>((resolve) => child.once('close', () => resolve()));
  const killOnExit = (): void => {
    child.kill('SIGKILL');
  };
  process.once('exit', killOnExit);
  void exited.then(() => {
    process.removeListener('exit', killOnExit);
    rmSync(dir, { recursive: true, force: true });
  });

  try {
    await waitUntilReady(child, port, exited);
  } catch (error) {
    child.kill('SIGKILL');
    await exited;
    throw error;
  }
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    pid: child.pid as number,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await exited;
    },
    kill() {
      child.kill('SIGKILL');
    },
  };
}

/** Resolves once the server answers PING; rejects if it exits or takes over 10 s. */
async function waitUntilReady(child: ChildProcess, port: number, exited: Promise<void>) {
  let gone = false;
  void exited.then(() => (gone = true));
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    if (gone) throw new Error(`redis-server exited early (code ${child.exitCode})`);
    if (await ping(port)) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`redis-server did not answer on port ${port} within 10 s`);
}

function ping(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    let reply = '';
    socket.setTimeout(500, () => socket.destroy());
    socket.on('connect', () => socket.write('PING\r\n'));
    socket.on('data', (chunk) => {
      reply += chunk.toString();
      if (reply.includes('\r\n')) socket.end();
    });
    socket.on('error', () => undefined);
    socket.on('close', () => resolve(reply.startsWith('+PONG')));
  });
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}
