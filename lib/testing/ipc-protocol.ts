/**
 * The messages between `startLocalZitadel()` (parent) and the issuer's child
 * process. Requests carry an id; the child answers each with a response of
 * the same id.
 */
import type {
  ApplicationKeyFile,
  CallCounts,
  EventTarget,
  EventTargetOptions,
  Fault,
  FaultOptions,
  Latency,
  ServiceUserCredentials,
  ServiceUserOptions,
} from './types';

/**
 * The options the child starts with (defaults applied by the parent).
 *
 * @example
 * ```ts
 * const settings: IssuerSettings = { accessTokenTtlSeconds: 3600, patTtlSeconds: 60, projectId: undefined, logLevel: 'silent' };
 * ```
 */
export interface IssuerSettings {
  accessTokenTtlSeconds: number;
  patTtlSeconds: number;
  projectId: string | undefined;
  logLevel: 'silent' | 'errors';
}

/**
 * What the child reports once it listens.
 *
 * @example
 * ```ts
 * send({ type: 'ready', info });
 * ```
 */
export interface IssuerInfo {
  issuer: string;
  projectId: string;
  apiKeyFile: ApplicationKeyFile;
  apiClientId: string;
  apiClientSecret: string;
}

/**
 * The methods the child serves, with their parameters and results.
 *
 * @example
 * ```ts
 * type Result = IssuerMethods['createServiceUser']['result'];
 * ```
 */
export interface IssuerMethods {
  createServiceUser: {
    params: ServiceUserOptions;
    result: Omit<ServiceUserCredentials, 'keyPath'>;
  };
  setLatency: { params: Latency; result: null };
  injectFault: { params: { fault: Fault; options?: FaultOptions }; result: null };
  clearFaults: { params: null; result: null };
  calls: { params: null; result: CallCounts };
  resetCalls: { params: null; result: null };
  revokeToken: { params: string; result: null };
  deactivateUser: { params: string; result: null };
  reactivateUser: { params: string; result: null };
  removeUser: { params: string; result: null };
  setRoles: { params: { userId: string; roles: Record<string, string[]> }; result: null };
  addEventTarget: { params: EventTargetOptions; result: EventTarget };
  rotateSigningKey: { params: null; result: string };
  removeSigningKey: { params: string; result: null };
}

/**
 * The name of a method the child serves.
 *
 * @example
 * ```ts
 * const method: MethodName = 'setLatency';
 * ```
 */
export type MethodName = keyof IssuerMethods;

/**
 * Parent → child.
 *
 * @example
 * ```ts
 * child.send({ id: 1, method: 'setLatency', params: 50 });
 * ```
 */
export interface IssuerRequest<M extends MethodName = MethodName> {
  id: number;
  method: M;
  params: IssuerMethods[M]['params'];
}

/**
 * Child → parent.
 *
 * @example
 * ```ts
 * process.send({ type: 'response', id: 1, result: null });
 * ```
 */
export type IssuerMessage =
  | { type: 'ready'; info: IssuerInfo }
  | { type: 'failed'; message: string }
  | { type: 'response'; id: number; result: unknown }
  | { type: 'response'; id: number; error: string };

/**
 * Puts the settings on the child's command line.
 *
 * @example
 * ```ts
 * fork(script, [encodeSettings(settings)]);
 * ```
 */
export function encodeSettings(settings: IssuerSettings): string {
  return JSON.stringify(settings);
}

/**
 * Reads the settings back in the child.
 *
 * @example
 * ```ts
 * const settings = decodeSettings(process.argv[2]);
 * ```
 */
export function decodeSettings(argument: string | undefined): IssuerSettings {
  const parsed = JSON.parse(argument ?? '{}') as Partial<IssuerSettings>;
  return {
    accessTokenTtlSeconds: parsed.accessTokenTtlSeconds ?? 3600,
    patTtlSeconds: parsed.patTtlSeconds ?? 30 * 24 * 3600,
    projectId: parsed.projectId,
    logLevel: parsed.logLevel === 'errors' ? 'errors' : 'silent',
  };
}
