/**
 * Property tests (fast-check) of the three places where the world hands us
 * arbitrary data:
 *
 * - the `Authorization` header (any bytes up to 12 KiB, over a raw socket):
 *   400/401 without a call, or exactly one introspection of exactly the
 *   parsed token — never a crash, never a token with whitespace in it;
 * - the introspection answer (any JSON value): a grant only for an object
 *   whose `active` is `true` and whose `exp` is not past; `false` → 401;
 *   anything else → 503;
 * - `toAuthInfo` on odd claim shapes: never throws, always well-typed, and
 *   no role named after an Object.prototype member sneaks in.
 */
import { connect } from 'node:net';
import fc from 'fast-check';
import { zitadelAuth } from '../../lib/express/middleware';
import { toAuthInfo, withToken } from '../../lib/token-info';
import { startScriptedZitadel, type ScriptedZitadel } from '../helpers/scripted-zitadel';
import { createClient, jsonOf, startApp, type TestApp } from './support/app';
import {
  handlesLeftOver,
  liveHandles,
  unexpectedWarnings,
  watchProcess,
} from './support/process-watch';

const B64TOKEN = /^[A-Za-z0-9\-._~+/]+=*$/;
const ROLES = 'urn:zitadel:iam:org:project:roles';

let zitadel: ScriptedZitadel;
let app: TestApp;
let answer: string;
const auth = () =>
  zitadelAuth({
    issuer: zitadel.issuer,
    introspectionEndpoint: zitadel.introspectionEndpoint,
    clientId: 'api-client',
    clientSecret: 'api-client-secret',
    cache: false,
    retries: 0,
  });
let middleware: ReturnType<typeof auth>;
const client = createClient(1);
const watch = watchProcess();
const baseline = liveHandles();

beforeAll(async () => {
  zitadel = await startScriptedZitadel();
  zitadel.answer('default', () => ({ body: answer }));
  middleware = auth();
  app = await startApp(middleware);
});

afterAll(async () => {
  await middleware.introspector.close();
  client.close();
  await app.close();
  await zitadel.close();
  watch.stop();
  expect(watch.failures).toEqual([]);
  expect(unexpectedWarnings(watch.warnings)).toEqual([]);
  expect(await handlesLeftOver(baseline)).toEqual({});
});

describe('any Authorization header', () => {
  const b64token = fc.stringMatching(B64TOKEN);
  const nearLimit = fc.integer({ min: 8180, max: 8200 }).map((n) => 'A'.repeat(n - 1) + '=');
  const junk = fc.string({ unit: 'binary', maxLength: 40 });
  const structured = fc
    .tuple(
      fc.constantFrom('', ' ', '\t'),
      fc.constantFrom('Bearer', 'bearer', 'BEARER', 'bEaReR', 'Basic', 'Bearer,', 'Token', ''),
      fc.constantFrom(' ', '  ', '\t', '', ' \t', '   '),
      fc.oneof(b64token, nearLimit, junk),
      fc.oneof(fc.constant(''), junk, fc.constantFrom(' ', '\t', ' x', ', Basic y', '\u00a0')),
    )
    .map((parts) => parts.join(''));
  const wellFormed = fc
    .tuple(
      fc.constantFrom('Bearer', 'bearer', 'BEARER', 'bEaReR'),
      fc.constantFrom(' ', '  ', '    '),
      fc.oneof(b64token, nearLimit),
      fc.constantFrom('', ' ', '\t', ' \t '),
    )
    .map((parts) => parts.join(''));
  const anyText = fc.oneof(
    fc.string({ unit: 'binary', maxLength: 12 * 1024, size: 'max' }),
    fc.string({ unit: 'grapheme', maxLength: 200 }),
    fc.string({ unit: 'binary-ascii', maxLength: 2000 }),
  );

  it('is answered 400/401 without a call, or introspected once with exactly its token', async () => {
    answer = JSON.stringify({ active: true, sub: 'prop-caller' });
    const seen = { granted: 0, refused: 0 };
    await fc.assert(
      fc.asyncProperty(fc.oneof(wellFormed, structured, anyText), async (text) => {
        // What travels: the string's Latin-1 bytes, without CR/LF (they would end the header).
        const bytes = Buffer.from(text, 'latin1').filter((byte) => byte !== 0x0d && byte !== 0x0a);
        const expected = parseAsDesigned(Buffer.from(bytes).toString('latin1'));
        const callsBefore = zitadel.requests.length;
        const status = await rawGet(app.url, Buffer.from(bytes));
        const calls = zitadel.requests.slice(callsBefore);
        seen[expected === undefined ? 'refused' : 'granted']++;
        if (expected === undefined) {
          expect([400, 401]).toContain(status);
          expect(calls).toHaveLength(0);
        } else {
          expect(status).toBe(200);
          expect(calls.map((call) => call.token)).toEqual([expected]);
          expect(expected).not.toMatch(/\s/);
        }
      }),
      { numRuns: 400 },
    );
    // Both sides of the property were exercised, not just the easy one.
    expect(seen.granted).toBeGreaterThan(40);
    expect(seen.refused).toBeGreaterThan(40);
  }, 30_000);
});

