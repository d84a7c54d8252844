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

async function serve(issuer: LocalIssuer, request: IssuerRequest): Promise<unknown> {
  switch (request.method) {
    case 'createServiceUser':
      return issuer.createServiceUser(
        request.params as IssuerMethods['createServiceUser']['params'],
      );
    case 'setLatency':
      issuer.setLatency(request.params as IssuerMethods['setLatency']['params']);
      return null;
    default:
      throw new Error(`unknown method ${String(request.method)}`);
  }
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
  process.on('message', (request: IssuerRequest) => {
    serve(issuer, request).then(
      (result) => send({ type: 'response', id: request.id, result }),
      (error: Error) => send({ type: 'response', id: request.id, error: error.message }),
    );
  });
  send({ type: 'ready', info: issuer.info });
}

void main();
