/**
 * z.addEventTarget: a real HTTP server receives the Actions v2 events the
 * kit emits on state changes, checks ZITADEL's body shape and verifies the
 * ZITADEL-Signature with the returned key.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { signatureHeader } from '../../lib/testing/event-targets';
import { startLocalZitadel, type LocalZitadel } from '../../lib/testing';
import { audienceScope, keyUserToken } from './local-zitadel-helpers';

interface Received {
  path: string;
  headers: Record<string, string | string[] | undefined>;
  raw: string;
  body: Record<string, unknown>;
}

let z: LocalZitadel;
let receiver: Server;
let baseUrl: string;
const received: Received[] = [];

beforeAll(async () => {
  receiver = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const raw = Buffer.concat(chunks).toString('utf8');
      received.push({ path: req.url ?? '', headers: req.headers, raw, body: JSON.parse(raw) });
      res.writeHead(req.url === '/fails' ? 500 : 204).end();
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  baseUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}`;
  z = await startLocalZitadel();
});
afterAll(async () => {
  await z?.close();
  await new Promise((resolve) => receiver?.close(resolve));
});
beforeEach(() => {
  received.length = 0;
});

/** Verifies the header as a receiver must: t fresh, v1 = HMAC-SHA256(key, t + "." + raw body). */
function verify(event: Received, signingKey: string): void {
  const header = String(event.headers['zitadel-signature']);
  const parts = Object.fromEntries(header.split(',').map((part) => part.split('=')));
  expect(Object.keys(parts).sort()).toEqual(['t', 'v1']);
  expect(Math.abs(Date.now() / 1000 - Number(parts.t))).toBeLessThan(60);
  const expected = createHmac('sha256', signingKey).update(`${parts.t}.${event.raw}`).digest();
  expect(timingSafeEqual(Buffer.from(parts.v1, 'hex'), expected)).toBe(true);
  expect(event.headers['content-type']).toBe('application/json');
}

function expectShape(body: Record<string, unknown>): void {
  expect(Object.keys(body).sort()).toEqual(
    [
      'aggregateID',
      'aggregateType',
      'created_at',
      'event_payload',
      'event_type',
      'instanceID',
      'resourceOwner',
      'sequence',
      'userID',
      'version',
    ].sort(),
  );
  expect(typeof body.sequence).toBe('number');
  expect(Number.isNaN(Date.parse(body.created_at as string))).toBe(false);
}

it("holds ZITADEL's own test vector", () => {
  expect(
    signatureHeader(
      'test-signing-key',
      1700000000,
      '{"aggregateID":"123","event_type":"user.deactivated"}',
    ),
  ).toBe('t=1700000000,v1=c8a7727c417f590a1c2c81d37781cf7debdaca01aebef0dc01a5d8ee3eb7fa3e');
});

