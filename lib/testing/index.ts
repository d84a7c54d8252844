/**
 * `express-zitadel-introspection/testing`: a local ZITADEL-compatible issuer
 * for tests, benches and the demo. It runs oidc-provider (an optional peer
 * dependency) in a child process, so it works inside jest's sandbox and
 * under any test runner.
 *
 * @packageDocumentation
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { IssuerChild } from './issuer-child';
import type { IssuerMethods, MethodName } from './ipc-protocol';
import type { LocalZitadel, LocalZitadelOptions, ServiceUserCredentials } from './types';

export type {
  ApplicationKeyFile,
  CallCounts,
  EventTarget,
  EventTargetOptions,
  Fault,
  FaultOptions,
  Latency,
  LocalZitadel,
  LocalZitadelEndpoint,
  LocalZitadelEventType,
  LocalZitadelOptions,
  ServiceUserCredentials,
  ServiceUserKeyFile,
  ServiceUserOptions,
} from './types';

/**
 * Starts a local ZITADEL-compatible issuer on 127.0.0.1 with a random port.
 *
 * @example
 * ```ts
 * const zitadel = await startLocalZitadel({ accessTokenTtlSeconds: 5 });
 * const { keyFile } = await zitadel.createServiceUser({
 *   name: 'invoice-worker',
 *   roles: { reader: ['org-1'], admin: ['org-1', 'org-2'] },
 *   auth: 'key',
 * });
 * ```
 */
export async function startLocalZitadel(options: LocalZitadelOptions = {}): Promise<LocalZitadel> {
  const { child, info } = await IssuerChild.start({
    accessTokenTtlSeconds: positiveInteger(
      options.accessTokenTtlSeconds,
      3600,
      'accessTokenTtlSeconds',
    ),
    patTtlSeconds: positiveInteger(options.patTtlSeconds, 30 * 24 * 3600, 'patTtlSeconds'),
    projectId: options.projectId,
    logLevel: options.logLevel ?? 'silent',
  });
  const tempDir = mkdtempSync(join(tmpdir(), 'local-zitadel-'));
  const removeTempDir = () => rmSync(tempDir, { recursive: true, force: true });
  process.once('exit', removeTempDir);
  const writeKeyFile = (name: string, content: object) => {
    const path = join(tempDir, name);
    writeFileSync(path, JSON.stringify(content, null, 2), { mode: 0o600 });
    return path;
  };

  const call = async <M extends MethodName>(method: M, params: IssuerMethods[M]['params']) => {
    await child.request(method, params);
  };
  let closing: Promise<void> | undefined;
  return {
    ...info,
    apiKeyPath: writeKeyFile('api-key.json', info.apiKeyFile),
    pid: child.pid,
    async createServiceUser(userOptions) {
      const credentials: ServiceUserCredentials = await child.request(
        'createServiceUser',
        userOptions,
      );
      if (credentials.keyFile) {
        credentials.keyPath = writeKeyFile(`${credentials.userId}.json`, credentials.keyFile);
      }
      return credentials;
    },
    async setLatency(ms) {
      await child.request('setLatency', ms);
    },
    injectFault: (fault, faultOptions) =>
      call('injectFault', { fault, ...(faultOptions ? { options: faultOptions } : {}) }),
    clearFaults: () => call('clearFaults', null),
    calls: () => child.request('calls', null),
    resetCalls: () => call('resetCalls', null),
    revokeToken: (token) => call('revokeToken', token),
    deactivateUser: (userId) => call('deactivateUser', userId),
    reactivateUser: (userId) => call('reactivateUser', userId),
    removeUser: (userId) => call('removeUser', userId),
    setRoles: (userId, roles) => call('setRoles', { userId, roles }),
    addEventTarget: (target) => child.request('addEventTarget', target),
    rotateSigningKey: () => child.request('rotateSigningKey', null),
    removeSigningKey: (kid) => call('removeSigningKey', kid),
    close() {
      closing ??= child.close().then(() => {
        process.off('exit', removeTempDir);
        removeTempDir();
      });
      return closing;
    },
  };
}

function positiveInteger(value: number | undefined, fallback: number, name: string): number {
  if (value === undefined) return fallback;
  if (!Number.isInteger(value) || value <= 0)
    throw new TypeError(`${name} must be a positive integer`);
  return value;
}
