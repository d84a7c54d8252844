import { inspect } from 'node:util';
import { setFlagsFromString } from 'node:v8';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { audienceOf, rolesClaimName, toAuthInfo, withToken } from '../../lib/token-info';

const fixture = JSON.parse(
  readFileSync(join(__dirname, '../fixtures/introspection-active-service-user.json'), 'utf8'),
) as Record<string, unknown>;
const PROJECT = '301255683459087361';
const ACME = '301255600000000001';
const GLOBEX = '301255600000000777';

describe('toAuthInfo on ZITADEL answers', () => {
  it('maps the fixture of an active service user', () => {
    const info = toAuthInfo(fixture);
    expect(info.subject).toBe('301255944417345537');
    expect(info.clientId).toBe('301255944417345537');
    expect(info.username).toBe('invoice-worker');
    expect(info.orgId).toBe(ACME);
    expect(info.audience).toEqual(['301255944417345537', PROJECT]);
    expect(info.expiresAt).toEqual(new Date(1795500000 * 1000));
    expect(info.scopes).toContain('urn:zitadel:iam:org:projects:roles');
    expect(info.claims).toBe(fixture);
    expect(Object.keys(info.roles).sort()).toEqual(['billing-admin', 'reader']);
    expect(info.roles['billing-admin'][GLOBEX]).toBe('globex.acme-4tbz9q.zitadel.cloud');
  });

  it('reads the project-specific claim when projectId is set', () => {
    const claims = {
      ...fixture,
      'urn:zitadel:iam:org:project:roles': { other: { [ACME]: 'x' } },
    };
    expect(Object.keys(toAuthInfo(claims).roles)).toEqual(['other']);
    expect(Object.keys(toAuthInfo(claims, { projectId: PROJECT }).roles).sort()).toEqual([
      'billing-admin',
      'reader',
    ]);
    expect(toAuthInfo(claims, { projectId: 'another' }).roles).toEqual({});
    expect(rolesClaimName(PROJECT)).toBe(`urn:zitadel:iam:org:project:${PROJECT}:roles`);
  });

  it('answers hasRole in any org or in one org, and hasScope', () => {
    const info = toAuthInfo(fixture);
    expect(info.hasRole('reader')).toBe(true);
    expect(info.hasRole('reader', ACME)).toBe(true);
    expect(info.hasRole('reader', GLOBEX)).toBe(false);
    expect(info.hasRole('billing-admin', GLOBEX)).toBe(true);
    expect(info.hasRole('owner')).toBe(false);
    expect(info.hasRole('toString')).toBe(false);
    expect(info.hasRole('__proto__')).toBe(false);
    expect(info.hasScope('openid')).toBe(true);
    expect(info.hasScope('email')).toBe(false);
  });

  it('treats a role with an empty org map as not held', () => {
    const info = toAuthInfo({ active: true, 'urn:zitadel:iam:org:project:roles': { empty: {} } });
    expect(info.hasRole('empty')).toBe(false);
  });
});

