/**
 * The introspector's own keep-alive pool (no `fetch` option): calls share
 * one connection, and close() closes it at once — the global fetch would keep
 * an idle connection for 4 s and cannot be closed by one of its users.
 */
import { generateKeyPairSync } from 'node:crypto';
import { createIntrospector } from 'express-zitadel-introspection';
import {
  activeAnswer,
  startScriptedZitadel,
  type ScriptedZitadel,
} from '../helpers/scripted-zitadel';

const PEM = generateKeyPairSync('rsa', { modulusLength: 2048 })
  .privateKey.export({ type: 'pkcs1', format: 'pem' })
  .toString();
const KEY = { type: 'application', keyId: 'k-1', key: PEM, appId: 'app-1', clientId: 'api@p' };

let zitadel: ScriptedZitadel;

beforeEach(async () => {
  zitadel = await startScriptedZitadel();
  zitadel.answer('default', { json: activeAnswer() });
});

afterEach(() => zitadel.close());

async function until(condition: () => boolean, withinMs: number): Promise<boolean> {
  const deadline = Date.now() + withinMs;
  while (!condition()) {
    if (Date.now() > deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return true;
}

it('makes discovery and sequential introspections over one kept-alive connection', async () => {
  const introspector = createIntrospector({ issuer: zitadel.issuer, key: KEY, cache: false });
  try {
    for (let i = 0; i < 5; i++) {
      expect(await introspector.introspect(`token-${i}`)).toMatchObject({ active: true });
    }
    expect(zitadel.requests).toHaveLength(5);
    expect(zitadel.discoveryRequests).toBe(1);
    expect(zitadel.connections()).toEqual({ accepted: 1, open: 1 });
  } finally {
    await introspector.close();
  }
});

it('close() closes the idle connection at once', async () => {
  const introspector = createIntrospector({ issuer: zitadel.issuer, key: KEY });
  expect(await introspector.introspect('token-1')).toMatchObject({ active: true });
  expect(zitadel.connections().open).toBe(1);
  await introspector.close();
  // Well under the 4 s an idle connection would otherwise be kept.
  expect(await until(() => zitadel.connections().open === 0, 1000)).toBe(true);
  await expect(introspector.introspect('token-2')).rejects.toThrow('the introspector is closed');
  expect(zitadel.connections().accepted).toBe(1);
});

it('close() also ends a call in flight and its connection', async () => {
  zitadel.answer('slow', { hang: true });
  const introspector = createIntrospector({ issuer: zitadel.issuer, key: KEY, timeoutMs: 20_000 });
  await introspector.ready();
  const pending = introspector.introspect('slow');
  expect(await until(() => zitadel.open() === 1, 5000)).toBe(true);
  await introspector.close();
  await expect(pending).rejects.toMatchObject({ name: 'IntrospectionUnavailableError' });
  expect(await until(() => zitadel.connections().open === 0, 1000)).toBe(true);
});

it('leaves a fetch given in the options alone: its pool is the caller’s', async () => {
  const calls: string[] = [];
  const introspector = createIntrospector({
    issuer: zitadel.issuer,
    key: KEY,
    fetch: (input, init) => {
      calls.push(String(input));
      return fetch(input, init);
    },
  });
  expect(await introspector.introspect('token-1')).toMatchObject({ active: true });
  expect(calls).toEqual([
    `${zitadel.issuer}/.well-known/openid-configuration`,
    `${zitadel.issuer}/oauth/v2/introspect`,
  ]);
  await introspector.close();
});
