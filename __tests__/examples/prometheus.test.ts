/**
 * examples/prometheus.ts against the local ZITADEL: start it, send traffic,
 * scrape `/metrics` over HTTP, parse the exposition format and check that
 * each counter moved by what the traffic should have made it move.
 */
import { serviceUserTokenSource } from '../../lib';
import { startLocalZitadel, type LocalZitadel } from '../../lib/testing';
import { main } from '../../examples/prometheus';
import { projectScopes, type Listening } from '../../examples/shared';
import { captureOutput } from './output';

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** The Prometheus text exposition format, samples only. */
function parseExposition(text: string): Sample[] {
  const samples: Sample[] = [];
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!match) throw new Error(`not an exposition line: ${line}`);
    const labels: Record<string, string> = {};
    for (const [, key, value] of (match[2] ?? '').matchAll(/([a-zA-Z_]\w*)="((?:[^"\\]|\\.)*)"/g)) {
      labels[key] = value;
    }
    samples.push({ name: match[1], labels, value: Number(match[3]) });
  }
  return samples;
}

/** Sum of the samples named `name` whose labels include `match`. */
function sum(samples: Sample[], name: string, match: Record<string, string> = {}): number {
  return samples
    .filter((s) => s.name === name && Object.entries(match).every(([k, v]) => s.labels[k] === v))
    .reduce((total, s) => total + s.value, 0);
}

let z: LocalZitadel;
let api: Listening | undefined;
let token: string;

beforeAll(async () => {
  z = await startLocalZitadel();
  const user = await z.createServiceUser({
    name: 'reader',
    roles: { reader: ['acme'] },
    auth: 'key',
  });
  token = await serviceUserTokenSource({
    issuer: z.issuer,
    key: user.keyPath,
    scope: projectScopes(z.projectId),
  }).getToken();
});

afterAll(async () => {
  await api?.close();
  await z?.close();
});

async function scrape(): Promise<Sample[]> {
  const response = await fetch(`${api!.url}/metrics`);
  expect(response.status).toBe(200);
  expect(response.headers.get('content-type')).toContain('text/plain');
  return parseExposition(await response.text());
}

async function get(path: string, authorization?: string, method = 'GET'): Promise<number> {
  const response = await fetch(`${api!.url}${path}`, {
    method,
    headers: authorization ? { authorization } : {},
  });
  await response.arrayBuffer();
  return response.status;
}

it('explains what is missing without a ZITADEL', async () => {
  const out = captureOutput();
  await expect(main({}, out)).resolves.toBeUndefined();
  expect(out.text()).toContain('Missing: ZITADEL_ISSUER, ZITADEL_KEY_FILE');
});

it('does not start when ZITADEL cannot be reached', async () => {
  const out = captureOutput();
  const env = { ZITADEL_ISSUER: 'http://127.0.0.1:1', ZITADEL_KEY_FILE: z.apiKeyPath, PORT: '0' };
  await expect(main(env, out)).resolves.toBeUndefined();
  expect(out.text()).toContain('cannot start: discovery at http://127.0.0.1:1');
});

it('counts decisions, introspection calls and durations; gauges follow stats() and health()', async () => {
  const out = captureOutput();
  api = await main(
    {
      ZITADEL_ISSUER: z.issuer,
      ZITADEL_KEY_FILE: z.apiKeyPath,
      ZITADEL_PROJECT_ID: z.projectId,
      PORT: '0',
    },
    out,
  );
  expect(api).toBeDefined();
  expect(out.text()).toContain('/metrics');
  const before = await scrape();
  expect(sum(before, 'zitadel_health_ok')).toBe(1);
  expect(sum(before, 'zitadel_circuit_open')).toBe(0);

  const bearer = `Bearer ${token}`;
  for (let i = 0; i < 3; i++) expect(await get('/api/reports', bearer)).toBe(200);
  expect(await get('/api/admin', bearer, 'POST')).toBe(403);
  expect(await get('/api/reports')).toBe(401);
  expect(await get('/api/reports', 'Bearer an-unknown-token')).toBe(401);
  expect(await get('/api/reports', 'Bearer a b')).toBe(400);

  const after = await scrape();
  const moved = (name: string, match: Record<string, string> = {}) =>
    sum(after, name, match) - sum(before, name, match);
  const decisions = 'zitadel_auth_decisions_total';
  expect(moved(decisions, { stage: 'authenticate' })).toBe(7);
  expect(
    moved(decisions, { stage: 'authenticate', outcome: 'granted', source: 'introspection' }),
  ).toBe(1);
  expect(moved(decisions, { stage: 'authenticate', outcome: 'granted', source: 'memory' })).toBe(3);
  expect(moved(decisions, { stage: 'authorize', reason: 'missing_role', status: '403' })).toBe(1);
  expect(moved(decisions, { reason: 'no_token', status: '401', source: 'none' })).toBe(1);
  expect(moved(decisions, { reason: 'inactive', status: '401' })).toBe(1);
  expect(moved(decisions, { reason: 'malformed', status: '400' })).toBe(1);

  expect(moved('zitadel_introspection_calls_total', { result: 'active' })).toBe(1);
  expect(moved('zitadel_introspection_calls_total', { result: 'inactive' })).toBe(1);
  const histogram = 'zitadel_introspection_duration_seconds';
  expect(moved(`${histogram}_count`, { result: 'active' })).toBe(1);
  expect(moved(`${histogram}_count`, { result: 'inactive' })).toBe(1);
  expect(moved(`${histogram}_bucket`, { result: 'active', le: '+Inf' })).toBe(1);
  expect(moved(`${histogram}_sum`, { result: 'active' })).toBeGreaterThan(0);

  expect(moved('zitadel_introspector_stats', { stat: 'hits' })).toBe(3);
  expect(moved('zitadel_introspector_stats', { stat: 'introspections' })).toBe(2);
  expect(sum(after, 'zitadel_health_ok')).toBe(1);
  const exposition = after.map((s) => JSON.stringify(s)).join('\n');
  expect(exposition).not.toContain(token);
  expect(exposition).not.toContain('an-unknown-token');
});