describe('any JSON value as the introspection answer', () => {
  const active = fc.oneof(
    { arbitrary: fc.constant(true), weight: 4 },
    fc.constantFrom(true, false, 'true', 'false', 1, 0, null, [], {}, [true]),
    fc.jsonValue(),
  );
  // Far from the expiry edge (exp ± clockTolerance), so the oracle needs no clock games.
  const expOffset = fc.oneof(
    fc.integer({ min: -1e8, max: -60 }),
    fc.integer({ min: 60, max: 1e8 }),
  );
  const shaped = fc
    .record({
      extra: fc.dictionary(fc.string({ maxLength: 12 }), fc.jsonValue({ maxDepth: 3 })),
      active,
      expOffset: fc.option(expOffset),
      claims: fc.record(
        {
          sub: fc.jsonValue({ maxDepth: 2 }),
          scope: fc.jsonValue({ maxDepth: 2 }),
          aud: fc.jsonValue({ maxDepth: 2 }),
          [ROLES]: fc.jsonValue({ maxDepth: 3 }),
        },
        { requiredKeys: [] },
      ),
    })
    .map(({ extra, active: value, expOffset: offset, claims }) => () => ({
      ...extra,
      ...claims,
      active: value,
      ...(offset === null ? {} : { exp: Math.floor(Date.now() / 1000) + offset }),
    }));
  const anyJson = fc.jsonValue().map((value) => () => value);

  it('grants only an object with active === true and an exp not past', async () => {
    const statuses: number[] = [];
    await fc.assert(
      fc.asyncProperty(fc.oneof(shaped, anyJson), async (build) => {
        answer = JSON.stringify(build());
        const expected = decideAsDesigned(JSON.parse(answer));
        const callsBefore = zitadel.requests.length;
        const res = await client.get(`${app.url}/api/whoami`, { authorization: 'Bearer t0k3n' });
        expect(zitadel.requests.length - callsBefore).toBe(1);
        expect(res.status).toBe(expected);
        statuses.push(expected);
        if (res.status === 200) expect(typeof jsonOf(res)?.subject).toBe('string');
        if (res.status === 503) expect(res.headers['retry-after']).toBe('5');
        if (res.status === 401) expect(res.headers['www-authenticate']).toMatch(/invalid_token/);
      }),
      { numRuns: 400 },
    );
    for (const status of [200, 401, 503]) {
      expect(statuses.filter((s) => s === status).length).toBeGreaterThan(20);
    }
    expect(app.unexpected).toEqual([]);
  }, 30_000);
});

