/**
 * The three calling-side examples against a local ZITADEL and the example
 * API: each gets its token its own way and prints what the API answered.
 */
import { zitadelAuth, type ZitadelAuthMiddleware } from '../../lib';
import { startLocalZitadel, type LocalZitadel } from '../../lib/testing';
import { createApi } from '../../examples/api';
import { ExitCode } from '../../examples/call-api';
import { main as clientCredentialsClient } from '../../examples/client-credentials-client';
import { main as jwtBearerClient } from '../../examples/jwt-bearer-client';
import { main as patClient } from '../../examples/pat-client';
import { listen, type Listening } from '../../examples/shared';
import { captureOutput } from './output';

let zitadel: LocalZitadel;
let auth: ZitadelAuthMiddleware;
let api: Listening;
let keyPath: string;
let clientId: string;
let clientSecret: string;
let pat: string;

beforeAll(async () => {
  zitadel = await startLocalZitadel();
  auth = zitadelAuth({
    issuer: zitadel.issuer,
    key: zitadel.apiKeyPath,
    projectId: zitadel.projectId,
  });
  api = await listen(createApi({ auth }), 0);
  const reader = await zitadel.createServiceUser({
    name: 'reader',
    roles: { reader: ['acme'] },
    auth: 'key',
  });
  const admin = await zitadel.createServiceUser({
    name: 'admin',
    roles: { admin: ['acme'] },
    auth: 'secret',
  });
  const cron = await zitadel.createServiceUser({ name: 'cron', auth: 'pat' });
  keyPath = reader.keyPath as string;
  clientId = admin.clientId as string;
  clientSecret = admin.clientSecret as string;
  pat = cron.pat as string;
});

afterAll(async () => {
  await api?.close();
  await auth?.introspector.close();
  await zitadel?.close();
});

const common = () => ({ ZITADEL_ISSUER: zitadel.issuer, ZITADEL_PROJECT_ID: zitadel.projectId });

describe('jwt-bearer-client', () => {
  it('gets a token with the key file and prints the 200 of a reader route', async () => {
    const out = captureOutput();
    const code = await jwtBearerClient(
      { ...common(), ZITADEL_KEY_FILE: keyPath, API_URL: `${api.url}/api/reports` },
      out,
    );
    expect(code).toBe(ExitCode.Ok);
    expect(out.lines[0]).toBe(`GET ${api.url}/api/reports → 200`);
    expect(JSON.parse(out.lines[1])).toMatchObject({ readBy: expect.stringMatching(/^\d{18}$/) });
  });

  it('prints the 403 and fails on a route its roles do not open', async () => {
    const out = captureOutput();
    const env = {
      ...common(),
      ZITADEL_KEY_FILE: keyPath,
      API_URL: `${api.url}/api/admin`,
      API_METHOD: 'post',
    };
    await expect(jwtBearerClient(env, out)).resolves.toBe(ExitCode.Failed);
    expect(out.lines[0]).toBe(`POST ${api.url}/api/admin → 403`);
    expect(JSON.parse(out.lines[1])).toMatchObject({ error: 'insufficient_scope' });
  });

  it('reports a key file that cannot be read', async () => {
    const out = captureOutput();
    const env = { ...common(), ZITADEL_KEY_FILE: '/nonexistent/service-user.json' };
    await expect(jwtBearerClient(env, out)).resolves.toBe(ExitCode.Failed);
    expect(out.text()).toMatch(/^no token: .*\/nonexistent\/service-user\.json/);
  });

  it('names what is missing', async () => {
    const out = captureOutput();
    await expect(jwtBearerClient({ ZITADEL_ISSUER: zitadel.issuer }, out)).resolves.toBe(
      ExitCode.Usage,
    );
    expect(out.text()).toContain('Missing: ZITADEL_KEY_FILE, ZITADEL_PROJECT_ID.');
    expect(out.text()).toContain('npx tsx examples/jwt-bearer-client.ts');
  });
});

describe('client-credentials-client', () => {
  it('gets a token with id and secret and calls POST /api/admin', async () => {
    const out = captureOutput();
    const env = {
      ...common(),
      ZITADEL_CLIENT_ID: clientId,
      ZITADEL_CLIENT_SECRET: clientSecret,
      API_URL: `${api.url}/api/admin`,
      API_METHOD: 'POST',
    };
    await expect(clientCredentialsClient(env, out)).resolves.toBe(ExitCode.Ok);
    expect(out.lines[0]).toBe(`POST ${api.url}/api/admin → 200`);
  });

  it('reports a rejected secret without printing it', async () => {
    const out = captureOutput();
    const wrongSecret = `${clientSecret}-wrong`;
    const env = { ...common(), ZITADEL_CLIENT_ID: clientId, ZITADEL_CLIENT_SECRET: wrongSecret };
    await expect(clientCredentialsClient(env, out)).resolves.toBe(ExitCode.Failed);
    expect(out.text()).toMatch(/^no token: token request failed \(HTTP 40[01]\): invalid_client/);
    expect(out.text()).not.toContain(wrongSecret);
  });

  it('names what is missing', async () => {
    const out = captureOutput();
    await expect(
      clientCredentialsClient({ ...common(), ZITADEL_CLIENT_ID: clientId }, out),
    ).resolves.toBe(ExitCode.Usage);
    expect(out.text()).toContain('Missing: ZITADEL_CLIENT_SECRET.');
  });
});

describe('pat-client', () => {
  it('calls the API with the PAT (default GET) and prints req.auth without the token', async () => {
    const out = captureOutput();
    await expect(patClient({ ZITADEL_PAT: pat, API_URL: `${api.url}/api/me` }, out)).resolves.toBe(
      ExitCode.Ok,
    );
    expect(out.lines[0]).toBe(`GET ${api.url}/api/me → 200`);
    expect(JSON.parse(out.lines[1])).toMatchObject({ username: 'cron', roles: {} });
    expect(out.text()).not.toContain(pat);
  });

  it('reports an API that is not listening', async () => {
    const out = captureOutput();
    const closed = await listen(createApi({ auth }), 0);
    await closed.close();
    const url = `${closed.url}/api/me`;
    await expect(patClient({ ZITADEL_PAT: pat, API_URL: url }, out)).resolves.toBe(ExitCode.Failed);
    expect(out.text()).toBe(
      `GET ${url} failed: connect ECONNREFUSED ${closed.url.slice('http://'.length)}`,
    );
  });

  it('prints a body that is not JSON as it is', async () => {
    const out = captureOutput();
    await expect(patClient({ ZITADEL_PAT: pat, API_URL: `${api.url}/nowhere` }, out)).resolves.toBe(
      ExitCode.Failed,
    );
    expect(out.lines[0]).toBe(`GET ${api.url}/nowhere → 404`);
    expect(out.lines[1]).toContain('Cannot GET /nowhere');
  });

  it('names what is missing, with the default API_URL', async () => {
    const out = captureOutput();
    await expect(patClient({}, out)).resolves.toBe(ExitCode.Usage);
    expect(out.text()).toContain('Missing: ZITADEL_PAT.');
    expect(out.text()).toContain('API_URL             default http://127.0.0.1:3000/api/me');
  });
});
