/**
 * The issuer's child process (forked by `startLocalZitadel()`): starts the
 * issuer, reports `ready` over IPC, then serves requests until it is killed
 * or its parent goes away.
 */
import './quiet-console';
import { startIssuer, type LocalIssuer } from './zitadel-provider';
import {
  decodeSettings,
  type IssuerMessage,
  type IssuerMethods,
  type IssuerRequest,
} from './ipc-protocol';

// An orphaned issuer would keep a port and a process: leave with the parent.
process.on('disconnect', () => process.exit(0));

function send(message: IssuerMessage): void {
  process.send?.(message);
}

type Handlers = {
  [M in keyof IssuerMethods]: (
    params: IssuerMethods[M]['params'],
  ) => IssuerMethods[M]['result'] | Promise<IssuerMethods[M]['result']>;
};

/** One handler per method; state changes resolve after their events were delivered. */
function handlers(issuer: LocalIssuer): Handlers {
  const done = () => null;
  return {
    createServiceUser: (options) => issuer.createServiceUser(options),
    setLatency: (latency) => (issuer.setLatency(latency), null),
    injectFault: ({ fault, options }) => (issuer.injectFault(fault, options), null),
    clearFaults: () => (issuer.clearFaults(), null),
    calls: () => issuer.calls(),
    resetCalls: () => (issuer.resetCalls(), null),
    revokeToken: (token) => issuer.revokeToken(token).then(done),
    deactivateUser: (userId) => issuer.deactivateUser(userId).then(done),
    reactivateUser: (userId) => issuer.reactivateUser(userId).then(done),
    removeUser: (userId) => issuer.removeUser(userId).then(done),
    setRoles: ({ userId, roles }) => issuer.setRoles(userId, roles).then(done),
    addEventTarget: (options) => issuer.addEventTarget(options),
    rotateSigningKey: () => issuer.rotateSigningKey(),
    removeSigningKey: (kid) => (issuer.removeSigningKey(kid), null),
  };
}

async function serve(table: Handlers, request: IssuerRequest): Promise<unknown> {
  const handler = Object.hasOwn(table, request.method)
    ? (table[request.method] as (params: unknown) => unknown)
    : undefined;
  if (!handler) throw new Error(`unknown method ${String(request.method)}`);
  return handler(request.params);
}

async function main(): Promise<void> {
  let issuer: LocalIssuer;
  try {
    issuer = await startIssuer(decodeSettings(process.argv[2]));
  } catch (error) {
    const failed: IssuerMessage = { type: 'failed', message: (error as Error).message };
    process.send?.(failed, () => process.exit(1));
    return;
  }
  const table = handlers(issuer);
  process.on('message', (request: IssuerRequest) => {
    serve(table, request).then(
      (result) => send({ type: 'response', id: request.id, result }),
      (error: Error) => send({ type: 'response', id: request.id, error: error.message }),
    );
  });
  send({ type: 'ready', info: issuer.info });
}

void main();
