/**
 * The demo: `npx tsx examples/demo.ts --once` as CI runs it (spawned once),
 * the keep-running mode in-process (curl lines that work, clean stop on
 * SIGINT), and the table's verdicts.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { CALLERS, DEMO_PLAN, formatTable, type CallResult } from '../../examples/demo-calls';
import { main, startDemo } from '../../examples/demo';
import { captureOutput } from './output';

const ROOT = join(__dirname, '..', '..');

function run(
  command: string,
  args: string[],
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('npx tsx examples/demo.ts --once', () => {
  it('prints every planned call with its expected status, the cache stats, and exits 0', async () => {
    const { code, stdout, stderr } = await run(join(ROOT, 'node_modules', '.bin', 'tsx'), [
      'examples/demo.ts',
      '--once',
    ]);
    expect({ code, stderr }).toEqual({ code: 0, stderr: '' });
    const rows = stdout.split('\n').filter((line) => /^[✓✗] {2}/.test(line));
    expect(rows).toHaveLength(DEMO_PLAN.length);
    DEMO_PLAN.forEach((call, index) => {
      const row = rows[index];
      expect(row.startsWith(`✓  ${call.caller}`)).toBe(true);
      expect(row).toContain(`${call.method} ${call.path}`);
      expect(row).toMatch(new RegExp(`  ${call.expected}  +(ok|\\w+: .+)$`));
    });
    expect(stdout).toContain('✓ GET /api/me answers req.auth as JSON: the raw token is not in it');
    // 3 service-user tokens and the garbage one: one introspection each, every other call a hit.
    expect(stdout).toMatch(/Cache stats {2}hits=13 misses=4 coalesced=0 introspections=4 errors=0/);
    expect(stdout).toContain('Every status is as expected.');
    expect(stdout).not.toContain('curl');
  }, 30_000);
});

describe('the demo without --once', () => {
  it('keeps the API up with working curl lines until SIGINT, then stops', async () => {
    const out = captureOutput();
    const exited = main([], out);
    await waitFor(() => out.text().includes('Ctrl-C stops'));

    const readerLine = out.lines.find(
      (line) => line.includes('/api/reports') && line.includes('Bearer'),
    );
    const match = /-H 'Authorization: (Bearer \S+)' (http:\S+)/.exec(readerLine ?? '');
    expect(match).not.toBeNull();
    const [, authorization, url] = match as RegExpExecArray;
    const response = await fetch(url, { headers: { authorization } });
    expect(response.status).toBe(200);

    process.emit('SIGINT');
    await expect(exited).resolves.toBe(0);
    expect(out.lines).toContain('\nStopping …');
    await expect(fetch(url, { headers: { authorization } })).rejects.toThrow();
  }, 30_000);
});

describe('startDemo', () => {
  it('is not ok when a status differs from the plan', async () => {
    const out = captureOutput();
    const demo = await startDemo({
      out,
      plan: [
        { caller: CALLERS.reader, method: 'GET', path: '/api/me', expected: 200 },
        // The reader has the role: 200, not the 403 this plan expects.
        { caller: CALLERS.reader, method: 'GET', path: '/api/reports', expected: 403 },
      ],
    });
    await demo.close();
    expect(demo.ok).toBe(false);
    expect(demo.results.map((result) => result.status)).toEqual([200, 200]);
    expect(out.text()).toMatch(/^✗ {2}reader .*GET \/api\/reports {2}200 \(expected 403\)/m);
  }, 30_000);
});

describe('formatTable', () => {
  const result = (status: number, expected: number): CallResult => ({
    caller: 'reader',
    method: 'GET',
    path: '/api/reports',
    expected,
    status,
    why: status === 200 ? 'ok' : 'insufficient_scope: missing role reader',
    body: {},
  });

  it('marks a status that differs from the plan with ✗ and the expected one', () => {
    const table = formatTable([result(200, 200), result(403, 200)]).split('\n');
    expect(table).toHaveLength(4);
    expect(table[2]).toMatch(/^✓ {2}reader {2}GET \/api\/reports {2}200 +ok$/);
    expect(table[3]).toMatch(
      /^✗ {2}reader {2}GET \/api\/reports {2}403 \(expected 200\) {2}insufficient_scope/,
    );
    // Columns line up: the why column starts at the same place in every row.
    expect(table[2].indexOf('ok')).toBe(table[3].indexOf('insufficient_scope'));
    expect(table[0].indexOf('why')).toBe(table[3].indexOf('insufficient_scope'));
  });
});

async function waitFor(condition: () => boolean, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