describe('toAuthInfo on odd claim shapes', () => {
  const odd = fc.oneof(
    fc.anything({ maxDepth: 3 }),
    fc.constantFrom(null, undefined, NaN, Infinity, -0, 1e300, '', ' ', '__proto__', [], {}),
  );
  const roles = fc.oneof(
    odd,
    fc.dictionary(
      fc.oneof(fc.string(), fc.constantFrom('__proto__', 'constructor', 'toString')),
      fc.oneof(odd, fc.dictionary(fc.string(), odd)),
    ),
  );
  const claims = fc.oneof(
    fc.record(
      {
        sub: odd,
        client_id: odd,
        username: odd,
        preferred_username: odd,
        scope: fc.oneof(odd, fc.array(odd)),
        aud: fc.oneof(odd, fc.array(odd)),
        exp: odd,
        [ROLES]: roles,
        'urn:zitadel:iam:user:resourceowner:id': odd,
      },
      { requiredKeys: [] },
    ),
    fc.object(),
  );
  const probe = fc.oneof(
    fc.string(),
    fc.constantFrom('__proto__', 'constructor', 'toString', 'hasOwnProperty', ''),
  );

  it('never throws and always gives well-typed fields', () => {
    const prototypeKeys = Object.getOwnPropertyNames(Object.prototype).sort();
    fc.assert(
      fc.property(claims, probe, fc.option(probe), (raw, role, org) => {
        const info = toAuthInfo(raw as Record<string, unknown>);
        expect(typeof info.subject).toBe('string');
        expect(info.scopes.every((s) => typeof s === 'string')).toBe(true);
        // A space-joined string splits into non-empty scopes (an array is taken item by item).
        if (typeof (raw as { scope?: unknown }).scope === 'string') {
          expect(info.scopes.every((s) => s !== '' && !s.includes(' '))).toBe(true);
        }
        expect(info.audience.every((a) => typeof a === 'string')).toBe(true);
        for (const orgs of Object.values(info.roles)) {
          expect(Object.values(orgs).every((domain) => typeof domain === 'string')).toBe(true);
        }
        expect(info.hasRole(role, org ?? undefined)).toBe(hasRoleAsDesigned(raw, role, org));
        expect(typeof info.hasScope(role)).toBe('boolean');
        const view = withToken(info, 'secret-token-value');
        expect(JSON.stringify(view) ?? '').not.toContain('secret-token-value');
      }),
      { numRuns: 2000 },
    );
    expect(Object.getOwnPropertyNames(Object.prototype).sort()).toEqual(prototypeKeys);
  });

  it('keeps a role named __proto__ from JSON as a role, off the prototype chain', () => {
    const info = toAuthInfo(
      JSON.parse(`{"${ROLES}":{"__proto__":{"org-1":"x"},"admin":{"__proto__":{"o":"y"}}}}`),
    );
    expect(info.hasRole('__proto__')).toBe(true);
    expect(info.hasRole('admin', '__proto__')).toBe(true);
    expect(info.hasRole('admin', 'o')).toBe(false);
    expect(info.hasRole('constructor')).toBe(false);
    expect(({} as Record<string, unknown>)['org-1']).toBeUndefined();
  });
});

/** The token DESIGN.md says the header carries, or undefined when it must be refused. */
function parseAsDesigned(value: string): string | undefined {
  // Node trims the header value's surrounding spaces and tabs before we see it.
  const seen = value.replace(/^[ \t]+|[ \t]+$/g, '');
  const match = /^bearer +([^ ]+)$/i.exec(seen);
  if (!match || !B64TOKEN.test(match[1]) || match[1].length > 8192) return undefined;
  return match[1];
}

/** Status DESIGN.md asks for, given the parsed introspection answer. */
function decideAsDesigned(parsed: unknown): number {
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return 503;
  const { active, exp } = parsed as Record<string, unknown>;
  if (typeof active !== 'boolean') return 503;
  if (!active) return 401;
  if (typeof exp === 'number' && exp * 1000 < Date.now() - 5000) return 401;
  return 200;
}

function hasRoleAsDesigned(raw: unknown, role: string, org: string | null): boolean {
  const isObject = (v: unknown): v is Record<string, unknown> =>
    typeof v === 'object' && v !== null && !Array.isArray(v);
  const claim = isObject(raw) ? raw[ROLES] : undefined;
  if (!isObject(claim) || !Object.prototype.hasOwnProperty.call(claim, role)) return false;
  const orgs = claim[role];
  if (!isObject(orgs)) return false;
  return org === null
    ? Object.keys(orgs).length > 0
    : Object.prototype.hasOwnProperty.call(orgs, org);
}

/** GET /api/whoami over a raw socket with these exact Authorization bytes; resolves the status. */
function rawGet(url: string, authorization: Buffer): Promise<number> {
  const { port } = new URL(url);
  const request = Buffer.concat([
    Buffer.from(
      'GET /api/whoami HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\nAuthorization: ',
    ),
    authorization,
    Buffer.from('\r\n\r\n'),
  ]);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), '127.0.0.1', () => socket.write(request));
    const chunks: Buffer[] = [];
    socket.on('data', (chunk) => chunks.push(chunk));
    socket.on('error', reject);
    socket.on('close', () => {
      const statusLine = Buffer.concat(chunks).toString('latin1').split('\r\n')[0];
      resolve(Number(statusLine.split(' ')[1]));
    });
  });
}
