/**
 * A real Redis Sentinel for tests: a private redis-server as master (see
 * redis-server.ts) plus `redis-server sentinel.conf --sentinel` monitoring
 * it as `mymaster` with quorum 1, each in its own temp dir, both stopped by
 * `stop()`. `describeWithSentinel` skips (with the reason printed) only when
 * no redis-server binary exists here; under CI=true it fails instead.
 *
 * @example
 * ```ts
 * describeWithSentinel('fleet on Sentinel', () => {
 *   let sentinel: RedisSentinel;
 *   beforeAll(async () => { sentinel = await startSentinel(); });
 *   afterAll(() => sentinel.stop());
 *   // new Redis({ sentinels: [sentinel.address], name: sentinel.name })
 * });
 * ```
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './fault-proxy';
import { redisServerBin, startRedis, type RedisServer } from './redis-server';

export interface RedisSentinel {
  /** The monitored master. */
  master: RedisServer;
  /** Where the sentinel listens. */
  address: { host: string; port: number };
  /** The master's name in the sentinel (`mymaster`). */
  name: string;
  stop(): Promise<void>;
}

/** `describe`, or `describe.skip` with the reason printed when no redis-server can run here. */
export function describeWithSentinel(name: string, fn: () => void): void {
  if (redisServerBin()) return describe(name, fn);
  const reason = 'no redis-server binary (Sentinel mode is redis-server --sentinel)';
  if (process.env.CI === 'true')
    throw new Error(`"${name}" may not be skipped under CI: ${reason}`);
  console.warn(`skipping "${name}": ${reason}`);
  describe.skip(name, fn);
}

/** Starts a master and a sentinel monitoring it; resolves once the sentinel names the master. */
export async function startSentinel(): Promise<RedisSentinel> {
  const bin = redisServerBin();
  if (!bin) throw new Error('no redis-server binary (set REDIS_SERVER_BIN)');
  const master = await startRedis();
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'redis-sentinel-'));
  const name = 'mymaster';
  // The sentinel rewrites its config file: it must be its own and writable.
  writeFileSync(
    join(dir, 'sentinel.conf'),
    [
      `port ${port}`,
      'bind 127.0.0.1',
      `dir ${dir}`,
      `sentinel monitor ${name} 127.0.0.1 ${master.port} 1`,
      `sentinel down-after-milliseconds ${name} 5000`,
      '',
    ].join('\n'),
  );
  const child = spawn(bin, [join(dir, 'sentinel.conf'), '--sentinel'], {
    cwd: dir,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout?.resume();
  child.stderr?.resume();
  const exited = new Promise<void>((resolve) => child.once('close', () => resolve()));
  const killOnExit = (): void => void child.kill('SIGKILL');
  process.once('exit', killOnExit);
  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    await exited;
    process.removeListener('exit', killOnExit);
    rmSync(dir, { recursive: true, force: true });
    await master.stop();
  };
  try {
    const deadline = Date.now() + 10_000;
    for (;;) {
      const reply = await ask(port, `SENTINEL get-master-addr-by-name ${name}`);
      if (reply.includes(String(master.port))) break;
      if (child.exitCode !== null) throw new Error(`redis sentinel exited (${child.exitCode})`);
      if (Date.now() > deadline) throw new Error(`the sentinel on ${port} never named its master`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  } catch (error) {
    await stop();
    throw error;
  }
  return { master, address: { host: '127.0.0.1', port }, name, stop };
}

/** One inline command's raw reply ('' when the port does not answer within 500 ms). */
function ask(port: number, command: string): Promise<string> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    let reply = '';
    socket.setTimeout(500, () => socket.destroy());
    socket.on('connect', () => socket.write(`${command}\r\n`));
    socket.on('data', (chunk) => {
      reply += chunk.toString();
      if (reply.endsWith('\r\n')) socket.end();
    });
    socket.on('error', () => undefined);
    socket.on('close', () => resolve(reply));
  });
}
