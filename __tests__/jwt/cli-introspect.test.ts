import { parseCommandArgs } from '../../lib/cli/args';
import { INTROSPECT_OPTIONS, runIntrospect } from '../../lib/cli/introspect-command';
import { describeLocal, verifyLocally } from '../../lib/cli/introspect-local';
import type { Io } from '../../lib/cli/io';
import { newSigningKey, startJwtIssuer, type JwtIssuer } from './support/jwt-issuer';

let z: JwtIssuer;
beforeEach(async () => {
  z = await startJwtIssuer();
});
afterEach(() => z.close());

async function run(token: string, extra: string[] = []) {
  const lines: string[] = [];
  const io: Io = {
    out: (line) => lines.push(line),
    err: (line) => lines.push(line),
    readStdin: async () => '',
    env: {},
  };
  const argv = [
    '--issuer',
    z.issuer,
    '--client-id',
    z.clientId,
    '--client-secret',
    z.clientSecret,
    '--project-id',
    z.projectId,
    ...extra,
    token,
  ];
  const code = await runIntrospect(parseCommandArgs(argv, [...INTROSPECT_OPTIONS]), io);
  return { code, text: lines.join('\n') };
}

describe('introspect shows local verification beside ZITADEL', () => {
  it('a JWT that verifies: exit 0, "verifies", the token never printed', async () => {
    const token = await z.mint();
    const { code, text } = await run(token);
    expect(code).toBe(0);
    expect(text).toMatch(/^active +yes/m);
    expect(text).toMatch(/^local JWT +verifies against the issuer's JWKS/m);
    expect(text).not.toContain(token);
    expect(z.introspections).toEqual([token]);
  });

  it('a JWT ZITADEL accepts but for another audience: the failing check is named, exit as ZITADEL says', async () => {
    const token = await z.mint({ aud: ['another-project'] });
    const { code, text } = await run(token);
    expect(code).toBe(0);
    expect(text).toMatch(/^local JWT +fails the local check: aud/m);
  });

  it('--json carries localVerification; a revoked JWT still exits 3', async () => {
    const token = await z.mint({}, { key: await newSigningKey() });
    z.revoked.add(token);
    const { code, text } = await run(token, ['--json']);
    expect(code).toBe(3);
    expect(JSON.parse(text).localVerification).toEqual({ outcome: 'fails', detail: 'unknown kid' });
  });

  it('an opaque token has no local line', async () => {
    const { text } = await run('opaque-token-without-dots');
    expect(text).not.toMatch(/local JWT/);
  });

  it('another issuer, a future nbf, no jwks_uri, JWKS down', async () => {
    const context = {
      issuer: z.issuer,
      clientId: z.clientId,
      projectId: z.projectId,
      now: Date.now,
    };
    const jwksUri = `${z.issuer}/oauth/v2/keys`;
    expect(
      await verifyLocally(await z.mint({ iss: 'https://other.example' }), { ...context, jwksUri }),
    ).toMatchObject({ outcome: 'introspected' });
    expect(
      await verifyLocally(await z.mint({ nbf: Math.floor(Date.now() / 1000) + 600 }), {
        ...context,
        jwksUri,
      }),
    ).toEqual({ outcome: 'introspected', detail: 'nbf in the future' });
    expect(await verifyLocally(await z.mint(), context)).toMatchObject({ outcome: 'unknown' });
    z.keysFault = 500;
    const down = await verifyLocally(await z.mint(), { ...context, jwksUri });
    expect(down).toMatchObject({ outcome: 'unknown', detail: expect.stringMatching(/HTTP 500/) });
    expect(describeLocal(down!)).toMatch(/^not checked: /);
    expect(describeLocal({ outcome: 'introspected', detail: 'x' })).toMatch(/^introspected/);
  });
});
