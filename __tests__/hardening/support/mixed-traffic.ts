/**
 * Mixed traffic with a known right answer for every request: service users
 * of the local ZITADEL with different roles and kinds of token (PAT,
 * JWT-bearer, client credentials), real and random inactive tokens,
 * malformed headers, missing headers and other schemes, on `/api/whoami`
 * and the admin-only `/api/admin` of {@link startApp}. `runMixedLoad` sends
 * them and counts wrong grants, wrong denials and wrong statuses.
 */
import type { LocalZitadel } from '../../../lib/testing';
import { serviceUserTokenSource } from '../../../lib/zitadel/service-user';
import { jsonOf, runPool, type Answer, type Client, type TestApp } from './app';
import { mulberry32 } from './random';
import type { SecretScan } from './secrets';

export interface Caller {
  token: string;
  userId: string;
  admin: boolean;
}

/** Who calls: active callers and tokens ZITADEL answers inactive for. */
export interface Population {
  callers: Caller[];
  inactive: string[];
}

/** One request and the answer it deserves. */
export interface Expectation {
  path: '/api/whoami' | '/api/admin';
  headers: Record<string, string>;
  status: 200 | 400 | 401 | 403;
  subject?: string;
}

export type Verdict = 'right' | 'wrongGrant' | 'wrongDenial' | 'wrongStatus';

const ROLES_SCOPE = 'urn:zitadel:iam:org:projects:roles';

/**
 * Creates four service users (admin and reader PATs, a reader with a key,
 * an admin with a client secret), their tokens, a real token without the
 * project audience (inactive) and 50 random inactive ones; registers every
 * secret with `scan`.
 *
 * @example
 * ```ts
 * const population = await createPopulation(zitadel, scan);
 * ```
 */
export async function createPopulation(z: LocalZitadel, scan: SecretScan): Promise<Population> {
  const scope = ['openid', `urn:zitadel:iam:org:project:id:${z.projectId}:aud`, ROLES_SCOPE];
  const callers: Caller[] = [];
  const pat = async (name: string, roles: Record<string, string[]>, admin: boolean) => {
    const user = await z.createServiceUser({ name, roles, auth: 'pat' });
    callers.push({ token: user.pat!, userId: user.userId, admin });
  };
  await pat('mix-admin-pat', { admin: ['org-1'], reader: ['org-1'] }, true);
  await pat('mix-reader-pat', { reader: ['org-1'] }, false);
  const keyUser = await z.createServiceUser({
    name: 'mix-key',
    roles: { reader: ['org-2'] },
    auth: 'key',
  });
  const keySource = serviceUserTokenSource({ issuer: z.issuer, key: keyUser.keyFile, scope });
  callers.push({ token: await keySource.getToken(), userId: keyUser.userId, admin: false });
  const secretUser = await z.createServiceUser({
    name: 'mix-secret',
    roles: { admin: ['org-2'] },
    auth: 'secret',
  });
  const secretSource = serviceUserTokenSource({
    issuer: z.issuer,
    clientId: secretUser.clientId,
    clientSecret: secretUser.clientSecret,
    scope,
  });
  callers.push({ token: await secretSource.getToken(), userId: secretUser.userId, admin: true });
  // A real token that ZITADEL answers inactive for: it lacks the project audience.
  const noAudience = await serviceUserTokenSource({
    issuer: z.issuer,
    key: keyUser.keyFile,
    scope: ['openid'],
  }).getToken();
  const random = Array.from({ length: 50 }, (_, i) => `inactive-${i}-${'x'.repeat(20)}`);

  for (const caller of callers) scan.secret(`token of ${caller.userId}`, caller.token);
  scan.secret('token without audience', noAudience);
  scan.secret('client secret', secretUser.clientSecret);
  scan.key('API key', z.apiKeyFile.key);
  scan.key('service user key', keyUser.keyFile!.key);
  return { callers, inactive: [noAudience, ...random] };
}

/** What {@link runMixedLoad} saw. */
export interface LoadReport {
  verdicts: Record<Verdict, number>;
  statuses: Record<number, number>;
  /** Up to five wrong answers, for the failure message. */
  samples: string[];
}

