/**
 * The smoke set on a real three-master Redis Cluster that the test forms
 * itself, with both cluster clients: one call per token, evict, evictSubject.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startLocalZitadel, type LocalZitadel } from '../../lib/testing';
import { describeWithRedis, uniquePrefix } from '../helpers/redis-server';
import { calls, eventually, startReplicas, stopReplicas, type Replica } from './fleet-kit';

interface TestCluster {
  urls: string[];
  stop(): Promise<void>;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

async function startCluster(): Promise<TestCluster> {
  const ports = [await freePort(), await freePort(), await freePort()];
  const dirs: string[] = [];
  const children: ChildProcess[] = [];
  for (const port of ports) {
    const dir = mkdtempSync(join(tmpdir(), 'redis-cluster-'));
    dirs.push(dir);
    const child = spawn(
      'redis-server',
      [
        '--port',
        String(port),
        '--bind',
        '127.0.0.1',
        '--cluster-enabled',
        'yes',
        '--cluster-config-file',
        `nodes-${port}.conf`,
        '--dir',
        dir,
        '--save',
        '',
        '--appendonly',
        'no',
      ],
      { stdio: 'ignore' },
    );
    children.push(child);
  }
  const stop = async () => {
    await Promise.all(
      children.map(
        (child) =>
          new Promise<void>((resolve) => {
            if (child.exitCode !== null) return resolve();
            child.once('close', () => resolve());
            child.kill('SIGKILL');
          }),
      ),
    );
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  };
  try {
    for (const port of ports) {
      const up = await eventually(async () => ping(port), 5_000);
      if (!up) throw new Error(`redis-server on ${port} did not start`);
    }
    const created = spawnSync(
      'redis-cli',
      [
        '--cluster',
        'create',
        ...ports.map((p) => `127.0.0.1:${p}`),
        '--cluster-replicas',
        '0',
        '--cluster-yes',
      ],
      { encoding: 'utf8', timeout: 20_000 },
    );
    if (created.status !== 0)
      throw new Error(`cluster create failed: ${created.stdout}${created.stderr}`);
    const ok = await eventually(
      async () => ports.every((p) => cli(p, 'cluster', 'info').includes('cluster_state:ok')),
      15_000,
    );
    if (!ok) throw new Error('cluster_state never became ok');
  } catch (error) {
    await stop();
    throw error;
  }
  return { urls: ports.map((p) => `redis://127.0.0.1:${p}`), stop };
}

function cli(port: number, ...args: string[]): string {
  return spawnSync('redis-cli', ['-p', String(port), ...args], { encoding: 'utf8' }).stdout ?? '';
}
async function ping(port: number): Promise<boolean> {
  return cli(port, 'ping').trim() === 'PONG';
}

describeWithRedis('fleet on a three-master Redis Cluster', () => {
  let z: LocalZitadel;
  let cluster: TestCluster;
  let replicas: Replica[] = [];

  beforeAll(async () => {
    [z, cluster] = await Promise.all([startLocalZitadel(), startCluster()]);
  }, 60_000);
  afterEach(() => stopReplicas(replicas));
  afterAll(async () => {
    await Promise.all([z?.close(), cluster?.stop()]);
  });

  it.each(['ioredis-cluster', 'node-redis-cluster'] as const)(
    'one call per token, evict and evictSubject reach every replica (%s)',
    async (kind) => {
      replicas = await startReplicas(z, cluster.urls, {
        count: 3,
        prefix: uniquePrefix('c'),
        kind,
      });
      const { pat, userId } = await z.createServiceUser({ name: `cluster-${kind}`, auth: 'pat' });
      const token = pat as string;
      await z.setLatency(300);
      const answers = await Promise.all(replicas.map((r) => r.introspector.introspect(token)));
      await z.setLatency(0);
      expect(answers.every((a) => a.active)).toBe(true);
      expect(calls(replicas)).toBe(1);

      // evict on one replica: every replica calls again (none answers from memory).
      await replicas[0].introspector.evict(token);
      const dropped = await eventually(async () => {
        const before = calls(replicas);
        for (const r of replicas) await r.introspector.introspect(token);
        return calls(replicas) > before;
      }, 500);
      expect(dropped).toBe(true);
      const afterEvict = calls(replicas);
      await Promise.all(replicas.map((r) => r.introspector.introspect(token)));
      expect(calls(replicas)).toBe(afterEvict); // cached again

      await replicas[1].introspector.evictSubject(userId);
      const droppedAgain = await eventually(async () => {
        const before = calls(replicas);
        await replicas[2].introspector.introspect(token);
        return calls(replicas) > before;
      }, 500);
      expect(droppedAgain).toBe(true);
    },
    30_000,
  );
});