it('emits every state change, signed, in ZITADEL’s shape, before the change resolves', async () => {
  const { signingKey } = await z.addEventTarget({ url: `${baseUrl}/all` });
  expect(signingKey).toEqual(expect.any(String));

  const user = await z.createServiceUser({
    name: 'evented',
    roles: { reader: ['org-1'], admin: ['org-1', 'org-2'] },
    auth: 'key',
    orgId: 'org-home',
  });
  const added = received.map((event) => event.body);
  expect(added).toHaveLength(2);
  const grants = Object.fromEntries(added.map((body) => [body.resourceOwner, body]));
  expect(grants['org-1']).toMatchObject({
    aggregateType: 'usergrant',
    event_type: 'user.grant.added',
    event_payload: { userId: user.userId, projectId: z.projectId, roleKeys: ['reader', 'admin'] },
  });
  expect(grants['org-2']).toMatchObject({ event_payload: { roleKeys: ['admin'] } });
  const grantId = grants['org-1']!.aggregateID;

  await z.deactivateUser(user.userId);
  await z.reactivateUser(user.userId);
  await z.setRoles(user.userId, { reader: ['org-1'] });
  const token = await keyUserToken(z, user.keyFile!, `openid ${audienceScope(z.projectId)}`);
  await z.revokeToken(token);
  await z.removeUser(user.userId);

  for (const event of received) {
    verify(event, signingKey);
    expectShape(event.body);
    expect(event.body.instanceID).toBe(received[0]!.body.instanceID);
  }
  const bodies = received.slice(2).map((event) => event.body);
  expect(bodies.map((body) => body.event_type)).toEqual([
    'user.deactivated',
    'user.reactivated',
    'user.grant.changed',
    'user.grant.removed',
    'user.token.removed',
    'user.removed',
  ]);
  const [deactivated, , changed, removedGrant, tokenRemoved, removed] = bodies;
  expect(deactivated).toMatchObject({
    aggregateID: user.userId,
    aggregateType: 'user',
    resourceOwner: 'org-home',
    event_payload: null,
  });
  expect(deactivated!.userID).not.toBe(user.userId);
  expect(changed).toMatchObject({ aggregateID: grantId, event_payload: { roleKeys: ['reader'] } });
  expect(removedGrant).toMatchObject({ resourceOwner: 'org-2', event_payload: null });
  expect(tokenRemoved).toMatchObject({
    aggregateID: user.userId,
    event_payload: { tokenId: expect.any(String) },
  });
  expect(removed).toMatchObject({ aggregateID: user.userId, event_type: 'user.removed' });
  const sequences = received.map((event) => event.body.sequence as number);
  expect([...sequences].sort((a, b) => a - b)).toEqual(sequences);
});

it('filters by event name, encodes the payload in base64 on request, and names PAT and JWT revocations', async () => {
  const filtered = await z.addEventTarget({
    url: `${baseUrl}/filtered`,
    events: ['user.pat.removed', 'oidc_session.access_token.revoked'],
    payloadEncoding: 'base64',
  });
  const patUser = await z.createServiceUser({
    name: 'pat-evented',
    roles: { r: ['o'] },
    auth: 'pat',
  });
  await z.revokeToken(patUser.pat!);
  const jwtUser = await z.createServiceUser({
    name: 'jwt-evented',
    auth: 'key',
    accessTokenType: 'jwt',
  });
  const jwt = await keyUserToken(z, jwtUser.keyFile!, `openid ${audienceScope(z.projectId)}`);
  await z.revokeToken(jwt);

  const mine = received.filter((event) => event.path === '/filtered');
  expect(mine.map((event) => event.body.event_type)).toEqual([
    'user.pat.removed',
    'oidc_session.access_token.revoked',
  ]);
  mine.forEach((event) => verify(event, filtered.signingKey));
  const [pat, session] = mine.map((event) => event.body);
  expect(pat!.aggregateID).toBe(patUser.userId);
  expect(JSON.parse(Buffer.from(pat!.event_payload as string, 'base64').toString())).toEqual({
    tokenId: expect.any(String),
  });
  const jti = JSON.parse(Buffer.from(jwt.split('.')[1]!, 'base64url').toString()).jti as string;
  expect(session).toMatchObject({ aggregateType: 'oidc_session', aggregateID: jti.split('.')[0] });
});

it('resolves also when a target fails or is down (no retry, as ZITADEL)', async () => {
  await z.addEventTarget({ url: `${baseUrl}/fails` });
  await z.addEventTarget({ url: 'http://127.0.0.1:1/down' });
  const user = await z.createServiceUser({ name: 'down-target', auth: 'pat' });
  await expect(z.deactivateUser(user.userId)).resolves.toBeUndefined();
  expect(received.filter((event) => event.path === '/fails')).toHaveLength(1);
});

it('rejects a bad target', async () => {
  await expect(z.addEventTarget({ url: 'ftp://x' })).rejects.toThrow(/url/);
  await expect(z.addEventTarget({ url: baseUrl, events: 'user.removed' as never })).rejects.toThrow(
    /events/,
  );
  await expect(
    z.addEventTarget({ url: baseUrl, payloadEncoding: 'xml' as 'json' }),
  ).rejects.toThrow(/payloadEncoding/);
});