/**
 * Sends `count` requests of the mix (seeded) at `concurrency`, spread over
 * `targets` in turn; every distinct answer text goes to `scan`. `onSent`
 * runs after each answer (e.g. to kill a server half-way).
 *
 * @example
 * ```ts
 * const { verdicts } = await runMixedLoad({ client, targets: [app], count: 20_000, concurrency: 100, seed: 7, population, scan });
 * expect(verdicts.wrongGrant).toBe(0);
 * ```
 */
export async function runMixedLoad(options: {
  client: Client;
  targets: TestApp[];
  count: number;
  concurrency: number;
  seed: number;
  population: Population;
  scan: SecretScan;
  onSent?: (index: number) => void;
}): Promise<LoadReport> {
  const { client, targets, population, scan, seed } = options;
  const random = mulberry32(seed);
  let fresh = 0;
  const freshToken = () => `fresh-${seed}-${fresh++}-${'y'.repeat(16)}`;
  const verdicts: Record<Verdict, number> = {
    right: 0,
    wrongGrant: 0,
    wrongDenial: 0,
    wrongStatus: 0,
  };
  const statuses: Record<number, number> = {};
  const samples: string[] = [];
  const seenTexts = new Set<string>();

  await runPool(options.count, options.concurrency, async (index) => {
    const want = expectationFor(random, population, freshToken);
    const got = await client.get(
      `${targets[index % targets.length].url}${want.path}`,
      want.headers,
    );
    statuses[got.status] = (statuses[got.status] ?? 0) + 1;
    const verdict = judge(want, got);
    verdicts[verdict]++;
    if (verdict !== 'right' && samples.length < 5) {
      samples.push(`${verdict}: ${JSON.stringify(want).slice(0, 300)} → ${got.status} ${got.body}`);
    }
    const text = `${got.status} ${JSON.stringify(got.headers)} ${got.body}`.replace(
      /"date":"[^"]*"/,
      '',
    );
    if (!seenTexts.has(text)) {
      seenTexts.add(text);
      scan.text('response', text);
    }
    options.onSent?.(index);
  });
  return { verdicts, statuses, samples };
}

function expectationFor(
  random: () => number,
  { callers, inactive }: Population,
  freshToken: () => string,
): Expectation {
  const pick = <T>(list: readonly T[]) => list[Math.floor(random() * list.length)];
  const roll = random();
  const caller = pick(callers);
  const own = { headers: bearer(caller.token), subject: caller.userId };
  if (roll < 0.45) return { path: '/api/whoami', status: 200, ...own };
  if (roll < 0.6) {
    return caller.admin
      ? { path: '/api/admin', status: 200, ...own }
      : { path: '/api/admin', headers: own.headers, status: 403 };
  }
  const path = pick(['/api/whoami', '/api/admin'] as const);
  if (roll < 0.7) return { path, headers: bearer(pick(inactive)), status: 401 };
  if (roll < 0.73) return { path, headers: bearer(freshToken()), status: 401 };
  if (roll < 0.85) return { path, headers: { authorization: pick(MALFORMED) }, status: 400 };
  if (roll < 0.93) return { path, headers: {}, status: 401 };
  return { path, headers: { authorization: pick(OTHER_SCHEMES) }, status: 401 };
}

const MALFORMED = [
  'Bearer',
  'Bearer ',
  'Bearer a b',
  'Bearer tok!en',
  'Bearer a,b',
  'bearer\ttoken',
  'Bearer token, Basic dXNlcjpwYXNz',
  `Bearer ${'A'.repeat(8193)}`,
];
const OTHER_SCHEMES = ['Basic dXNlcjpwYXNz', 'Digest username="svc"', 'Token abc'];

function judge(want: Expectation, got: Answer): Verdict {
  const grantedTo = got.status === 200 ? jsonOf(got)?.subject : undefined;
  if (got.status === 200 && (want.status !== 200 || grantedTo !== want.subject))
    return 'wrongGrant';
  if (want.status === 200 && got.status !== 200) return 'wrongDenial';
  return got.status === want.status ? 'right' : 'wrongStatus';
}

const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