describe('toAuthInfo on odd claim shapes', () => {
  it.each([
    ['roles as an array', { 'urn:zitadel:iam:org:project:roles': ['reader'] }],
    ['roles as a number', { 'urn:zitadel:iam:org:project:roles': 7 }],
    ['roles as null', { 'urn:zitadel:iam:org:project:roles': null }],
    ['roles as a string', { 'urn:zitadel:iam:org:project:roles': 'reader' }],
  ])('%s means no roles', (_name, claims) => {
    const info = toAuthInfo({ active: true, ...claims });
    expect(info.roles).toEqual({});
    expect(info.hasRole('reader')).toBe(false);
  });

  it('keeps only well-formed role entries and ignores a __proto__ role safely', () => {
    const roles = JSON.parse(
      '{"ok":{"o1":"d1","o2":5},"bad":[1],"__proto__":{"o1":"evil"},"n":null}',
    ) as unknown;
    const info = toAuthInfo({ active: true, 'urn:zitadel:iam:org:project:roles': roles });
    expect(info.hasRole('ok', 'o1')).toBe(true);
    expect(info.roles.ok.o2).toBe('');
    expect(info.hasRole('bad')).toBe(false);
    expect(info.hasRole('n')).toBe(false);
    expect(info.hasRole('__proto__', 'o1')).toBe(true);
    expect(({} as Record<string, unknown>).o1).toBeUndefined();
  });

  it('builds prototype-free roles in V8 fast mode (no dictionary objects per cached answer)', () => {
    setFlagsFromString('--allow-natives-syntax');
    const fast = new Function('value', 'return %HasFastProperties(value)') as (
      o: object,
    ) => boolean;
    setFlagsFromString('--no-allow-natives-syntax');
    const info = toAuthInfo(fixture);
    const orgs = Object.values(info.roles);
    expect(orgs.length).toBeGreaterThan(0);
    for (const roles of [info.roles, ...orgs]) {
      expect(Object.getPrototypeOf(roles)).toBeNull();
      expect(fast(roles)).toBe(true);
    }
    expect(fast(Object.create(null) as object)).toBe(false); // what the roles were made with before
    const odd = toAuthInfo({
      active: true,
      'urn:zitadel:iam:org:project:roles': JSON.parse(
        '{"constructor":{"toString":"d"}}',
      ) as unknown,
    });
    expect(Object.keys(odd.roles)).toEqual(['constructor']);
    expect(odd.hasRole('constructor', 'toString')).toBe(true);
    expect(odd.hasRole('toString')).toBe(false);
  });

  it('reads an array scope as the string form would (no empty or multi-word entries)', () => {
    expect(toAuthInfo({ active: true, scope: ['a b', '', 'c'] }).scopes).toEqual(['a', 'b', 'c']);
  });

  it('gives no expiresAt for an exp no Date can hold', () => {
    expect(toAuthInfo({ active: true, exp: 1e300 }).expiresAt).toBeUndefined();
  });

  it('accepts scope as an array and aud as a string', () => {
    const info = toAuthInfo({ active: true, scope: ['a', 3, 'b'], aud: 'api' });
    expect(info.scopes).toEqual(['a', 'b']);
    expect(info.audience).toEqual(['api']);
  });

  it('falls back for subject and username, and skips non-string ids', () => {
    expect(toAuthInfo({ active: true, client_id: 'c1' }).subject).toBe('c1');
    expect(toAuthInfo({ active: true }).subject).toBe('');
    const info = toAuthInfo({
      active: true,
      sub: 5,
      preferred_username: 'p',
      exp: 'soon',
      scope: '  a  b ',
      aud: { a: 1 },
    });
    expect(info.subject).toBe('');
    expect(info.username).toBe('p');
    expect(info.expiresAt).toBeUndefined();
    expect(info.scopes).toEqual(['a', 'b']);
    expect(info.audience).toEqual([]);
    expect('clientId' in info).toBe(false);
    expect(audienceOf(null)).toEqual([]);
  });
});

describe('withToken', () => {
  it('attaches the token as no own property and leaves the cached object untouched', () => {
    const cached = toAuthInfo(fixture);
    const view = withToken(cached, 'secret-token-value');
    expect(view.token).toBe('secret-token-value');
    expect(JSON.stringify(view)).not.toContain('secret-token-value');
    expect(inspect(view, { depth: 9 })).not.toContain('secret-token-value');
    expect(JSON.stringify({ ...view })).not.toContain('secret-token-value');
    expect(Reflect.ownKeys(view)).not.toContain('token');
    expect(Object.keys(view)).toEqual(Object.keys(cached));
    expect(view.subject).toBe(cached.subject);
    expect(view.hasRole('reader')).toBe(true);
    expect((cached as { token?: string }).token).toBeUndefined();
    expect(JSON.parse(JSON.stringify(view)).subject).toBe('301255944417345537');
  });
});
