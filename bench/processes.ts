/**
 * The bench's child processes: servers under test and the micro benchmark
 * (forked through tsx, talking over IPC) and a private redis-server. Every
 * child is registered, so an exit of the orchestrator — normal, failed or
 * interrupted — leaves none behind.
 */
import { fork, spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

/**
 * Messages a bench child sends to the orchestrator.
 *
 * @example
 * ```ts
 * process.send?.({ type: 'ready', port } satisfies ChildMessage);
 * ```
 */
export type ChildMessage =
  | { type: 'ready'; port: number }
  | { type: 'stats'; stats: Record<string, number> }
  | { type: 'result'; result: unknown }
  | { type: 'error'; message: string };

const children = new Set<ChildProcess>();
let cleanupInstalled = false;

/**
 * Runs a script's `main`: exit 0 when it resolves, 1 with the stack when it
 * rejects (after `label failed: ` when given).
 *
 * @example
 * ```ts
 * runScript(main, 'bench');
 * ```
 */
export function runScript(main: () => Promise<void>, label?: string): void {
  main().then(
    () => process.exit(0),
    (error: Error) => {
      const reason = error.stack ?? error.message;
      console.error(label ? `${label} failed: ${reason}` : reason);
      process.exit(1);
    },
  );
}

/**
 * Kills every registered child with SIGTERM (sync, safe inside `exit`).
 *
 * @example
 * ```ts
 * process.on('exit', killChildren);
 * ```
 */
export function killChildren(): void {
  for (const child of children) {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
  }
  children.clear();
}

/**
 * Kills the children on exit, on Ctrl-C / SIGTERM and on an uncaught failure.
 *
 * @example
 * ```ts
 * installCleanup();
 * ```
 */
export function installCleanup(): void {
  if (cleanupInstalled) return;
  cleanupInstalled = true;
  process.on('exit', killChildren);
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.on(signal, () => {
      killChildren();
      process.exit(130);
    });
  }
}

/**
 * Forks a bench script (`bench/<name>.ts`) through tsx with a JSON argument.
 *
 * @example
 * ```ts
 * const server = forkScript('server', { variant: 'baseline' });
 * ```
 */
export function forkScript(name: string, arg: unknown, nodeFlags: string[] = []): ChildProcess {
  const child = fork(join(__dirname, `${name}.ts`), [JSON.stringify(arg)], {
    execArgv: [...nodeFlags, '--import', pathToFileURL(require.resolve('tsx')).href],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  register(child);
  return child;
}

/**
 * The next message of the given type from a child; rejects when the child
 * reports an error, exits first, or takes longer than `timeoutMs`.
 *
 * @example
 * ```ts
 * const { port } = await nextMessage(server, 'ready', 30_000);
 * ```
 */
export function nextMessage<T extends ChildMessage['type']>(
  child: ChildProcess,
  type: T,
  timeoutMs: number,
): Promise<Extract<ChildMessage, { type: T }>> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => done(new Error(`no '${type}' within ${timeoutMs} ms`)),
      timeoutMs,
    );
    const onMessage = (message: ChildMessage) => {
      if (message.type === type) done(undefined, message as Extract<ChildMessage, { type: T }>);
      else if (message.type === 'error') done(new Error(message.message));
    };
    const onExit = (code: number | null, signal: string | null) =>
      done(new Error(`child exited before '${type}' (${signal ?? `code ${code}`})`));
    function done(error?: Error, message?: Extract<ChildMessage, { type: T }>) {
      clearTimeout(timer);
      child.off('message', onMessage).off('exit', onExit);
      if (error) reject(error);
      else resolve(message!);
    }
    child.on('message', onMessage).on('exit', onExit);
  });
}

/**
 * Stops a child with SIGTERM and waits until it is gone (a server writes its
 * CPU profile on the way out).
 *
 * @example
 * ```ts
 * await stopChild(server);
 * ```
 */
export function stopChild(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    children.delete(child);
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
  });
}

/**
 * A Redis the bench can use, and how to let go of it.
 *
 * @example
 * ```ts
 * const redis = await startRedis();
 * if ('url' in redis) await redis.stop();
 * ```
 */
export interface BenchRedis {
  url: string;
  /** Where it came from: `REDIS_URL` or a private redis-server. */
  source: 'REDIS_URL' | 'redis-server';
  stop(): Promise<void>;
}

/**
 * `REDIS_URL` when set, else a private redis-server on a free port without
 * persistence; `{ skipped }` with the reason when there is neither (or
 * `BENCH_REDIS=off`).
 *
 * @example
 * ```ts
 * const redis = await startRedis();
 * if ('skipped' in redis) console.log(redis.skipped);
 * ```
 */
export async function startRedis(): Promise<BenchRedis | { skipped: string }> {
  if (process.env.BENCH_REDIS === 'off') return { skipped: 'turned off by BENCH_REDIS=off' };
  if (process.env.REDIS_URL) {
    return { url: process.env.REDIS_URL, source: 'REDIS_URL', stop: async () => {} };
  }
  const bin = ['/usr/bin/redis-server', '/usr/local/bin/redis-server'].find(isExecutable);
  if (!bin) return { skipped: 'no REDIS_URL and no redis-server binary' };
  const port = await freePort();
  const child = spawn(
    bin,
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  register(child);
  try {
    await waitForOutput(child, 'Ready to accept connections', 10_000);
  } catch (error) {
    await stopChild(child);
    return { skipped: `redis-server did not start: ${(error as Error).message}` };
  }
  child.stdout?.resume();
  return { url: `redis://127.0.0.1:${port}`, source: 'redis-server', stop: () => stopChild(child) };
}

function register(child: ChildProcess): void {
  children.add(child);
  child.once('exit', () => children.delete(child));
}

function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

function waitForOutput(child: ChildProcess, text: string, timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    let seen = '';
    const timer = setTimeout(
      () => done(new Error(`no "${text}" within ${timeoutMs} ms`)),
      timeoutMs,
    );
    const onData = (chunk: Buffer) => {
      seen = (seen + chunk.toString()).slice(-4096);
      if (seen.includes(text)) done();
    };
    const onExit = (code: number | null) => done(new Error(`exited with code ${code}`));
    function done(error?: Error) {
      clearTimeout(timer);
      child.stdout?.off('data', onData);
      child.off('exit', onExit);
      if (error) reject(error);
      else resolve();
    }
    child.stdout?.on('data', onData);
    child.once('exit', onExit);
  });
}
